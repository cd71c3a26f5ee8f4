// The machine a benchmark records: the wake-up lateness probe (bench/wake-lateness.c) run for real,
// and its refusal of bad arguments.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { compileCached } from '../../bench/compile.js';
import { measureWakeLateness, wakeLateText } from '../../bench/machine.js';

describe('wake-up lateness', () => {
  it('measures each count of sleepers, the last one of each sleep', () => {
    const w = measureWakeLateness([1, 3], 8, 5);
    expect(w.map((x) => x.procs)).toEqual([1, 3]);
    for (const x of w) {
      expect(x.medianUs).toBeGreaterThanOrEqual(0); // never woken before its time
      expect(x.medianUs).toBeLessThan(5000); // nor a whole period late: it did sleep to the instant
      expect(x.p75Us).toBeGreaterThanOrEqual(x.medianUs);
    }
    expect(wakeLateText(w)).toMatch(/^\d+\.\d\d ms alone, \d+\.\d\d ms 3 at once$/);
  }, 30_000);

  it('refuses bad arguments with its usage', () => {
    const bin = compileCached(path.join('bench', 'wake-lateness.c'), 'cc');
    for (const args of [[], ['0', '5', '5'], ['2', '5', '0'], ['x', 'y', 'z']]) {
      const r = spawnSync(bin, args, { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^usage: wake-lateness PROCS/);
      expect(r.stdout).toBe('');
    }
  });
});
