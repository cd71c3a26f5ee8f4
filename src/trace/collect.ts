// The second pass: each rank's calls, kept one by one when the whole trace fits the bound, else
// summed into at most `buckets` time buckets per rank (a bucket with a single call keeps it whole).
// Memory is bounded by the bound either way: columns sized from the first pass's counts.
import { callStart, FN_MASK, isCall, visitRecords, type ReadOptions } from './read.js';
import type { Scan } from './scan.js';

/** Calls of one rank, one per index (exact), or one per bucket (coalesced). */
export interface RankCalls {
  /** entries filled */
  n: number;
  /** calls in each entry (1 when exact) */
  calls: Float64Array;
  /** function id; -1 when a bucket mixes functions */
  fn: Int32Array;
  /** of the entry's first call (exact: its own) */
  peer: Int32Array;
  comm: Int32Array;
  /** summed bytes and time in MPI */
  bytes: Float64Array;
  mpiNs: Float64Array;
  /** first call's start and latest call end, ns on the rank's clock */
  start: Float64Array;
  end: Float64Array;
  /** records past the columns (a file that grew between the passes) */
  late: number;
}

function columns(n: number): RankCalls {
  return {
    n: 0,
    calls: new Float64Array(n),
    fn: new Int32Array(n),
    peer: new Int32Array(n),
    comm: new Int32Array(n),
    bytes: new Float64Array(n),
    mpiNs: new Float64Array(n),
    start: new Float64Array(n).fill(Infinity),
    end: new Float64Array(n).fill(-Infinity),
    late: 0,
  };
}

export interface Collected {
  /** by job index, then rank */
  ranks: Map<number, RankCalls>[];
  /** buckets per rank, by job index then rank; absent: exact */
  buckets: Map<number, number>[] | null;
}

/**
 * Buckets per rank when the scan's calls exceed `maxEvents`: each rank's share of the bound, in
 * proportion to its calls, at least one. Null when everything fits.
 */
export function bucketPlan(scan: Scan, maxEvents: number): Map<number, number>[] | null {
  if (scan.calls <= maxEvents) return null;
  return scan.jobs.map((j) => {
    const m = new Map<number, number>();
    for (const r of j.ranks.values())
      if (r.calls > 0) m.set(r.rank, Math.max(1, Math.floor((maxEvents * r.calls) / scan.calls)));
    return m;
  });
}

export async function collectCalls(
  paths: string[],
  scan: Scan,
  plan: Map<number, number>[] | null,
  opts: ReadOptions = {},
): Promise<Collected> {
  const ranks = scan.jobs.map((j, ji) => {
    const m = new Map<number, RankCalls>();
    for (const r of j.ranks.values())
      if (r.calls > 0) m.set(r.rank, columns(plan ? (plan[ji].get(r.rank) ?? 1) : r.calls));
    return m;
  });
  await visitRecords(
    paths,
    {
      batch(ji, _p, rs, b) {
        const c = ranks[ji]?.get(rs.rank);
        if (!c) return;
        const cap = c.calls.length;
        const r = scan.jobs[ji].ranks.get(rs.rank)!;
        const range = r.lastStartNs - r.firstNs;
        for (let i = 0; i < b.n; i++) {
          const code = b.fn[i];
          if (!isCall(code)) continue;
          const s = callStart(code, b.start[i], b.duration[i]);
          let k: number;
          if (!plan) {
            if (c.n >= cap) {
              c.late++;
              continue;
            }
            k = c.n++;
          } else {
            // time bucket of the call's start (clamped: a file may have grown since the scan)
            const f = range > 0 ? ((s - r.firstNs) * cap) / range : 0;
            k = f <= 0 ? 0 : Math.min(cap - 1, Math.floor(f));
            if (k + 1 > c.n) c.n = k + 1;
          }
          const fn = code & FN_MASK,
            d = b.duration[i];
          if (c.calls[k] === 0 || s < c.start[k]) {
            c.peer[k] = b.peer[i];
            c.comm[k] = rs.localComm.get(b.comm[i]) ?? -1;
            c.start[k] = s;
          }
          c.fn[k] = c.calls[k] === 0 || c.fn[k] === fn ? fn : -1;
          c.calls[k]++;
          c.bytes[k] += b.bytes[i];
          c.mpiNs[k] += d;
          if (s + d > c.end[k]) c.end[k] = s + d;
        }
      },
    },
    opts,
  );
  return { ranks, buckets: plan };
}
