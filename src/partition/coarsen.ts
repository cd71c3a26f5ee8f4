// Coarsening, as in METIS: match every vertex with the unmatched neighbour it shares the heaviest
// edge with (heavy-edge matching, low-degree vertices first), then contract each matched pair
// into one vertex of the next, smaller graph. Heavy edges end up inside coarse vertices, so a
// cut of the coarse graph is a cut of the fine one that already avoids them.
import type { Graph } from './graph.js';
import type { Rng } from './random.js';

/** A graph whose vertex weights are always present (every level below the caller's). */
export interface WeightedGraph extends Graph {
  readonly vwgt: Int32Array;
}

export interface CoarseLevel {
  readonly graph: WeightedGraph;
  /** Fine vertex -> the coarse vertex it was contracted into. */
  readonly cmap: Int32Array;
}

/**
 * The visiting order: random, then stably bucketed by degree (capped at 0.7 x the average, as
 * METIS does), so that vertices with few neighbours choose before their neighbours are taken.
 */
function visitOrder(g: Graph, rng: Rng): Int32Array {
  const { n, xadj } = g;
  const perm = rng.permutation(n);
  const cap = Math.max(1, Math.floor((0.7 * xadj[n]) / Math.max(1, n)));
  const count = new Int32Array(cap + 2);
  for (let v = 0; v < n; v++) count[Math.min(cap, xadj[v + 1] - xadj[v]) + 1]++;
  for (let d = 0; d <= cap; d++) count[d + 1] += count[d];
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = perm[i];
    order[count[Math.min(cap, xadj[v + 1] - xadj[v])]++] = v;
  }
  return order;
}

/** match[v] = v's partner (v itself when unmatched); no coarse vertex weighs more than maxVwgt. */
export function heavyEdgeMatching(g: WeightedGraph, maxVwgt: number, rng: Rng): Int32Array {
  const { n, xadj, adjncy, adjwgt, vwgt } = g;
  const match = new Int32Array(n).fill(-1);
  const order = visitOrder(g, rng);
  let lonely = -1; // an isolated vertex waiting for another to pair with
  for (let i = 0; i < n; i++) {
    const u = order[i];
    if (match[u] !== -1) continue;
    let best = u;
    const room = maxVwgt - vwgt[u];
    if (xadj[u + 1] === xadj[u]) {
      // No neighbours: pair isolated vertices with each other so that they coarsen too.
      if (lonely >= 0 && vwgt[lonely] <= room) {
        best = lonely;
        lonely = -1;
      } else lonely = u;
    } else if (room >= 0) {
      let bestW = -1;
      for (let j = xadj[u]; j < xadj[u + 1]; j++) {
        const v = adjncy[j];
        if (match[v] === -1 && adjwgt[j] > bestW && vwgt[v] <= room) {
          bestW = adjwgt[j];
          best = v;
        }
      }
    }
    match[u] = best;
    match[best] = u;
  }
  return match;
}

/** Contracts matched pairs; coarse vertices are numbered in the order of their lower fine vertex. */
export function contract(g: WeightedGraph, match: Int32Array): CoarseLevel {
  const { n, xadj, adjncy, adjwgt, vwgt } = g;
  const cmap = new Int32Array(n);
  let cn = 0;
  for (let u = 0; u < n; u++) {
    if (match[u] < u) continue;
    cmap[u] = cn;
    cmap[match[u]] = cn++;
  }
  const cxadj = new Int32Array(cn + 1);
  const cadj = new Int32Array(xadj[n]);
  const cwgt = new Float64Array(xadj[n]);
  const cvwgt = new Int32Array(cn);
  // pos[c'] = where c' sits in the current coarse row; a position before the row's start is stale.
  const pos = new Int32Array(cn).fill(-1);
  let out = 0;
  let c = 0;
  for (let u = 0; u < n; u++) {
    const v = match[u];
    if (v < u) continue;
    const start = out;
    cvwgt[c] = v === u ? vwgt[u] : vwgt[u] + vwgt[v];
    for (let side = 0; side < 2; side++) {
      const x = side === 0 ? u : v;
      if (side === 1 && v === u) break;
      for (let j = xadj[x]; j < xadj[x + 1]; j++) {
        const cy = cmap[adjncy[j]];
        if (cy === c) continue;
        const p = pos[cy];
        if (p >= start) cwgt[p] += adjwgt[j];
        else {
          pos[cy] = out;
          cadj[out] = cy;
          cwgt[out++] = adjwgt[j];
        }
      }
    }
    cxadj[++c] = out;
  }
  return {
    graph: { n: cn, xadj: cxadj, adjncy: cadj.subarray(0, out), adjwgt: cwgt.subarray(0, out), vwgt: cvwgt },
    cmap,
  };
}
