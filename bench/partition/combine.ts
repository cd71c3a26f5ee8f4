// Several full runs of the partition benchmark as one: each case's times and paired ratio are the
// medians of the runs' (the cuts are the same in every run: both partitioners are deterministic),
// and each run's paired ratio is kept beside it, so that the time goal counts as met only where it
// is met in the median of the runs (as the collective benchmark's figures are judged).
import { quantiles } from '../../src/report/ranks.js';
import type { Row } from './table.js';

export interface RunFile {
  meta: Record<string, unknown>;
  rows: Row[];
}

const key = (r: Row): string => `${r.pattern}/${r.ranks}/${r.sites}`;
const mid = (xs: number[]): number => quantiles(xs).median;

/** The runs as one: cases matched by pattern, ranks and sites; a case some runs lack is left out. */
export function combineRuns(runs: RunFile[]): RunFile {
  if (runs.length === 0) throw new Error('partition combine: no results files');
  const rows: Row[] = [];
  for (const first of runs[0].rows) {
    const same = runs.map((f) => f.rows.find((r) => key(r) === key(first)));
    if (same.some((r) => r === undefined)) continue;
    const rs = same as Row[];
    for (const r of rs) {
      if (r.cut !== first.cut || r.metisCut !== first.metisCut)
        throw new Error(
          `partition combine: ${key(first)} has cuts ${r.cut}/${r.metisCut} in one run, ${first.cut}/${first.metisCut} in another`,
        );
    }
    const m = (f: (r: Row) => number): number => mid(rs.map(f));
    rows.push({
      ...first,
      seconds: m((r) => r.seconds),
      cpuSeconds: m((r) => r.cpuSeconds),
      metisSeconds: m((r) => r.metisSeconds),
      metisWallSeconds: m((r) => r.metisWallSeconds),
      pairedSeconds: m((r) => r.pairedSeconds),
      pairedMetisSeconds: m((r) => r.pairedMetisSeconds),
      pairedRatio: m((r) => r.pairedRatio),
      pairedLow: m((r) => r.pairedLow),
      pairedHigh: m((r) => r.pairedHigh),
      pairedRuns: rs.map((r) => r.pairedRatio),
    });
  }
  return { meta: { runs: runs.map((f) => f.meta) }, rows };
}
