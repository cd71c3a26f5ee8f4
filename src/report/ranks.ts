// Per-rank figures that stay readable for any job size: every rank up to MAX_LISTED_RANKS, above
// that the ranks with the most and the least time in MPI and those with problems, plus quantiles
// over all ranks.
import type { Steps } from '../monitor/steps.js';
import type { Quantiles, RankReport, RankSummary } from './types.js';

export type { Quantiles, RankSummary } from './types.js';

/** Jobs up to this many ranks list every rank (in JSON and text). */
export const MAX_LISTED_RANKS = 256;

/** Quantiles of `v` (linear interpolation between order statistics). */
export function quantiles(v: readonly number[]): Quantiles {
  if (v.length === 0) return { min: 0, p10: 0, p25: 0, median: 0, p75: 0, p90: 0, max: 0, mean: 0 };
  const s = Float64Array.from(v).sort();
  const at = (q: number) => {
    const x = q * (s.length - 1),
      i = Math.floor(x);
    return i + 1 < s.length ? s[i] + (x - i) * (s[i + 1] - s[i]) : s[i];
  };
  return {
    min: s[0],
    p10: at(0.1),
    p25: at(0.25),
    median: at(0.5),
    p75: at(0.75),
    p90: at(0.9),
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

const hasProblem = (k: RankReport) =>
  !k.seen || !k.finished || k.droppedRecords + k.lostRecords + k.lostBatches + k.invalidPeerRecords > 0;

/** The ranks a report lists (all of them for small jobs) and the summary over all of them. */
export function* selectRanks(all: RankReport[], top: number): Steps<{ ranks: RankReport[]; summary: RankSummary }> {
  const seen = all.filter((k) => k.seen);
  const q = (f: (k: RankReport) => number) => quantiles(seen.map(f));
  const quant = {
    wallSeconds: q((k) => k.wallSeconds),
    mpiSeconds: q((k) => k.mpiSeconds),
    mpiFraction: q((k) => k.mpiFraction),
    calls: q((k) => k.calls),
    records: q((k) => k.records),
  };
  yield;
  const summary: RankSummary = {
    listed: 'all',
    ranksListed: all.length,
    mostMpi: [],
    leastMpi: [],
    problems: [],
    notSeen: all.length - seen.length,
    notFinished: seen.filter((k) => !k.finished).length,
    withLosses: all.filter((k) => k.droppedRecords + k.lostRecords + k.lostBatches > 0).length,
    calls: all.reduce((n, k) => n + k.calls, 0),
    quantiles: quant,
  };
  if (all.length <= MAX_LISTED_RANKS) return { ranks: all, summary };
  const k = Math.max(1, Math.min(Math.floor(top) || 1, MAX_LISTED_RANKS / 4));
  const byMpi = [...seen].sort((a, b) => b.mpiSeconds - a.mpiSeconds || a.rank - b.rank);
  yield;
  summary.listed = 'extremes';
  summary.mostMpi = byMpi.slice(0, k).map((r) => r.rank);
  summary.leastMpi = byMpi
    .slice(Math.max(k, byMpi.length - k))
    .reverse()
    .map((r) => r.rank);
  for (const r of all) {
    if (summary.problems.length >= k) break;
    if (hasProblem(r)) summary.problems.push(r.rank);
  }
  const pick = new Set([...summary.mostMpi, ...summary.leastMpi, ...summary.problems]);
  const ranks = [...pick].sort((a, b) => a - b).map((r) => all[r]);
  summary.ranksListed = ranks.length;
  return { ranks, summary };
}
