// A binary min-heap of (time, rank), typed arrays, fixed capacity (each rank is in it at most once).
// Ties go by rank: a deterministic order.
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
    const top = this.rank[0];
    const n = --this.size;
    if (n > 0) this.siftDown(this.time[n], this.rank[n], n);
    return top;
  }

  /**
   * Returns the top's rank and puts (t, r) in its place: a push then a pop in one pass, for a rank
   * that yields to the top (t after the top's time).
   */
  replaceTop(t: number, r: number): number {
    const top = this.rank[0];
    this.siftDown(t, r, this.size);
    return top;
  }

  /** Places (t, r) from the root down among the first n entries. */
  private siftDown(t: number, r: number, n: number): void {
    const time = this.time,
      rank = this.rank;
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
  }
}
