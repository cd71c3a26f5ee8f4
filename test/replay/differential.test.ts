// The replay's results stay bit-for-bit those of the engine before its speed-ups (wall time, every
// rank's end, compute, local and WAN time, events, stalled ranks) on random traces and clusters
// (bench/replay-random.ts). The digests were taken with that engine (main at cff6b08); a change of
// the model itself changes them, deliberately, and must say why. Retaken when the collectives'
// steps became Open MPI's own trees (src/replay/steps.ts): cff6b08's engine gives the same digests
// on the new steps, and agreed case by case on 8 000 more (REPLAY_AGAINST).
//
// REPLAY_AGAINST=/path/to/other/dist compares case by case with another build's engine instead
// (REPLAY_CASES of them, 20 000 by default), and names the first cases that differ.
import { describe, expect, it } from 'vitest';
import { digestOf, randomCluster, randomTrace, Rng } from '../../bench/replay-random.js';
import { replay, type ReplayResult } from '../../src/replay/engine.js';

// the third set keeps the replay time-ordered throughout (most others end in its dataflow mode)
const DIGESTS: [seed: number, cases: number, digest: string, timeOrdered: boolean][] = [
  [1, 1500, '863eec84', false],
  [2, 1500, '279c3b90', false],
  [3, 1500, '8a7ec076', true],
];

const against = process.env.REPLAY_AGAINST;

describe('replay: identical results', () => {
  it('random traces replay to the digests of the engine before', () => {
    for (const [seed, cases, digest, timeOrdered] of DIGESTS)
      expect(digestOf(seed, cases, replay, timeOrdered), `seed ${seed}`).toBe(digest);
  });

  it.skipIf(!against)('random traces replay as another build does, case by case', async () => {
    const other = (await import(`${against}/src/replay/engine.js`)) as { replay: typeof replay };
    const cases = Number(process.env.REPLAY_CASES ?? 20000);
    const g = new Rng(Number(process.env.REPLAY_SEED ?? 7));
    const same = (a: ReplayResult, b: ReplayResult): boolean =>
      a.wallNs === b.wallNs &&
      a.events === b.events &&
      a.stalled.join() === b.stalled.join() &&
      (['endNs', 'computeNs', 'localNs', 'wanNs'] as const).every((f) => a[f].every((x, r) => Object.is(x, b[f][r])));
    const bad: number[] = [];
    for (let k = 0; k < cases; k++) {
      const t = randomTrace(g, k % 2 === 1);
      const c = randomCluster(g, t.size);
      if (!same(replay(t, c), other.replay(t, c))) bad.push(k);
    }
    expect(bad.slice(0, 5), `${bad.length} of ${cases} cases differ`).toEqual([]);
  });
});
