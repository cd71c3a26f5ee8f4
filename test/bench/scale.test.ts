// The scale benchmark's load generator, small: 256 simulated ranks in 2 generator processes
// against a real monitor process over real TCP sockets. The monitor's totals (records, functions,
// every pair of the matrix with the Allreduce expanded, the report's totals) must be exactly what
// the generator sent, with no rank refused and no record lost.
import { describe, expect, it } from 'vitest';

import { gridDims, rankTotals, stepTemplate } from '../../bench/scale/pattern.js';
import { formatScale, parseScaleArgs, runScale } from '../../bench/scale/run.js';

describe('scale pattern', () => {
  it('lays the ranks on a balanced periodic grid with 6 neighbours each', () => {
    expect(gridDims(16384)).toEqual([32, 32, 16]);
    expect(gridDims(256)).toEqual([8, 8, 4]);
    expect(gridDims(7)).toEqual([7, 1, 1]);
    const t = stepTemplate(0, gridDims(256));
    expect(t.fn.length).toBe(14); // 6 Irecv, 6 Isend, Waitall, Allreduce
    expect(new Set(t.peer.filter((p) => p >= 0))).toEqual(new Set([7, 1, 56, 8, 192, 64]));
    // 100 records: 7 whole steps (98) and the first 2 records (Irecv) of the 8th
    const tot = rankTotals(t, 100);
    expect(tot.allreduces).toBe(7);
    expect([...tot.sends.values()].reduce((s, x) => s + x.messages, 0)).toBe(42);
  });

  it('refuses bad options', () => {
    expect(() => parseScaleArgs(['--ranks', '0'])).toThrow(/--ranks/);
    expect(parseScaleArgs(['--ranks', '512', '--split']).split).toBe(true);
  });
});

describe('scale benchmark, 256 ranks', () => {
  it('delivers every record to a real monitor: totals exact, nothing lost', async () => {
    const r = await runScale({
      ranks: 256,
      workers: 2,
      batches: 2,
      recordsPerBatch: 1000,
      window: 64,
      report: true,
      timeoutMs: 60_000,
    });
    expect(r.mismatches).toEqual([]);
    expect(r.exact).toBe(true);
    expect(r.records).toBe(256 * 2 * 1000);
    expect(r.connectFailed).toBe(0);
    expect(r.connectionErrors).toEqual([]);
    expect(r.recordsPerCpuSecond).toBeGreaterThan(0);
    expect(formatScale(r)).toMatch(/totals exact/);
  }, 60_000);
});
