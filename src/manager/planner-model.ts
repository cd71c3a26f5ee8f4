// The planner's view of a cluster and of a job's placement: sites with slots, the links between
// them, and a placement as ranks per site. Shared by the planner (src/manager/planner.ts) and the
// simulator (src/manager/sim/), so that both judge a placement with the same numbers.
import type { CostModelOptions } from '../placement/cost.js';

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

export type Verdict = 'network' | 'compute';

export interface PlannerJob {
  id: string;
  ranks: number;
  /** Ranks per site now, indexed like `cluster.sites`. */
  counts: number[];
  verdict: Verdict;
  /** Traffic of the whole job per second of run, all rank pairs (on one site). */
  bytesPerSecond: number;
  messagesPerSecond: number;
  /** Fraction of the job's time in MPI (caps the gain estimate; default 1). */
  mpiFraction?: number;
  /** Seconds the job still runs where it is. */
  remainingSeconds: number;
  /** Memory of one VM (bytes) and ranks per VM: what a move copies. Defaults: cost.ts's, 1. */
  vmMemoryBytes?: number;
  dirtyBytesPerSecond?: number;
  ranksPerVm?: number;
  /** When the job last moved (seconds, the clock of `now`). */
  lastMovedAt?: number;
  /**
   * Run time on a placement relative to one site (the replay's slowdown prediction:
   * planner-replay.ts jobGainModel, or a job model's). Without it, or where it answers NaN, the
   * gain is relocationGain's formula on the crossing traffic.
   */
  slowdown?: (counts: readonly number[]) => number;
  /** Rank pairs' weights (bytes), for the min-cut split of a job larger than any site. */
  pairs?: { src: Int32Array; dst: Int32Array; weight: Float64Array };
}

export interface PlannerOptions {
  /** A move is made when gain >= (1 + hysteresis) * costFactor * cost. Default 0.25. */
  hysteresis?: number;
  /** Default 1. */
  costFactor?: number;
  /** A job moves at most once in this many seconds. Default 300. */
  minIntervalSeconds?: number;
  /** Passed to the cost model (VM memory, dirty rate, mode). */
  cost?: CostModelOptions;
}
