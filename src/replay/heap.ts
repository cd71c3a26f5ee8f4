// Priority queues of (time, id) in typed arrays (ids: ranks, or messages), growing when full: a
// binary min-heap, and a sorted queue for items that come nearly in order. Ties go by id: a
// deterministic order.
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

  /** Id at the top (the heap must not be empty). */
  peekId(): number {
    return this.id[0];
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

/** How far back from its end the sorted queue looks for an item's place; farther items go to a heap. */
const NEAR = 16;

/**
 * (time, id) popped in the order of TimeHeap, in a sorted array where an item is placed by looking
 * back from the end: nearly free when items come nearly in order (WAN messages in the replay's
 * dataflow mode). An item whose place is more than NEAR from the end goes to a heap instead, so
 * that no order of items costs more than NEAR moves and a heap's log n per item.
 */
export class TimeQueue {
  private time: Float64Array;
  private id: Int32Array;
  private head = 0;
  private tail = 0;
  private readonly far: TimeHeap;

  constructor(capacity: number) {
    this.time = new Float64Array(Math.max(NEAR, capacity));
    this.id = new Int32Array(Math.max(NEAR, capacity));
    this.far = new TimeHeap(NEAR);
  }

  get size(): number {
    return this.tail - this.head + this.far.size;
  }

  /** Time of the first item; Infinity when empty. */
  peekTime(): number {
    const t = this.head < this.tail ? this.time[this.head] : Infinity;
    const f = this.far.peekTime();
    return f < t ? f : t;
  }

  push(t: number, r: number): void {
    if (this.tail === this.time.length) this.makeRoom();
    const time = this.time,
      id = this.id;
    const stop = Math.max(this.head, this.tail - NEAR);
    let i = this.tail;
    while (i > stop && (time[i - 1] > t || (time[i - 1] === t && id[i - 1] > r))) i--;
    if (i === stop && i > this.head) {
      this.far.push(t, r); // its place is farther back
      return;
    }
    for (let j = this.tail; j > i; j--) {
      time[j] = time[j - 1];
      id[j] = id[j - 1];
    }
    time[i] = t;
    id[i] = r;
    this.tail++;
  }

  /** Removes the first item and returns its id (the queue must not be empty). */
  pop(): number {
    const { far } = this;
    const h = this.head;
    if (
      h < this.tail &&
      !(far.size && (far.peekTime() < this.time[h] || (far.peekTime() === this.time[h] && far.peekId() < this.id[h])))
    ) {
      if (++this.head === this.tail) this.head = this.tail = 0;
      return this.id[h];
    }
    return far.pop();
  }

  /** Moves the items to the front, or doubles the arrays when more than half full. */
  private makeRoom(): void {
    const n = this.tail - this.head;
    if (2 * n > this.time.length) {
      const time = new Float64Array(2 * this.time.length),
        id = new Int32Array(2 * this.id.length);
      time.set(this.time.subarray(this.head, this.tail));
      id.set(this.id.subarray(this.head, this.tail));
      this.time = time;
      this.id = id;
    } else {
      this.time.copyWithin(0, this.head, this.tail);
      this.id.copyWithin(0, this.head, this.tail);
    }
    this.head = 0;
    this.tail = n;
  }
}
