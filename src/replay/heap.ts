// A binary min-heap of (time, id) in typed arrays (ids: ranks, or messages), growing when full.
// Ties go by id: a deterministic order.
export class TimeHeap {
  private time: Float64Array;
  private id: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.time = new Float64Array(Math.max(1, capacity));
    this.id = new Int32Array(Math.max(1, capacity));
  }

  /** Time at the top; Infinity when empty. */
  peekTime(): number {
    return this.size ? this.time[0] : Infinity;
  }

  push(t: number, r: number): void {
    if (this.size === this.time.length) this.grow();
    const time = this.time,
      id = this.id;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (time[p] < t || (time[p] === t && id[p] < r)) break;
      time[i] = time[p];
      id[i] = id[p];
      i = p;
    }
    time[i] = t;
    id[i] = r;
  }

  private grow(): void {
    const time = new Float64Array(2 * this.time.length),
      id = new Int32Array(2 * this.id.length);
    time.set(this.time);
    id.set(this.id);
    this.time = time;
    this.id = id;
  }

  /** Removes the top and returns its id (the heap must not be empty). */
  pop(): number {
    const top = this.id[0];
    const n = --this.size;
    if (n > 0) this.siftDown(this.time[n], this.id[n], n);
    return top;
  }

  /**
   * Returns the top's id and puts (t, r) in its place: a push then a pop in one pass, for a rank
   * that yields to the top (t after the top's time).
   */
  replaceTop(t: number, r: number): number {
    const top = this.id[0];
    this.siftDown(t, r, this.size);
    return top;
  }

  /** Places (t, r) from the root down among the first n entries. */
  private siftDown(t: number, r: number, n: number): void {
    const time = this.time,
      id = this.id;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (time[c + 1] < time[c] || (time[c + 1] === time[c] && id[c + 1] < id[c]))) c++;
      if (t < time[c] || (t === time[c] && r < id[c])) break;
      time[i] = time[c];
      id[i] = id[c];
      i = c;
    }
    time[i] = t;
    id[i] = r;
  }
}
