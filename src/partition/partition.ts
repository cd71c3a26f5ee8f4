// The min-cut placement of a job's ranks over sites with capacities, multilevel like METIS's k-way
// scheme: coarsen by heavy-edge matching, bisect the coarsest graph recursively, then project back
// level by level, refining the boundary at each. The work is native (native/core/partition.cpp,
// through the addon): this side checks the input and passes the graph's typed arrays in place.
import { addon } from '../native/addon.js';
import { partLoads, totalWeight, type Graph } from './graph.js';

export interface PartitionOptions {
  /** Seed of the random choices: the same seed, graph and capacities give the same result. Default 1. */
  seed?: number;
  /** Whole multilevel runs (seeds seed, seed + 1, ...), the least cut kept. Default ceil(512 / vertices), 1 to 8: graphs under 512 vertices cost microseconds a run and vary more. */
  cuts?: number;
  /**
   * A placement to keep as it is (the job's current one, say) when it fits the capacities and its cut
   * is below the multilevel cut.
   * Default: the contiguous split of rank order (graphs without vertex weights); null: none.
   */
  start?: ArrayLike<number> | null;
  /** Tries per bisection of the coarsest graph (greedy growings; half as many whole multilevel bisections), the best kept. Default 4. */
  tries?: number;
  /** Most greedy refinement sweeps per level. Default 8. */
  passes?: number;
  /** Rounds of k-way Fiduccia-Mattheyses after the greedy sweeps, per level. Default 3. */
  fmRounds?: number;
  /** Bound of one FM round: this many reads of every adjacency entry. Default 1. */
  fmWork?: number;
  /** Coarsening stops at this many vertices. Default max(30 x sites, vertices / (40 log2 sites)), as METIS. */
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

/**
 * Places the vertices of g on caps.length sites, site s holding at most caps[s] vertex weight,
 * with the least cut it finds. Throws when the capacities cannot hold the graph.
 */
export function partition(g: Graph, caps: ArrayLike<number>, opts: PartitionOptions = {}): Partition {
  const weight = totalWeight(g);
  const cap = checkCaps(caps, weight);
  if (cap.length === 1 || g.n === 0) {
    const part = new Int32Array(g.n);
    return { part, cut: 0, loads: partLoads(g, part, cap.length) };
  }
  const start = opts.start === undefined ? (g.vwgt ? null : contiguousPlacement(g.n, cap)) : opts.start;
  if (start) checkStart(g, start, cap.length);
  const { seed, cuts, tries, passes, fmRounds, fmWork, coarsenTo } = opts;
  const { part, cut } = addon.partition(
    g.n,
    g.xadj,
    g.adjncy,
    g.adjwgt,
    g.vwgt ?? null,
    cap,
    { seed, cuts, tries, passes, fmRounds, fmWork, coarsenTo },
    start ? Int32Array.from(start) : null,
  );
  return { part, cut, loads: partLoads(g, part, cap.length) };
}

/** Throws when start is not a placement of g's vertices on k sites. */
function checkStart(g: Graph, start: ArrayLike<number>, k: number): void {
  if (start.length !== g.n) throw new Error(`partition: start has ${start.length} sites for ${g.n} vertices`);
  for (let v = 0; v < g.n; v++) {
    if (!(start[v] >= 0 && start[v] < k)) throw new Error(`partition: start puts vertex ${v} on site ${start[v]}`);
  }
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
