// A collective that ran sitempi's site-aware algorithm is replayed from the native cost model's
// flows: leaders exchange across sites once, the other ranks only inside their site.
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, Role, ROLE_SHIFT } from '../../src/generated/functions.js';
import { replay } from '../../src/replay/engine.js';
import { buildTrace, type RankRecords } from '../../src/replay/records.js';
import { Op } from '../../src/replay/trace.js';

const fnCode = (name: string, role: number): number =>
  FUNCTIONS.findIndex((f) => f.name === name) | (role << ROLE_SHIFT);

/** Records of P ranks that each call one `fn` (Allreduce) of `bytes` on MPI_COMM_WORLD with `alg`. */
function allreduceRecords(P: number, bytes: number, alg: number, fn = 'MPI_Allreduce'): RankRecords[] {
  const members = Array.from({ length: P }, (_, i) => i);
  return members.map((rank) => ({
    hello: {
      protocol: 1,
      job: 'sa',
      rank,
      size: P,
      host: `h${rank}`,
      pid: 1,
      startNs: 0n,
      token: '',
      program: '',
      jobKey: '',
    },
    fn: [fnCode(fn, Role.Coll)],
    peer: [-1],
    bytes: [bytes],
    comm: [1],
    start: [1000],
    duration: [500],
    alg: [alg],
    comms: new Map([[1, { key: `1:${members.join(',')}|`, members }]]),
  }));
}

const wanL = 5e6;
const local = { o: 1000, g: 0, L: 5000, G: 0 };
const replayOn = (trace: ReturnType<typeof buildTrace>, siteOf: number[]) =>
  replay(trace, { siteOf, intraNode: local, intraSite: local, wan: { L: wanL, G: 0 }, connectRtts: 0 });

describe('site-aware collectives', () => {
  it('an Allreduce with leaders: every flow matched, one WAN exchange on the critical path', () => {
    const P = 8,
      siteOf = [0, 0, 0, 0, 1, 1, 1, 1];
    const trace = buildTrace(allreduceRecords(P, 4096, 1), { siteOf });
    expect(trace.unmatched).toBe(0);
    let messages = 0;
    for (let i = 0; i < trace.first[P]; i++) if (trace.kind[i] === Op.Isend) messages++;
    expect(messages).toBeGreaterThan(0);
    const res = replayOn(trace, siteOf);
    expect(res.stalled).toEqual([]);
    // leaders cross once each way in parallel: one WAN latency, not log2(P) of them
    expect(res.wallNs).toBeGreaterThan(wanL);
    expect(res.wallNs).toBeLessThan(2 * wanL);
    // the same records as Open MPI's recursive doubling (alg 0): every rank has a partner on the
    // other site at the last step, so more messages cross
    const flat = buildTrace(allreduceRecords(P, 4096, 0));
    const crossing = (t: typeof trace): number => {
      let n = 0;
      for (let r = 0; r < P; r++)
        for (let i = t.first[r]; i < t.first[r + 1]; i++)
          if (t.kind[i] === Op.Isend && siteOf[t.peer[i]] !== siteOf[r]) n++;
      return n;
    };
    expect(crossing(trace)).toBeLessThan(crossing(flat));
  });

  // Every member crosses: its site contributions go out before its WAN exchange, else all wait.
  it('a Reduce_scatter_block spread over the members: no stall, one WAN exchange, a message per block', () => {
    for (const siteOf of [
      [0, 0, 0, 0, 1, 1, 1, 1],
      [0, 1, 0, 1, 0, 1, 0, 1],
      [0, 0, 0, 1, 1, 1, 1, 1],
    ]) {
      const P = siteOf.length;
      const trace = buildTrace(allreduceRecords(P, 65536, 3, 'MPI_Reduce_scatter_block'), { siteOf });
      expect(trace.unmatched).toBe(0);
      let crossing = 0;
      for (let r = 0; r < P; r++)
        for (let i = trace.first[r]; i < trace.first[r + 1]; i++)
          if (trace.kind[i] === Op.Isend && siteOf[trace.peer[i]] !== siteOf[r]) crossing++;
      expect(crossing).toBe(P); // two sites: each block's partial from the other site
      const res = replayOn(trace, siteOf);
      expect(res.stalled).toEqual([]);
      expect(res.wallNs).toBeGreaterThan(wanL);
      expect(res.wallNs).toBeLessThan(2 * wanL);
    }
  });

  it('a pairwise Alltoall and a spread Allgather (every member crosses): no stall', () => {
    const siteOf = [0, 0, 0, 0, 1, 1, 1, 1];
    for (const fn of ['MPI_Alltoall', 'MPI_Allgather']) {
      const trace = buildTrace(allreduceRecords(8, 65536, 3, fn), { siteOf });
      expect(trace.unmatched).toBe(0);
      expect(replayOn(trace, siteOf).stalled).toEqual([]);
    }
  });
});
