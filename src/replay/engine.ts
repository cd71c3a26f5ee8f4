// The replay engine: a discrete-event LogGP replay of a trace on a cluster.
//
// Ranks advance in global time order (a heap of (time, rank)); a rank runs its operations until
// its clock passes the next rank's, or until it must wait for a message (it is then parked, and
// woken by the event that resolves it). WAN links are shared: a directed site pair's link carries
// one message's bytes at a time, first come first served in the order of reservation.
//
// Per message of b bytes from s to d (class parameters p: intra-node or intra-site LogGP; a WAN
// link's L and G with the intra-site o, g, G for the ends):
//   eager (b <= eagerLimit): injection starts at max(t + o, nic[s]) (nic: the gap g, or b*G, since
//     the last injection); a blocking send completes when injected (start + b*G; Isend returns at
//     start, its request completes then); it arrives at
//     start + b*G + L locally; across sites the link carries it from max(start, linkFree) for
//     b*G_wan (and is busy that long), and it arrives L_wan after the later of the link's end
//     and the sender's injection (start + b*G_intraSite).
//   rendezvous (b > eagerLimit): a request reaches d at t + o + L; the data leaves
//     L after both it and the receive are there; the send completes when the data is sent.
//   a receive completes at max(its post, arrival) + o; Isend costs the sender o, Irecv nothing
//   until its Wait.
//
// Speed (docs/replay.md, "Speed"): state in typed arrays indexed by operation or rank, no
// allocation per event, one loop without closures; a rank's clock and program counter stay in
// locals while it runs; the message classes are computed once per placement (./links.ts).
import { checkCluster, type Cluster } from './cluster.js';
import { RankHeap } from './heap.js';
import { Links, WAN } from './links.js';
import { scratch } from './scratch.js';
import { Op, type Trace } from './trace.js';

export interface ReplayResult {
  /** predicted wall time: the last rank's end (ns) */
  wallNs: number;
  endNs: Float64Array;
  /** per rank: time in compute gaps, in MPI waiting on local messages, on WAN messages */
  computeNs: Float64Array;
  localNs: Float64Array;
  wanNs: Float64Array;
  /** operations replayed */
  events: number;
  /** ranks that could not finish (waiting for a message that never comes: a mismatched trace) */
  stalled: number[];
}

/** Completion of a request not known yet (times are >= 0); a receive that no send matches. */
const UNKNOWN = -1,
  NEVER = -2;
/** flags per operation: a send or receive is posted; a message's arrival and sender's end are known */
const POSTED = 1,
  DONE = 2;

/** One replay's state; `run` is the event loop. */
class Engine {
  readonly P: number;
  readonly first: Int32Array;
  readonly kind: Uint8Array;
  readonly peer: Int32Array;
  readonly bytes: Float64Array;
  readonly match: Int32Array;
  readonly links: Links;
  readonly cls: Uint8Array;
  /** per operation: POSTED | DONE */
  readonly flags: Uint8Array;
  /**
   * per operation i, three adjacent times (few cache misses): a message's arrival at
   * the receiver (3i, set with DONE), the sender's end (3i + 1, DONE), when it was posted (3i + 2, POSTED)
   */
  readonly tm: Float64Array;
  // requests of rank r: a FIFO inside [first[r], first[r + 1]) of reqs
  readonly reqs: Int32Array;
  readonly reqHead: Int32Array;
  readonly reqTail: Int32Array;
  // per rank
  readonly t: Float64Array;
  readonly pc: Int32Array;
  readonly nic: Float64Array;
  /** the message (its send operation) a parked rank waits for, -1 when not parked */
  readonly waitMsg: Int32Array;
  readonly computeNs: Float64Array;
  readonly localNs: Float64Array;
  readonly wanNs: Float64Array;
  readonly heap: RankHeap;
  /** the time of the operation running: what it wakes cannot resume before it */
  now = 0;
  events = 0;

  constructor(trace: Trace, cluster: Cluster) {
    const P = (this.P = trace.size);
    this.first = trace.first;
    this.kind = trace.kind;
    this.peer = trace.peer;
    this.bytes = trace.bytes;
    this.match = trace.match;
    const w = scratch(trace.first[P]);
    this.links = new Links(trace, cluster, w.cls);
    this.cls = w.cls;
    this.flags = w.flags;
    this.tm = w.tm;
    this.reqs = w.reqs;
    this.reqHead = trace.first.slice(0, P);
    this.reqTail = trace.first.slice(0, P);
    this.t = new Float64Array(P);
    this.pc = trace.first.slice(0, P);
    this.nic = new Float64Array(P);
    this.waitMsg = new Int32Array(P).fill(-1);
    this.computeNs = new Float64Array(P);
    this.localNs = new Float64Array(P);
    this.wanNs = new Float64Array(P);
    this.heap = new RankHeap(P);
  }

  wake(r: number, m: number): void {
    if (this.waitMsg[r] !== m) return;
    this.waitMsg[r] = -1;
    this.heap.push(Math.max(this.t[r], this.now), r);
  }

  /** Moves message m's bytes from `start`: sets its arrival and the sender's end. */
  transfer(m: number, s: number, d: number, start: number, rendezvous: boolean): void {
    this.tm[3 * m] = this.links.transfer(s, d, this.cls[m], this.bytes[m], start, rendezvous);
    this.tm[3 * m + 1] = this.links.senderDone;
    this.flags[m] |= DONE;
  }

  /** Starts a rendezvous transfer whose send and receive are both posted. */
  rendezvous(m: number, s: number, d: number, rpost: number): void {
    const c = this.cls[m];
    const L = this.links.latency(s, d, c);
    const start = Math.max(this.tm[3 * m + 2] + this.links.o[c] + L, rpost) + L;
    this.transfer(m, s, d, start, true);
    this.wake(d, m);
    this.wake(s, m);
  }

  /** Posts send m of rank r at time tr; returns the rank's clock after it (a blocking send may wait longer). */
  postSend(r: number, m: number, tr: number): number {
    const d = this.peer[m];
    const c = this.cls[m];
    const links = this.links;
    const b = this.bytes[m];
    if (b <= links.eager) {
      const start = Math.max(tr + links.o[c], this.nic[r]);
      this.nic[r] = start + Math.max(links.g[c], b * links.G[c]);
      this.transfer(m, r, d, start, false);
      this.wake(d, m);
      return start;
    }
    this.posted(m, tr);
    const rv = this.match[m];
    if (rv >= 0 && this.flags[rv] & POSTED) this.rendezvous(m, r, d, this.tm[3 * rv + 2]);
    return tr + links.o[c];
  }

  postRecv(r: number, i: number, tr: number): void {
    this.posted(i, tr);
    const m = this.match[i];
    if (m >= 0 && this.bytes[m] > this.links.eager && this.flags[m] === POSTED) this.rendezvous(m, this.peer[i], r, tr);
  }

  posted(i: number, tr: number): void {
    this.tm[3 * i + 2] = tr;
    this.flags[i] |= POSTED;
  }

  /** When request q of a rank completes: UNKNOWN not yet, NEVER a receive with no send. */
  completion(q: number): number {
    if (this.kind[q] === Op.Isend) return this.flags[q] & DONE ? this.tm[3 * q + 1] : UNKNOWN;
    const m = this.match[q];
    if (m < 0) return NEVER;
    return this.flags[m] & DONE ? this.tm[3 * m] + this.links.o[this.cls[q]] : UNKNOWN;
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
    const { first, kind, bytes, match, cls, flags, tm, reqs, reqHead, reqTail, heap } = this;
    const { t, pc, waitMsg, computeNs, localNs, wanNs } = this;
    const o = this.links.o;
    for (let r = 0; r < this.P; r++) heap.push(0, r);
    let events = 0;
    for (let r = heap.pop(); r >= 0;) {
      const end = first[r + 1];
      let next = -1;
      let i = pc[r];
      let t0 = t[r];
      // runs rank r's operations until its clock passes the next rank's or it must wait
      for (; i < end; i++) {
        this.now = t0;
        let t1 = t0;
        let wan = false;
        const k = kind[i];
        if (k === Op.Compute) {
          t1 = t0 + bytes[i];
          computeNs[r] += bytes[i];
        } else if (k === Op.Send || k === Op.Isend) {
          // a parked blocking send has posted already
          const after = flags[i] ? t0 : this.postSend(r, i, t0);
          if (k === Op.Isend) {
            reqs[reqTail[r]++] = i;
            t1 = after;
          } else {
            if (!(flags[i] & DONE)) {
              waitMsg[r] = i;
              break;
            }
            t1 = Math.max(t0, tm[3 * i + 1]);
            wan = cls[i] === WAN;
          }
        } else if (k === Op.Recv || k === Op.Irecv) {
          if (!(flags[i] & POSTED)) this.postRecv(r, i, t0);
          if (k === Op.Irecv) reqs[reqTail[r]++] = i;
          else {
            const m = match[i];
            if (m >= 0) {
              if (!(flags[m] & DONE)) {
                waitMsg[r] = m;
                break;
              }
              t1 = Math.max(t0, tm[3 * m]) + o[cls[i]];
              wan = cls[i] === WAN;
            } // unmatched: nothing to wait for
          }
        } else {
          // Wait: count > 0 the oldest requests; < 0 the newest (a collective's step); 0 all
          const c = this.peer[i];
          const lo = c < 0 ? Math.max(reqHead[r], reqTail[r] + c) : reqHead[r];
          let hi = c > 0 ? Math.min(reqTail[r], lo + c) : reqTail[r];
          if (bytes[i] > 0) hi = this.toHead(r, first[r] + bytes[i] - 1); // one request: moved to the head
          let done = t0;
          let q = lo;
          for (; q < hi; q++) {
            const x = this.completion(reqs[q]);
            if (x === UNKNOWN) break;
            if (x > done) {
              done = x;
              wan = cls[reqs[q]] === WAN;
            }
          }
          if (q < hi) {
            const rq = reqs[q];
            waitMsg[r] = kind[rq] === Op.Isend ? rq : match[rq];
            break;
          }
          if (c < 0) reqTail[r] = lo;
          else reqHead[r] = hi;
          t1 = done;
        }
        if (k !== Op.Compute) {
          if (wan) wanNs[r] += t1 - t0;
          else localNs[r] += t1 - t0;
        }
        t0 = t1;
        events++;
        if (t1 > heap.peekTime()) {
          next = heap.replaceTop(t1, r); // it yields to the rank at the top
          i++;
          break;
        }
      }
      pc[r] = i;
      t[r] = t0;
      r = next >= 0 ? next : heap.size ? heap.pop() : -1;
    }
    this.events = events;
  }
}

export function replay(trace: Trace, cluster: Cluster): ReplayResult {
  const P = trace.size;
  checkCluster(cluster, P);
  const e = new Engine(trace, cluster);
  e.run();
  const stalled: number[] = [];
  let wallNs = 0;
  for (let r = 0; r < P; r++) {
    if (e.pc[r] < trace.first[r + 1]) stalled.push(r);
    wallNs = Math.max(wallNs, e.t[r]);
  }
  return {
    wallNs,
    endNs: e.t,
    computeNs: e.computeNs,
    localNs: e.localNs,
    wanNs: e.wanNs,
    events: e.events,
    stalled,
  };
}
