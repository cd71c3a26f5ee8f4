// k-way Fiduccia-Mattheyses refinement: boundary vertices in a heap by the gain of their best move
// (into a part with room), moved best first even when the gain is negative, each at most once a
// round, then rolled back to the lowest cut seen. Hill climbing out of the local minima where the
// greedy sweeps of refine.ts stop.
import type { WeightedGraph } from './coarsen.js';
import { GainHeap } from './heap.js';
import { connFor, type Conn } from './conn.js';

/**
 * Refines part in place (from a state within the limits: rebalance first); a round ends after `maxUseless` moves without a lower cut, or when it has
 * read `workPerRound` x (number of edges) adjacency entries: on dense coarse graphs (random
 * patterns) every move re-reads its neighbours' rows, and the bound keeps a level linear. Ends within the
 * limits, and the cut never ends above where it started. `conn` must describe part (and is kept so).
 */
export function fmRefine(
  g: WeightedGraph,
  part: Int32Array,
  loads: Float64Array,
  limit: Float64Array,
  rounds: number,
  maxUseless: number,
  workPerRound = 4,
  conn: Conn = connFor(g, part, limit.length),
): void {
  const { n, xadj, adjncy, vwgt } = g;
  const k = limit.length;
  // Moves may overfill a part by one vertex (so that two moves can swap vertices between full
  // parts); only states within the limits are kept.
  let heaviest = 0;
  for (let v = 0; v < n; v++) heaviest = Math.max(heaviest, vwgt[v]);
  const room = limit.map((l) => l + heaviest);
  let over = 0;
  for (let p = 0; p < k; p++) if (loads[p] > limit[p]) over++;
  const heap = new GainHeap(n);
  const target = new Int32Array(n);
  const locked = new Int32Array(n);
  const movedV = new Int32Array(n);
  const movedFrom = new Int32Array(n);
  // The best move of v now (heap entry set), or none (entry removed). Returns its gain.
  let work = 0;
  const evaluate = (v: number): number => {
    const own = part[v];
    work += xadj[v + 1] - xadj[v];
    conn.of(g, part, v);
    const to =
      conn.count > 1 || (conn.count === 1 && conn.parts[0] !== own) ? conn.bestTarget(own, vwgt[v], loads, room) : -1;
    if (to < 0) {
      heap.remove(v);
      return NaN;
    }
    target[v] = to;
    return conn.w[to] - conn.to(own);
  };
  for (let round = 1; round <= rounds; round++) {
    heap.clear();
    work = 0;
    for (let v = 0; v < n; v++) {
      if (!conn.boundary(g, part, v)) continue;
      const gain = evaluate(v);
      if (!Number.isNaN(gain)) heap.set(v, gain);
    }
    const budget = work + workPerRound * xadj[n];
    let cut = 0; // relative to the round's start
    let bestCut = 0;
    let bestAt = 0;
    let nm = 0;
    while (heap.size > 0) {
      const v = heap.top();
      const gain = evaluate(v);
      if (Number.isNaN(gain)) continue;
      if (gain !== heap.key[v]) {
        heap.set(v, gain); // stale: a part filled up since
        continue;
      }
      heap.remove(v);
      const from = part[v];
      const to = target[v];
      part[v] = to;
      conn.moved(g, v, from, to);
      if (loads[from] > limit[from]) over--;
      if (loads[to] > limit[to]) over--;
      loads[from] -= vwgt[v];
      loads[to] += vwgt[v];
      if (loads[from] > limit[from]) over++;
      if (loads[to] > limit[to]) over++;
      locked[v] = round;
      movedV[nm] = v;
      movedFrom[nm++] = from;
      cut -= gain;
      if (cut < bestCut && over === 0) {
        bestCut = cut;
        bestAt = nm;
      } else if (nm - bestAt > maxUseless) break;
      if (work > budget) break;
      for (let j = xadj[v]; j < xadj[v + 1]; j++) {
        const u = adjncy[j];
        if (locked[u] === round) continue;
        const gu = evaluate(u);
        if (!Number.isNaN(gu)) heap.set(u, gu);
      }
    }
    for (let i = nm - 1; i >= bestAt; i--) {
      const v = movedV[i];
      loads[part[v]] -= vwgt[v];
      loads[movedFrom[i]] += vwgt[v];
      conn.moved(g, v, part[v], movedFrom[i]);
      part[v] = movedFrom[i];
    }
    over = 0;
    for (let p = 0; p < k; p++) if (loads[p] > limit[p]) over++;
    if (bestAt === 0) break;
  }
}
