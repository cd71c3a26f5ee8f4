// The builder with request ids (Role Done records: which posted request a Wait or Test completed,
// as how many the rank posted after it), on hand-built records of two ranks: waits in another order
// than posting, wildcard receives given their own RecvDone, a successful Test, an implicit Waitall,
// the same records in the shim's present form (a Wait or Test of one request names it in its own
// record's alg, no Done record), and without Done records (older shims) read with the oldest-first
// rule.
import { describe, expect, it } from 'vitest';
import { RecvMark } from '../../src/generated/facts.js';
import { Role, ROLE_SHIFT } from '../../src/generated/functions.js';
import { makeCluster, wanLink } from '../../src/replay/cluster.js';
import { replay } from '../../src/replay/engine.js';
import { buildTrace, type RankRecords } from '../../src/replay/records.js';
import { Op, type Trace } from '../../src/replay/trace.js';
import { fnCode } from '../helpers/fake-rank.js';

interface R {
  fn: number;
  peer?: number;
  bytes?: number;
  tag?: number;
  alg?: number;
  d?: number;
}
const hello = (rank: number) => ({
  ...{ protocol: 1, job: 'ids', rank, size: 2, host: 'h', pid: 1, startNs: 0n },
  ...{ token: '', program: '', jobKey: '' },
});
const world = new Map([[1, { key: '1:0,1|', members: [0, 1] }]]);
/** A rank's records, 1 us apart, each lasting d (default 10 ns; secondary records 0). */
function rank(r: number, recs: R[]): RankRecords {
  let t = 0;
  const start: number[] = [],
    duration: number[] = [];
  for (const x of recs) {
    const secondary = x.fn >>> ROLE_SHIFT > Role.Coll;
    if (!secondary) t += 1000;
    start.push(secondary ? t + 10 : t);
    duration.push(secondary ? 0 : (x.d ?? 10));
  }
  return {
    hello: hello(r),
    fn: recs.map((x) => x.fn),
    peer: recs.map((x) => x.peer ?? -1),
    bytes: recs.map((x) => x.bytes ?? 0),
    comm: recs.map(() => 1),
    start,
    duration,
    alg: recs.map((x) => x.alg ?? 0),
    tag: recs.map((x) => x.tag ?? 0),
    comms: world,
  };
}
const noDone = (r: RankRecords): RankRecords => {
  const keep = r.fn.map((f) => f >>> ROLE_SHIFT !== Role.Done);
  const f = <T>(a: T[]) => a.filter((_, i) => keep[i]);
  return {
    ...r,
    fn: f(r.fn),
    peer: f(r.peer),
    bytes: f(r.bytes),
    comm: f(r.comm),
    start: f(r.start),
    duration: f(r.duration),
    alg: f(r.alg),
    tag: f(r.tag!),
  };
};
/** The shim's form since: a Wait/Test (-any) names its one request in its own alg (after + 1), no Done. */
const named = (r: RankRecords): RankRecords => {
  const one = new Set(['MPI_Wait', 'MPI_Waitany', 'MPI_Test', 'MPI_Testany'].map((f) => fnCode(f, Role.Other)));
  const keep = r.fn.map(() => true);
  const alg = [...r.alg];
  for (let i = 0; i + 1 < r.fn.length; i++)
    if (one.has(r.fn[i]) && r.fn[i + 1] >>> ROLE_SHIFT === Role.Done) {
      alg[i] = r.bytes[i + 1] + 1;
      keep[i + 1] = false;
    }
  const f = <T>(a: T[]) => a.filter((_, i) => keep[i]);
  const out = { ...r, alg };
  return {
    ...out,
    ...{ fn: f(r.fn), peer: f(r.peer), bytes: f(r.bytes), comm: f(r.comm), start: f(r.start) },
    ...{ duration: f(r.duration), alg: f(alg), tag: f(r.tag!) },
  };
};
const irecv = (peer: number, bytes: number, tag: number): R => ({
  fn: fnCode('MPI_Irecv', Role.Recv),
  ...{ peer, bytes, tag, alg: RecvMark.Posted },
});
const anyRecv = (): R => ({ fn: fnCode('MPI_Irecv', Role.Other) });
const recvDone = (peer: number, bytes: number, tag: number): R => ({
  fn: fnCode('MPI_Irecv', Role.RecvDone),
  peer,
  bytes,
  tag,
});
const call = (name: string, d = 10): R => ({ fn: fnCode(name, Role.Other), d });
const done = (name: string, after: number): R => ({ fn: fnCode(name, Role.Done), bytes: after });
const send = (peer: number, bytes: number, tag: number): R => ({ fn: fnCode('MPI_Send', Role.Send), peer, bytes, tag });
const isend = (peer: number, bytes: number, tag: number): R => ({
  fn: fnCode('MPI_Isend', Role.Send),
  peer,
  bytes,
  tag,
});

/**
 * Rank 0's operations other than compute: [kind, peer, bytes]; a Wait for one request: [Wait, 1,
 * 'the request's position in this list'], the others [Wait, count, -1].
 */
function ops0(t: Trace): (number | string)[][] {
  const idx = Array.from({ length: t.first[1] }, (_, i) => i).filter((i) => t.kind[i] !== Op.Compute);
  return idx.map((i) =>
    t.kind[i] !== Op.Wait
      ? [t.kind[i], t.peer[i], t.bytes[i]]
      : [Op.Wait, t.peer[i], t.bytes[i] > 0 ? `#${idx.indexOf(t.bytes[i] - 1)}` : -1],
  );
}
const cluster = makeCluster([0, 1], wanLink(10, 1000), { nodeOf: [0, 1] });

describe('request ids in the builder', () => {
  // rank 0 posts receives of tag 1 and 2 from rank 1, waits for tag 2 first, then sends rank 1 a
  // go; rank 1 sends tag 2, waits for the go, then sends tag 1
  const r0 = [
    irecv(1, 8, 1),
    irecv(1, 8, 2),
    call('MPI_Waitany'),
    done('MPI_Waitany', 0),
    send(1, 4, 9),
    call('MPI_Waitany'),
    done('MPI_Waitany', 1),
  ];
  const r1 = [send(0, 8, 2), { fn: fnCode('MPI_Recv', Role.Recv), peer: 0, bytes: 4, tag: 9 }, send(0, 8, 1)];

  it('waits for the request each Done names, in the order the program completed them', () => {
    const t = buildTrace([rank(0, r0), rank(1, r1)]);
    expect(ops0(t)).toEqual([
      [Op.Irecv, 1, 8],
      [Op.Irecv, 1, 8],
      [Op.Wait, 1, '#1'], // the second receive's (tag 2)
      [Op.Send, 1, 4],
      [Op.Wait, 1, '#0'],
    ]);
    expect(replay(t, cluster).stalled).toEqual([]);
  });

  it('reads a Wait that names its request in its own record as one followed by its Done', () => {
    const t = buildTrace([named(rank(0, r0)), rank(1, r1)]);
    expect(named(rank(0, r0)).fn.some((x) => x >>> ROLE_SHIFT === Role.Done)).toBe(false);
    expect(ops0(t)).toEqual(ops0(buildTrace([rank(0, r0), rank(1, r1)])));
    expect(replay(t, cluster).stalled).toEqual([]);
  });

  it('without Done records (older files): the oldest request first, which deadlocks here', () => {
    const t = buildTrace([noDone(rank(0, r0)), rank(1, r1)]);
    expect(ops0(t)).toEqual([
      [Op.Irecv, 1, 8],
      [Op.Irecv, 1, 8],
      [Op.Wait, 1, -1],
      [Op.Send, 1, 4],
      [Op.Wait, 1, -1],
    ]);
    expect(replay(t, cluster).stalled).toEqual([0, 1]);
  });

  it('gives a wildcard receive the RecvDone that follows its Done', () => {
    const recs = [
      anyRecv(),
      anyRecv(),
      call('MPI_Waitany'),
      done('MPI_Waitany', 0),
      recvDone(1, 120, 7),
      call('MPI_Waitany'),
      done('MPI_Waitany', 1),
      recvDone(1, 40, 6),
    ];
    const peer1 = [send(0, 120, 7), send(0, 40, 6)];
    const t = buildTrace([rank(0, recs), rank(1, peer1)]);
    expect(ops0(buildTrace([named(rank(0, recs)), rank(1, peer1)]))).toEqual(ops0(t)); // the shim's form since
    expect(ops0(t).filter(([k]) => k === Op.Irecv)).toEqual([
      [Op.Irecv, 1, 40],
      [Op.Irecv, 1, 120],
    ]);
    expect(t.unmatched).toBe(0);
    // the oldest-first rule gives the first RecvDone to the first receive
    const old = buildTrace([noDone(rank(0, recs)), rank(1, peer1)]);
    expect(ops0(old).filter(([k]) => k === Op.Irecv)).toEqual([
      [Op.Irecv, 1, 120],
      [Op.Irecv, 1, 40],
    ]);
  });

  it('a successful Test waits for its request; a Test without Done and a Waitall without them', () => {
    const recs = [
      irecv(1, 8, 1),
      isend(1, 16, 3),
      call('MPI_Test'),
      call('MPI_Test'),
      done('MPI_Test', 1), // the receive, posted before the send
      irecv(1, 8, 2),
      call('MPI_Waitall'), // no Done: every outstanding request (the send and the second receive)
      call('MPI_Testall'), // nothing completed
    ];
    const peer1 = [send(0, 8, 1), { fn: fnCode('MPI_Recv', Role.Recv), peer: 0, bytes: 16, tag: 3 }, send(0, 8, 2)];
    const t = buildTrace([rank(0, recs), rank(1, peer1)]);
    expect(ops0(buildTrace([named(rank(0, recs)), rank(1, peer1)]))).toEqual(ops0(t)); // the shim's form since
    expect(ops0(t)).toEqual([
      [Op.Irecv, 1, 8],
      [Op.Isend, 1, 16],
      [Op.Wait, 1, '#0'],
      [Op.Irecv, 1, 8],
      [Op.Wait, 0, -1],
    ]);
    expect(replay(t, cluster).stalled).toEqual([]);
  });

  it('a Done for a request the builder does not replay (to MPI_PROC_NULL) waits for nothing', () => {
    const recs = [
      { fn: fnCode('MPI_Isend', Role.Send), peer: -1, bytes: 4 },
      isend(1, 16, 3),
      call('MPI_Wait'),
      done('MPI_Wait', 1), // the MPI_PROC_NULL send
      call('MPI_Wait'),
      done('MPI_Wait', 0),
    ];
    const peer1 = [{ fn: fnCode('MPI_Recv', Role.Recv), peer: 0, bytes: 16, tag: 3 }];
    const t = buildTrace([rank(0, recs), rank(1, peer1)]);
    expect(ops0(buildTrace([named(rank(0, recs)), rank(1, peer1)]))).toEqual(ops0(t)); // the shim's form since
    expect(ops0(t)).toEqual([
      [Op.Isend, 1, 16],
      [Op.Wait, 1, '#0'],
    ]);
  });
});
