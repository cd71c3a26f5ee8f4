// The replay's trace model: per rank, a sequence of operations (compute gaps and point-to-point
// operations; collectives arrive here already expanded into the point-to-point steps of their
// algorithm, ./schedules.ts). Stored as typed arrays, one flat array of all ranks' operations.
//
// Matching: the k-th send from s to d on channel c meets the k-th receive at d from s on c (MPI's
// non-overtaking order per (source, destination, communicator, tag): ./records.ts gives each
// communicator and tag a channel of its own). Channels keep a communicator's collectives apart
// from its point-to-point traffic (MPI does the same with hidden tags).

/** Operation kinds. */
export const Op = {
  /** local work: `bytes` holds its duration in ns */
  Compute: 0,
  /** blocking send to `peer` */
  Send: 1,
  /** blocking receive from `peer` */
  Recv: 2,
  /** non-blocking send: a request, completed by a later Wait */
  Isend: 3,
  /** non-blocking receive: a request, completed by a later Wait */
  Irecv: 4,
  /**
   * completes requests of this rank: `peer` > 0 the oldest so many, < 0 the newest -peer, 0 all;
   * `bytes` > 0: the one request rank-local operation `bytes - 1` posted (when still outstanding)
   */
  Wait: 5,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** A trace ready for replay: every rank's operations, messages matched. */
export interface Trace {
  readonly size: number;
  /** operations of rank r: [first[r], first[r + 1]) */
  readonly first: Int32Array;
  readonly kind: Uint8Array;
  readonly peer: Int32Array;
  /** message bytes, or a compute gap's ns */
  readonly bytes: Float64Array;
  readonly chan: Int32Array;
  /** for a send, the index of the receive it meets; for a receive, its send; -1 when unmatched */
  readonly match: Int32Array;
  /** unmatched sends and receives (turned into no-ops by the replay) */
  readonly unmatched: number;
  /** the recorded run's wall time in ns (0 when unknown: hand-built traces) */
  readonly recordedNs: number;
}

/** One rank's operations while building: growable typed columns. */
class RankOps {
  n = 0;
  kind = new Uint8Array(16);
  peer = new Int32Array(16);
  bytes = new Float64Array(16);
  chan = new Int32Array(16);
  push(kind: number, peer: number, bytes: number, chan: number): void {
    if (this.n === this.kind.length) {
      const grow = <T extends Uint8Array | Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.kind = grow(this.kind);
      this.peer = grow(this.peer);
      this.bytes = grow(this.bytes);
      this.chan = grow(this.chan);
    }
    const i = this.n++;
    this.kind[i] = kind;
    this.peer[i] = peer;
    this.bytes[i] = bytes;
    this.chan[i] = chan;
  }
}

/** Builds a trace rank by rank; `finish` matches the messages. */
export class TraceBuilder {
  private readonly ops: RankOps[];
  recordedNs = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`trace size must be a positive integer, not ${size}`);
    this.ops = Array.from({ length: size }, () => new RankOps());
  }

  /** Operations rank r has so far. */
  count(r: number): number {
    return this.ops[r].n;
  }

  add(r: number, kind: Op, peer: number, bytes: number, chan = 0): this {
    if (r < 0 || r >= this.size) throw new RangeError(`rank ${r} out of range for size ${this.size}`);
    const isMsg = kind >= Op.Send && kind <= Op.Irecv;
    if (isMsg && (peer < 0 || peer >= this.size || peer === r))
      throw new RangeError(`rank ${r}: peer ${peer} out of range or self`);
    if (chan < 0 || !Number.isInteger(chan))
      throw new RangeError(`rank ${r}: channel ${chan} is not a non-negative integer`);
    this.ops[r].push(kind, peer, bytes, chan);
    return this;
  }

  compute(r: number, ns: number): this {
    return ns > 0 ? this.add(r, Op.Compute, -1, ns) : this;
  }
  send(r: number, to: number, bytes: number, chan = 0): this {
    return this.add(r, Op.Send, to, bytes, chan);
  }
  recv(r: number, from: number, bytes: number, chan = 0): this {
    return this.add(r, Op.Recv, from, bytes, chan);
  }
  isend(r: number, to: number, bytes: number, chan = 0): this {
    return this.add(r, Op.Isend, to, bytes, chan);
  }
  irecv(r: number, from: number, bytes: number, chan = 0): this {
    return this.add(r, Op.Irecv, from, bytes, chan);
  }
  /** Completes requests of rank r: count > 0 the oldest so many, < 0 the newest -count, 0 all. */
  wait(r: number, count = 0): this {
    return this.add(r, Op.Wait, count, 0);
  }
  /** Completes the request that rank r's operation `op` (its index among r's operations) posted. */
  waitFor(r: number, op: number): this {
    if (!Number.isInteger(op) || op < 0 || op >= this.count(r))
      throw new RangeError(`rank ${r}: no operation ${op} to wait for`);
    return this.add(r, Op.Wait, 1, op + 1);
  }

  finish(): Trace {
    const P = this.size;
    const first = new Int32Array(P + 1);
    for (let r = 0; r < P; r++) first[r + 1] = first[r] + this.ops[r].n;
    const n = first[P];
    const kind = new Uint8Array(n),
      peer = new Int32Array(n),
      bytes = new Float64Array(n),
      chan = new Int32Array(n),
      match = new Int32Array(n).fill(-1);
    for (let r = 0; r < P; r++) {
      const o = this.ops[r];
      kind.set(o.kind.subarray(0, o.n), first[r]);
      peer.set(o.peer.subarray(0, o.n), first[r]);
      bytes.set(o.bytes.subarray(0, o.n), first[r]);
      chan.set(o.chan.subarray(0, o.n), first[r]);
    }
    // FIFO per (src, dst, chan): sends queued by key, receives take them in program order.
    let chans = 1;
    for (let i = 0; i < n; i++) if (chan[i] >= chans) chans = chan[i] + 1;
    const key = (src: number, dst: number, c: number): number => (src * P + dst) * chans + c;
    const sends = new Map<number, number[]>();
    for (let r = 0; r < P; r++)
      for (let i = first[r]; i < first[r + 1]; i++) {
        if (kind[i] !== Op.Send && kind[i] !== Op.Isend) continue;
        const k = key(r, peer[i], chan[i]);
        const q = sends.get(k);
        if (q) q.push(i);
        else sends.set(k, [i]);
      }
    const heads = new Map<number, number>();
    let matched = 0;
    for (let r = 0; r < P; r++)
      for (let i = first[r]; i < first[r + 1]; i++) {
        if (kind[i] !== Op.Recv && kind[i] !== Op.Irecv) continue;
        const k = key(peer[i], r, chan[i]);
        const q = sends.get(k);
        const h = heads.get(k) ?? 0;
        if (!q || h >= q.length) continue;
        heads.set(k, h + 1);
        match[i] = q[h];
        match[q[h]] = i;
        matched += 2;
      }
    let msgs = 0;
    for (let i = 0; i < n; i++) if (kind[i] >= Op.Send && kind[i] <= Op.Irecv) msgs++;
    return {
      size: P,
      first,
      kind,
      peer,
      bytes,
      chan,
      match,
      unmatched: msgs - matched,
      recordedNs: this.recordedNs,
    };
  }
}
