// Refinement of a k-way partition, as METIS's greedy k-way refinement does it: boundary vertices,
// in random order, move to the neighbouring part they are most connected to when that lowers the
// cut (or keeps it and evens the loads) and the part has room; and a balancing step that empties
// overloaded parts at the least cost in cut when a coarser level left them above their limit.
import type { WeightedGraph } from './coarsen.js';
import { Conn, connFor } from './conn.js';
import type { Rng } from './random.js';

/**
 * Greedy boundary refinement in place: at most `passes` sweeps, the first over the boundary, each
 * later one over the neighbourhoods of the vertices the previous one moved (nothing else changed).
 * Never moves a vertex into a part beyond its limit. `conn` must describe part (and is kept so).
 */
export function refine(
  g: WeightedGraph,
  part: Int32Array,
  loads: Float64Array,
  limit: Float64Array,
  passes: number,
  rng: Rng,
  conn: Conn = connFor(g, part, limit.length),
): void {
  const { n, xadj, adjncy, adjwgt, vwgt } = g;
  let list = new Int32Array(n);
  let next = new Int32Array(n);
  const queued = new Int32Array(n); // the sweep a vertex was last queued for
  // Internal and external degree of every vertex, kept up to date move by move (as METIS does):
  // a vertex whose external degree is below its internal one has no move that keeps the cut, so
  // most of the boundary is skipped without reading its adjacency part by part.
  const id = new Float64Array(n);
  const ed = new Float64Array(n);
  let len = 0;
  for (let v = 0; v < n; v++) {
    const p = part[v];
    let i = 0;
    let e = 0;
    let boundary = false;
    for (let j = xadj[v]; j < xadj[v + 1]; j++) {
      if (part[adjncy[j]] === p) i += adjwgt[j];
      else {
        e += adjwgt[j];
        boundary = true;
      }
    }
    id[v] = i;
    ed[v] = e;
    if (boundary) list[len++] = v;
  }
  for (let pass = 1; pass <= passes && len > 0; pass++) {
    rng.shuffle(list, len);
    let nlen = 0;
    let moved = 0;
    for (let i = 0; i < len; i++) {
      const v = list[i];
      // A move gains w[to] - id[v] with w[to] <= ed[v]: none can gain or keep the cut.
      if (ed[v] < id[v]) continue;
      const own = part[v];
      conn.of(g, part, v);
      if (conn.count === 0 || (conn.count === 1 && conn.parts[0] === own)) continue; // interior now
      const vw = vwgt[v];
      const to = conn.bestTarget(own, vw, loads, limit);
      let move = false;
      if (to >= 0) {
        const gain = conn.w[to] - conn.to(own);
        // A move that keeps the cut must even the loads (relative to the limits), so sweeps end.
        move = gain > 0 || (gain === 0 && vw > 0 && (loads[to] + vw) * limit[own] < loads[own] * limit[to]);
      }
      // Nothing to gain: v comes back only when a neighbour moves (queued below).
      if (!move) continue;
      part[v] = to;
      conn.moved(g, v, own, to);
      loads[own] -= vw;
      loads[to] += vw;
      moved++;
      const deg = id[v] + ed[v];
      id[v] = conn.w[to];
      ed[v] = deg - id[v];
      if (queued[v] !== pass) {
        queued[v] = pass;
        next[nlen++] = v;
      }
      for (let j = xadj[v]; j < xadj[v + 1]; j++) {
        const u = adjncy[j];
        const pu = part[u];
        if (pu === own) {
          id[u] -= adjwgt[j];
          ed[u] += adjwgt[j];
        } else if (pu === to) {
          id[u] += adjwgt[j];
          ed[u] -= adjwgt[j];
        }
        if (queued[u] !== pass) {
          queued[u] = pass;
          next[nlen++] = u;
        }
      }
    }
    const t = list;
    list = next;
    next = t;
    len = nlen;
    if (moved === 0) break;
  }
}

/**
 * Moves vertices out of parts above their limit into parts with room, cheapest first (the least
 * loss of cut). Returns false when some part stays above its limit (nothing left fits anywhere).
 */
export function rebalance(g: WeightedGraph, part: Int32Array, loads: Float64Array, limit: Float64Array): boolean {
  const { n, vwgt } = g;
  const k = limit.length;
  const over = (p: number): boolean => loads[p] > limit[p];
  let any = false;
  for (let p = 0; p < k; p++) any ||= over(p);
  if (!any) return true;
  const conn = new Conn(k);
  const bestRoom = (v: number): number => {
    // The most connected part with room; any part with room when v touches none of them.
    const own = part[v];
    const vw = vwgt[v];
    let to = conn.bestTarget(own, vw, loads, limit);
    if (to < 0) {
      for (let p = 0; p < k; p++) {
        if (p !== own && loads[p] + vw <= limit[p] && (to < 0 || loads[p] * limit[to] < loads[to] * limit[p])) to = p;
      }
    }
    return to;
  };
  for (let round = 0; round < 4; round++) {
    const cand: number[] = [];
    const gain: number[] = [];
    for (let v = 0; v < n; v++) {
      if (!over(part[v])) continue;
      conn.of(g, part, v);
      const to = bestRoom(v);
      if (to < 0) continue;
      cand.push(v);
      gain.push(conn.to(to) - conn.to(part[v]));
    }
    const order = Int32Array.from(cand.keys()).sort((a, b) => gain[b] - gain[a] || cand[a] - cand[b]);
    for (const i of order) {
      const v = cand[i];
      const own = part[v];
      if (!over(own)) continue;
      conn.of(g, part, v);
      const to = bestRoom(v);
      if (to < 0) continue;
      part[v] = to;
      loads[own] -= vwgt[v];
      loads[to] += vwgt[v];
    }
    any = false;
    for (let p = 0; p < k; p++) any ||= over(p);
    if (!any) return true;
  }
  return false;
}
