// The planner's view of a cluster and of a job's placement: sites with slots, the links between
// them, and a placement as ranks per site. Shared by the planner (src/manager/planner.ts) and the
// simulator (src/manager/sim/), so that both judge a placement with the same numbers.

export interface PlannerSite {
  name: string;
  /** MPI slots of the site, all its nodes. */
  slots: number;
}

export interface PlannerLink {
  from: string;
  to: string;
  latencyMs: number;
  /** Bits per second; 0 = unlimited. */
  bandwidthBps: number;
}

export interface PlannerCluster {
  sites: PlannerSite[];
  links: PlannerLink[];
}

/** The links of a cluster as site x site matrices (index = position in `sites`). */
export interface LinkTable {
  /** one-way latency, seconds */
  latency: number[][];
  /** bits per second, Infinity when unlimited */
  bandwidth: number[][];
}

export function linkTable(c: PlannerCluster): LinkTable {
  const k = c.sites.length;
  const index = new Map(c.sites.map((s, i) => [s.name, i]));
  const latency = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const bandwidth = Array.from({ length: k }, () => new Array<number>(k).fill(Infinity));
  for (const l of c.links) {
    const a = index.get(l.from),
      b = index.get(l.to);
    if (a === undefined || b === undefined) throw new Error(`planner: link ${l.from}-${l.to} names an unknown site`);
    latency[a][b] = l.latencyMs / 1000;
    bandwidth[a][b] = l.bandwidthBps > 0 ? l.bandwidthBps : Infinity;
  }
  return { latency, bandwidth };
}

/** Sites holding at least one rank. */
export function spanned(counts: readonly number[]): number {
  let n = 0;
  for (const c of counts) if (c > 0) n++;
  return n;
}

/**
 * Fraction of rank pairs on different sites: the share of an all-to-all job's traffic that
 * crosses a WAN link (1 - sum c_s^2 / n^2).
 */
export function crossFraction(counts: readonly number[]): number {
  let n = 0,
    sq = 0;
  for (const c of counts) {
    n += c;
    sq += c * c;
  }
  return n > 0 ? 1 - sq / (n * n) : 0;
}

/** The worst link among the sites a placement spans: the largest latency, the least bandwidth. */
export function worstLink(counts: readonly number[], links: LinkTable): { latency: number; bandwidth: number } {
  let latency = 0,
    bandwidth = Infinity;
  for (let a = 0; a < counts.length; a++)
    for (let b = 0; b < counts.length; b++)
      if (a !== b && counts[a] > 0 && counts[b] > 0) {
        latency = Math.max(latency, links.latency[a][b]);
        bandwidth = Math.min(bandwidth, links.bandwidth[a][b]);
      }
  return { latency, bandwidth };
}

/** Ranks that change site from one placement to the other. */
export function movedRanks(before: readonly number[], after: readonly number[]): number {
  let m = 0;
  for (let s = 0; s < before.length; s++) m += Math.max(0, after[s] - before[s]);
  return m;
}

/** The ranks that move, as flows from → to (sites losing ranks paired with sites gaining them). */
export function flows(
  before: readonly number[],
  after: readonly number[],
): { from: number; to: number; ranks: number }[] {
  const out: { from: number; to: number; ranks: number }[] = [];
  const give = before.map((b, s) => Math.max(0, b - after[s]));
  const take = before.map((b, s) => Math.max(0, after[s] - b));
  let g = 0;
  for (let t = 0; t < take.length; t++)
    while (take[t] > 0) {
      while (give[g] === 0) g++;
      const k = Math.min(give[g], take[t]);
      out.push({ from: g, to: t, ranks: k });
      give[g] -= k;
      take[t] -= k;
    }
  return out;
}
