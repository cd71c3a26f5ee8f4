// Ties on a WAN link in the replay's dataflow mode (./engine.ts): WAN transfers sent at one same
// time take their link in the order the time-ordered replay gives them, which follows from where
// each rank ran. That replay runs a rank until its clock passes the heap's top, so at a time tau
// the rank whose operation ended at tau while no other rank was due before it (the carrier) runs
// on first, then the ranks waiting in the heap at tau, by rank (with latencies above 0, a rank
// woken at tau resumes after it and sends nothing at tau). The carrier is the rank whose last
// execution before tau came last: execution times never decrease in that replay, so it is the
// one with the latest such time, when that time is its alone.
//
// Each rank's executions (an operation's start, or the time a parked one was resumed at) are kept
// in a ring per rank, enough to look back from where the dataflow run stopped to tau; when the
// ring does not reach back, or two ranks' last executions tie, the order is unknown and the
// caller replays in time order instead.

/** Executions kept per rank (a power of two): rings of 12 bytes each. */
export function historyLength(P: number): number {
  return P <= 1024 ? 256 : 16;
}

const WAKES = 16;

export class ExecHistory {
  readonly mask: number;
  /** per rank r, entries [r * H, (r + 1) * H): the time of each execution, a ring */
  readonly time: Float64Array;
  /** executions recorded per rank (the ring holds the last H) */
  readonly n: Int32Array;
  /**
   * per rank, a ring of WAKES: which of its executions resumed a parked operation (the others each
   * start the next one) and which rank woke it (-1 unknown)
   */
  private readonly wakeAt: Int32Array;
  private readonly wakeBy: Int32Array;
  private readonly wn: Int32Array;

  /** `record`: false keeps no rings (nothing recorded) */
  constructor(
    readonly P: number,
    record: boolean,
  ) {
    const H = historyLength(P);
    this.mask = H - 1;
    this.time = new Float64Array(record ? P * H : 0);
    this.n = new Int32Array(P);
    this.wakeAt = new Int32Array(record ? P * WAKES : 0);
    this.wakeBy = new Int32Array(record ? P * WAKES : 0);
    this.wn = new Int32Array(P);
  }

  /** Parked rank r was woken by rank `by` (-1: not known): its next execution resumes. */
  woke(r: number, by: number): void {
    const j = r * WAKES + (this.wn[r]++ & (WAKES - 1));
    this.wakeAt[j] = this.n[r];
    this.wakeBy[j] = by;
  }

  /** Whether rank r's execution k resumed a parked operation: the rank that woke it, -1 when not resumed, -2 unknown. */
  private resumedBy(r: number, k: number): number {
    const n = this.wn[r];
    for (let w = n - 1; w >= Math.max(0, n - WAKES); w--) {
      const j = r * WAKES + (w & (WAKES - 1));
      if (this.wakeAt[j] === k) return this.wakeBy[j] >= 0 ? this.wakeBy[j] : -2;
      if (this.wakeAt[j] < k) return -1;
    }
    return n > WAKES ? -2 : -1;
  }

  private at(r: number, k: number): number {
    return r * (this.mask + 1) + (k & this.mask);
  }

  /** The count of rank r's last execution before tau: -1 none, -2 unknown (the ring does not reach back). */
  lastBefore(r: number, tau: number): number {
    const n = this.n[r];
    if (n > 0 && this.time[this.at(r, n - 1)] < tau) return n - 1; // the common case: it has not run past tau
    const lo = Math.max(0, n - this.mask - 1);
    if (n === 0 || !(this.time[this.at(r, lo)] < tau)) return lo > 0 ? -2 : -1;
    let a = lo,
      b = n - 1; // time(a) < tau; find the last such
    while (a < b) {
      const c = (a + b + 1) >> 1;
      if (this.time[this.at(r, c)] < tau) a = c;
      else b = c - 1;
    }
    return a;
  }

  /**
   * The rank that ran on into tau (its last execution before tau ended at tau), when it is one of
   * `relevant`: -1 when none of them did, -2 when unknown.
   */
  carrier(tau: number, relevant: (r: number) => boolean = () => true, depth = 0): number {
    const x = this.lastExecutor(tau, relevant, depth);
    if (x < 0) return x;
    const k = this.lastBefore(x, tau);
    if (k + 1 >= this.n[x] || this.time[this.at(x, k + 1)] !== tau) return -1;
    // its next execution is at tau and of its next operation: it ended there and was not parked
    const by = this.resumedBy(x, k + 1);
    return by === -2 ? -2 : by === -1 ? x : -1;
  }

  /**
   * The rank whose execution before tau came last in the time-ordered replay (-1 none, or none of
   * `relevant`; -2 unknown). Several last ran at one time t: there the carrier ran first, then the
   * ranks the heap held at t, by rank; a rank resumed at t was woken at t and entered the heap
   * among them (its place is known only when one other rank ran at t: after it).
   */
  private lastExecutor(tau: number, relevant: (r: number) => boolean, depth: number): number {
    if (depth > 8) return -2;
    let best = -Infinity;
    const M: number[] = [],
      K: number[] = [];
    for (let r = 0; r < this.P; r++) {
      const k = this.lastBefore(r, tau);
      if (k === -2) return -2;
      if (k < 0) continue;
      const x = this.time[this.at(r, k)];
      if (x > best) {
        best = x;
        M.length = K.length = 0;
      }
      if (x === best) {
        M.push(r);
        K.push(k);
      }
    }
    if (!M.some(relevant)) return -1;
    if (M.length === 1) return M[0];
    // a rank resumed at `best` was woken then by one running then: it entered the heap after it
    const woken: number[] = [],
      by: number[] = [],
      first: number[] = [];
    for (let j = 0; j < M.length; j++) {
      const r = M[j],
        lo = Math.max(0, this.n[r] - this.mask - 1);
      let k = K[j];
      for (; k > lo && this.time[this.at(r, k - 1)] === best; k--);
      if (k === lo && lo > 0) return -2;
      const w = this.resumedBy(r, k);
      if (w === -1) {
        // a rank resumed at `best` after running there too: not followed
        for (let q = k + 1; q <= K[j]; q++) if (this.resumedBy(r, q) !== -1) return -2;
        first.push(r);
        continue;
      }
      if (K[j] !== k || !M.includes(w)) return -2;
      woken.push(r);
      by.push(w);
    }
    if (!first.length) return -2;
    const c = first.length > 1 ? this.carrier(best, () => true, depth + 1) : first[0];
    if (c === -2 || (c >= 0 && !first.includes(c))) return -2;
    // the heap at `best`: the ranks there before it, by rank, and each woken one once its waker ran
    const heap = first.filter((r) => r !== c);
    let x = c >= 0 ? c : -1,
      last = -1;
    for (let n = 0; n < M.length; n++) {
      if (x < 0) {
        if (!heap.length) return -2;
        let h = 0;
        for (let q = 1; q < heap.length; q++) if (heap[q] < heap[h]) h = q;
        x = heap[h];
        heap.splice(h, 1);
      }
      for (let q = 0; q < woken.length; q++) if (by[q] === x) heap.push(woken[q]);
      last = x;
      x = -1;
    }
    return heap.length ? -2 : last;
  }
}
