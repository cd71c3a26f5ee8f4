// The first partition, of the coarsest graph (a few hundred vertices): recursive bisection. Each
// bisection grows one side greedily from a random vertex (greedy graph growing), polishes it with
// Fiduccia-Mattheyses passes, and keeps the best of several tries. Sites are split in two halves
// by index; each half receives a share of the weight in proportion to its capacity.
import type { WeightedGraph } from './coarsen.js';
import type { Rng } from './random.js';

interface Side {
  /** Vertex weight on side 0 and side 1. */
  w0: number;
  w1: number;
  cut: number;
}

/** Scratch shared by every bisection of one graph. */
class Bisector {
  readonly side: Int8Array;
  readonly gain: Float64Array;
  readonly locked: Uint8Array;
  readonly moves: Int32Array;

  constructor(
    readonly g: WeightedGraph,
    /** Vertices of the current subset carry label `label` in part; the others are ignored. */
    readonly part: Int32Array,
  ) {
    this.side = new Int8Array(g.n);
    this.gain = new Float64Array(g.n);
    this.locked = new Uint8Array(g.n);
    this.moves = new Int32Array(g.n);
  }

  /** gain[v] = what moving v to the other side saves in cut, over edges inside the subset. */
  gains(set: Int32Array, label: number): Side {
    const { xadj, adjncy, adjwgt, vwgt } = this.g;
    const s: Side = { w0: 0, w1: 0, cut: 0 };
    for (const v of set) {
      let ext = 0;
      let int = 0;
      for (let j = xadj[v]; j < xadj[v + 1]; j++) {
        const u = adjncy[j];
        if (this.part[u] !== label) continue;
        if (this.side[u] === this.side[v]) int += adjwgt[j];
        else ext += adjwgt[j];
      }
      this.gain[v] = ext - int;
      s.cut += ext;
      if (this.side[v] === 0) s.w0 += vwgt[v];
      else s.w1 += vwgt[v];
    }
    s.cut /= 2;
    return s;
  }

  private flip(v: number, label: number, s: Side): void {
    const { xadj, adjncy, adjwgt, vwgt } = this.g;
    const from = this.side[v];
    s.cut -= this.gain[v];
    this.gain[v] = -this.gain[v];
    this.side[v] = 1 - from;
    if (from === 0) {
      s.w0 -= vwgt[v];
      s.w1 += vwgt[v];
    } else {
      s.w1 -= vwgt[v];
      s.w0 += vwgt[v];
    }
    for (let j = xadj[v]; j < xadj[v + 1]; j++) {
      const u = adjncy[j];
      if (this.part[u] !== label) continue;
      // u's edge to v was internal and is now external, or the reverse.
      this.gain[u] += this.side[u] === from ? 2 * adjwgt[j] : -2 * adjwgt[j];
    }
  }

  /** Grows side 0 from a random seed until it holds its target weight (never above lim0). */
  grow(set: Int32Array, label: number, target0: number, lim0: number, rng: Rng): Side {
    for (const v of set) this.side[v] = 1;
    const s = this.gains(set, label);
    let v = set[rng.below(set.length)];
    if (this.g.vwgt[v] > lim0) v = -1;
    while (v >= 0) {
      this.flip(v, label, s);
      if (s.w0 >= target0) break;
      v = -1;
      let best = -Infinity;
      for (const u of set) {
        if (this.side[u] === 1 && s.w0 + this.g.vwgt[u] <= lim0 && this.gain[u] > best) {
          best = this.gain[u];
          v = u;
        }
      }
    }
    return s;
  }

  /** Fiduccia-Mattheyses passes; keeps the best state seen (within limits first, then cut, then balance). */
  fm(set: Int32Array, label: number, s: Side, target0: number, lim0: number, lim1: number, passes: number): void {
    const { vwgt } = this.g;
    const excess = (w0: number, w1: number): number => Math.max(0, w0 - lim0) + Math.max(0, w1 - lim1);
    const better = (a: Side, b: Side): boolean => {
      const ea = excess(a.w0, a.w1);
      const eb = excess(b.w0, b.w1);
      if (ea !== eb) return ea < eb;
      if (a.cut !== b.cut) return a.cut < b.cut;
      return Math.abs(a.w0 - target0) < Math.abs(b.w0 - target0);
    };
    const maxUseless = Math.max(25, set.length >> 2);
    for (let pass = 0; pass < passes; pass++) {
      for (const v of set) this.locked[v] = 0;
      const best: Side = { ...s };
      let bestAt = 0;
      let nmoves = 0;
      for (;;) {
        let v = -1;
        let bg = -Infinity;
        const e = excess(s.w0, s.w1);
        for (const u of set) {
          if (this.locked[u] || this.gain[u] < bg) continue;
          const w = vwgt[u];
          const after = this.side[u] === 0 ? excess(s.w0 - w, s.w1 + w) : excess(s.w0 + w, s.w1 - w);
          if (after > 0 && after >= e) continue;
          // Equal gains: move out of the side that is above its target.
          if (this.gain[u] > bg || (this.side[u] === 0) === s.w0 > target0) {
            bg = this.gain[u];
            v = u;
          }
        }
        if (v < 0) break;
        this.flip(v, label, s);
        this.locked[v] = 1;
        this.moves[nmoves++] = v;
        if (better(s, best)) {
          Object.assign(best, s);
          bestAt = nmoves;
        } else if (nmoves - bestAt > maxUseless) break;
      }
      for (let i = nmoves - 1; i >= bestAt; i--) this.flip(this.moves[i], label, s);
      if (bestAt === 0) break;
    }
  }
}

/**
 * Recursive bisection of the vertices onto sites 0 .. k-1. `share[p]` sets the weight a site
 * should get (in proportion), `limit[p]` the most it may get.
 */
export function recursiveBisection(
  g: WeightedGraph,
  share: Float64Array,
  limit: Float64Array,
  tries: number,
  rng: Rng,
): Int32Array {
  const part = new Int32Array(g.n);
  const b = new Bisector(g, part);
  const sum = (a: Float64Array, lo: number, hi: number): number => {
    let s = 0;
    for (let i = lo; i < hi; i++) s += a[i];
    return s;
  };
  const split = (lo: number, hi: number): void => {
    if (hi - lo < 2) return;
    const mid = lo + ((hi - lo) >> 1);
    const set: number[] = [];
    let w = 0;
    for (let v = 0; v < g.n; v++) {
      if (part[v] === lo) {
        set.push(v);
        w += g.vwgt[v];
      }
    }
    const vs = Int32Array.from(set);
    if (vs.length > 0) {
      const s0 = sum(share, lo, mid);
      const s1 = sum(share, mid, hi);
      const target0 = s0 + s1 > 0 ? (w * s0) / (s0 + s1) : w / 2;
      const lim0 = sum(limit, lo, mid);
      const lim1 = sum(limit, mid, hi);
      let bestSide: Int8Array | null = null;
      let best: Side | null = null;
      const excess = (x: Side): number => Math.max(0, x.w0 - lim0) + Math.max(0, x.w1 - lim1);
      for (let t = 0; t < Math.max(1, tries); t++) {
        const s = b.grow(vs, lo, target0, lim0, rng);
        b.fm(vs, lo, s, target0, lim0, lim1, 4);
        if (!best || excess(s) < excess(best) || (excess(s) === excess(best) && s.cut < best.cut)) {
          best = s;
          bestSide = Int8Array.from(vs, (v) => b.side[v]);
        }
      }
      vs.forEach((v, i) => {
        if (bestSide && bestSide[i] === 1) part[v] = mid;
      });
    }
    split(lo, mid);
    split(mid, hi);
  };
  split(0, share.length);
  return part;
}
