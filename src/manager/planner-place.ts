// Where a new job starts: a job that fits on one site goes to the fullest that holds it (so that
// large free blocks stay whole); a network-intensive job that only a free site could hold starts
// split or waits for one, as the wait rule says; a job no site can hold on the fewest sites; a
// compute-intensive job in what is left, the fullest sites first. Ranks per site, or null when
// the job must wait.
import type { Verdict } from './planner.js';

/**
 * What a network-intensive job does when no site has room for it now but one could hold it:
 * 'never' wait (start split where it fits: today's initial placement), 'always' wait for one site,
 * or ask: `(split) => true` to wait rather than run on `split` (ranks per site).
 */
export type WaitRule = 'never' | 'always' | ((split: readonly number[]) => boolean);

export function placeNew(
  free: readonly number[],
  slots: readonly number[],
  ranks: number,
  verdict: Verdict,
  wait: WaitRule = 'always',
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
  const couldWait = verdict === 'network' && wait !== 'never' && slots.some((s) => s >= ranks);
  if (couldWait && wait === 'always') return null;
  // network (too large for any site, or allowed to split): the largest free sites first, so that
  // it spans the fewest; compute: the fullest sites first, filling the fragments the network jobs leave
  const order =
    verdict === 'network' ? sites.sort((a, b) => free[b] - free[a]) : sites.sort((a, b) => free[a] - free[b]);
  let left = ranks;
  for (const s of order) {
    const n = Math.min(left, free[s]);
    to[s] = n;
    left -= n;
  }
  if (couldWait && typeof wait === 'function' && wait(to)) return null;
  return to;
}

/** A running job's slots on one site and when it is expected to end (seconds from now). */
export interface Release {
  site: string;
  slots: number;
  inSeconds: number;
}

/**
 * Seconds until some site that can hold `np` slots has them free, as the running jobs end;
 * Infinity when none would; NaN when it depends on a job with no estimate yet (NaN inSeconds).
 */
export function waitForRoom(
  np: number,
  sites: readonly { site: string; capacity: number; free: number }[],
  releases: readonly Release[],
): number {
  let best = Infinity,
    unknown = false;
  for (const s of sites) {
    if (s.capacity < np) continue;
    let free = s.free;
    if (free >= np) return 0;
    const known = releases.filter((x) => x.site === s.site && Number.isFinite(x.inSeconds));
    for (const r of known.sort((a, b) => a.inSeconds - b.inSeconds)) {
      free += r.slots;
      if (free >= np) {
        best = Math.min(best, r.inSeconds);
        break;
      }
    }
    if (free < np && releases.some((x) => x.site === s.site && !Number.isFinite(x.inSeconds))) unknown = true;
  }
  return best === Infinity && unknown ? NaN : best;
}
