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

/** Per-function totals over the ranks `sel`, functions that were called only. Ranks outside,
 * functions inside: a large job with few ranks connected costs its size, not size x functions. */
export function functionStats(sel: Ranks): FunctionStats[] {
  const calls = new Float64Array(NFN);
  const bytes = new Array<bigint>(NFN).fill(0n);
  const time = new Array<bigint>(NFN).fill(0n);
  for (const r of sel) {
    if (!r) continue;
    for (let id = 0; id < NFN; id++) {
      if (r.fnCalls[id] === 0) continue;
      calls[id] += r.fnCalls[id];
      bytes[id] += r.fnBytes.big(id);
      time[id] += r.fnTime.big(id);
    }
  }
  const out: FunctionStats[] = [];
  for (let id = 0; id < NFN; id++) {
    if (calls[id] === 0) continue;
    const f = FUNCTIONS[id];
    out.push({ id, name: f.name, kind: f.kind, count: calls[id], bytes: Number(bytes[id]), timeNs: Number(time[id]) });
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

/**
 * The job's communicating phase (ns): from the earliest rank's first communication record to the
 * latest rank's last one, on the ranks' common clock (their start times) like jobWallNs. 0 when no
 * rank communicated.
 */
export function jobActiveNs(ranks: Ranks): number {
  let origin: bigint | null = null;
  for (const r of ranks)
    if (r && r.phase.seen && r.startNs && (origin === null || r.startNs < origin)) origin = r.startNs;
  let min = Infinity,
    max = -Infinity,
    fallback = 0;
  for (const r of ranks) {
    if (!r || !r.phase.seen) continue;
    fallback = Math.max(fallback, r.phase.lastNs - r.phase.firstNs);
    if (origin === null || !r.startNs) continue;
    const base = Number(r.startNs - origin); // small: the ranks start within seconds of each other
    min = Math.min(min, base + r.phase.firstNs);
    max = Math.max(max, base + r.phase.lastNs);
  }
  return max > min ? Math.max(fallback, max - min) : fallback;
}

/** The seconds a job's rates are taken over: its communicating phase, or its wall time without one. */
export function phaseSeconds(x: { wallSeconds: number; activeSeconds?: number }): number {
  const a = x.activeSeconds ?? 0;
  return a > 0 && a <= x.wallSeconds ? a : x.wallSeconds;
}
