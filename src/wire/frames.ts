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
 * than `maxFrameBytes` (`firstFrameMax` for the stream's first frame, which a monitor expects to
 * be a small Hello: a peer that has not authenticated cannot make it hold more); after an error
 * the decoder must not be used again. An incomplete frame holds at most 64 KiB (256 bytes for the
 * first frame) or twice the bytes received so far, never what its header announces before it
 * arrives.
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(4);
  private headerFill = 0;
  private body: Uint8Array | null = null; // an incomplete frame's bytes so far; grows as they arrive
  private bodyLen = 0; // its announced length
  private bodyFill = 0;
  private headers = 0; // frame headers read so far
  private failed = false;

  constructor(
    readonly maxFrameBytes: number = MAX_FRAME_BYTES,
    readonly firstFrameMax: number = maxFrameBytes,
  ) {}

  /** Bytes received for an incomplete frame (its header included). */
  get pending(): number {
    return this.headerFill + (this.body ? this.bodyFill + 4 : 0);
  }

  /** Bytes of memory held for an incomplete frame. */
  get held(): number {
    return this.body ? this.body.length : 0;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw new WireError('frame decoder used after an error');
    const out: Uint8Array[] = [];
    let pos = 0;
    const n = chunk.length;
    // Finish a frame started in an earlier chunk.
    while (pos < n && (this.headerFill > 0 || this.body)) {
      if (!this.body) {
        while (this.headerFill < 4 && pos < n) this.header[this.headerFill++] = chunk[pos++];
        if (this.headerFill < 4) return out;
        const len = this.readLen(this.header, 0);
        this.headerFill = 0;
        if (len === 0) {
          out.push(new Uint8Array(0));
          continue;
        }
        this.start(len);
      }
      const take = Math.min(this.bodyLen - this.bodyFill, n - pos);
      this.append(chunk.subarray(pos, pos + take));
      pos += take;
      if (this.bodyFill < this.bodyLen) return out;
      out.push(this.body as Uint8Array);
      this.body = null;
    }
    // Whole frames inside this chunk: zero-copy views.
    while (n - pos >= 4) {
      const len = this.readLen(chunk, pos);
      if (n - pos - 4 < len) {
        this.start(len);
        this.append(chunk.subarray(pos + 4, n));
        return out;
      }
      out.push(chunk.subarray(pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    // Keep the start of the next header.
    while (pos < n) this.header[this.headerFill++] = chunk[pos++];
    return out;
  }

  /** Call at the end of the stream: throws if a frame was cut off. */
  end(): void {
    if (this.pending > 0) throw new WireError(`stream ended inside a frame (${this.pending} bytes pending)`);
  }

  private start(len: number): void {
    this.body = new Uint8Array(0);
    this.bodyLen = len;
    this.bodyFill = 0;
  }

  // Appends to the incomplete frame, growing its buffer geometrically up to the announced length.
  private append(bytes: Uint8Array): void {
    const need = this.bodyFill + bytes.length;
    let body = this.body as Uint8Array;
    if (body.length < need) {
      // the first frame (before the peer has authenticated) starts small: many connections may each hold one
      const least = this.headers === 1 ? 256 : 65536;
      const grown = new Uint8Array(Math.min(this.bodyLen, Math.max(need, 2 * body.length, least)));
      grown.set(body.subarray(0, this.bodyFill));
      body = this.body = grown;
    }
    body.set(bytes, this.bodyFill);
    this.bodyFill = need;
  }

  private readLen(b: Uint8Array, at: number): number {
    const len = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
    const first = this.headers++ === 0;
    const limit = first ? Math.min(this.firstFrameMax, this.maxFrameBytes) : this.maxFrameBytes;
    if (len > limit) {
      this.failed = true;
      throw new WireError(`${first ? 'first frame' : 'frame'} of ${len} bytes exceeds the maximum of ${limit}`);
    }
    return len;
  }
}

/** Prefixes an Envelope body with its length. */
export function frame(body: Uint8Array): Buffer {
  if (body.length > MAX_FRAME_BYTES)
    throw new WireError(`frame of ${body.length} bytes exceeds the maximum of ${MAX_FRAME_BYTES}`);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  out.set(body, 4);
  return out;
}
