// Where the planner starts a job: a network-intensive job on one site (the fullest that holds it,
// so that large free blocks stay whole), or waiting for one when a site could hold it; a job no
// site can hold on the fewest sites; a compute-intensive job in what is left, the fullest sites
// first. Ranks per site, or null when the job must wait.
import type { Verdict } from './planner.js';

export function placeNew(
  free: readonly number[],
  slots: readonly number[],
  ranks: number,
  verdict: Verdict,
  /** Today's initial placement (src/manager/placement.ts without a hint): never waits for a site. */
  neverWait = false,
): number[] | null {
  const k = free.length;
  const to = new Array<number>(k).fill(0);
  const sites = [...free.keys()];
  const fits = sites.filter((s) => free[s] >= ranks).sort((a, b) => free[a] - free[b]);
  if (fits.length > 0) {
    to[fits[0]] = ranks;
    return to;
  }
  const total = free.reduce((a, b) => a + b, 0);
  if (total < ranks) return null;
  if (verdict === 'network' && !neverWait && slots.some((s) => s >= ranks)) return null;
  // network (too large for any site): the largest free sites first, so that it spans the fewest;
  // compute: the fullest sites first, filling the fragments the network jobs leave
  const order =
    verdict === 'network' ? sites.sort((a, b) => free[b] - free[a]) : sites.sort((a, b) => free[a] - free[b]);
  let left = ranks;
  for (const s of order) {
    const n = Math.min(left, free[s]);
    to[s] = n;
    left -= n;
  }
  return to;
}
