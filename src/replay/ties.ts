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

import type { Links } from './links.js';

/**
 * Orders `group`, deferred sends (their operations) sent at `now`, as the time-ordered replay
 * takes their links: per link, the carrier's first, then by sender, each sender's in program
 * order. False when that order is not known.
 */
export function orderTies(
  group: number[],
  hist: ExecHistory,
  now: number,
  links: Links,
  senderOf: (m: number) => number,
  linkOf: (m: number) => number,
  bytes: Float64Array,
): boolean {
  const lk = group.map(linkOf);
  if (new Set(lk).size === lk.length) return true; // one per link: any order
  if (!links.positiveLatencies) return false;
  for (let j = 0; j < group.length; j++)
    if (!(bytes[group[j]] <= links.eager) && lk.indexOf(lk[j]) !== lk.lastIndexOf(lk[j])) return false; // a rendezvous: sent by whichever end posted last
  const senders = new Set(group.map(senderOf));
  const x = hist.carrier(now, (r) => senders.has(r));
  if (x === -2) return false;
  const rankKey = (m: number): number => {
    const s = senderOf(m);
    return s === x ? -1 : s;
  };
  group.sort((a, b) => rankKey(a) - rankKey(b) || a - b);
  return true;
}

/** The rank whose operation i is (`first`: each rank's first operation, P ranks). */
export function rankOf(first: Int32Array, P: number, i: number): number {
  let lo = 0,
    hi = P - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (first[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Resumptions kept per rank (a power of two). */
const WAKES = 16;

/**
 * A rank's executions: each operation's start (kept per operation: `start`), then the times it was
 * resumed at after parking (a ring per rank). An execution is (operation j, w): w -1 its start,
 * else the resumption numbered w.
 */
export class ExecHistory {
  /** per operation: the time it started at (written by the engine while recording) */
  readonly start: Float64Array;
  /** per rank, a ring: the operation each resumption resumed, its time, the rank that woke it (-1 unknown) */
  private readonly wakeOp: Int32Array;
  private readonly wakeKey: Float64Array;
  private readonly wakeBy: Int32Array;
  private readonly wn: Int32Array;
  // the execution lastBefore found
  private eOp = -1;
  private eW = -1;
  private eT = 0;

  /** `record`: false keeps nothing (the engine writes no starts) */
  constructor(
    readonly P: number,
    private readonly first: Int32Array,
    private readonly pc: Int32Array,
    private readonly waitMsg: Int32Array,
    start: Float64Array,
    record: boolean,
  ) {
    this.start = start;
    const n = record ? P * WAKES : 0;
    this.wakeOp = new Int32Array(n);
    this.wakeKey = new Float64Array(n);
    this.wakeBy = new Int32Array(n);
    this.wn = new Int32Array(P);
  }

  /** Parked rank r was woken by rank `by` (-1: not known) to resume operation `op` at `key`. */
  woke(r: number, op: number, key: number, by: number): void {
    const j = r * WAKES + (this.wn[r]++ & (WAKES - 1));
    this.wakeOp[j] = op;
    this.wakeKey[j] = key;
    this.wakeBy[j] = by;
  }

  private slot(r: number, w: number): number {
    return r * WAKES + (w & (WAKES - 1));
  }

  /** The oldest resumption of rank r still kept. */
  private oldest(r: number): number {
    return Math.max(0, this.wn[r] - WAKES);
  }

  /** Whether the ring still holds every resumption of rank r's operations from j on. */
  private covers(r: number, j: number): boolean {
    return this.wn[r] <= WAKES || this.wakeOp[this.slot(r, this.oldest(r))] < j;
  }

  /** The last operation rank r started (all ranks are parked or done while ties are ordered). */
  private lastOp(r: number): number {
    return this.waitMsg[r] >= 0 ? this.pc[r] : this.pc[r] - 1;
  }

  /** Rank r's last execution before tau, in eOp, eW, eT: 1 found, 0 none, -1 unknown. */
  private lastBefore(r: number, tau: number): number {
    const { start } = this;
    let a = this.first[r],
      b = this.lastOp(r);
    if (b < a || !(start[a] < tau)) return 0;
    if (start[b] < tau) a = b; // the common case: it has not started anything at or after tau
    while (a < b) {
      const c = (a + b + 1) >> 1;
      if (start[c] < tau) a = c;
      else b = c - 1;
    }
    if (!this.covers(r, a)) return -1;
    this.eOp = a;
    this.eW = -1;
    this.eT = start[a];
    // its latest resumption before tau, if any
    for (let w = this.wn[r] - 1; w >= this.oldest(r); w--) {
      const q = this.slot(r, w);
      if (this.wakeOp[q] < a) break;
      if (this.wakeOp[q] === a && this.wakeKey[q] < tau) {
        this.eW = w;
        this.eT = this.wakeKey[q];
        break;
      }
    }
    return 1;
  }

  /** Whether rank r resumed operation j at or after `t`: 1 yes, 0 no (-1 unknown). */
  private resumedFrom(r: number, j: number, t: number): number {
    if (!this.covers(r, j)) return -1;
    for (let w = this.wn[r] - 1; w >= this.oldest(r); w--) {
      const q = this.slot(r, w);
      if (this.wakeOp[q] < j) break;
      if (this.wakeOp[q] === j && this.wakeKey[q] >= t) return 1;
    }
    return 0;
  }

  /**
   * The rank that ran on into tau (its last execution before tau ended at tau), when it is one of
   * `relevant`: -1 when none of them did, -2 when unknown.
   */
  carrier(tau: number, relevant: (r: number) => boolean = () => true, depth = 0): number {
    const x = this.lastExecutor(tau, relevant, depth);
    if (x < 0) return x;
    if (this.lastBefore(x, tau) !== 1) return -2;
    const j = this.eOp;
    // its next execution starts its next operation at tau (not a resumption: it was not parked)
    if (j + 1 > this.lastOp(x) || this.start[j + 1] !== tau) return -1;
    const again = this.resumedFrom(x, j, tau);
    return again < 0 ? -2 : again ? -1 : x;
  }

  /**
   * The rank whose execution before tau came last in the time-ordered replay (-1 none, or none of
   * `relevant`; -2 unknown). Several last ran at one time t: there the carrier ran first, then the
   * ranks the heap held at t, by rank, and a rank resumed at t after the one that woke it then.
   */
  private lastExecutor(tau: number, relevant: (r: number) => boolean, depth: number): number {
    if (depth > 8) return -2;
    let best = -Infinity;
    const M: number[] = [],
      J: number[] = [],
      W: number[] = [];
    for (let r = 0; r < this.P; r++) {
      const f = this.lastBefore(r, tau);
      if (f < 0) return -2;
      if (f === 0) continue;
      if (this.eT > best) {
        best = this.eT;
        M.length = J.length = W.length = 0;
      }
      if (this.eT === best) {
        M.push(r);
        J.push(this.eOp);
        W.push(this.eW);
      }
    }
    if (!M.some(relevant)) return -1;
    if (M.length === 1) return M[0];
    // each rank's executions at `best`: starts only (it ran there), or one resumption alone
    const woken: number[] = [],
      by: number[] = [],
      first: number[] = [];
    for (let n = 0; n < M.length; n++) {
      const r = M[n],
        j = J[n];
      if (W[n] >= 0) {
        // resumed at `best`: its only execution there (its start was before)
        if (!(this.start[j] < best) || this.resumedFrom(r, j, best) !== 1) return -2;
        const q = this.slot(r, W[n]);
        if (
          W[n] > this.oldest(r) &&
          this.wakeOp[this.slot(r, W[n] - 1)] === j &&
          this.wakeKey[this.slot(r, W[n] - 1)] === best
        )
          return -2;
        const w = this.wakeBy[q];
        if (w < 0 || !M.includes(w)) return -2;
        woken.push(r);
        by.push(w);
        continue;
      }
      // starts at `best` from operation j0 on, with no resumption among them nor just before
      let j0 = j;
      while (j0 > this.first[r] && this.start[j0 - 1] === best) j0--;
      const from = j0 > this.first[r] ? j0 - 1 : j0;
      if (!this.covers(r, from)) return -2;
      // (operation j itself was not resumed before tau: its start is its last execution before it)
      for (let q = from; q < j; q++) if (this.resumedFrom(r, q, best) !== 0) return -2;
      first.push(r);
    }
    if (!first.length) return -2;
    const c = first.length > 1 ? this.carrier(best, () => true, depth + 1) : first[0];
    if (c === -2 || (c >= 0 && !first.includes(c))) return -2;
    // the heap at `best`: the ranks there before it, by rank, and each woken one once its waker ran
    const heap = first.filter((r) => r !== c);
    let x = c,
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
