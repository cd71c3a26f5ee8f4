// The partitioner's graph: weighted, undirected, in compressed sparse rows (the layout METIS
// reads), all in typed arrays so that 100 000 ranks cost a few megabytes and no objects.
import type { PairMatrix } from '../monitor/pairs.js';

/**
 * An undirected graph in CSR: the neighbours of v are adjncy[xadj[v] .. xadj[v+1]), each edge
 * stored in both directions with the same weight, no self loops, no repeated neighbours.
 */
export interface Graph {
  /** Number of vertices. */
  readonly n: number;
  /** Length n + 1; xadj[0] = 0. */
  readonly xadj: Int32Array;
  readonly adjncy: Int32Array;
  /** Edge weights (bytes exchanged: exact integers below 2^53). */
  readonly adjwgt: Float64Array;
  /** Vertex weights (ranks a vertex stands for); absent: every vertex weighs 1. */
  readonly vwgt?: Int32Array;
}

/** Throws a clear error when g is not a well-formed undirected CSR graph. */
export function validateGraph(g: Graph): void {
  const { n, xadj, adjncy, adjwgt, vwgt } = g;
  if (!Number.isInteger(n) || n < 0) throw new Error(`graph: n must be a non-negative integer, not ${n}`);
  if (xadj.length !== n + 1) throw new Error(`graph: xadj has ${xadj.length} entries, n + 1 = ${n + 1} expected`);
  if (xadj[0] !== 0) throw new Error('graph: xadj[0] must be 0');
  const m = xadj[n];
  if (adjncy.length < m || adjwgt.length < m) throw new Error(`graph: adjncy/adjwgt shorter than xadj[n] = ${m}`);
  if (vwgt && vwgt.length !== n) throw new Error(`graph: vwgt has ${vwgt.length} entries, ${n} expected`);
  const mark = new Int32Array(n).fill(-1);
  for (let v = 0; v < n; v++) {
    if (xadj[v + 1] < xadj[v]) throw new Error(`graph: xadj decreases at vertex ${v}`);
    if (vwgt && vwgt[v] < 0) throw new Error(`graph: vertex ${v} has a negative weight`);
    for (let j = xadj[v]; j < xadj[v + 1]; j++) {
      const u = adjncy[j];
      if (u < 0 || u >= n) throw new Error(`graph: vertex ${v} has neighbour ${u} outside 0..${n - 1}`);
      if (u === v) throw new Error(`graph: vertex ${v} has a self loop`);
      if (mark[u] === v) throw new Error(`graph: vertex ${v} lists neighbour ${u} twice`);
      mark[u] = v;
      const w = adjwgt[j];
      if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`graph: edge ${v}-${u} has weight ${w}`);
    }
  }
  // Symmetry: every (v, u, w) has its (u, v, w).
  for (let v = 0; v < n; v++) {
    for (let j = xadj[v]; j < xadj[v + 1]; j++) {
      const u = adjncy[j];
      let found = false;
      for (let i = xadj[u]; i < xadj[u + 1]; i++) {
        if (adjncy[i] === v) {
          if (adjwgt[i] !== adjwgt[j])
            throw new Error(`graph: edge ${v}-${u} weighs ${adjwgt[j]} one way, ${adjwgt[i]} back`);
          found = true;
          break;
        }
      }
      if (!found) throw new Error(`graph: edge ${v}-${u} has no way back`);
    }
  }
}

/** Total vertex weight. */
export function totalWeight(g: Graph): number {
  if (!g.vwgt) return g.n;
  let s = 0;
  for (let v = 0; v < g.n; v++) s += g.vwgt[v];
  return s;
}

/** Sum of the weights of the edges whose ends lie in different parts (each edge once). */
export function edgeCut(g: Graph, part: ArrayLike<number>): number {
  const { n, xadj, adjncy, adjwgt } = g;
  let cut = 0;
  for (let v = 0; v < n; v++) {
    const p = part[v];
    for (let j = xadj[v]; j < xadj[v + 1]; j++) if (part[adjncy[j]] !== p) cut += adjwgt[j];
  }
  return cut / 2;
}

/** Vertex weight in each of k parts. */
export function partLoads(g: Graph, part: ArrayLike<number>, k: number): Float64Array {
  const loads = new Float64Array(k);
  for (let v = 0; v < g.n; v++) loads[part[v]] += g.vwgt ? g.vwgt[v] : 1;
  return loads;
}

/**
 * A graph from lists of directed edges (src[i] -> dst[i] weighing w[i]): both directions of a
 * pair summed into one undirected edge, self loops dropped, zero-weight edges kept.
 */
export function graphFromEdges(
  n: number,
  src: Int32Array,
  dst: Int32Array,
  w: Float64Array,
  count = src.length,
): Graph {
  const deg = new Int32Array(n + 1);
  for (let i = 0; i < count; i++) {
    const a = src[i];
    const b = dst[i];
    if (a < 0 || a >= n || b < 0 || b >= n) throw new Error(`graph: edge ${a} -> ${b} outside 0..${n - 1}`);
    if (a === b) continue;
    deg[a + 1]++;
    deg[b + 1]++;
  }
  for (let v = 0; v < n; v++) deg[v + 1] += deg[v];
  const fill = deg.slice(0, n);
  const adj = new Int32Array(deg[n]);
  const wgt = new Float64Array(deg[n]);
  for (let i = 0; i < count; i++) {
    const a = src[i];
    const b = dst[i];
    if (a === b) continue;
    adj[fill[a]] = b;
    wgt[fill[a]++] = w[i];
    adj[fill[b]] = a;
    wgt[fill[b]++] = w[i];
  }
  // Merge repeated neighbours in place: pos[u] = where u already sits in v's row.
  const xadj = new Int32Array(n + 1);
  const pos = new Int32Array(n).fill(-1);
  let out = 0;
  for (let v = 0; v < n; v++) {
    const start = out;
    for (let j = deg[v]; j < deg[v + 1]; j++) {
      const u = adj[j];
      if (pos[u] >= start) wgt[pos[u]] += wgt[j];
      else {
        pos[u] = out;
        adj[out] = u;
        wgt[out++] = wgt[j];
      }
    }
    xadj[v + 1] = out;
  }
  return { n, xadj, adjncy: adj.slice(0, out), adjwgt: wgt.slice(0, out) };
}

/**
 * A job's communication graph: one vertex per rank, an edge between every two ranks that
 * exchanged anything, weighing bytes (or messages) src -> dst plus dst -> src.
 */
export function graphFromPairs(m: PairMatrix, opts: { weight?: 'bytes' | 'messages' } = {}): Graph {
  const byMessages = opts.weight === 'messages';
  const src = new Int32Array(m.pairCount);
  const dst = new Int32Array(m.pairCount);
  const w = new Float64Array(m.pairCount);
  let i = 0;
  m.forEach((s, d, bytes, messages) => {
    if (i >= src.length) throw new Error('graph: the pair matrix listed more pairs than its pairCount');
    src[i] = s;
    dst[i] = d;
    w[i++] = byMessages ? messages : bytes;
  });
  return graphFromEdges(m.size, src, dst, w, i);
}
