// The partition benchmark's runs combined (bench/partition/combine.ts): each case's times and paired
// ratio are the medians of the runs', each run's paired ratio is kept, and the time goal line counts
// a case as met only where the median meets it.
import { describe, expect, it } from 'vitest';

import { combineRuns, type RunFile } from '../../bench/partition/combine.js';
import { summary, type Row } from '../../bench/partition/table.js';

function row(sites: string, paired: number, cpu: number, cut = 100): Row {
  return {
    pattern: 'stencil3d',
    ranks: 1000,
    sites,
    caps: [515, 515],
    edges: 2700,
    cut,
    seconds: cpu,
    cpuSeconds: cpu,
    metisCut: 110,
    metisSeconds: 0.01,
    metisWallSeconds: 0.02,
    metisOverCap: 0,
    ufactor: 30,
    contiguousCut: 120,
    pairedSeconds: cpu,
    pairedMetisSeconds: cpu / paired,
    pairedRatio: paired,
    pairedLow: paired - 0.01,
    pairedHigh: paired + 0.01,
  };
}

const run = (date: string, rows: Row[]): RunFile => ({ meta: { date, loadavg: [1, 1, 1], cpus: 2 }, rows });

describe('partition benchmark: runs combined', () => {
  it('takes the median of each case over the runs and keeps every run ratio', () => {
    const c = combineRuns([
      run('a', [row('2', 0.9, 0.03), row('4', 1.2, 0.05)]),
      run('b', [row('2', 1.1, 0.01), row('4', 0.95, 0.04)]),
      run('c', [row('2', 0.8, 0.02), row('4', 0.97, 0.06)]),
    ]);
    expect(c.rows.map((r) => r.pairedRatio)).toEqual([0.9, 0.97]);
    expect(c.rows.map((r) => r.cpuSeconds)).toEqual([0.02, 0.05]);
    expect(c.rows[1].pairedRuns).toEqual([1.2, 0.95, 0.97]);
    expect(c.meta.runs).toHaveLength(3);
    // Both cases meet the time goal in the median; run a misses one, runs b and c one each.
    const line = summary(c.rows).find((l) => l.startsWith("CPU time / METIS's, paired")) ?? '';
    expect(line).toContain('at most METIS');
    expect(line).toContain('2 of 2 in the median of 3 runs (in each run: 1, 1, 2)');
  });

  it('refuses runs whose cuts differ (both partitioners are deterministic: another build or graph)', () => {
    expect(() => combineRuns([run('a', [row('2', 0.9, 0.03)]), run('b', [row('2', 0.9, 0.03, 99)])])).toThrow(/cuts/);
  });
});
