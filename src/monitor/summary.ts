// Job-wide totals over the states of a job's ranks: per-function totals, wall time, MPI fraction
// and losses (JobProfile's queries that read the ranks alone).
import { FUNCTIONS } from '../generated/functions.js';
import type { RankState } from './rank.js';

const NFN = FUNCTIONS.length;

type Ranks = readonly (RankState | undefined)[];

/** Per-function totals over a job (or a rank). */
export interface FunctionStats {
  id: number;
  name: string;
  kind: string;
  /** calls */
  count: number;
  bytes: number;
  timeNs: number;
}

/** Records dropped by the shims, batches and records lost on the way. */
export interface Losses {
  droppedRecords: number;
  lostBatches: number;
  lostRecords: number;
  duplicateBatches: number;
}

/** Per-function totals over the ranks `sel`, functions that were called only. */
export function functionStats(sel: Ranks): FunctionStats[] {
  const out: FunctionStats[] = [];
  for (let id = 0; id < NFN; id++) {
    let calls = 0;
    let bytes = 0n,
      time = 0n;
    for (const r of sel) {
      if (!r || r.fnCalls[id] === 0) continue;
      calls += r.fnCalls[id];
      bytes += r.fnBytes.big(id);
      time += r.fnTime.big(id);
    }
    if (calls === 0) continue;
    const f = FUNCTIONS[id];
    out.push({ id, name: f.name, kind: f.kind, count: calls, bytes: Number(bytes), timeNs: Number(time) });
  }
  return out;
}

/** Job wall time (ns): from the earliest rank start to the latest rank end. */
export function jobWallNs(ranks: Ranks): number {
  let min: bigint | null = null,
    max: bigint | null = null;
  let fallback = 0;
  for (const r of ranks) {
    if (!r) continue;
    fallback = Math.max(fallback, r.wallNs);
    if (r.startNs === null || r.startNs === 0n) continue;
    const end = r.startNs + BigInt(Math.round(r.wallNs));
    if (min === null || r.startNs < min) min = r.startNs;
    if (max === null || end > max) max = end;
  }
  return min !== null && max !== null ? Math.max(fallback, Number(max - min)) : fallback;
}

/** Time in MPI over all ranks divided by wall time over all ranks. */
export function jobMpiFraction(ranks: Ranks): number {
  let mpi = 0,
    wall = 0;
  for (const r of ranks)
    if (r) {
      mpi += r.mpiNs;
      wall += r.wallNs;
    }
  return wall > 0 ? Math.min(1, mpi / wall) : 0;
}

/** Losses summed over the ranks. */
export function jobLosses(ranks: Ranks): Losses {
  let d = 0,
    lb = 0,
    lr = 0,
    dup = 0;
  for (const r of ranks)
    if (r) {
      d += r.dropped;
      lb += r.lostBatches;
      lr += r.lostRecords;
      dup += r.duplicateBatches;
    }
  return { droppedRecords: d, lostBatches: lb, lostRecords: lr, duplicateBatches: dup };
}
