// An indexed max-heap of vertices by gain: push, update and remove by vertex in O(log n), with
// its positions in a typed array (no objects per vertex).

export class GainHeap {
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  readonly key: Float64Array;
  size = 0;

  constructor(n: number) {
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.key = new Float64Array(n);
  }

  has(v: number): boolean {
    return this.pos[v] >= 0;
  }

  /** Inserts v with gain k, or changes its gain when it is in already. */
  set(v: number, k: number): void {
    if (this.pos[v] < 0) {
      this.key[v] = k;
      this.heap[this.size] = v;
      this.pos[v] = this.size++;
      this.up(this.pos[v]);
    } else {
      const old = this.key[v];
      this.key[v] = k;
      if (k > old) this.up(this.pos[v]);
      else this.down(this.pos[v]);
    }
  }

  top(): number {
    return this.heap[0];
  }

  remove(v: number): void {
    const i = this.pos[v];
    if (i < 0) return;
    const last = this.heap[--this.size];
    this.pos[v] = -1;
    if (i === this.size) return;
    this.heap[i] = last;
    this.pos[last] = i;
    this.up(i);
    this.down(this.pos[last]);
  }

  /** Empties the heap (positions of what is left reset). */
  clear(): void {
    for (let i = 0; i < this.size; i++) this.pos[this.heap[i]] = -1;
    this.size = 0;
  }

  // Higher gain first; equal gains by lower vertex, so the order never depends on history.
  private above(a: number, b: number): boolean {
    const ka = this.key[a];
    const kb = this.key[b];
    return ka > kb || (ka === kb && a < b);
  }

  private up(i: number): void {
    const { heap, pos } = this;
    const v = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(v, heap[p])) break;
      heap[i] = heap[p];
      pos[heap[i]] = i;
      i = p;
    }
    heap[i] = v;
    pos[v] = i;
  }

  private down(i: number): void {
    const { heap, pos } = this;
    const v = heap[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && this.above(heap[c + 1], heap[c])) c++;
      if (!this.above(heap[c], v)) break;
      heap[i] = heap[c];
      pos[heap[i]] = i;
      i = c;
    }
    heap[i] = v;
    pos[v] = i;
  }
}
