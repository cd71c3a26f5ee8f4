// Node usage: the /proc parsers, and when a node turns stale and fresh again.
import { expect, it } from 'vitest';
import { checkSample, NodeUsage } from '../../src/manager/node-usage.js';
import { parseMeminfo, parseProcStat, sampleProc } from '../../src/manager/proc-sample.js';

it('reads /proc/stat and /proc/meminfo', () => {
  expect(parseProcStat('cpu  100 5 50 800 20 0 5 0 0 0\ncpu0 1 2 3 4\n')).toEqual({ busy: 160, total: 980 });
  expect(parseMeminfo('MemTotal:  1000 kB\nMemFree: 100 kB\nMemAvailable:  250 kB\n')).toEqual({
    usedBytes: 750 * 1024,
    totalBytes: 1000 * 1024,
  });
  expect(() => parseMeminfo('MemTotal: 1 kB\n')).toThrow(/MemAvailable/);
  // This host's own numbers are in range.
  const first = sampleProc(null);
  const { sample } = sampleProc(first.cpu);
  expect(checkSample(sample)).toEqual(sample);
});

it('marks a node stale after the samples it missed, and fresh with the next one', () => {
  const u = new NodeUsage(3);
  const s = { load1: 1, cpuBusy: 0.5, memUsedBytes: 1, memTotalBytes: 2 };
  expect(u.health('a0')).toBe('unknown');
  expect(u.record('a0', s, 1000, 0)).toBe(false);
  expect(u.check(2999)).toEqual([]);
  expect(u.check(3001)).toEqual(['a0']);
  expect(u.check(5000)).toEqual([]); // reported once
  expect(u.health('a0')).toBe('stale');
  expect(u.latest('a0', 5000)).toMatchObject({ load1: 1, ageMs: 5000 });
  expect(u.record('a0', s, 1000, 6000)).toBe(true);
  expect(u.health('a0')).toBe('fresh');
});
