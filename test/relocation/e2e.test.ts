// Issue 4 end to end on the testbed (root): an interleaved job is classified network-intensive,
// consolidated through the testbed executor, and its communicators follow; afterwards nothing
// crosses sites and the Allreduce is faster. (The benchmark `bench/relocation/run.ts` is the
// same run, longer, with its plot.)
import { describe, expect, it } from 'vitest';
import { runE2e } from '../../bench/relocation/run.js';

describe('live relocation on the testbed', () => {
  it('consolidates a network-intensive interleaved job; crossing traffic stops and latency drops', async () => {
    const r = await runE2e(14, 256 * 1024);
    expect(r.wrongResults).toBe(0);
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(r.epochs[0].siteOf).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(r.epochs[1].source).toBe('relocation');
    expect(new Set(r.epochs[1].siteOf).size).toBe(1);
    expect(r.verdicts[0].verdict).toBe('network-intensive');
    const s = r.summary;
    expect(s.crossBeforeMBps!).toBeGreaterThan(5);
    expect(s.crossAfterMBps!).toBeLessThan(s.crossBeforeMBps! * 0.01);
    expect(s.latencyAfterMs!).toBeLessThan(s.latencyBeforeMs!);
    // Batches carry the epoch in force: the profile has traffic under both placements.
    // (epoch 0: the few records before the first placement was agreed)
    const byEpoch = new Map(r.epochMatrices.map((e) => [e.epoch, e.bytes]));
    expect(byEpoch.get(1)).toBeGreaterThan(0);
    expect(byEpoch.get(2)).toBeGreaterThan(0);
    expect([...byEpoch.keys()].every((e) => e <= 2)).toBe(true);
  });
});
