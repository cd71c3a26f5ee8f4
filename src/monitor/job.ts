// Per-job aggregation: what the monitor keeps about one MPI job (one Hello.job).
import { PlacementMark } from '../generated/facts.js';
import { COLL_NAMES, FUNCTIONS, Role, ROLE_SHIFT } from '../generated/functions.js';
import type { Batch, Bye, CommDef, Hello } from '../wire/messages.js';
import { CollTable } from './colltable.js';
import { MAX_EXACT, U64Array } from './counters.js';
import { HISTOGRAM_BUCKETS, HistogramStore, sizeBucket } from './histogram.js';
import { expandCollective } from '../native/addon.js';

export { HISTOGRAM_BUCKETS, sizeBucket, bucketLow } from './histogram.js';

const FN_MASK = (1 << ROLE_SHIFT) - 1;
const NFN = FUNCTIONS.length;
const NEWEST_CALL_ROLE = Role.Coll; // roles 0..4 are calls
/** Role.Placement records: `alg` says which mark (PlacementMark, generated from native/shim/gen/facts.mjs). */
const PLACEMENT_MARK_SWITCH = PlacementMark.Switch;
/** Largest seq gap whose missing batches are remembered individually (so a late one is accepted). */
const MAX_TRACKED_GAP = 1 << 16;

/** A communicator known to the job (from CommDef). */
export interface CommInfo {
  index: number;
  globalId: bigint;
  /** world ranks in communicator order */
  members: Uint32Array;
  /** remote group (intercommunicators), or null */
  remoteMembers: Uint32Array | null;
  /** world rank -> communicator rank */
  rankOf: Map<number, number>;
}

/** When a communicator started using a placement epoch (the shim's agreement, docs/relocation-shim.md). */
export interface PlacementSwitch {
  /** index into JobProfile.comms, or -1 when the communicator was not announced */
  comm: number;
  epoch: number;
  /** the communicator's covered collective call from which the epoch is in force (0: its first) */
  call: number;
  /** earliest rank's time of the switch, seconds since its MPI_Init (the job's clock, as wallNs) */
  jobSeconds: number;
  /** ranks that reported it */
  ranks: number;
}

/** Matrices of one placement epoch (or of the whole job): dense size x size, row = source. */
export interface Matrix {
  size: number;
  /** bytes[src * size + dst] */
  bytes: U64Array;
  messages: U64Array;
}

interface EpochData {
  bytes: U64Array;
  messages: U64Array;
}

/** What the monitor knows about one rank. */
export class RankState {
  host = '';
  pid = 0;
  program = '';
  /** CLOCK_REALTIME of MPI_Init at the rank, ns since the epoch */
  startNs: bigint | null = null;
  openConnections = 0;
  connections = 0;
  bye: Bye | null = null;
  /** Sum of durations of call records received. */
  mpiNsRecorded = 0;
  /** Latest record end seen (ns since startNs). */
  lastNs = 0;
  /** Records received (all roles). */
  records = 0;
  /** Call records received (roles 0-4). */
  calls = 0;
  /** Sum of Batch.dropped. */
  droppedReported = 0;
  nextSeq = 0;
  readonly missing = new Set<number>();
  lostUntracked = 0;
  duplicateBatches = 0;
  batches = 0;
  /** rank-local communicator id -> job communicator index (-1 unknown) */
  localComm = new Int32Array(16).fill(-1);
  readonly fnCalls = new Float64Array(NFN);
  readonly fnBytes = new U64Array(NFN);
  readonly fnTime = new U64Array(NFN);
  readonly coll = new CollTable();
  crossSiteMessages = 0;
  crossSiteBytes = 0;
  unknownFunctions = 0;
  unknownComms = 0;
  invalidPeers = 0;
  inexact = false;

  constructor(readonly rank: number) {}

  /** Accepts a batch sequence number; false for a duplicate (already received). */
  acceptSeq(seq: number): boolean {
    if (seq === this.nextSeq) {
      this.nextSeq++;
      return true;
    }
    if (seq > this.nextSeq) {
      const gap = seq - this.nextSeq;
      if (gap <= MAX_TRACKED_GAP && this.missing.size < MAX_TRACKED_GAP) for (let s = this.nextSeq; s < seq; s++) this.missing.add(s);
      else this.lostUntracked += gap;
      this.nextSeq = seq + 1;
      return true;
    }
    if (this.missing.delete(seq)) return true;
    this.duplicateBatches++;
    return false;
  }

  /** Batches never received (sequence gaps). */
  get lostBatches(): number {
    return this.missing.size + this.lostUntracked;
  }

  /** Records dropped by the shim (queue full), from the batches or Bye, whichever is larger. */
  get dropped(): number {
    return Math.max(this.droppedReported, this.bye?.dropped ?? 0);
  }

  /** Records produced but neither received nor reported dropped (known once Bye has arrived). */
  get lostRecords(): number {
    return this.bye ? Math.max(0, this.bye.records - this.records - this.dropped) : 0;
  }

  /** Wall time (ns): Bye.endNs, or the end of the latest record before Bye. */
  get wallNs(): number {
    return this.bye && this.bye.endNs > 0 ? this.bye.endNs : this.lastNs;
  }

  /** Time inside MPI (ns): Bye.mpiNs (exact even when records were dropped), or the sum of durations. */
  get mpiNs(): number {
    return this.bye && this.bye.mpiNs > 0 ? this.bye.mpiNs : this.mpiNsRecorded;
  }

  get mpiFraction(): number {
    const w = this.wallNs;
    return w > 0 ? Math.min(1, this.mpiNs / w) : 0;
  }

  setComm(localId: number, index: number): void {
    if (localId >= this.localComm.length) {
      const grown = new Int32Array(Math.max(localId + 1, this.localComm.length * 2)).fill(-1);
      grown.set(this.localComm);
      this.localComm = grown;
    }
    this.localComm[localId] = index;
  }
}

/** Per-function totals over a job (or a rank). */
export interface FunctionStats {
  id: number;
  name: string;
  kind: string;
  /** calls */
  count: number;
  bytes: number;
  timeNs: number;
}

export interface Rates {
  windowSeconds: number;
  recordsPerSecond: number;
  /** bytes of point-to-point sends/gets, collective contributions and their parts, per second */
  bytesPerSecond: number;
  /** point-to-point messages (sends, gets, collective parts) and collective calls per second */
  messagesPerSecond: number;
}

class RateWindow {
  private readonly stamp: Float64Array;
  private readonly recs: Float64Array;
  private readonly bytes: Float64Array;
  private readonly msgs: Float64Array;
  constructor(readonly seconds: number) {
    this.stamp = new Float64Array(seconds).fill(-1);
    this.recs = new Float64Array(seconds);
    this.bytes = new Float64Array(seconds);
    this.msgs = new Float64Array(seconds);
  }
  add(nowMs: number, r: number, b: number, m: number): void {
    const sec = Math.floor(nowMs / 1000);
    const i = sec % this.seconds;
    if (this.stamp[i] !== sec) {
      this.stamp[i] = sec;
      this.recs[i] = 0; this.bytes[i] = 0; this.msgs[i] = 0;
    }
    this.recs[i] += r; this.bytes[i] += b; this.msgs[i] += m;
  }
  rates(nowMs: number, sinceMs: number): Rates {
    const sec = Math.floor(nowMs / 1000);
    let r = 0, b = 0, m = 0;
    for (let i = 0; i < this.seconds; i++) {
      if (this.stamp[i] > sec - this.seconds && this.stamp[i] <= sec) { r += this.recs[i]; b += this.bytes[i]; m += this.msgs[i]; }
    }
    // the window covers the last `seconds` seconds, or the job's life if shorter
    const span = Math.max(0.001, Math.min(this.seconds, (nowMs - sinceMs) / 1000));
    return { windowSeconds: this.seconds, recordsPerSecond: r / span, bytesPerSecond: b / span, messagesPerSecond: m / span };
  }
}

export type JobEndReason = 'complete' | 'disconnected' | 'closed' | 'files';

export interface JobOptions {
  rateWindowSeconds?: number;
  now?: () => number;
}

/**
 * Everything known about one job. Ingest methods are used by the monitor and by loadRankFiles;
 * the query methods (matrix, functions, ranks, rates, ...) are the public API.
 *
 * Counters are exact unsigned integers: float64 slots that spill into BigInt past 2^53
 * (see counters.ts); query methods return numbers, exact below 2^53, and `*Exact` variants
 * return bigints.
 */
export class JobProfile {
  readonly ranks: (RankState | undefined)[];
  readonly comms: CommInfo[] = [];
  /** Site of every world rank per placement epoch, as the shim reports using it (site-aware
   * collective records are expanded with the grouping of their epoch). */
  readonly siteMaps = new Map<number, number[]>();
  private readonly commKeys = new Map<string, number>();
  /** placement switches by "comm:epoch" */
  private readonly switchMarks = new Map<string, PlacementSwitch>();
  private readonly epochData = new Map<number, EpochData>();
  /** Point-to-point message-size histograms (pair index = src * size + dst). */
  private readonly hist = new HistogramStore();
  private readonly window: RateWindow;
  private readonly now: () => number;
  /** Bumped by every ingest; query results are cached per version. */
  version = 0;
  /** Monitor clock (ms) when the first Hello arrived / when the job ended. */
  readonly startedAtMs: number;
  endedAtMs: number | null = null;
  endReason: JobEndReason | null = null;
  private cache: { version: number; expanded: Expanded } | null = null;
  /** Registered in advance by the launcher or an operator (Monitor.registerJob): only such jobs
   * may cause relocations. */
  registered = false;

  constructor(readonly id: string, readonly size: number, opts: JobOptions = {}) {
    this.ranks = new Array(size).fill(undefined);
    this.now = opts.now ?? Date.now;
    this.window = new RateWindow(Math.max(1, Math.round(opts.rateWindowSeconds ?? 10)));
    this.startedAtMs = this.now();
  }

  get ended(): boolean {
    return this.endedAtMs !== null;
  }

  /** Program name (Hello.program of the lowest rank that said it). */
  get program(): string {
    for (const r of this.ranks) if (r?.program) return r.program;
    return '';
  }

  /** Ranks that have sent Hello at least once. */
  get ranksSeen(): number {
    return this.ranks.reduce((n, r) => n + (r ? 1 : 0), 0);
  }

  /** Ranks with an open connection. */
  get ranksConnected(): number {
    return this.ranks.reduce((n, r) => n + (r && r.openConnections > 0 ? 1 : 0), 0);
  }

  /** Ranks that have sent Bye. */
  get ranksFinished(): number {
    return this.ranks.reduce((n, r) => n + (r?.bye ? 1 : 0), 0);
  }

  /** Records received over all ranks. */
  get records(): number {
    return this.ranks.reduce((n, r) => n + (r ? r.records : 0), 0);
  }

  rank(rank: number): RankState | undefined {
    return this.ranks[rank];
  }

  // --- ingest ------------------------------------------------------------------------------

  /** A Hello for this job (validated by the caller: rank < size). */
  hello(h: Hello): RankState {
    let r = this.ranks[h.rank];
    if (!r) this.ranks[h.rank] = r = new RankState(h.rank);
    r.host = h.host;
    r.pid = h.pid;
    r.program = h.program;
    if (r.startNs === null) r.startNs = h.startNs;
    r.connections++;
    this.version++;
    return r;
  }

  sitesInForce(epoch: number, siteOf: number[]): void {
    if (!this.siteMaps.has(epoch) && siteOf.length === this.size) this.siteMaps.set(epoch, [...siteOf]);
  }

  commDef(r: RankState, c: CommDef): void {
    const key = `${c.globalId}:${c.members.join(',')}|${c.remoteMembers.join(',')}`;
    let index = this.commKeys.get(key);
    if (index === undefined) {
      index = this.comms.length;
      const rankOf = new Map<number, number>();
      c.members.forEach((w, i) => { if (!rankOf.has(w)) rankOf.set(w, i); });
      this.comms.push({
        index, globalId: c.globalId, members: Uint32Array.from(c.members),
        remoteMembers: c.remoteMembers.length ? Uint32Array.from(c.remoteMembers) : null, rankOf,
      });
      this.commKeys.set(key, index);
    }
    r.setComm(c.localId, index);
  }

  bye(r: RankState, b: Bye): void {
    r.bye = b;
    this.version++;
  }

  private epochMatrix(epoch: number): EpochData {
    let e = this.epochData.get(epoch);
    if (!e) {
      const n = this.size * this.size;
      e = { bytes: new U64Array(n), messages: new U64Array(n) };
      this.epochData.set(epoch, e);
    }
    return e;
  }

  /** Aggregates one batch of rank r. Returns false when it was a duplicate (ignored). */
  batch(r: RankState, b: Batch): boolean {
    if (!r.acceptSeq(b.seq)) return false;
    r.batches++;
    r.droppedReported += b.dropped;
    if (b.inexact) r.inexact = true;
    const n = b.n;
    if (n === 0) { this.version++; return true; }
    const P = this.size, me = r.rank, epoch = b.epoch;
    const em = this.epochMatrix(epoch);
    const mb = em.bytes.lo, mm = em.messages.lo;
    const fnCalls = r.fnCalls, fnBytes = r.fnBytes.lo, fnTime = r.fnTime.lo;
    const { fn, peer, bytes, comm, duration, alg } = b;
    const localComm = r.localComm;
    const coll = r.coll;
    const hist = this.hist;
    let mpi = 0, calls = 0, winBytes = 0, winMsgs = 0;
    for (let i = 0; i < n; i++) {
      const f = fn[i];
      const id = f & FN_MASK;
      const role = f >>> ROLE_SHIFT;
      const by = bytes[i];
      if (role <= NEWEST_CALL_ROLE) {
        if (id >= NFN) { r.unknownFunctions++; continue; }
        const d = duration[i];
        calls++;
        mpi += d;
        fnCalls[id] += 1;
        let s = fnBytes[id] + by;
        if (s < MAX_EXACT) fnBytes[id] = s; else r.fnBytes.spill(id, by);
        s = fnTime[id] + d;
        if (s < MAX_EXACT) fnTime[id] = s; else r.fnTime.spill(id, d);
      }
      let src: number, dst: number;
      switch (role) {
        case Role.Send:
        case Role.PartSend:
          src = me; dst = peer[i];
          break;
        case Role.Pull:
        case Role.PartPull:
          src = peer[i]; dst = me;
          break;
        case Role.Coll: {
          const lc = comm[i];
          const ci = lc < localComm.length ? localComm[lc] : -1;
          if (ci < 0) r.unknownComms++;
          coll.add(epoch, id, ci, alg[i], peer[i], by);
          winBytes += by;
          winMsgs += 1;
          continue;
        }
        case Role.Placement:
          if (alg[i] === PLACEMENT_MARK_SWITCH) this.placementSwitch(localComm, comm[i], by, b.crossBytes[i], b.start[i]);
          continue;
        default:
          continue; // Other, Recv, RecvDone: no matrix contribution
      }
      if (src < 0 || dst < 0) continue;
      if (src >= P || dst >= P) { r.invalidPeers++; continue; }
      if (src === dst) continue;
      const idx = src * P + dst;
      const s = mb[idx] + by;
      if (s < MAX_EXACT) mb[idx] = s; else em.bytes.spill(idx, by);
      mm[idx] += 1;
      hist.add(idx, by < 4294967296 ? 32 - Math.clz32(by) : sizeBucket(by), 1);
      winBytes += by;
      winMsgs += 1;
    }
    r.records += n;
    r.calls += calls;
    r.mpiNsRecorded += mpi;
    const last = b.start[n - 1] + duration[n - 1];
    if (last > r.lastNs) r.lastNs = last;
    if (b.crossMsgs.length) {
      let cm = 0, cb = 0;
      for (let i = 0; i < n; i++) {
        if (fn[i] >>> ROLE_SHIFT === Role.Placement) continue;  // a mark's cross column holds its call number
        cm += b.crossMsgs[i];
        cb += b.crossBytes[i];
      }
      r.crossSiteMessages += cm;
      r.crossSiteBytes += cb;
    }
    this.window.add(this.now(), n, winBytes, winMsgs);
    this.version++;
    return true;
  }

  private placementSwitch(localComm: Int32Array, lc: number, epoch: number, call: number, startNs: number): void {
    const ci = lc < localComm.length ? localComm[lc] : -1;
    const key = `${ci}:${epoch}`;
    const jobSeconds = startNs / 1e9;
    const s = this.switchMarks.get(key);
    if (!s) this.switchMarks.set(key, { comm: ci, epoch, call, jobSeconds, ranks: 1 });
    else { s.ranks++; s.jobSeconds = Math.min(s.jobSeconds, jobSeconds); }
  }

  // --- queries -----------------------------------------------------------------------------

  /** When each communicator switched placement epochs, by communicator then epoch. */
  placementSwitches(): PlacementSwitch[] {
    return [...this.switchMarks.values()].sort((a, b) => a.comm - b.comm || a.epoch - b.epoch);
  }

  /** Placement epochs that have traffic (sorted). */
  epochs(): number[] {
    const s = new Set<number>(this.epochData.keys());
    for (const e of this.expanded().perEpoch.keys()) s.add(e);
    return [...s].sort((a, b) => a - b);
  }

  /**
   * Communication matrix (row = source world rank, column = destination): point-to-point and
   * one-sided traffic plus collectives expanded by the cost model. `epoch` selects one placement
   * epoch; without it, the whole job.
   */
  matrix(epoch?: number): Matrix {
    const n = this.size * this.size;
    const out: Matrix = { size: this.size, bytes: new U64Array(n), messages: new U64Array(n) };
    const ex = this.expanded();
    for (const [e, d] of this.epochData) {
      if (epoch !== undefined && e !== epoch) continue;
      out.bytes.addAll(d.bytes);
      out.messages.addAll(d.messages);
    }
    for (const [e, d] of ex.perEpoch) {
      if (epoch !== undefined && e !== epoch) continue;
      out.bytes.addAll(d.bytes);
      out.messages.addAll(d.messages);
    }
    return out;
  }

  /** Message-size histogram of a pair (HISTOGRAM_BUCKETS counts; see sizeBucket). */
  histogram(src: number, dst: number): Float64Array {
    const pair = src * this.size + dst;
    const out = new Float64Array(HISTOGRAM_BUCKETS);
    this.hist.addPairTo(pair, out);
    this.expanded().hist.addPairTo(pair, out);
    return out;
  }

  /** Pairs with a non-empty histogram, in (src, dst) order. */
  histogramPairs(): Array<{ src: number; dst: number; counts: Float64Array }> {
    const rows = new Map<number, Float64Array>();
    this.hist.addAllTo(rows);
    this.expanded().hist.addAllTo(rows);
    return [...rows.keys()].sort((a, b) => a - b).map((p) => ({ src: Math.floor(p / this.size), dst: p % this.size, counts: rows.get(p)! }));
  }

  /** Collective records that could not be expanded (unknown communicator, intercommunicator, unmodelled). */
  get unexpandedCollectives(): number {
    return this.expanded().unexpanded;
  }

  /** Per-function totals over all ranks (or one rank), functions that were called only. */
  functions(rank?: number): FunctionStats[] {
    const out: FunctionStats[] = [];
    const sel = rank === undefined ? this.ranks : [this.ranks[rank]];
    for (let id = 0; id < NFN; id++) {
      let calls = 0;
      let bytes = 0n, time = 0n;
      for (const r of sel) {
        if (!r || r.fnCalls[id] === 0) continue;
        calls += r.fnCalls[id];
        bytes += r.fnBytes.big(id);
        time += r.fnTime.big(id);
      }
      if (calls === 0) continue;
      const f = FUNCTIONS[id];
      out.push({ id, name: f.name, kind: f.kind, count: calls, bytes: Number(bytes), timeNs: Number(time) });
    }
    return out;
  }

  /** Job wall time (ns): from the earliest rank start to the latest rank end. */
  get wallNs(): number {
    let min: bigint | null = null, max: bigint | null = null;
    let fallback = 0;
    for (const r of this.ranks) {
      if (!r) continue;
      fallback = Math.max(fallback, r.wallNs);
      if (r.startNs === null || r.startNs === 0n) continue;
      const end = r.startNs + BigInt(Math.round(r.wallNs));
      if (min === null || r.startNs < min) min = r.startNs;
      if (max === null || end > max) max = end;
    }
    return min !== null && max !== null ? Math.max(fallback, Number(max - min)) : fallback;
  }

  /** Time in MPI over all ranks divided by wall time over all ranks. */
  get mpiFraction(): number {
    let mpi = 0, wall = 0;
    for (const r of this.ranks) if (r) { mpi += r.mpiNs; wall += r.wallNs; }
    return wall > 0 ? Math.min(1, mpi / wall) : 0;
  }

  /** Records dropped by the shims, batches and records lost on the way. */
  get losses(): { droppedRecords: number; lostBatches: number; lostRecords: number; duplicateBatches: number } {
    let d = 0, lb = 0, lr = 0, dup = 0;
    for (const r of this.ranks) if (r) { d += r.dropped; lb += r.lostBatches; lr += r.lostRecords; dup += r.duplicateBatches; }
    return { droppedRecords: d, lostBatches: lb, lostRecords: lr, duplicateBatches: dup };
  }

  /** Ingest rates over the sliding window (monitor clock). */
  rates(): Rates {
    return this.window.rates(this.endedAtMs ?? this.now(), this.startedAtMs);
  }

  // --- collective expansion ------------------------------------------------------------------

  private expanded(): Expanded {
    if (this.cache && this.cache.version === this.version) return this.cache.expanded;
    const ex = expandAll(this);
    this.cache = { version: this.version, expanded: ex };
    return ex;
  }
}

interface Expanded {
  perEpoch: Map<number, EpochData>;
  /** Message-size histograms of the expanded collectives (same pair index as the p2p ones). */
  hist: HistogramStore;
  unexpanded: number;
}

function expandAll(job: JobProfile): Expanded {
  const P = job.size;
  const perEpoch = new Map<number, EpochData>();
  const hist = new HistogramStore();
  let unexpanded = 0;
  const flowCache = new Map<string, ReturnType<typeof expandCollective>>();
  for (const r of job.ranks) {
    if (!r) continue;
    const t = r.coll;
    for (let i = 0; i < t.size; i++) {
      const count = t.count[i];
      const kind = FUNCTIONS[t.fn[i]]?.coll ?? 0;
      const comm = t.comm[i] >= 0 ? job.comms[t.comm[i]] : undefined;
      if (!kind || !comm || comm.remoteMembers) { unexpanded += count; continue; }
      const me = comm.rankOf.get(r.rank);
      if (me === undefined) { unexpanded += count; continue; }
      const rootWorld = t.root[i];
      const root = rootWorld >= 0 ? comm.rankOf.get(rootWorld) ?? -1 : -1;
      const size = comm.members.length;
      const alg = t.alg[i];
      // Site-aware algorithms route by site: the grouping of the record's epoch, as the shim reported it.
      const map = alg ? job.siteMaps.get(t.epoch[i]) : undefined;
      if (alg && !map) { unexpanded += count; continue; }
      const siteOf = map ? Array.from(comm.members, (w) => map[w] ?? 0) : undefined;
      const key = `${kind},${alg},${me},${root},${size},${t.bytes[i]},${siteOf?.join('.') ?? ''}`;
      let flows = flowCache.get(key);
      if (!flows) flowCache.set(key, (flows = expandCollective(kind, alg, me, root, size, t.bytes[i], siteOf)));
      if (flows.src.length === 0) continue;
      const epoch = t.epoch[i];
      let e = perEpoch.get(epoch);
      if (!e) perEpoch.set(epoch, (e = { bytes: new U64Array(P * P), messages: new U64Array(P * P) }));
      for (let k = 0; k < flows.src.length; k++) {
        const cs = flows.src[k], cd = flows.dst[k];
        if (cs < 0 || cd < 0 || cs >= size || cd >= size) continue;
        const s = comm.members[cs], d = comm.members[cd];
        if (s === d || s >= P || d >= P) continue;
        const idx = s * P + d;
        const fb = flows.bytes[k], fm = flows.msgs[k];
        const pb = fb * count;
        if (pb < MAX_EXACT) e.bytes.add(idx, pb); else e.bytes.addBig(idx, BigInt(fb) * BigInt(count));
        const pm = fm * count;
        if (pm < MAX_EXACT) e.messages.add(idx, pm); else e.messages.addBig(idx, BigInt(fm) * BigInt(count));
        if (fm > 0) hist.add(idx, sizeBucket(Math.floor(fb / fm)), pm);
      }
    }
  }
  return { perEpoch, hist, unexpanded };
}

export { COLL_NAMES };
