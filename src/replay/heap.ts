// A binary min-heap of (time, rank), typed arrays, fixed capacity (each rank is in it at most once).
export class RankHeap {
  private readonly time: Float64Array;
  private readonly rank: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.time = new Float64Array(capacity);
    this.rank = new Int32Array(capacity);
  }

  /** Time at the top; Infinity when empty. */
  peekTime(): number {
    return this.size ? this.time[0] : Infinity;
  }

  push(t: number, r: number): void {
    const time = this.time,
      rank = this.rank;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      // ties by rank: a deterministic order
      if (time[p] < t || (time[p] === t && rank[p] < r)) break;
      time[i] = time[p];
      rank[i] = rank[p];
      i = p;
    }
    time[i] = t;
    rank[i] = r;
  }

  /** Removes the top and returns its rank (the heap must not be empty). */
  pop(): number {
    const time = this.time,
      rank = this.rank;
    const top = rank[0];
    const n = --this.size;
    if (n === 0) return top;
    const t = time[n],
      r = rank[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (time[c + 1] < time[c] || (time[c + 1] === time[c] && rank[c + 1] < rank[c]))) c++;
      if (t < time[c] || (t === time[c] && r < rank[c])) break;
      time[i] = time[c];
      rank[i] = rank[c];
      i = c;
    }
    time[i] = t;
    rank[i] = r;
    return top;
  }
}
