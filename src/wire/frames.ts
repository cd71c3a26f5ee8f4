// Framing: a 4-byte little-endian length, then that many bytes of one Envelope.
import { MAX_FRAME_BYTES } from './proto.js';

/** A framing or decoding error: the peer sent something that is not a valid sitempi stream. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

/**
 * Splits a byte stream into frame bodies. Feed it chunks in order with `push`; each call returns
 * the bodies completed by that chunk (views into the chunk where possible, so copy them if the
 * chunk's memory will be reused). Throws `WireError` as soon as a header announces a frame larger
 * than `maxFrameBytes`; after an error the decoder must not be used again.
 */
export class FrameDecoder {
  private partial: Uint8Array | null = null; // header (4 bytes) or whole frame being assembled
  private partialFill = 0;
  private readonly header = new Uint8Array(4);
  private headerFill = 0;
  private failed = false;

  constructor(readonly maxFrameBytes: number = MAX_FRAME_BYTES) {}

  /** Bytes held for an incomplete frame. */
  get pending(): number {
    return this.headerFill + this.partialFill;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw new WireError('frame decoder used after an error');
    const out: Uint8Array[] = [];
    let pos = 0;
    const n = chunk.length;
    // Finish a frame started in an earlier chunk.
    while (pos < n && (this.headerFill > 0 || this.partial)) {
      if (!this.partial) {
        while (this.headerFill < 4 && pos < n) this.header[this.headerFill++] = chunk[pos++];
        if (this.headerFill < 4) return out;
        const len = this.readLen(this.header, 0);
        this.headerFill = 0;
        if (len === 0) { out.push(new Uint8Array(0)); continue; }
        this.partial = new Uint8Array(len);
        this.partialFill = 0;
      }
      const body = this.partial;
      const take = Math.min(body.length - this.partialFill, n - pos);
      body.set(chunk.subarray(pos, pos + take), this.partialFill);
      this.partialFill += take;
      pos += take;
      if (this.partialFill < body.length) return out;
      out.push(body);
      this.partial = null;
      this.partialFill = 0;
    }
    // Whole frames inside this chunk: zero-copy views.
    while (n - pos >= 4) {
      const len = this.readLen(chunk, pos);
      if (n - pos - 4 < len) break;
      out.push(chunk.subarray(pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    // Keep the start of the next frame.
    if (pos < n) {
      if (n - pos < 4) {
        while (pos < n) this.header[this.headerFill++] = chunk[pos++];
      } else {
        const len = this.readLen(chunk, pos);
        this.partial = new Uint8Array(len);
        this.partial.set(chunk.subarray(pos + 4, n), 0);
        this.partialFill = n - pos - 4;
      }
    }
    return out;
  }

  /** Call at the end of the stream: throws if a frame was cut off. */
  end(): void {
    if (this.pending > 0) throw new WireError(`stream ended inside a frame (${this.pending} bytes pending)`);
  }

  private readLen(b: Uint8Array, at: number): number {
    const len = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
    if (len > this.maxFrameBytes) {
      this.failed = true;
      throw new WireError(`frame of ${len} bytes exceeds the maximum of ${this.maxFrameBytes}`);
    }
    return len;
  }
}

/** Prefixes an Envelope body with its length. */
export function frame(body: Uint8Array): Buffer {
  if (body.length > MAX_FRAME_BYTES) throw new WireError(`frame of ${body.length} bytes exceeds the maximum of ${MAX_FRAME_BYTES}`);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  out.set(body, 4);
  return out;
}
