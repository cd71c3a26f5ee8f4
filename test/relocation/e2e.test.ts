// Issue 4 end to end on the testbed (root): an interleaved job is classified network-intensive,
// consolidated through the testbed executor, and its communicators follow; afterwards nothing
// crosses sites and the Allreduce is faster. (The benchmark `bench/relocation/run.ts` is the
// same run, longer, with its plot.)
import { expect, it } from 'vitest';
import { describeAsRoot } from '../helpers/root.js';
import { runE2e } from '../../bench/relocation/run.js';

describeAsRoot('live relocation on the testbed', () => {
  it('consolidates a network-intensive interleaved job; crossing traffic stops and latency drops', async () => {
    const r = await runE2e(14, 256 * 1024);
    expect(r.wrongResults).toBe(0);
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(r.epochs[0].siteOf).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(r.epochs[1].source).toBe('relocation');
    expect(new Set(r.epochs[1].siteOf).size).toBe(1);
    expect(r.verdicts[0].verdict).toBe('network-intensive');
    // The world communicator took up the consolidated placement on all 8 ranks, at one call,
    // after the monitor decided it.
    const w2 = r.worldSwitches.find((w) => w.epoch === 2)!;
    expect(w2).toBeDefined();
    expect(w2.call).toBeGreaterThan(0);
    expect(w2.ranks).toBe(8);
    expect(w2.jobSeconds).toBeGreaterThanOrEqual(r.summary.switchSeconds! - 0.5);
    const [library, siteAware, consolidated] = r.phases;
    const crossBefore = Math.max(library.crossMBps ?? 0, siteAware.crossMBps ?? 0);
    expect(crossBefore).toBeGreaterThan(5);
    expect(consolidated.crossMBps!).toBeLessThan(crossBefore * 0.01);
    // Faster than the library's algorithms on the interleaved placement (when the job ran any
    // calls before the first placement arrived, as it does here).
    if (library.latencyMs !== null) expect(consolidated.latencyMs!).toBeLessThan(library.latencyMs);
    // Batches carry the epoch in force: the profile has traffic under both placements.
    // (epoch 0: the few records before the first placement was agreed)
    const byEpoch = new Map(r.epochMatrices.map((e) => [e.epoch, e.bytes]));
    expect(byEpoch.get(1)).toBeGreaterThan(0);
    expect(byEpoch.get(2)).toBeGreaterThan(0);
    expect([...byEpoch.keys()].every((e) => e <= 2)).toBe(true);
  });
});
