// The min-cut placement of a job's ranks over sites with capacities, multilevel like METIS's k-way
// scheme: coarsen by heavy-edge matching, bisect the coarsest graph recursively, then project back
// level by level, refining the boundary at each. Capacities are hard at the finest level; coarser
// levels may go 3% past a site's proportional share, since their vertices are lumps of ranks.
import { contract, heavyEdgeMatching, type CoarseLevel, type WeightedGraph } from './coarsen.js';
import { connFor } from './conn.js';
import { edgeCut, partLoads, totalWeight, type Graph } from './graph.js';
import { fmRefine } from './fm.js';
import { recursiveBisection } from './initial.js';
import { Rng } from './random.js';
import { rebalance, refine } from './refine.js';

export interface PartitionOptions {
  /** Seed of the random choices: the same seed, graph and capacities give the same result. Default 1. */
  seed?: number;
  /** Whole multilevel runs (seeds seed, seed + 1, ...), the least cut kept. Default ceil(8192 / vertices), 1 to 8: small graphs are cheap and vary more. */
  cuts?: number;
  /**
   * A placement to refine as well (the job's current one, say), kept when its refined cut is lower;
   * refined only when its own cut is at most 1.5 x the multilevel cut (farther ones never won).
   * Default: the contiguous split of rank order (graphs without vertex weights); null: none.
   */
  start?: ArrayLike<number> | null;
  /** Tries per bisection of the coarsest graph, the best kept. Default 8. */
  tries?: number;
  /** Most greedy refinement sweeps per level. Default 4. */
  passes?: number;
  /** Rounds of k-way Fiduccia-Mattheyses after the greedy sweeps, per level. Default 2. */
  fmRounds?: number;
  /** Bound of one FM round: this many reads of every adjacency entry. Default 1. */
  fmWork?: number;
  /** Coarsening stops at this many vertices. Default max(60, 10 x sites). */
  coarsenTo?: number;
}

export interface Partition {
  /** Site of every vertex (rank). */
  readonly part: Int32Array;
  /** Sum of the weights of the edges between different sites. */
  readonly cut: number;
  /** Vertex weight (ranks) placed on each site; never above its capacity. */
  readonly loads: Float64Array;
}

/** Coarse levels may exceed a site's proportional share by this fraction (METIS's default ufactor). */
const COARSE_SLACK = 0.03;

/** A start placement is refined only when its cut is at most this many times the multilevel cut. */
const START_WITHIN = 1.5;

function checkCaps(caps: ArrayLike<number>, weight: number): Float64Array {
  if (caps.length < 1) throw new Error('partition: at least one site is needed');
  const c = Float64Array.from(caps);
  let sum = 0;
  for (let s = 0; s < c.length; s++) {
    if (!Number.isSafeInteger(c[s]) || c[s] < 0) throw new Error(`partition: site ${s} has capacity ${caps[s]}`);
    sum += c[s];
  }
  if (sum < weight) throw new Error(`partition: the sites hold ${sum} ranks in all, ${weight} to place`);
  return c;
}

function withWeights(g: Graph): WeightedGraph {
  return g.vwgt ? (g as WeightedGraph) : { ...g, vwgt: new Int32Array(g.n).fill(1) };
}

/** Limits of one level: the capacities at the finest, the share plus slack (or the capacity) above. */
function levelLimits(caps: Float64Array, weight: number, finest: boolean): Float64Array {
  if (finest) return caps;
  let sum = 0;
  for (const c of caps) sum += c;
  return caps.map((c) => Math.max(c, Math.floor(((weight * c) / sum) * (1 + COARSE_SLACK))));
}

/**
 * Places the vertices of g on caps.length sites, site s holding at most caps[s] vertex weight,
 * with the least cut it finds. Throws when the capacities cannot hold the graph.
 */
export function partition(g: Graph, caps: ArrayLike<number>, opts: PartitionOptions = {}): Partition {
  const weight = totalWeight(g);
  const cap = checkCaps(caps, weight);
  const fine = withWeights(g);
  if (cap.length === 1 || g.n === 0) {
    const part = new Int32Array(g.n);
    return { part, cut: 0, loads: partLoads(g, part, cap.length) };
  }
  const start = opts.start === undefined ? (g.vwgt ? null : contiguousPlacement(g.n, cap)) : opts.start;
  if (start) checkStart(g, start, cap.length);
  const cuts = Math.max(1, opts.cuts ?? Math.min(8, Math.ceil(8192 / g.n)));
  const seed = opts.seed ?? 1;
  let best: Partition | null = null;
  for (let c = 0; c < cuts; c++) {
    const p = multilevel(fine, cap, weight, opts, new Rng(seed + c));
    if (!best || p.cut < best.cut) best = p;
  }
  // The placement the ranks start from, refined, when that beats the multilevel cut: rank order
  // often carries the application's locality (a slab decomposition of a stencil). Refinement
  // gains a few percent on such starts; one far above the multilevel cut (random patterns: 2x)
  // never wins and costs as much as a multilevel run, so it is not refined.
  if (start && edgeCut(g, start) <= START_WITHIN * (best as Partition).cut) {
    const p = refineFrom(fine, cap, start, opts, new Rng(seed));
    if (p && p.cut < (best as Partition).cut) best = p;
  }
  return best as Partition;
}

/** Throws when start is not a placement of g's vertices on k sites. */
function checkStart(g: Graph, start: ArrayLike<number>, k: number): void {
  if (start.length !== g.n) throw new Error(`partition: start has ${start.length} sites for ${g.n} vertices`);
  for (let v = 0; v < g.n; v++) {
    if (!(start[v] >= 0 && start[v] < k)) throw new Error(`partition: start puts vertex ${v} on site ${start[v]}`);
  }
}

/** A given placement, balanced to the capacities and refined; null when it cannot be balanced. */
function refineFrom(
  g: WeightedGraph,
  cap: Float64Array,
  start: ArrayLike<number>,
  opts: PartitionOptions,
  rng: Rng,
): Partition | null {
  const part = Int32Array.from(start);
  const loads = partLoads(g, part, cap.length);
  if (!rebalance(g, part, loads, cap)) return null;
  const conn = connFor(g, part, cap.length);
  refine(g, part, loads, cap, opts.passes ?? 4, rng, conn);
  const fmRounds = opts.fmRounds ?? 2;
  const useless = Math.max(50, Math.min(500, g.n >> 6));
  if (fmRounds > 0) fmRefine(g, part, loads, cap, fmRounds, useless, opts.fmWork ?? 1, conn);
  return { part, cut: edgeCut(g, part), loads };
}

/** One multilevel run: coarsen, partition the coarsest graph, uncoarsen with refinement. */
function multilevel(
  fine: WeightedGraph,
  cap: Float64Array,
  weight: number,
  opts: PartitionOptions,
  rng: Rng,
): Partition {
  const k = cap.length;
  const coarsenTo = Math.max(2, opts.coarsenTo ?? Math.max(60, 10 * k));
  const passes = opts.passes ?? 4;
  const fmRounds = opts.fmRounds ?? 2;
  const fmWork = opts.fmWork ?? 1;

  // Coarsen while it pays: stop at coarsenTo vertices or when a level barely shrinks.
  const levels: CoarseLevel[] = [];
  const maxVwgt = Math.max(1, Math.ceil((1.5 * weight) / coarsenTo));
  let cur = fine;
  while (cur.n > coarsenTo) {
    const next = contract(cur, heavyEdgeMatching(cur, maxVwgt, rng));
    if (next.graph.n === cur.n) break;
    levels.push(next);
    cur = next.graph;
    if (next.graph.n > 0.9 * levels[levels.length - 1].cmap.length) break;
  }

  let part = recursiveBisection(cur, cap, levelLimits(cap, weight, levels.length === 0), opts.tries ?? 8, rng);
  const loads = partLoads(cur, part, k);
  for (let i = levels.length; i >= 0; i--) {
    const graph = i === 0 ? fine : levels[i - 1].graph;
    if (i < levels.length) {
      // Project: a fine vertex goes where its coarse vertex went.
      const cmap = levels[i].cmap;
      const finer = new Int32Array(graph.n);
      for (let v = 0; v < graph.n; v++) finer[v] = part[cmap[v]];
      part = finer;
    }
    const limit = levelLimits(cap, weight, i === 0);
    if (!rebalance(graph, part, loads, limit) && i === 0) {
      throw new Error('partition: the vertex weights do not fit the capacities (no site has room for what is left)');
    }
    // One connectivity table per level, shared by both refinements (built after the rebalance).
    const conn = connFor(graph, part, k);
    refine(graph, part, loads, limit, passes, rng, conn);
    const useless = Math.max(50, Math.min(500, graph.n >> 6));
    if (fmRounds > 0) fmRefine(graph, part, loads, limit, fmRounds, useless, fmWork, conn);
  }
  return { part, cut: edgeCut(fine, part), loads };
}

/**
 * The trivial placement: ranks in order, each site taking a run of them in proportion to its
 * capacity (what a plain block mapping of MPI ranks gives). A baseline, not a partitioner.
 */
export function contiguousPlacement(n: number, caps: ArrayLike<number>): Int32Array {
  const cap = checkCaps(caps, n);
  let sum = 0;
  for (const c of cap) sum += c;
  const part = new Int32Array(n);
  let cum = 0;
  let start = 0;
  for (let s = 0; s < cap.length; s++) {
    cum += cap[s];
    const end = s === cap.length - 1 ? n : Math.floor((n * cum) / sum);
    part.fill(s, start, end);
    start = end;
  }
  return part;
}
