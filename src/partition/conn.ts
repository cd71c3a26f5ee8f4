// The connectivity of a vertex to each of the k parts, read by the refinements (refine.ts, fm.ts).
// Conn recomputes it from the adjacency on every call; ConnTable keeps it for every vertex and
// updates it move by move, as METIS keeps its per-vertex part degrees: a vertex's best move then
// costs O(k) instead of O(degree), which is what the dense coarse levels of random patterns need.
import type { WeightedGraph } from './coarsen.js';

/** Scratch for the connectivity of one vertex to each of the k parts. */
export class Conn {
  readonly w: Float64Array;
  readonly seen: Int32Array;
  readonly parts: Int32Array;
  count = 0;
  protected stamp = 0;

  constructor(readonly k: number) {
    this.w = new Float64Array(k);
    this.seen = new Int32Array(k);
    this.parts = new Int32Array(k);
  }

  /** Fills w[p] for every part p that v has a neighbour in (listed in parts[0 .. count)). */
  of(g: WeightedGraph, part: Int32Array, v: number): void {
    const { xadj, adjncy, adjwgt } = g;
    const s = ++this.stamp;
    let count = 0;
    for (let j = xadj[v]; j < xadj[v + 1]; j++) {
      const p = part[adjncy[j]];
      if (this.seen[p] !== s) {
        this.seen[p] = s;
        this.w[p] = 0;
        this.parts[count++] = p;
      }
      this.w[p] += adjwgt[j];
    }
    this.count = count;
  }

  /** Tells the scratch that v went from part `from` to part `to` (part[] already updated). */
  moved(_g: WeightedGraph, _v: number, _from: number, _to: number): void {}

  /** Whether v has a neighbour in a part other than its own. */
  boundary(g: WeightedGraph, part: Int32Array, v: number): boolean {
    const { xadj, adjncy } = g;
    const own = part[v];
    for (let j = xadj[v]; j < xadj[v + 1]; j++) if (part[adjncy[j]] !== own) return true;
    return false;
  }

  /** The part other than own, with room for weight vw, that v is most connected to; -1 if none. */
  bestTarget(own: number, vw: number, loads: Float64Array, limit: Float64Array): number {
    let best = -1;
    let bestW = -1;
    for (let i = 0; i < this.count; i++) {
      const p = this.parts[i];
      if (p === own || loads[p] + vw > limit[p]) continue;
      const w = this.w[p];
      if (w > bestW || (w === bestW && loads[p] * limit[best] < loads[best] * limit[p])) {
        best = p;
        bestW = w;
      }
    }
    return best;
  }

  /** Weight of v's edges into part p (0 when v has no neighbour there). */
  to(p: number): number {
    return this.seen[p] === this.stamp ? this.w[p] : 0;
  }
}

/** Conn with every vertex's weight and count of neighbours per part kept up to date. */
export class ConnTable extends Conn {
  private readonly cw: Float64Array;
  private readonly cn: Int32Array;

  constructor(g: WeightedGraph, part: Int32Array, k: number) {
    super(k);
    const { n, xadj, adjncy, adjwgt } = g;
    this.cw = new Float64Array(n * k);
    this.cn = new Int32Array(n * k);
    for (let v = 0; v < n; v++) {
      const row = v * k;
      for (let j = xadj[v]; j < xadj[v + 1]; j++) {
        const p = row + part[adjncy[j]];
        this.cw[p] += adjwgt[j];
        this.cn[p]++;
      }
    }
  }

  override of(_g: WeightedGraph, _part: Int32Array, v: number): void {
    const { k, cw, cn } = this;
    const s = ++this.stamp;
    const row = v * k;
    let count = 0;
    for (let p = 0; p < k; p++) {
      if (cn[row + p] === 0) continue;
      this.seen[p] = s;
      this.w[p] = cw[row + p];
      this.parts[count++] = p;
    }
    this.count = count;
  }

  override moved(g: WeightedGraph, v: number, from: number, to: number): void {
    const { xadj, adjncy, adjwgt } = g;
    const { k, cw, cn } = this;
    for (let j = xadj[v]; j < xadj[v + 1]; j++) {
      const row = adjncy[j] * k;
      cw[row + from] -= adjwgt[j];
      cn[row + from]--;
      cw[row + to] += adjwgt[j];
      cn[row + to]++;
    }
  }

  override boundary(g: WeightedGraph, part: Int32Array, v: number): boolean {
    return this.cn[v * this.k + part[v]] < g.xadj[v + 1] - g.xadj[v];
  }
}

/** Tables of n x k entries (12 bytes each) up to this size; plain Conn above (thousands of sites). */
const TABLE_ENTRIES = 1 << 23;

/** The connectivity scratch for refining g's partition `part` over k parts. */
export function connFor(g: WeightedGraph, part: Int32Array, k: number): Conn {
  return g.n * k <= TABLE_ENTRIES && k <= 64 ? new ConnTable(g, part, k) : new Conn(k);
}
