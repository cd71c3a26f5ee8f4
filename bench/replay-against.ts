// Replays random traces and clusters (bench/replay-random.ts) with this build's engine and with
// another build's (or with this build kept in time order, --time-order), case by case, names the
// first cases whose results differ in any bit (wall time, each rank's end, compute, local and WAN
// time, events, stalled ranks) and sums up how far the wall times moved. Exit code 1 if any differ.
//   node dist/bench/replay-against.js --against ../main/dist [--cases 20000] [--seed 7]
//   node dist/bench/replay-against.js --time-order [--cases 20000] [--seed 7]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { replay, replayInTimeOrder, type ReplayResult } from '../src/replay/engine.js';
import { arg } from './args.js';
import { randomCluster, randomTrace, Rng } from './replay-random.js';

const againstDir = arg('--against', '');
const timeOrder = process.argv.includes('--time-order');
if (!againstDir === !timeOrder) {
  console.error('usage: replay-against (--against OTHER_DIST | --time-order) [--cases N] [--seed S]');
  process.exit(2);
}
const other = timeOrder
  ? replayInTimeOrder
  : ((await import(pathToFileURL(resolve(againstDir, 'src/replay/engine.js')).href)) as { replay: typeof replay })
      .replay;
const cases = Number(arg('--cases', '20000'));
const g = new Rng(Number(arg('--seed', '7')));

const same = (a: ReplayResult, b: ReplayResult): boolean =>
  a.wallNs === b.wallNs &&
  a.events === b.events &&
  a.stalled.join() === b.stalled.join() &&
  (['endNs', 'computeNs', 'localNs', 'wanNs'] as const).every((f) => a[f].every((x, r) => Object.is(x, b[f][r])));

const bad: number[] = [];
/** per differing case: |this wall time / the other's - 1| */
const moved: number[] = [];
/** the largest |this end / the other's - 1| of any rank */
let endMoved = 0;
const rel = (x: number, y: number): number => (y > 0 ? Math.abs(x / y - 1) : x > 0 ? Infinity : 0);
let split = 0,
  badSplit = 0;
for (let k = 0; k < cases; k++) {
  const t = randomTrace(g, k % 2 === 1); // every other case ends with an unmatched rendezvous send
  const c = randomCluster(g, t.size);
  const sites = new Set(Array.from(c.siteOf)).size > 1;
  if (sites) split++;
  const a = replay(t, c),
    b = other(t, c);
  if (same(a, b)) continue;
  bad.push(k);
  if (sites) badSplit++;
  moved.push(rel(a.wallNs, b.wallNs));
  a.endNs.forEach((x, r) => (endMoved = Math.max(endMoved, rel(x, b.endNs[r]))));
}
const name = timeOrder ? 'this build in time order' : againstDir;
console.log(
  `${cases - bad.length} of ${cases} cases identical to ${name}` +
    (bad.length ? `; first differing: ${bad.slice(0, 5).join(', ')}` : ''),
);
if (bad.length) {
  const changed = moved.filter((x) => x > 0).sort((x, y) => x - y);
  const pct = (x: number): string => `${(100 * x).toPrecision(3)}%`;
  console.log(
    `differing: ${bad.length} (${badSplit} of the ${split} over several sites); wall time moved in ${changed.length}` +
      (changed.length
        ? `, by ${pct(changed[changed.length >> 1])} in the median and at most ${pct(changed[changed.length - 1])}`
        : '') +
      `; a rank's end moved by at most ${pct(endMoved)}`,
  );
}
process.exit(bad.length ? 1 : 0);
