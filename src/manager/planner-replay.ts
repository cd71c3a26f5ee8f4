// The planner's gain estimate from the replay model (docs/replay.md): a job's recorded trace
// replayed on a placement given as ranks per site, relative to its replay on one site (the
// planner only uses ratios of two placements). Ranks go to sites in rank order (the contiguous
// split), one rank per node; the local link parameters are those of the cluster the trace was
// recorded on. Each placement is replayed once and remembered: a plan asks about few placements.
import { replay, type Cluster, type Trace, type WanLink } from '../replay/index.js';
import type { LinkTable } from './planner-model.js';

export function replaySlowdown(
  trace: Trace,
  recorded: Cluster,
  links: LinkTable,
): (counts: readonly number[]) => number {
  const k = links.latency.length;
  const wanLinks: WanLink[][] = links.latency.map((row, a) =>
    row.map((lat, b) => ({
      L: lat * 1e9,
      G: Number.isFinite(links.bandwidth[a][b]) ? 1e9 / (links.bandwidth[a][b] / 8) : 0,
    })),
  );
  const wallNs = (siteOf: Int32Array) => replay(trace, { ...recorded, siteOf, nodeOf: undefined, wanLinks }).wallNs;
  const base = wallNs(new Int32Array(trace.size));
  const memo = new Map<string, number>();
  return (counts) => {
    if (counts.length !== k) throw new Error(`replaySlowdown: ${counts.length} site counts for ${k} sites`);
    const key = counts.join(',');
    let s = memo.get(key);
    if (s === undefined) {
      const siteOf = new Int32Array(trace.size);
      let r = 0;
      counts.forEach((c, site) => {
        for (let i = 0; i < c && r < siteOf.length; i++) siteOf[r++] = site;
      });
      s = base > 0 ? wallNs(siteOf) / base : 1;
      memo.set(key, s);
    }
    return s;
  };
}
