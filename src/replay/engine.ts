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
import { checkCluster, DEFAULT_EAGER_LIMIT, type Cluster, type LogGP } from './cluster.js';
import { RankHeap } from './heap.js';
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

export function replay(trace: Trace, cluster: Cluster): ReplayResult {
  const P = trace.size;
  checkCluster(cluster, P);
  const { first, kind, peer, bytes, match } = trace;
  const n = first[P];
  const eager = cluster.eagerLimit ?? DEFAULT_EAGER_LIMIT;
  const siteOf = Int32Array.from({ length: P }, (_, r) => cluster.siteOf[r]);
  const nodeOf = Int32Array.from({ length: P }, (_, r) => (cluster.nodeOf ? cluster.nodeOf[r] : -1 - r));
  let S = 0;
  for (let r = 0; r < P; r++) S = Math.max(S, siteOf[r] + 1);
  const wanL = new Float64Array(S * S),
    wanG = new Float64Array(S * S);
  for (let a = 0; a < S; a++)
    for (let b = 0; b < S; b++) {
      const w = cluster.wanLinks?.[a]?.[b] ?? cluster.wan;
      wanL[a * S + b] = w.L;
      wanG[a * S + b] = w.G;
    }
  const linkFree = new Float64Array(S * S);
  // pairs of ranks on different nodes connected so far (s * P + d, both ways)
  const connectRtts = cluster.connectRtts ?? 1;
  const connected = new Set<number>();
  // local classes: 0 the same node, 1 the same site (for WAN messages the ends use class 1)
  const loc: LogGP[] = [cluster.intraNode, cluster.intraSite];
  const cO = Float64Array.from(loc, (p) => p.o),
    cg = Float64Array.from(loc, (p) => p.g),
    cL = Float64Array.from(loc, (p) => p.L),
    cG = Float64Array.from(loc, (p) => p.G);

  // per message (indexed by its send operation)
  const arrival = new Float64Array(n).fill(NaN);
  const sendDone = new Float64Array(n).fill(NaN);
  const sendPost = new Float64Array(n).fill(NaN);
  const isWan = new Uint8Array(n);
  // per receive operation: when it was posted
  const recvPost = new Float64Array(n).fill(NaN);
  // requests of rank r: a FIFO inside [first[r], first[r + 1]) of reqs
  const reqs = new Int32Array(n);
  const reqHead = Int32Array.from(first.subarray(0, P));
  const reqTail = Int32Array.from(first.subarray(0, P));

  const t = new Float64Array(P);
  const pc = Int32Array.from(first.subarray(0, P));
  const nic = new Float64Array(P);
  const parked = new Uint8Array(P);
  // the message (its send operation) a parked rank waits for: only that one wakes it
  const waitMsg = new Int32Array(P).fill(-1);
  const computeNs = new Float64Array(P),
    localNs = new Float64Array(P),
    wanNs = new Float64Array(P);
  const heap = new RankHeap(P);
  let now = 0;
  let events = 0;

  const wake = (r: number, m: number): void => {
    if (!parked[r] || waitMsg[r] !== m) return;
    parked[r] = 0;
    heap.push(Math.max(t[r], now), r);
  };

  const latency = (s: number, d: number): number =>
    siteOf[s] !== siteOf[d] ? wanL[siteOf[s] * S + siteOf[d]] : cL[nodeOf[s] === nodeOf[d] ? 0 : 1];
  /** Moves message m's bytes from s to d from `start`; sets its arrival; returns when the sender is done with it. */
  const transfer = (m: number, s: number, d: number, start: number, rendezvous: boolean): number => {
    const b = bytes[m];
    if (connectRtts && nodeOf[s] !== nodeOf[d] && !connected.has(s * P + d)) {
      // the first message of a pair waits for the connection
      connected.add(s * P + d);
      connected.add(d * P + s);
      start += connectRtts * 2 * latency(s, d);
    }
    const sa = siteOf[s],
      sb = siteOf[d];
    if (sa === sb) {
      const c = nodeOf[s] === nodeOf[d] ? 0 : 1;
      const end = start + b * cG[c];
      arrival[m] = end + cL[c];
      return end;
    }
    isWan[m] = 1;
    const l = sa * S + sb;
    const ls = Math.max(start, linkFree[l]);
    const le = ls + b * wanG[l];
    linkFree[l] = le;
    // the bytes cross no faster than the sender's host puts them out nor the link carries them
    const injected = start + b * cG[1];
    arrival[m] = Math.max(le, injected) + wanL[l];
    return rendezvous ? Math.max(le, injected) : injected;
  };
  /** the local class of a message's ends */
  const cls = (s: number, d: number): number => (siteOf[s] === siteOf[d] && nodeOf[s] === nodeOf[d] ? 0 : 1);

  /** Starts a rendezvous transfer whose send and receive are both posted. */
  const rendezvous = (m: number, s: number, d: number, rpost: number): void => {
    const L = latency(s, d);
    const start = Math.max(sendPost[m] + cO[cls(s, d)] + L, rpost) + L;
    sendDone[m] = transfer(m, s, d, start, true);
    wake(d, m);
    wake(s, m);
  };

  /** Posts send m of rank r at time tr; returns the rank's clock after it (blocking: NaN until known). */
  const postSend = (r: number, m: number, tr: number): number => {
    const d = peer[m];
    const c = cls(r, d);
    if (bytes[m] <= eager) {
      const start = Math.max(tr + cO[c], nic[r]);
      nic[r] = start + Math.max(cg[c], bytes[m] * cG[c]);
      sendDone[m] = transfer(m, r, d, start, false);
      wake(d, m);
      return start;
    }
    sendPost[m] = tr;
    const rv = match[m];
    if (rv >= 0 && !Number.isNaN(recvPost[rv])) rendezvous(m, r, d, recvPost[rv]);
    return tr + cO[c];
  };
  const postRecv = (r: number, i: number, tr: number): void => {
    recvPost[i] = tr;
    const m = match[i];
    if (m >= 0 && bytes[m] > eager && !Number.isNaN(sendPost[m]) && Number.isNaN(arrival[m]))
      rendezvous(m, peer[i], r, tr);
  };

  /** Runs operations of rank r; returns false when it parked or finished. */
  const step = (r: number): boolean => {
    const end = first[r + 1];
    while (pc[r] < end) {
      const i = pc[r];
      const t0 = t[r];
      now = t0; // what this operation wakes cannot resume before it
      let t1 = t0;
      let wan = 0;
      switch (kind[i]) {
        case Op.Compute:
          t1 = t0 + bytes[i];
          computeNs[r] += bytes[i];
          t[r] = t1;
          pc[r]++;
          events++;
          if (t1 > heap.peekTime()) {
            heap.push(t1, r);
            return false;
          }
          continue;
        case Op.Send:
        case Op.Isend: {
          // a parked blocking send has posted already (sendPost or sendDone set)
          const posted = !Number.isNaN(sendDone[i]) || !Number.isNaN(sendPost[i]);
          const after = posted ? t0 : postSend(r, i, t0);
          if (kind[i] === Op.Isend) {
            reqs[reqTail[r]++] = i;
            t1 = after;
          } else {
            if (Number.isNaN(sendDone[i])) {
              parked[r] = 1;
              waitMsg[r] = i;
              return false;
            }
            t1 = Math.max(t0, sendDone[i]);
            wan = isWan[i];
          }
          break;
        }
        case Op.Recv:
        case Op.Irecv: {
          const m = match[i];
          if (Number.isNaN(recvPost[i])) postRecv(r, i, t0);
          if (kind[i] === Op.Irecv) {
            reqs[reqTail[r]++] = i;
            break;
          }
          if (m < 0) break; // unmatched: nothing to wait for
          if (Number.isNaN(arrival[m])) {
            parked[r] = 1;
            waitMsg[r] = m;
            return false;
          }
          t1 = Math.max(t0, arrival[m]) + cO[cls(peer[i], r)];
          wan = isWan[m];
          break;
        }
        case Op.Wait: {
          // count > 0: the oldest requests; < 0: the newest (a collective's step); 0: all
          const c = peer[i];
          const lo = c < 0 ? Math.max(reqHead[r], reqTail[r] + c) : reqHead[r];
          const hi = c > 0 ? Math.min(reqTail[r], lo + c) : reqTail[r];
          let done = t0;
          for (let k = lo; k < hi; k++) {
            const q = reqs[k];
            let c: number, w: number;
            if (kind[q] === Op.Isend) {
              c = sendDone[q];
              w = isWan[q];
            } else {
              const m = match[q];
              if (m < 0) continue;
              c = arrival[m] + cO[cls(peer[q], r)];
              w = isWan[m];
            }
            if (Number.isNaN(c)) {
              parked[r] = 1;
              waitMsg[r] = kind[q] === Op.Isend ? q : match[q];
              return false;
            }
            if (c > done) {
              done = c;
              wan = w;
            }
          }
          if (c < 0) reqTail[r] = lo;
          else reqHead[r] = hi;
          t1 = done;
          break;
        }
      }
      if (wan) wanNs[r] += t1 - t0;
      else localNs[r] += t1 - t0;
      t[r] = t1;
      pc[r]++;
      events++;
      if (t1 > heap.peekTime()) {
        heap.push(t1, r);
        return false;
      }
    }
    return false;
  };

  for (let r = 0; r < P; r++) heap.push(0, r);
  while (heap.size) step(heap.pop());
  const stalled: number[] = [];
  let wallNs = 0;
  for (let r = 0; r < P; r++) {
    if (pc[r] < first[r + 1]) stalled.push(r);
    wallNs = Math.max(wallNs, t[r]);
  }
  return { wallNs, endNs: t, computeNs, localNs, wanNs, events, stalled };
}
