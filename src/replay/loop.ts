// The replay's event loop (./engine.ts runs it): a discrete-event LogGP replay of a trace on a cluster.
//
// Ranks advance in global time order (a heap of (time, rank)); a rank runs its operations until
// its clock passes the next event's time, or until it must wait for a message (it is then parked,
// and woken by the event that resolves it). WAN links are shared: a directed site pair's link
// carries one message's bytes at a time, in the order the messages were sent, and messages sent at
// one same time in the order of their senders' ranks, then of their operations (the model's tie
// rule): a WAN message waits in `pending` until no rank can send at or before its time, then takes
// its link (commit).
//
// Per message: LogGP with eager and rendezvous protocols, shared WAN links and connections made on
// first use, as docs/replay.md ("The model") writes them out.
//
// Speed (docs/replay.md, "Speed"): state in typed arrays indexed by operation or rank, no
// allocation per event, one loop without closures; a rank's clock and sums stay in locals while it
// runs; a message's sender writes its receive's state; an eager local send runs without a call;
// once every connection is made (Links.sensitive), ranks run in dataflow order without the heap.
import type { Cluster } from './cluster.js';
import { TimeHeap, TimeQueue } from './heap.js';
import { Links, SITE, WAN } from './links.js';
import { scratch } from './scratch.js';
import { Op, type Trace } from './trace.js';

/** flags per operation: a send or receive is posted; its message is done (a send: its bytes are out,
 * `at` the sender's end; a receive: its message arrived, `at` the arrival); a receive not posted yet
 * whose rendezvous send is; its parked rank waits for it. The sender writes its receive's state too,
 * so that a receiver reads only its own operations' (fewer cache misses). The message's class rides
 * in bits 4-5. */
const POSTED = 1,
  DONE = 2,
  SEND_WAITS = 4,
  WAITED = 8,
  CLS_SHIFT = 4;

/** One replay's state; `run` is the event loop. */
export class Engine {
  readonly P: number;
  readonly first: Int32Array;
  readonly kind: Uint8Array;
  readonly peer: Int32Array;
  readonly bytes: Float64Array;
  readonly match: Int32Array;
  readonly links: Links;
  /** per operation: POSTED | DONE | SEND_WAITS | class << CLS_SHIFT */
  readonly flags: Uint8Array;
  /** per operation: when its message is done (set with DONE), when it was posted (with POSTED) */
  readonly at: Float64Array;
  readonly post: Float64Array;
  // requests of rank r: a FIFO inside [first[r], first[r + 1]) of reqs
  readonly reqs: Int32Array;
  readonly reqHead: Int32Array;
  readonly reqTail: Int32Array;
  // per rank
  readonly t: Float64Array;
  readonly pc: Int32Array;
  readonly nic: Float64Array;
  /** how many of its operations (WAITED) a parked rank waits for: 0 when not parked */
  readonly missing: Int32Array;
  readonly computeNs: Float64Array;
  readonly localNs: Float64Array;
  readonly wanNs: Float64Array;
  readonly heap: TimeHeap;
  events = 0;
  /** false keeps the replay in time order to its end (the reference for the dataflow mode) */
  readonly mayFlow: boolean;
  /** WAN messages sent and not yet on their link: (the time they were sent at, their send operation) */
  readonly pending: TimeQueue;

  constructor(trace: Trace, cluster: Cluster, mayFlow: boolean) {
    const P = (this.P = trace.size);
    this.first = trace.first;
    this.kind = trace.kind;
    this.peer = trace.peer;
    this.bytes = trace.bytes;
    this.match = trace.match;
    const w = scratch(trace.first[P]);
    this.mayFlow = mayFlow;
    this.links = new Links(trace, cluster);
    this.flags = w.flags;
    this.at = w.at;
    this.post = w.post;
    this.reqs = w.reqs;
    this.reqHead = trace.first.slice(0, P);
    this.reqTail = trace.first.slice(0, P);
    this.t = new Float64Array(P);
    this.pc = trace.first.slice(0, P);
    this.nic = new Float64Array(P);
    this.missing = new Int32Array(P);
    this.computeNs = new Float64Array(P);
    this.localNs = new Float64Array(P);
    this.wanNs = new Float64Array(P);
    this.heap = new TimeHeap(P);
    this.pending = new TimeQueue(this.links.sites > 1 ? P : 0);
    this.ready = new Int32Array(P);
  }

  /**
   * Operation `op` of rank r is done: a parked rank goes on once none it waits for is left (once,
   * whatever order they complete in); `now`: the time of the operation that did it.
   */
  wake(r: number, op: number, now: number): void {
    const f = this.flags[op];
    if (!(f & WAITED)) return;
    this.flags[op] = f & ~WAITED;
    if (--this.missing[r]) return;
    if (this.flow) this.toReady(r);
    else this.heap.push(Math.max(this.t[r], now), r);
  }

  /**
   * Dataflow mode: once no order-sensitive transfer is left (Links.sensitive: connections to make),
   * every result follows from the data alone, so ranks need not run in time order: each runs until
   * it must wait, and runnable ranks wait in a ring instead of the heap (no yield, no sift). WAN
   * messages take their links when no rank can run (every message still to come is then sent at
   * or after the earliest pending one: a rank resumes only on a message, which arrives after it
   * was sent), in the same order as in time order. Results stay identical.
   */
  flow = false;
  /** runnable ranks in dataflow mode, first in first out (a ring: each rank at most once) */
  readonly ready: Int32Array;
  nReady = 0;
  readyHead = 0;

  private toReady(r: number): void {
    let j = this.readyHead + this.nReady++;
    if (j >= this.P) j -= this.P;
    this.ready[j] = r;
  }

  /** Enters dataflow mode: the ranks in the heap become ready. */
  toFlow(): void {
    this.flow = true;
    const heap = this.heap;
    while (heap.size) this.toReady(heap.pop());
  }

  /** The time the running rank may run to: the next rank's or pending WAN message's (Infinity in dataflow mode). */
  horizon(): number {
    if (this.flow) return Infinity;
    const h = this.heap.peekTime(),
      p = this.pending.peekTime();
    return p < h ? p : h;
  }

  /** The next rank to run, -1 when none; WAN messages take their links first when due. */
  nextRank(): number {
    const { heap, pending } = this;
    if (this.flow) {
      while (!this.nReady && pending.size) {
        // in send order, while no rank they wake could send before the next one (a rank woken
        // once for several messages runs once)
        let bound = Infinity;
        do bound = Math.min(bound, this.commit());
        while (pending.size && pending.peekTime() < bound);
      }
      if (!this.nReady) return -1;
      const r = this.ready[this.readyHead];
      this.nReady--;
      if (++this.readyHead === this.P) this.readyHead = 0;
      return r;
    }
    // ranks at a message's time run first (they may send at that time too)
    while (pending.size && pending.peekTime() < heap.peekTime()) this.commit();
    return heap.size ? heap.pop() : -1;
  }

  /**
   * Moves message m (class c) from `start`: the sender's end on m, the arrival on its receive; `now`:
   * the time it is sent at. False when pending: a WAN message waits for its link (an eager send's
   * end does not depend on the link: it is set now).
   */
  transfer(m: number, s: number, d: number, c: number, start: number, rendezvous: boolean, now: number): boolean {
    const links = this.links;
    if (c === WAN) {
      const from = start + links.connectDelay(s, d, c);
      this.post[m] = from;
      if (!rendezvous) {
        this.at[m] = from + this.bytes[m] * links.G[SITE];
        this.flags[m] |= DONE | (WAN << CLS_SHIFT);
      }
      this.pending.push(now, m);
      return false;
    }
    const arrival = links.transfer(s, d, c, this.bytes[m], start);
    const done = DONE | (c << CLS_SHIFT);
    this.at[m] = links.senderDone;
    this.flags[m] |= done;
    const rv = this.match[m];
    if (rv >= 0) {
      this.at[rv] = arrival;
      this.flags[rv] |= done;
    }
    return true;
  }

  /**
   * Puts the pending WAN message sent first on its link (ties: the lowest send operation, i.e. the
   * lowest sender's rank, then its program order) and wakes the ranks waiting for it; returns the
   * earliest time they can go on from (Infinity: none).
   */
  private commit(): number {
    const { pending, links, match, peer, flags, at, bytes } = this;
    const now = pending.peekTime();
    const m = pending.pop();
    const d = peer[m],
      rv = match[m];
    const s = rv >= 0 ? peer[rv] : rankOf(this.first, this.P, m);
    const b = bytes[m];
    const rendezvous = !(b <= links.eager);
    const arrival = links.carry(links.link(s, d), b, this.post[m], rendezvous);
    const done = DONE | (WAN << CLS_SHIFT);
    if (rendezvous) {
      at[m] = links.senderDone;
      flags[m] |= done;
    }
    let from = Infinity;
    if (rv >= 0) {
      at[rv] = arrival;
      flags[rv] |= done;
      this.wake(d, rv, now);
      from = arrival;
    }
    if (rendezvous) {
      this.wake(s, m, now);
      from = Math.min(from, at[m]);
    }
    return from;
  }

  /** Starts a rendezvous transfer whose send and receive are both posted. */
  rendezvous(m: number, s: number, d: number, rpost: number, now: number): void {
    const links = this.links;
    const c = links.cls(s, d);
    const L = links.latency(s, d, c);
    const start = Math.max(this.post[m] + links.o[c] + L, rpost) + L;
    // sent when both ends are posted (in dataflow mode the later to run may have posted earlier)
    if (!this.transfer(m, s, d, c, start, true, Math.max(this.post[m], rpost))) return;
    this.wake(d, this.match[m], now);
    this.wake(s, m, now);
  }

  /** Posts send m of rank r at time tr; returns the rank's clock after it (a blocking send may wait longer). */
  postSend(r: number, m: number, tr: number): number {
    const d = this.peer[m];
    const links = this.links;
    const c = links.cls(r, d);
    const b = this.bytes[m];
    if (b <= links.eager) {
      const start = Math.max(tr + links.o[c], this.nic[r]);
      this.nic[r] = start + Math.max(links.g[c], b * links.G[c]);
      if (this.transfer(m, r, d, c, start, false, tr) && this.match[m] >= 0) this.wake(d, this.match[m], tr);
      return start;
    }
    const rv = this.match[m];
    if (rv < 0) {
      // unmatched (its receive is past a window's edge): a no-op, as for an eager send
      this.at[m] = tr;
      this.flags[m] |= DONE | (c << CLS_SHIFT);
      return tr + links.o[c];
    }
    this.post[m] = tr;
    this.flags[m] |= POSTED;
    if (this.flags[rv] & POSTED) this.rendezvous(m, r, d, this.post[rv], tr);
    else this.flags[rv] |= SEND_WAITS;
    return tr + links.o[c];
  }

  /** Moves rank r's outstanding request `op` to the head of its requests; returns the end of it (head + 1, or the head: not outstanding). */
  private toHead(r: number, op: number): number {
    const { reqs } = this;
    const lo = this.reqHead[r];
    for (let q = lo; q < this.reqTail[r]; q++)
      if (reqs[q] === op) {
        for (; q > lo; q--) reqs[q] = reqs[q - 1]; // the others keep their order
        reqs[lo] = op;
        return lo + 1;
      }
    return lo;
  }

  /** Runs every rank in time order until all finished or wait for messages that never come. */
  run(): void {
    const { first, kind, peer, bytes, match, flags, at, post, reqs, reqHead, reqTail, heap, links } = this;
    const { t, pc, nic, missing, computeNs, localNs, wanNs } = this;
    const { o, eager } = links;
    for (let r = 0; r < this.P; r++) heap.push(0, r);
    let events = 0;
    const { pending, mayFlow } = this;
    for (let r = this.nextRank(); r >= 0;) {
      const end = first[r + 1];
      let next = -1;
      let i = pc[r];
      let t0 = t[r];
      // the next event's time, read again after whatever may wake a rank or send across sites
      let top = this.horizon();
      // the rank's sums stay in locals while it runs (the same additions in the same order)
      let comp = computeNs[r],
        loc = localNs[r],
        wanT = wanNs[r];
      // runs rank r's operations until its clock passes the next rank's or it must wait
      for (; i < end; i++) {
        let t1 = t0;
        const k = kind[i];
        if (k === Op.Compute) {
          t1 = t0 + bytes[i];
          comp += bytes[i];
        } else {
          let wan = false;
          if (k === Op.Send || k === Op.Isend) {
            let after = t0; // a parked blocking send has posted already
            if (!flags[i]) {
              const d = peer[i],
                b = bytes[i];
              const c = links.cls(r, d);
              if (b <= eager && (c === WAN ? this.flow : links.settled(r, d))) {
                // the common case without a call (the hot loop keeps its arrays in registers): an
                // eager message, as postSend and transfer move it (in dataflow mode every
                // connection is made)
                const start = Math.max(t0 + o[c], nic[r]);
                const G = links.G[c] * b;
                nic[r] = start + Math.max(links.g[c], G);
                const sent = start + G;
                const done = DONE | (c << CLS_SHIFT);
                at[i] = sent;
                flags[i] |= done;
                const rv = match[i];
                if (c === WAN) {
                  // its receive waits for the link (commit)
                  post[i] = start;
                  pending.push(t0, i);
                } else if (rv >= 0) {
                  at[rv] = sent + links.L[c];
                  if ((flags[rv] |= done) & WAITED) {
                    this.wake(d, rv, t0);
                    top = this.horizon();
                  }
                }
                after = start;
              } else {
                after = this.postSend(r, i, t0);
                top = this.horizon();
              }
            }
            if (k === Op.Isend) {
              reqs[reqTail[r]++] = i;
              t1 = after;
            } else {
              const f = flags[i];
              if (!(f & DONE)) {
                flags[i] = f | WAITED;
                missing[r] = 1;
                break;
              }
              t1 = Math.max(t0, at[i]);
              wan = f >> CLS_SHIFT === WAN;
            }
          } else if (k === Op.Recv || k === Op.Irecv) {
            if (!(flags[i] & POSTED)) {
              post[i] = t0;
              const f = (flags[i] |= POSTED);
              // its rendezvous send waits for it: the data moves now
              if (f & SEND_WAITS && !(f & DONE)) {
                this.rendezvous(match[i], peer[i], r, t0, t0);
                top = this.horizon();
              }
            }
            if (k === Op.Irecv) {
              // no time passes: its clock stays at or before the next rank's (whatever it woke, it
              // woke at or after it), so no yield to check
              reqs[reqTail[r]++] = i;
              events++;
              continue;
            } else {
              const f = flags[i];
              if (f & DONE) {
                const c = f >> CLS_SHIFT;
                t1 = Math.max(t0, at[i]) + o[c];
                wan = c === WAN;
              } else if (match[i] >= 0) {
                flags[i] = f | WAITED;
                missing[r] = 1;
                break;
              } // unmatched: nothing to wait for
            }
          } else {
            // Wait: count > 0 the oldest requests; < 0 the newest (a collective's step); 0 all
            const c = peer[i];
            const lo = c < 0 ? Math.max(reqHead[r], reqTail[r] + c) : reqHead[r];
            let hi = c > 0 ? Math.min(reqTail[r], lo + c) : reqTail[r];
            if (bytes[i] > 0) hi = this.toHead(r, first[r] + bytes[i] - 1); // one request: moved to the head
            let done = t0;
            let q = lo;
            for (; q < hi; q++) {
              const rq = reqs[q];
              const f = flags[rq];
              if (!(f & DONE)) {
                // a receive that no send matches never completes, and is not waited for
                if (kind[rq] === Op.Irecv && match[rq] < 0) continue;
                break;
              }
              const cl = f >> CLS_SHIFT;
              // a send is done when its bytes are out, a receive o after its message arrived
              const x = kind[rq] === Op.Isend ? at[rq] : at[rq] + o[cl];
              if (x > done) {
                done = x;
                wan = cl === WAN;
              }
            }
            if (q < hi) {
              // parked until every request left is done
              let n = 0;
              for (; q < hi; q++) {
                const rq = reqs[q];
                const f = flags[rq];
                if (!(f & DONE) && (kind[rq] !== Op.Irecv || match[rq] >= 0)) {
                  flags[rq] = f | WAITED;
                  n++;
                }
              }
              missing[r] = n;
              break;
            }
            if (c < 0) reqTail[r] = lo;
            else reqHead[r] = hi;
            t1 = done;
          }
          if (wan) wanT += t1 - t0;
          else loc += t1 - t0;
        }
        t0 = t1;
        events++;
        if (t1 > top) {
          if (links.sensitive === 0 && mayFlow) {
            this.toFlow();
            top = Infinity;
          } else {
            i++;
            // it yields to the rank at the top; to a pending WAN message: nextRank commits it
            if (heap.peekTime() <= pending.peekTime()) next = heap.replaceTop(t1, r);
            else heap.push(t1, r);
            break;
          }
        }
      }
      pc[r] = i;
      t[r] = t0;
      computeNs[r] = comp;
      localNs[r] = loc;
      wanNs[r] = wanT;
      if (!this.flow && links.sensitive === 0 && mayFlow) this.toFlow();
      r = next >= 0 ? next : this.nextRank();
    }
    this.events = events;
  }
}

/** The rank whose operation i is (`first`: each rank's first operation, P ranks). */
function rankOf(first: Int32Array, P: number, i: number): number {
  let lo = 0,
    hi = P - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (first[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
