// A 16 384-rank job built in process through the monitor's own sessions (Hello, CommDef, Batch): a 3-D 7-point stencil plus 114 688 collective records. Its
// totals must be exact, it must be classified, and it must hold far less than dense matrices.
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, Role } from '../../src/generated/functions.js';
import { classify } from '../../src/monitor/classify.js';
import { JobTable } from '../../src/monitor/ingest.js';
import { expandCollective } from '../../src/native/addon.js';
import { decodeEnvelope } from '../../src/wire/messages.js';
import type { Batch } from '../../src/wire/batch.js';
import { PROTOCOL_VERSION } from '../../src/wire/proto.js';
import { fnCode, fnId, worldCommFrame } from './helpers.js';

const [X, Y, Z] = [32, 32, 16];
const P = X * Y * Z;
const ITER = 4;

/** The stencil neighbours of rank r with the direction (0..5) towards each. */
function neighbours(r: number): Array<[number, number]> {
  const x = r % X,
    y = Math.floor(r / X) % Y,
    z = Math.floor(r / (X * Y));
  const out: Array<[number, number]> = [];
  if (x > 0) out.push([r - 1, 0]);
  if (x < X - 1) out.push([r + 1, 1]);
  if (y > 0) out.push([r - X, 2]);
  if (y < Y - 1) out.push([r + X, 3]);
  if (z > 0) out.push([r - X * Y, 4]);
  if (z < Z - 1) out.push([r + X * Y, 5]);
  return out;
}

const hello = {
  protocol: PROTOCOL_VERSION,
  job: 'stencil',
  rank: 0,
  size: P,
  host: 'h',
  pid: 0,
  startNs: 1n,
  token: '',
  program: 'stencil',
  jobKey: '',
};

const heapNow = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('a 16 384-rank job', () => {
  it('holds a stencil and its collectives exactly, in memory proportional to the pairs that talk', () => {
    const SEND = fnCode('MPI_Isend', Role.Send);
    const ALLREDUCE = fnCode('MPI_Allreduce', Role.Coll);
    const BCAST = fnCode('MPI_Bcast', Role.Coll);
    // The monitor's sessions take decoded messages: encoding and decoding 16 384 ranks' frames
    // is the wire's cost (measured by bench/), not what this test is about.
    const world = decodeEnvelope(worldCommFrame(P).subarray(4));
    const cols = (n: number): Batch => ({
      seq: 0,
      dropped: 0,
      epoch: 0,
      n: 0,
      fn: new Uint32Array(n),
      peer: new Int32Array(n),
      bytes: new Float64Array(n),
      comm: new Uint32Array(n),
      start: new Float64Array(n),
      duration: new Float64Array(n),
      alg: new Uint32Array(n),
      crossMsgs: new Uint32Array(0),
      crossBytes: new Float64Array(0),
      tag: new Uint32Array(n),
      inexact: false,
    });
    const batch = cols(6 * ITER + 7);
    const add = (fn: number, peer: number, bytes: number) => {
      const i = batch.n++;
      [batch.fn[i], batch.peer[i], batch.bytes[i], batch.start[i], batch.duration[i]] = [fn, peer, bytes, i * 10, 5];
    };
    const table = new JobTable();
    const before = heapNow();
    let wantBytes = 0n,
      wantMessages = 0n,
      wantPairs = 0;
    for (let r = 0; r < P; r++) {
      batch.n = 0;
      for (let it = 0; it < ITER; it++)
        for (const [peer, dir] of neighbours(r)) {
          add(SEND, peer, 1024 << dir);
          wantBytes += BigInt(1024 << dir);
          wantMessages++;
        }
      wantPairs += neighbours(r).length;
      for (let k = 0; k < 6; k++) add(ALLREDUCE, -1, 8);
      add(BCAST, 0, 65536);
      const s = table.session();
      s.apply({ kind: 'hello', hello: { ...hello, rank: r, pid: r } });
      s.apply(world);
      s.apply({ kind: 'batch', batch });
    }
    const job = table.jobs.get('stencil')!;
    expect(job.records).toBe(P * 7 + Number(wantMessages));
    expect(job.pairCells).toBe(wantPairs);

    // what the cost model says each rank's collectives send (the world comm: ranks are members)
    let collBytes = 0n,
      collMessages = 0n;
    for (let r = 0; r < P; r++)
      for (const [fn, root, bytes, count] of [
        ['MPI_Allreduce', -1, 8, 6],
        ['MPI_Bcast', 0, 65536, 1],
      ] as const) {
        const f = expandCollective(FUNCTIONS[fnId(fn)].coll, 0, r, root, P, bytes);
        for (let k = 0; k < f.src.length; k++) {
          if (f.src[k] === f.dst[k]) continue;
          collBytes += BigInt(f.bytes[k] * count);
          collMessages += BigInt(f.msgs[k] * count);
        }
      }
    expect(collBytes).toBeGreaterThan(0n);

    const m = job.pairMatrix();
    const after = heapNow();
    expect(job.unexpandedCollectives).toBe(0);
    expect(m.size).toBe(P);
    expect(m.totalBytes()).toBe(wantBytes + collBytes);
    expect(m.totalMessages()).toBe(wantMessages + collMessages);
    // every stencil pair is there, with its bytes (the collectives add to some of them)
    expect(m.bytesOf(0, 1)).toBeGreaterThanOrEqual(BigInt(ITER * (1024 << 1)));
    expect(m.bytesOf(X * Y * (Z - 1), X * Y * (Z - 2))).toBeGreaterThanOrEqual(BigInt(ITER * (1024 << 4)));
    expect(m.pairCount).toBeLessThan(wantPairs * 4); // log P tree peers, not P^2
    expect(job.limitNotes).toEqual([]);

    // classified like any job, from the sparse matrix
    const c = classify(job);
    expect(c.numbers.totalBytes).toBe(Number(wantBytes + collBytes));
    expect(c.numbers.crossBytes).toBeGreaterThan(0);
    expect(() => job.matrix()).toThrow(/pairMatrix/);

    // Dense matrices would be 16 bytes per pair for the point-to-point traffic and as much for the
    // collectives: 8 GiB. Measured without a forced GC, so garbage counts too: an upper bound.
    const used = after - before;
    const dense = P * P * 32;
    console.log(
      `16384-rank stencil job: ${m.pairCount} pairs, heap + array buffers grew ${(used / 2 ** 20).toFixed(0)} MiB (dense: ${dense / 2 ** 30} GiB)`,
    );
    expect(used).toBeLessThan(dense / 16);
  }, 120_000);
});
