// The replay engine on hand-built traces whose answers follow from the model (docs/replay.md).
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/replay/engine.js';
import { Coll, emitSteps, tunedSteps } from '../../src/replay/schedules.js';
import { TraceBuilder } from '../../src/replay/trace.js';
import { cluster, local, wan } from './hand-cluster.js';

const oneWay = (b: number, p: { L: number; G: number } = local): number => 2 * local.o + b * p.G + p.L;

describe('replay', () => {
  it('ping-pong: each round trip is twice o + bG + L + o', () => {
    const b = new TraceBuilder(2);
    const N = 3,
      m = 1000;
    for (let k = 0; k < N; k++) {
      b.send(0, 1, m).recv(0, 1, m);
      b.recv(1, 0, m).send(1, 0, m);
    }
    const t = b.finish();
    expect(t.unmatched).toBe(0);
    const one = replay(t, cluster([0, 0]));
    expect(one.wallNs).toBe(N * 2 * oneWay(m));
    expect(one.stalled).toEqual([]);
    expect(one.wanNs[0]).toBe(0);
    // across sites: the WAN link's latency and per-byte time instead
    const two = replay(t, cluster([0, 1]));
    expect(two.wallNs).toBe(N * 2 * oneWay(m, wan));
    expect(two.wanNs[0]).toBeGreaterThan(0);
    expect(two.computeNs[0]).toBe(0);
  });

  it('the first message of a pair waits a round trip for its connection, later ones do not', () => {
    const b = new TraceBuilder(2);
    const N = 3,
      m = 1000;
    for (let k = 0; k < N; k++) b.send(0, 1, m).recv(0, 1, m).recv(1, 0, m).send(1, 0, m);
    const t = b.finish();
    const plain = replay(t, cluster([0, 1])).wallNs;
    expect(replay(t, cluster([0, 1], { connectRtts: 1 })).wallNs).toBe(plain + 2 * wan.L);
    // ranks of one node share memory: nothing to connect
    expect(replay(t, cluster([0, 0], { connectRtts: 1, nodeOf: [0, 0] })).wallNs).toBe(
      replay(t, cluster([0, 0], { nodeOf: [0, 0] })).wallNs,
    );
  });

  it('ring: a token passes P hops', () => {
    for (const P of [3, 5]) {
      const b = new TraceBuilder(P);
      const m = 256;
      b.send(0, 1, m).recv(0, P - 1, m);
      for (let r = 1; r < P; r++) b.recv(r, r - 1, m).send(r, (r + 1) % P, m);
      const res = replay(b.finish(), cluster(Array(P).fill(0)));
      expect(res.wallNs).toBe(P * oneWay(m));
      expect(res.events).toBe(2 * P);
    }
  });

  it('allreduce: recursive doubling at 4 and 8 ranks takes log2 P exchanges', () => {
    for (const P of [4, 8]) {
      const m = 1024; // below 8 KiB: Open MPI 4.1 runs recursive doubling at these sizes
      const b = new TraceBuilder(P);
      const members = Array.from({ length: P }, (_, i) => i);
      for (let r = 0; r < P; r++) {
        const steps = tunedSteps(Coll.Allreduce, P, r, -1, m);
        expect(steps.map((s) => s.to[0])).toEqual(Array.from({ length: Math.log2(P) }, (_, k) => r ^ (1 << k)));
        emitSteps(b, r, members, steps, 1);
      }
      const res = replay(b.finish(), cluster(Array(P).fill(0)));
      // one exchange: post, o, bG, L, then the receive's o
      expect(res.wallNs).toBe(Math.log2(P) * oneWay(m));
    }
  });

  it('allreduce of one double at 4 ranks: the ring rule, run as recursive doubling (count < P)', () => {
    // Open MPI 4.1 picks ring below 16 bytes at 4-7 ranks; its ring falls back to recursive
    // doubling for fewer elements than ranks
    for (let r = 0; r < 4; r++)
      expect(tunedSteps(Coll.Allreduce, 4, r, -1, 8).map((s) => s.to[0])).toEqual([r ^ 1, r ^ 2]);
    // with enough elements the ring stays: 2 (P - 1) steps to the right neighbour
    expect(tunedSteps(Coll.Allreduce, 3, 0, -1, 32768).map((s) => s.to[0])).toEqual([1, 1, 1, 1]);
  });

  it('allreduce at 6 ranks: the two extra ranks fold in first and get the result last', () => {
    const P = 6,
      m = 1024;
    const b = new TraceBuilder(P);
    const members = Array.from({ length: P }, (_, i) => i);
    for (let r = 0; r < P; r++) emitSteps(b, r, members, tunedSteps(Coll.Allreduce, P, r, -1, m), 1);
    const t = b.finish();
    expect(t.unmatched).toBe(0);
    const res = replay(t, cluster(Array(P).fill(0)));
    expect(res.stalled).toEqual([]);
    // rank 1: fold-in from 0, exchange with 3 (both at 2 one-way times); rank 4's message of the
    // second exchange is already there (4 started at once), so that step costs rank 1 only its
    // send (o + bG); then the fold-out to rank 0 (one way).
    expect(res.endNs[1]).toBe(2 * oneWay(m) + 2 * (local.o + m * local.G));
    expect(res.wallNs).toBe(3 * oneWay(m) + local.o + m * local.G);
  });

  it('wavefront: each rank waits for its upper and left neighbours', () => {
    const X = 3,
      Y = 4,
      c = 50_000,
      m = 100;
    const id = (i: number, j: number): number => i * Y + j;
    const b = new TraceBuilder(X * Y);
    for (let i = 0; i < X; i++)
      for (let j = 0; j < Y; j++) {
        const r = id(i, j);
        if (i > 0) b.recv(r, id(i - 1, j), m);
        if (j > 0) b.recv(r, id(i, j - 1), m);
        b.compute(r, c);
        if (i < X - 1) b.send(r, id(i + 1, j), m);
        if (j < Y - 1) b.send(r, id(i, j + 1), m);
      }
    const res = replay(b.finish(), cluster(Array(X * Y).fill(0)));
    // the model's recurrence, written out: receives in order, then sends one after the other
    const arrDown = new Map<number, number>(),
      arrRight = new Map<number, number>();
    let wall = 0;
    for (let i = 0; i < X; i++)
      for (let j = 0; j < Y; j++) {
        let t = 0;
        if (i > 0) t = Math.max(t, arrDown.get(id(i - 1, j))!) + local.o;
        if (j > 0) t = Math.max(t, arrRight.get(id(i, j - 1))!) + local.o;
        t += c;
        if (i < X - 1) {
          const start = t + local.o;
          arrDown.set(id(i, j), start + m * local.G + local.L);
          t = start + m * local.G;
        }
        if (j < Y - 1) {
          const start = t + local.o;
          arrRight.set(id(i, j), start + m * local.G + local.L);
          t = start + m * local.G;
        }
        wall = Math.max(wall, t);
      }
    expect(res.wallNs).toBe(wall);
    // the critical path crosses X + Y - 1 ranks' compute
    expect(res.wallNs).toBeGreaterThan((X + Y - 1) * c);
  });

  it('a shared WAN link: two flows one way take twice as long as one, opposite ways do not queue', () => {
    const m = 60_000; // eager
    const sites = [0, 0, 1, 1];
    const flows = (pairs: [number, number][]): number => {
      const b = new TraceBuilder(4);
      for (const [s, d] of pairs) b.send(s, d, m).recv(d, s, m);
      return replay(b.finish(), cluster(sites)).wallNs;
    };
    const fixed = 2 * local.o + wan.L;
    const one = flows([[0, 2]]);
    expect(one - fixed).toBe(m * wan.G);
    const two = flows([
      [0, 2],
      [1, 3],
    ]);
    expect(two - fixed).toBe(2 * (one - fixed));
    const opposite = flows([
      [0, 2],
      [3, 1],
    ]);
    expect(opposite).toBe(one);
  });

  it('rendezvous: a large message waits for its receive and a round trip', () => {
    const m = 1 << 20;
    const late = 3_000_000;
    const b = new TraceBuilder(2);
    b.send(0, 1, m);
    b.compute(1, late).recv(1, 0, m);
    const res = replay(b.finish(), cluster([0, 1]));
    // the data leaves L after the receive is posted; the sender is done when it is on the link
    expect(res.endNs[0]).toBe(late + wan.L + m * wan.G);
    expect(res.endNs[1]).toBe(late + 2 * wan.L + m * wan.G + local.o);
  });

  it('non-blocking exchange: Irecv, Isend and Waitall overlap both directions', () => {
    const m = 500;
    const b = new TraceBuilder(2);
    for (const r of [0, 1])
      b.irecv(r, 1 - r, m)
        .isend(r, 1 - r, m)
        .wait(r);
    const res = replay(b.finish(), cluster([0, 0]));
    expect(res.wallNs).toBe(oneWay(m));
  });

  it('a receive with no send does not hang the replay', () => {
    const b = new TraceBuilder(2);
    b.recv(0, 1, 10).compute(0, 5);
    b.compute(1, 7);
    const t = b.finish();
    expect(t.unmatched).toBe(1);
    const res = replay(t, cluster([0, 0]));
    expect(res.stalled).toEqual([]);
    expect(res.wallNs).toBe(7);
  });

  it('a rendezvous send with no receive (a window cut before it) does not hang the replay', () => {
    // a live job's window: the receiver's records end one message earlier than the sender's
    const big = 1 << 20;
    const b = new TraceBuilder(2);
    b.send(0, 1, big).send(0, 1, big).compute(0, 5);
    b.recv(1, 0, big);
    const t = b.finish();
    expect(t.unmatched).toBe(1);
    for (const siteOf of [
      [0, 0],
      [0, 1],
    ]) {
      const res = replay(t, cluster(siteOf, { eagerLimit: 4096 }));
      expect(res.stalled).toEqual([]);
    }
    // the same send as a request: its Wait does not hang either
    const r = new TraceBuilder(2);
    r.isend(0, 1, big).wait(0).compute(0, 5);
    const res = replay(r.finish(), cluster([0, 0], { eagerLimit: 4096 }));
    expect(res.stalled).toEqual([]);
    expect(res.wallNs).toBe(local.o + 5);
  });

  it('refuses a cluster that does not fit the trace', () => {
    expect(() => replay(new TraceBuilder(3).finish(), cluster([0, 0]))).toThrow(/siteOf has 2 entries/);
    expect(() => new TraceBuilder(2).send(0, 0, 1)).toThrow(/peer 0/);
  });
});
