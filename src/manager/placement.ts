// Where a job starts: on the fewest sites that hold it, and on as few nodes of them as can.
import type { Cluster, NodeShare } from './cluster.js';

/** What is known of a job before it runs: the verdict of its name's last run, from the history. */
export type PlacementHint = 'network' | 'compute' | null;

/** Where past verdicts come from: the job history (src/history/store.ts, HistoryStore). */
export interface PastVerdicts {
  pastVerdict(name: string): { verdict: string } | null;
}

/**
 * The hint for a job of this name: the verdict of the last run of the same name in the history
 * (null without a history, without a past run, or when the database cannot be read: the job then
 * starts as today, where it fits, and the monitor's verdict takes over once it runs).
 */
export function placementHint(name: string, history?: PastVerdicts | null): PlacementHint {
  if (!history) return null;
  let verdict: string | undefined;
  try {
    verdict = history.pastVerdict(name)?.verdict;
  } catch {
    return null; // a locked or damaged database must not keep a job from starting
  }
  if (verdict === 'network-intensive' || verdict === 'network') return 'network';
  if (verdict === 'compute-intensive' || verdict === 'compute') return 'compute';
  return null;
}

/**
 * Slots for `np` ranks among the usable nodes, or null when they do not fit now. The job goes to
 * one site where one has room (the fullest that fits: the largest free blocks stay whole for
 * later jobs); else to the sites with the most free slots first, so that it spans the fewest.
 * A network-intensive job that one site could hold when free waits for it instead of spanning,
 * unless `waitRather` answers that the split run loses less than the wait.
 */
export function choosePlacement(
  cluster: Cluster,
  np: number,
  hint: PlacementHint,
  usable: (node: string) => boolean = () => true,
  /** For a network-intensive job one site could hold when free: shown the split, true to wait (start-rule.ts). Absent: it waits. */
  waitRather?: (split: NodeShare[]) => boolean,
): NodeShare[] | null {
  const free = (site: string) =>
    cluster
      .nodesOf(site)
      .filter((n) => usable(n.name) && cluster.free(n.name) > 0)
      .sort(
        (a, b) => cluster.free(b.name) - cluster.free(a.name) || cluster.nodes.indexOf(a) - cluster.nodes.indexOf(b),
      );
  const total = (site: string) => free(site).reduce((s, n) => s + cluster.free(n.name), 0);
  const sites = cluster.sites.map((s) => ({ site: s, free: total(s) }));
  const take = (chosen: string[]): NodeShare[] => {
    const out: NodeShare[] = [];
    let left = np;
    for (const s of chosen)
      for (const n of free(s)) {
        if (left === 0) break;
        const k = Math.min(left, cluster.free(n.name));
        out.push({ node: n.name, slots: k });
        left -= k;
      }
    return out;
  };
  const single = sites.filter((s) => s.free >= np).sort((a, b) => a.free - b.free)[0];
  if (single) return take([single.site]);
  const couldWait = hint === 'network' && cluster.sites.some((s) => cluster.capacity(s) >= np);
  if (couldWait && !waitRather) return null;
  if (sites.reduce((s, x) => s + x.free, 0) < np) return null;
  const chosen: string[] = [];
  let got = 0;
  for (const s of [...sites].sort((a, b) => b.free - a.free)) {
    if (got >= np) break;
    chosen.push(s.site);
    got += s.free;
  }
  const split = take(chosen);
  return couldWait && waitRather?.(split) ? null : split;
}
