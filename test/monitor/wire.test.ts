// protobufjs (the monitor) against the C++ encoder (the shim), on fixed vectors and random batches.
import { describe, expect, it } from 'vitest';
import {
  decodeBatch,
  decodeEnvelope,
  encodeAck,
  encodeError,
  encodeHello,
  encodePlacement,
  type Batch,
} from '../../src/wire/messages.js';
import { messageType } from '../../src/wire/proto.js';
import type { BatchColumns } from '../../src/native/addon.js';
import { addon } from './helpers.js';
import { ROLE_SHIFT } from '../../src/generated/facts.js';

const body = (f: Buffer) => f.subarray(4);

// A deterministic PRNG so that failures reproduce.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every column of a batch, given. */
type Cols = Required<BatchColumns>;

function randomBatch(r: () => number, n: number, withCross: boolean): Cols {
  const big = () => {
    const k = Math.floor(r() * 6);
    return k === 0
      ? 0
      : k === 1
        ? Math.floor(r() * 128)
        : k === 2
          ? Math.floor(r() * 2 ** 21)
          : k === 3
            ? Math.floor(r() * 2 ** 32)
            : k === 4
              ? Math.floor(r() * 2 ** 53)
              : 2 ** 53 - 1 - Math.floor(r() * 1000);
  };
  const start = new Float64Array(n);
  let t = Math.floor(r() * 2 ** 40);
  for (let i = 0; i < n; i++) start[i] = t += Math.floor(r() * (r() < 0.1 ? 2 ** 30 : 1000));
  return {
    seq: Math.floor(r() * 2 ** 40),
    dropped: r() < 0.5 ? 0 : Math.floor(r() * 2 ** 33),
    epoch: Math.floor(r() * 5),
    fn: Uint32Array.from({ length: n }, () => Math.floor(r() * 4096)),
    peer: Int32Array.from({ length: n }, () =>
      r() < 0.3 ? -1 : r() < 0.05 ? -2 - Math.floor(r() * 2 ** 31 - 3) : Math.floor(r() * 2 ** 31),
    ),
    bytes: Float64Array.from({ length: n }, big),
    comm: Uint32Array.from({ length: n }, () => (r() < 0.5 ? 0 : Math.floor(r() * 2 ** 32))),
    alg: Uint32Array.from({ length: n }, () => (r() < 0.8 ? 0 : Math.floor(r() * 20))),
    start,
    duration: Float64Array.from({ length: n }, big),
    crossMsgs: withCross
      ? Uint32Array.from({ length: n }, () => (r() < 0.7 ? 0 : Math.floor(r() * 2 ** 32)))
      : new Uint32Array(n),
    crossBytes: withCross ? Float64Array.from({ length: n }, () => (r() < 0.7 ? 0 : big())) : new Float64Array(n),
    // tags in half of the batches: small, and up to 2^31 - 1 (Open MPI's MPI_TAG_UB)
    tag: withCross
      ? Uint32Array.from({ length: n }, () => (r() < 0.5 ? 0 : Math.floor(r() * 2 ** 31)))
      : new Uint32Array(n),
  };
}

function expectSame(b: Batch, c: Cols): void {
  expect(b.n).toBe(c.fn.length);
  expect({ seq: b.seq, dropped: b.dropped, epoch: b.epoch }).toEqual({
    seq: c.seq,
    dropped: c.dropped,
    epoch: c.epoch,
  });
  expect(Array.from(b.fn)).toEqual(Array.from(c.fn));
  expect(Array.from(b.peer)).toEqual(Array.from(c.peer));
  expect(Array.from(b.bytes)).toEqual(Array.from(c.bytes));
  expect(Array.from(b.comm)).toEqual(Array.from(c.comm));
  expect(Array.from(b.alg)).toEqual(Array.from(c.alg));
  expect(Array.from(b.start)).toEqual(Array.from(c.start));
  expect(Array.from(b.duration)).toEqual(Array.from(c.duration));
  expect(Array.from(b.crossMsgs)).toEqual(Array.from(c.crossMsgs));
  expect(Array.from(b.crossBytes)).toEqual(Array.from(c.crossBytes));
  expect(Array.from(b.tag)).toEqual(Array.from(c.tag));
  expect(b.inexact).toBe(false);
}

describe('wire: protobufjs decoding of the C++ encoder', () => {
  it('Hello, CommDef (intra and inter), Bye: fixed vectors', () => {
    const hello = {
      job: 'job-ü-1',
      rank: 3,
      size: 8,
      host: 'node7',
      pid: 4242,
      startNs: 1_700_000_000_123_456_768,
      token: 's3cret',
      program: './a.out',
    };
    const h = decodeEnvelope(body(addon.encodeHello(hello)));
    expect(h).toEqual({
      kind: 'hello',
      hello: { ...hello, jobKey: '', protocol: addon.protocolVersion, startNs: 1_700_000_000_123_456_768n },
    });
    expect(
      decodeEnvelope(body(addon.encodeCommDef({ localId: 5, globalId: 2 ** 52 + 3, members: [0, 2, 4, 6] }))),
    ).toEqual({
      kind: 'commDef',
      commDef: { localId: 5, globalId: BigInt(2 ** 52 + 3), members: [0, 2, 4, 6], remoteMembers: [] },
    });
    expect(
      decodeEnvelope(
        body(addon.encodeCommDef({ localId: 1, globalId: 9, members: [0, 1], remoteMembers: [2, 3, 300] })),
      ),
    ).toMatchObject({
      commDef: { members: [0, 1], remoteMembers: [2, 3, 300] },
    });
    const bye = { endNs: 2 ** 50 + 7, records: 123456789, dropped: 17, mpiNs: 2 ** 45 + 1 };
    expect(decodeEnvelope(body(addon.encodeBye(bye)))).toEqual({ kind: 'bye', bye });
    // the same Hello through the reflection decoder of the .proto
    const E = messageType('Envelope');
    const viaProto = E.toObject(E.decode(body(addon.encodeHello(hello))), { longs: String }) as {
      hello: { startNs: string; job: string };
    };
    expect(viaProto.hello.startNs).toBe('1700000000123456768');
    expect(viaProto.hello.job).toBe(hello.job);
  });

  it('a fixed batch decodes to the exact records (and the same through the reflection decoder)', () => {
    const c: Cols = {
      seq: 7,
      dropped: 2,
      epoch: 1,
      fn: Uint32Array.of(0 | (1 << ROLE_SHIFT), 8 | (2 << ROLE_SHIFT), 40 | (4 << ROLE_SHIFT)),
      peer: Int32Array.of(3, -1, 0),
      bytes: Float64Array.of(4000, 2 ** 53 - 1, 0),
      comm: Uint32Array.of(0, 0, 2),
      alg: Uint32Array.of(0, 0, 0),
      start: Float64Array.of(100, 100, 2 ** 52),
      duration: Float64Array.of(1, 0, 999),
      crossMsgs: new Uint32Array(3),
      crossBytes: new Float64Array(3),
      tag: Uint32Array.of(7, 0, 0),
    };
    const f = addon.encodeBatch(c);
    expectSame(decodeBatch(f, 4 + 1 + (f[5] < 0x80 ? 1 : 2), f.length), c); // after the envelope tag and length
    const env = decodeEnvelope(body(f));
    if (env.kind !== 'batch') throw new Error(env.kind);
    expectSame(env.batch, c);
    const E = messageType('Envelope');
    const m = E.toObject(E.decode(body(f)), { longs: Number }) as {
      batch: { fn: number[]; peer: number[]; bytes: number[]; startDelta: number[] };
    };
    expect(m.batch.fn).toEqual(Array.from(c.fn));
    expect(m.batch.peer).toEqual([3, -1, 0]);
    expect(m.batch.bytes).toEqual([4000, 2 ** 53 - 1, 0]);
    expect(m.batch.startDelta).toEqual([100, 0, 2 ** 52 - 100]);
  });

  it('500 random batches (negative peers, values up to 2^53, empty batches) decode exactly', () => {
    const r = rng(12345);
    for (let k = 0; k < 500; k++) {
      const n = k % 50 === 0 ? 0 : Math.floor(r() * 300);
      const c = randomBatch(r, n, k % 2 === 1);
      const env = decodeEnvelope(body(addon.encodeBatch(c)));
      if (env.kind !== 'batch') throw new Error(env.kind);
      expectSame(env.batch, c);
    }
  });

  it('an unpacked encoding (legal protobuf the shim never writes) goes through the reflection path', () => {
    const E = messageType('Envelope');
    const w = E.encode({
      batch: {
        seq: 1,
        fn: [1, 2],
        peer: [-1, 3],
        bytes: [10, 20],
        comm: [0, 0],
        startDelta: [5, 5],
        duration: [1, 1],
        alg: [0, 0],
      },
    }).finish();
    // re-encode fn unpacked by hand: tag (4<<3|0)
    const env = decodeEnvelope(w);
    expect(env.kind).toBe('batch');
    if (env.kind === 'batch') expect(Array.from(env.batch.start)).toEqual([5, 10]);
    const unpacked = Buffer.from([0x12, 0x0a, 0x08, 0x01, 0x20, 0x01, 0x20, 0x02, 0x48, 0x07, 0x48, 0x08]);
    const u = decodeEnvelope(unpacked);
    if (u.kind !== 'batch') throw new Error(u.kind);
    expect(Array.from(u.batch.fn)).toEqual([1, 2]);
    expect(Array.from(u.batch.duration)).toEqual([7, 8]);
    expect(Array.from(u.batch.peer)).toEqual([0, 0]);
  });

  it('columns of different lengths are malformed', () => {
    // fn has 2 entries, peer 1
    const bad = Buffer.from([0x12, 0x06, 0x22, 0x02, 0x01, 0x02, 0x2a, 0x01]);
    expect(() => decodeEnvelope(bad)).toThrow(/malformed/);
  });

  it('what the monitor sends is understood by the shim decoder', () => {
    const p = { epoch: 2 ** 40 + 1, sites: ['tokyo', '', 'osaka'], siteOf: [0, 2, 2, 1, 0] };
    expect(addon.decodeEnvelope(body(encodePlacement(p)))).toEqual({ kind: 'placement', ...p });
    expect(addon.decodeEnvelope(body(encodeError('bad token')))).toEqual({ kind: 'error', message: 'bad token' });
    expect(addon.decodeEnvelope(body(encodeAck(99)))).toEqual({ kind: 'ack', seq: 99 });
    // and the shim's Placement encoder agrees with ours
    expect(decodeEnvelope(body(addon.encodePlacement(p)))).toEqual({ kind: 'placement', placement: p });
    expect(decodeEnvelope(body(encodeHello({ job: 'x', rank: 1, size: 2, startNs: 2n ** 62n })))).toMatchObject({
      hello: { job: 'x', rank: 1, size: 2, startNs: 2n ** 62n, protocol: 1 },
    });
  });
});
