import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, frame, WireError } from '../../src/wire/frames.js';
import { decodeEnvelope } from '../../src/wire/messages.js';
import { MAX_FRAME_BYTES } from '../../src/wire/proto.js';
import { addon, batchFrame, fnCode, helloFrame } from './helpers.js';

describe('FrameDecoder', () => {
  const frames = [
    helloFrame('j', 0, 2),
    batchFrame(0, [{ fn: fnCode('MPI_Send', 1), peer: 1, bytes: 100 }]),
    frame(new Uint8Array(0)),
    addon.encodeBye({ endNs: 5, records: 1, dropped: 0, mpiNs: 2 }),
  ];
  const stream = Buffer.concat(frames);
  const bodies = frames.map((f) => Buffer.from(f.subarray(4)));

  it('agrees with the addon on the frame size limit', () => {
    expect(MAX_FRAME_BYTES).toBe(addon.maxFrameBytes);
  });

  it('returns whole frames from one chunk', () => {
    const d = new FrameDecoder();
    expect(d.push(stream).map((b) => Buffer.from(b))).toEqual(bodies);
    expect(d.pending).toBe(0);
    d.end();
  });

  it('reassembles frames split at every possible point and byte by byte', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))].map((b) => Buffer.from(b));
      expect(got).toEqual(bodies);
    }
    const d = new FrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)).map((b) => Buffer.from(b)));
    expect(got).toEqual(bodies);
  });

  it('reports a cut-off stream at the end', () => {
    const d = new FrameDecoder();
    d.push(stream.subarray(0, stream.length - 3));
    expect(d.pending).toBeGreaterThan(0);
    expect(() => d.end()).toThrow(WireError);
  });

  it('rejects an oversize frame as soon as its header arrives', () => {
    const d = new FrameDecoder();
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(MAX_FRAME_BYTES + 1);
    expect(() => d.push(hdr.subarray(0, 2))).not.toThrow();
    expect(() => d.push(hdr.subarray(2))).toThrow(/exceeds the maximum/);
    const small = new FrameDecoder(10);
    expect(() => small.push(Buffer.from([11, 0, 0, 0]))).toThrow(WireError);
    expect(new FrameDecoder(10).push(Buffer.from([10, 0, 0, 0, ...new Array(10).fill(0)]))).toHaveLength(1);
  });

  it('holds about what arrived of an incomplete frame, not what its header announces', () => {
    const d = new FrameDecoder();
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(10 * 1024 * 1024);
    d.push(Buffer.concat([hdr, Buffer.alloc(100, 7)]));
    expect(d.pending).toBe(104);
    expect(d.held).toBeLessThanOrEqual(65536);
    const body = crypto.randomBytes(10 * 1024 * 1024 - 100);
    for (let i = 0; i < body.length - 1; i += 65536) d.push(body.subarray(i, Math.min(i + 65536, body.length - 1)));
    expect(d.held).toBeLessThanOrEqual(10 * 1024 * 1024);
    const [whole] = d.push(body.subarray(body.length - 1));
    expect(whole.length).toBe(10 * 1024 * 1024);
    expect(Buffer.from(whole.subarray(100)).equals(body)).toBe(true);
    expect(d.pending).toBe(0);
  });

  it('a header with nothing after it is an incomplete frame', () => {
    const d = new FrameDecoder();
    d.push(Buffer.from([8, 0, 0, 0]));
    expect(() => d.end()).toThrow(/inside a frame \(4 bytes pending\)/);
  });

  it('limits the first frame separately (a Hello, before any authentication)', () => {
    const big = Buffer.alloc(4);
    big.writeUInt32LE(100_000);
    expect(() => new FrameDecoder(MAX_FRAME_BYTES, 65536).push(big)).toThrow(
      /first frame of 100000 bytes exceeds the maximum of 65536/,
    );
    const d = new FrameDecoder(MAX_FRAME_BYTES, 65536);
    const hello = helloFrame('j', 0, 2);
    expect(d.push(Buffer.concat([hello, big, Buffer.alloc(10)]))).toHaveLength(1); // later frames: the full limit
    expect(d.pending).toBe(14);
  });

  it('turns garbage into WireError, never another exception', () => {
    let wireErrors = 0;
    for (let i = 0; i < 5000; i++) {
      const body = crypto.randomBytes(i % 200);
      try {
        decodeEnvelope(body);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        wireErrors++;
      }
    }
    expect(wireErrors).toBeGreaterThan(1000);
    // truncations of a valid batch body
    const b = batchFrame(
      3,
      Array.from({ length: 50 }, (_, i) => ({ fn: fnCode('MPI_Send', 1), peer: i % 4, bytes: 2 ** 40 + i })),
    ).subarray(4);
    for (let n = 0; n < b.length; n++) {
      try {
        const env = decodeEnvelope(b.subarray(0, n));
        expect(['unknown', 'batch']).toContain(env.kind);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
      }
    }
  });
});
