// Replays random traces and clusters (bench/replay-random.ts) with this build's engine and with
// another build's, case by case, and names the first cases whose results differ in any bit (wall
// time, each rank's end, compute, local and WAN time, events, stalled ranks). Exit code 1 if any do.
//   node dist/bench/replay-against.js --against ../main/dist [--cases 20000] [--seed 7]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { replay, type ReplayResult } from '../src/replay/engine.js';
import { arg } from './args.js';
import { randomCluster, randomTrace, Rng } from './replay-random.js';

const againstDir = arg('--against', '');
if (!againstDir) {
  console.error('usage: replay-against --against OTHER_DIST [--cases N] [--seed S]');
  process.exit(2);
}
const other = (await import(pathToFileURL(resolve(againstDir, 'src/replay/engine.js')).href)) as {
  replay: typeof replay;
};
const cases = Number(arg('--cases', '20000'));
const g = new Rng(Number(arg('--seed', '7')));

const same = (a: ReplayResult, b: ReplayResult): boolean =>
  a.wallNs === b.wallNs &&
  a.events === b.events &&
  a.stalled.join() === b.stalled.join() &&
  (['endNs', 'computeNs', 'localNs', 'wanNs'] as const).every((f) => a[f].every((x, r) => Object.is(x, b[f][r])));

const bad: number[] = [];
for (let k = 0; k < cases; k++) {
  const t = randomTrace(g, k % 2 === 1); // every other case kept time-ordered to its end
  const c = randomCluster(g, t.size);
  if (!same(replay(t, c), other.replay(t, c))) bad.push(k);
}
console.log(
  `${cases - bad.length} of ${cases} cases identical to ${againstDir}` +
    (bad.length ? `; first differing: ${bad.slice(0, 5).join(', ')}` : ''),
);
process.exit(bad.length ? 1 : 0);
