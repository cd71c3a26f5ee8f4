// A running job's remaining time (src/manager/remaining.ts): from its progress against its name's
// past runs, else their wall time, else as long again as it has run; read from a real history
// database file; and the planner weighing a move's gain over it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/history/store.js';
import { plan, type PlannerJob } from '../../src/manager/planner.js';
import { estimateRemaining, pastRuns, type PastRun } from '../../src/manager/remaining.js';
import { run } from './history-entry.js';

const past = (wallSeconds: number, messages: number, size = 4): PastRun => ({ size, wallSeconds, messages });

describe('remaining time', () => {
  it('takes the share of a past run’s messages sent so far, at this run’s pace', () => {
    // 30% of 10 000 messages in 12 s: 70% left at the same pace, 28 s
    const e = estimateRemaining({ elapsedSeconds: 12, messagesSoFar: 3000, ranks: 4, past: [past(40, 10_000)] });
    expect(e.source).toBe('progress');
    expect(e.seconds).toBeCloseTo(28, 6);
    expect(e.detail).toMatch(/30% of 10000 messages/);
    // a run that goes slower than the past one (split, say) still ends at the same message count
    const slow = estimateRemaining({ elapsedSeconds: 24, messagesSoFar: 3000, ranks: 4, past: [past(40, 10_000)] });
    expect(slow.seconds).toBeCloseTo(56, 6);
    // the median of the past runs of its size stands for them; other sizes do not count
    const m = estimateRemaining({
      elapsedSeconds: 10,
      messagesSoFar: 5000,
      ranks: 4,
      past: [past(40, 8000), past(40, 10_000), past(40, 1e9, 8), past(40, 20_000)],
    });
    expect(m.seconds).toBeCloseTo(10, 6);
  });

  it('is bounded by the time limit given at submission, less the time run', () => {
    const at = (elapsedSeconds: number, limitSeconds?: number, runs: PastRun[] = []) =>
      estimateRemaining({ elapsedSeconds, messagesSoFar: 3000, ranks: 4, past: runs, limitSeconds });
    // the default would say 100 s more; the limit of 120 s leaves 20
    expect(at(100, 120)).toMatchObject({ source: 'limit', seconds: 20 });
    expect(at(100, 120).detail).toMatch(/a time limit of 120 s, 100.0 s run \(default: 100 s\)/);
    // a past run that says less stands: the limit is an upper bound only
    expect(at(12, 600, [past(40, 10_000)])).toMatchObject({ source: 'progress' });
    expect(at(12, 600, [past(40, 10_000)]).seconds).toBeCloseTo(28, 6);
    // progress says 28 s, the limit 18 s
    expect(at(12, 30, [past(40, 10_000)])).toMatchObject({ source: 'limit', seconds: 18 });
    // still at least a few seconds; a job past its limit (nothing enforces it) is left to the rest
    expect(at(118, 120)).toMatchObject({ source: 'limit', seconds: 5 });
    expect(at(130, 120)).toMatchObject({ source: 'default', seconds: 130 });
    expect(at(100)).toMatchObject({ source: 'default', seconds: 100 });
  });

  it('falls back to the past runs’ wall time, then to as long again as it has run', () => {
    // no messages yet: past wall time less the time run
    const h = estimateRemaining({
      elapsedSeconds: 10,
      messagesSoFar: 0,
      ranks: 4,
      past: [past(30, 100), past(50, 100)],
    });
    expect(h).toMatchObject({ source: 'history', seconds: 30 });
    // more messages than any past run: past wall time
    expect(
      estimateRemaining({ elapsedSeconds: 10, messagesSoFar: 500, ranks: 4, past: [past(25, 100)] }),
    ).toMatchObject({ source: 'history', seconds: 15 });
    // past runs of another size only: the default
    expect(
      estimateRemaining({ elapsedSeconds: 20, messagesSoFar: 50, ranks: 4, past: [past(60, 100, 2)] }),
    ).toMatchObject({ source: 'default', seconds: 20 });
    // longer than its past runs already: the default
    const over = estimateRemaining({ elapsedSeconds: 90, messagesSoFar: 200, ranks: 4, past: [past(60, 100)] });
    expect(over).toMatchObject({ source: 'default', seconds: 90 });
    expect(over.detail).toMatch(/longer than its past runs/);
    // at least a few seconds, whatever the source
    expect(estimateRemaining({ elapsedSeconds: 1, messagesSoFar: 0, ranks: 4, past: [] }).seconds).toBe(5);
    expect(
      estimateRemaining({ elapsedSeconds: 10, messagesSoFar: 9990, ranks: 4, past: [past(10, 10_000)] }).seconds,
    ).toBe(5);
  });

  describe('from a history database', () => {
    const dirs: string[] = [];
    afterEach(() => {
      for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    });

    it('reads the past runs of the name and estimates from them', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smremain-'));
      dirs.push(dir);
      const file = path.join(dir, 'history.db');
      const w = HistoryStore.open(file);
      const at = (name: string, id: string, t: number, wallSeconds: number, messages: number, size = 4) =>
        w.write({ ...run(name, id, 'network-intensive', t), wallSeconds, messages, size });
      at('lu', 'lu-1', 1_000_000, 40, 12_000);
      at('lu', 'lu-2', 2_000_000, 44, 12_000);
      at('lu', 'lu-big', 3_000_000, 90, 48_000, 8); // another size
      at('cg', 'cg-1', 1_000_000, 300, 1e6);
      w.close();
      const store = HistoryStore.open(file, { readonly: true });
      try {
        const lu = pastRuns(store, 'lu');
        expect(lu.map((r) => [r.size, r.wallSeconds, r.messages]).sort()).toEqual([
          [4, 40, 12_000],
          [4, 44, 12_000],
          [8, 90, 48_000],
        ]);
        // a quarter of LU's messages in 10 s: 30 s left
        const e = estimateRemaining({ elapsedSeconds: 10, messagesSoFar: 3000, ranks: 4, past: lu });
        expect(e).toMatchObject({ source: 'progress' });
        expect(e.seconds).toBeCloseTo(30, 6);
        expect(e.detail).toMatch(/2 past runs/);
        expect(pastRuns(store, 'ep')).toEqual([]);
        expect(pastRuns(undefined, 'lu')).toEqual([]);
      } finally {
        store.close();
      }
      // a database that cannot be read: no past runs, no throw (the estimate falls back)
      expect(pastRuns(store, 'lu')).toEqual([]);
    });
  });

  it('is the horizon a move’s gain is weighed over', () => {
    const cluster = {
      sites: [
        { name: 'A', slots: 4 },
        { name: 'B', slots: 4 },
      ],
      links: [
        { from: 'A', to: 'B', latencyMs: 10, bandwidthBps: 1e9 },
        { from: 'B', to: 'A', latencyMs: 10, bandwidthBps: 1e9 },
      ],
    };
    // a network-intensive job split 2 + 2 that runs 1.5 x split, 2 s into its run
    const job = (remainingSeconds: number): PlannerJob => ({
      id: 'lu',
      ranks: 4,
      counts: [2, 2],
      verdict: 'network',
      bytesPerSecond: 1e6,
      messagesPerSecond: 1e3,
      remainingSeconds,
      slowdown: (c) => (c.filter((x) => x > 0).length > 1 ? 1.5 : 1),
    });
    const guess = estimateRemaining({ elapsedSeconds: 2, messagesSoFar: 400, ranks: 4, past: [] });
    const known = estimateRemaining({ elapsedSeconds: 2, messagesSoFar: 400, ranks: 4, past: [past(600, 100_000)] });
    expect(guess.seconds).toBe(5);
    expect(known.seconds).toBeCloseTo(498, 6);
    // stop-and-copy: each VM's 1 GiB crosses while the job waits
    const opts = { cost: { vmMemoryBytes: 1024 ** 3, mode: 'stop' as const } };
    const a = plan(cluster, [job(guess.seconds)], 0, opts).decisions[0];
    const b = plan(cluster, [job(known.seconds)], 0, opts).decisions[0];
    // the same move: the gain is a third of the remaining time, the cost the same
    expect(a.gainSeconds).toBeCloseTo(guess.seconds / 3, 6);
    expect(b.gainSeconds).toBeCloseTo(known.seconds / 3, 6);
    expect(b.costSeconds).toBeCloseTo(a.costSeconds, 9);
    expect(a.costSeconds).toBeGreaterThan(a.gainSeconds / 1.25);
    expect([a.action, b.action]).toEqual(['stay', 'move']);
  });
});
