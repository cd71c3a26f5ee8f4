// The machine a benchmark records: the wake-up lateness probe (bench/wake-lateness.c) and the
// system call probe (bench/syscall-cost.c) run for real, and their refusal of bad arguments; the
// compile cache their C programs go through.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { measureSyscallCost, measureWakeLateness, syscallText, wakeLateText } from '../../bench/machine.js';
import { compileCached } from '../../src/mpi/toolchain.js';

describe('wake-up lateness', () => {
  it('measures each count of sleepers, the last one of each sleep', () => {
    const w = measureWakeLateness([1, 3], 8, 20);
    expect(w.map((x) => x.procs)).toEqual([1, 3]);
    for (const x of w) {
      expect(x.medianUs).toBeGreaterThanOrEqual(0); // never woken before its time
      expect(x.medianUs).toBeLessThan(20_000); // nor a whole period late: it did sleep to the instant
      expect(x.p75Us).toBeGreaterThanOrEqual(x.medianUs);
    }
    expect(wakeLateText(w)).toMatch(/^\d+\.\d\d ms alone, \d+\.\d\d ms 3 at once$/);
  }, 30_000);

  it('refuses bad arguments with its usage', () => {
    const bin = compileCached(path.join('bench', 'wake-lateness.c'), 'cc', ['-Wall']);
    for (const args of [[], ['0', '5', '5'], ['2', '5', '0'], ['x', 'y', 'z']]) {
      const r = spawnSync(bin, args, { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^usage: wake-lateness PROCS/);
      expect(r.stdout).toBe('');
    }
  });
});

describe('system call cost', () => {
  it('times a system call and a yield, each a positive time below a millisecond', () => {
    const s = measureSyscallCost(2000);
    for (const ns of [s.getppidNs, s.schedYieldNs]) {
      expect(ns).toBeGreaterThan(0);
      expect(ns).toBeLessThan(1e6);
    }
    expect(syscallText(s)).toMatch(/^system calls \d+\.\d\d µs \(sched_yield \d+\.\d\d µs\)$/);
  });

  it('refuses bad arguments with its usage', () => {
    const bin = compileCached(path.join('bench', 'syscall-cost.c'), 'cc', ['-Wall']);
    for (const args of [['0'], ['-5'], ['x'], ['10', '20']]) {
      const r = spawnSync(bin, args, { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^usage: syscall-cost/);
      expect(r.stdout).toBe('');
    }
  });
});

describe('compileCached', () => {
  it('compiles once per content and says why a program does not compile', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sitempi-compile-'));
    const src = path.join(dir, 'probe.c');
    writeFileSync(src, 'int main(void) { return 3; }\n');
    const bin = compileCached(src, 'cc');
    expect(spawnSync(bin).status).toBe(3);
    expect(compileCached(src, 'cc')).toBe(bin); // cached
    writeFileSync(src, 'int main(void) { return 4; }\n');
    const again = compileCached(src, 'cc');
    expect(again).not.toBe(bin); // new content, new binary
    expect(spawnSync(again).status).toBe(4);
    writeFileSync(src, 'int main(void) { return undeclared; }\n');
    expect(() => compileCached(src, 'cc')).toThrow(/cc failed for .*probe\.c:\n(.|\n)*undeclared/);
  });
});
