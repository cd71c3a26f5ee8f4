// Per-job aggregation: what the monitor keeps about one MPI job (one Hello.job), within the
// job's limits (limits.ts).
import { PlacementMark, RecvMark } from '../generated/facts.js';
import { FUNCTIONS, Role, ROLE_SHIFT } from '../generated/functions.js';
import type { Batch, Bye, CommDef, Hello } from '../wire/messages.js';
import { MAX_EXACT } from './counters.js';
import { expandAll, expandSteps, type Expanded } from './expand.js';
import { HISTOGRAM_BUCKETS, HistogramStore, sizeBucket } from './histogram.js';
import { DEFAULT_JOB_LIMITS, DENSE_MAX_RANKS, epochsKept, LimitCounters, type JobLimits } from './limits.js';
import type { CommInfo } from './comm.js';
import { CommTable } from './commtable.js';
import { RankState } from './rank.js';
import { RateWindow, type Rates } from './rates.js';
import { functionStats, jobLosses, jobMpiFraction, jobWallNs, type FunctionStats, type Losses } from './summary.js';
import {
  denseSteps,
  histogramCells,
  histogramPairs,
  mergedSteps,
  type HistogramCells,
  type HistogramPair,
} from './matrices.js';
import { PairStore, pairsHeld } from './pairstore.js';
import type { Matrix, SparseMatrix } from './pairs.js';
import { runSteps, type Steps } from './steps.js';
import { SwitchMarks, type PlacementSwitch } from './switches.js';

const FN_MASK = (1 << ROLE_SHIFT) - 1;
const NFN = FUNCTIONS.length;
const NEWEST_CALL_ROLE = Role.Coll; // roles 0..4 are calls
// Receive requests (their RecvDone record carries the bytes that arrived, or, after a posting
// record of the posted size, RecvMark.Short the bytes that did not): counted in the row of the call
// that posted them. Sendrecv's row keeps what it sent.
const RECEIVED_IN_ROW = Uint8Array.from(FUNCTIONS, (f) => +['irecv', 'imrecv', 'precv_init'].includes(f.kind));
/** Role.Placement records: `alg` says which mark (PlacementMark, generated from native/shim/gen/facts.mjs). */
const PLACEMENT_MARK_SWITCH = PlacementMark.Switch;

export type JobEndReason = 'complete' | 'disconnected' | 'closed' | 'files';

export interface JobOptions {
  rateWindowSeconds?: number;
  now?: () => number;
  /** What the job may hold (defaults: DEFAULT_JOB_LIMITS). */
  limits?: Partial<JobLimits>;
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
  readonly comms: CommInfo[];
  /** Site of every world rank per placement epoch, as the shim reports using it (site-aware
   * collective records are expanded with the grouping of their epoch). */
  readonly siteMaps = new Map<number, number[]>();
  private readonly commTable: CommTable;
  private readonly switchMarks: SwitchMarks;
  /** Point-to-point pairs per kept placement epoch (pair index = src * size + dst). */
  private readonly epochData = new Map<number, PairStore>();
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
  readonly limits: JobLimits;
  /** What was not kept because a limit was reached. */
  readonly overLimit = new LimitCounters();
  /** Placement epochs kept (the rest are merged into the last one kept). */
  readonly maxEpochs: number;
  private readonly keptEpochs = new Set<number>();
  private collEntries = 0;
  private trackedGaps = 0;
  /** The job's key (Hello.job_key of its first accepted rank, or registered): binds ranks to it. */
  key: string | null = null;
  /** Registered in advance by the launcher or an operator (Monitor.registerJob): only such jobs
   * may cause relocations. */
  registered = false;
  /** Counted as ranks arrive and end: the monitor asks after every chunk, a loop over P ranks
   * each time cost seconds in the Hello and Bye storms of large jobs. */
  private seen = 0;
  private finished = 0;

  constructor(
    readonly id: string,
    readonly size: number,
    opts: JobOptions = {},
  ) {
    this.ranks = new Array(size).fill(undefined);
    this.now = opts.now ?? Date.now;
    this.window = new RateWindow(Math.max(1, Math.round(opts.rateWindowSeconds ?? 10)));
    this.startedAtMs = this.now();
    this.limits = { ...DEFAULT_JOB_LIMITS, ...opts.limits };
    this.maxEpochs = epochsKept(this.limits);
    this.commTable = new CommTable(id, size, this.limits);
    this.comms = this.commTable.comms;
    this.switchMarks = new SwitchMarks(this.limits.maxPlacementSwitches);
  }

  /** One line per limit this job reached (for the report; empty in ordinary runs). */
  get limitNotes(): string[] {
    return this.overLimit.notes(this.limits, this.expanded().pairsOverLimit);
  }

  get maxHistogramCells(): number {
    return this.limits.maxHistogramCells;
  }

  get maxMatrixCells(): number {
    return this.limits.maxMatrixCells;
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
    return this.seen;
  }

  /** Ranks with an open connection. */
  get ranksConnected(): number {
    return this.ranks.reduce((n, r) => n + (r && r.openConnections > 0 ? 1 : 0), 0);
  }

  /** Ranks that have sent Bye. */
  get ranksFinished(): number {
    return this.finished;
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
    if (!r) {
      this.ranks[h.rank] = r = new RankState(h.rank);
      this.seen++;
    }
    r.host = h.host;
    r.pid = h.pid;
    r.program = h.program;
    if (r.startNs === null) r.startNs = h.startNs;
    r.connections++;
    this.version++;
    return r;
  }

  sitesInForce(epoch: number, siteOf: number[]): void {
    if (siteOf.length === this.size && !this.siteMaps.has(epoch) && this.epochSlot(epoch) === epoch)
      this.siteMaps.set(epoch, [...siteOf]);
  }

  /** The epoch a batch of `epoch` is counted in: itself while the job keeps epochs, else merged. */
  private epochSlot(epoch: number): number {
    if (this.keptEpochs.has(epoch)) return epoch;
    if (this.keptEpochs.size < this.maxEpochs) {
      this.keptEpochs.add(epoch);
      if (this.keptEpochs.size === this.maxEpochs) this.overLimit.mergedInto = epoch;
      return epoch;
    }
    return this.overLimit.mergedInto;
  }

  /** A CommDef of rank r. Throws ProtocolError for members out of range or past the job's limits. */
  commDef(r: RankState, c: CommDef): void {
    this.commTable.commDef(r, c);
  }

  bye(r: RankState, b: Bye): void {
    if (!r.bye) this.finished++;
    r.bye = b;
    this.version++;
  }

  /** The point-to-point pairs of a kept epoch. */
  private epochPairs(epoch: number): PairStore {
    let e = this.epochData.get(epoch);
    if (!e) this.epochData.set(epoch, (e = new PairStore()));
    return e;
  }

  /** Aggregates one batch of rank r. Returns false when it was a duplicate (ignored). */
  batch(r: RankState, b: Batch): boolean {
    const room = this.limits.maxTrackedGaps - this.trackedGaps,
      tracked = r.missing.size;
    if (b.seq > r.nextSeq && b.seq - r.nextSeq > room) this.overLimit.untrackedGaps += b.seq - r.nextSeq;
    const accepted = r.acceptSeq(b.seq, room);
    this.trackedGaps += r.missing.size - tracked;
    if (!accepted) return false;
    r.batches++;
    r.droppedReported += b.dropped;
    if (b.inexact) r.inexact = true;
    const n = b.n;
    if (n === 0) {
      this.version++;
      return true;
    }
    const P = this.size,
      me = r.rank;
    const epoch = this.epochSlot(b.epoch);
    if (epoch !== b.epoch) this.overLimit.mergedEpochBatches++;
    const em = this.epochPairs(epoch);
    // Pair cells of the other epochs, for the job's budget (limits.maxMatrixCells).
    const cellsElsewhere = pairsHeld(this.epochData.values()) - em.count;
    const maxCells = this.limits.maxMatrixCells;
    let data = em.data;
    // Consecutive records often name the same pair (a halo loop, a pipeline): one probe for them.
    let lastPair = -1,
      lastAt = -1;
    const fnCalls = r.fnCalls,
      fnBytes = r.fnBytes.lo,
      fnTime = r.fnTime.lo;
    const { fn, peer, bytes, comm, duration, alg } = b;
    const localComm = r.localComm;
    const coll = r.coll;
    let collSize = coll.size;
    const hist = this.hist;
    const histRoom = () => hist.cells < this.limits.maxHistogramCells;
    let mpi = 0,
      calls = 0,
      winBytes = 0,
      winMsgs = 0;
    for (let i = 0; i < n; i++) {
      const f = fn[i];
      const id = f & FN_MASK;
      const role = f >>> ROLE_SHIFT;
      const by = bytes[i];
      if (role <= NEWEST_CALL_ROLE) {
        if (id >= NFN) {
          r.unknownFunctions++;
          continue;
        }
        const d = duration[i];
        calls++;
        mpi += d;
        fnCalls[id] += 1;
        let s = fnBytes[id] + by;
        if (s < MAX_EXACT) fnBytes[id] = s;
        else r.fnBytes.spill(id, by);
        s = fnTime[id] + d;
        if (s < MAX_EXACT) fnTime[id] = s;
        else r.fnTime.spill(id, d);
      }
      let src: number, dst: number;
      switch (role) {
        case Role.Send:
        case Role.PartSend:
          src = me;
          dst = peer[i];
          break;
        case Role.Pull:
        case Role.PartPull:
          src = peer[i];
          dst = me;
          break;
        case Role.Coll: {
          const lc = comm[i];
          const ci = localComm.get(lc) ?? -1;
          if (ci < 0) r.unknownComms++;
          if (coll.add(epoch, id, ci, alg[i], peer[i], by, this.collEntries < this.limits.maxCollEntries)) {
            if (coll.size > collSize) {
              this.collEntries++;
              collSize++;
            }
          } else this.overLimit.collectivesOverLimit++;
          winBytes += by;
          winMsgs += 1;
          continue;
        }
        case Role.RecvDone:
          if (RECEIVED_IN_ROW[id] === 1 && alg[i] === RecvMark.Short) {
            const s = fnBytes[id] - by;
            if (s >= 0) fnBytes[id] = s;
            // past 2^53: from the exact total; more missing than the row holds (a bad record): ignored
            else if ((r.fnBytes.hi?.get(id) ?? 0n) + BigInt(fnBytes[id]) >= BigInt(by)) r.fnBytes.spill(id, -by);
          } else if (RECEIVED_IN_ROW[id] === 1) {
            const s = fnBytes[id] + by;
            if (s < MAX_EXACT) fnBytes[id] = s;
            else r.fnBytes.spill(id, by);
          }
          continue;
        case Role.Placement:
          if (alg[i] !== PLACEMENT_MARK_SWITCH) continue;
          if (!this.switchMarks.add(localComm.get(comm[i]) ?? -1, by, b.crossBytes[i], b.start[i]))
            this.overLimit.switchesOverLimit++;
          continue;
        default:
          continue; // Other, Recv: no matrix contribution
      }
      if (src < 0 || dst < 0) continue;
      if (src >= P || dst >= P) {
        r.invalidPeers++;
        continue;
      }
      if (src === dst) continue;
      const idx = src * P + dst;
      if (idx !== lastPair) {
        lastAt = em.slot(idx, cellsElsewhere + em.count < maxCells);
        data = em.data;
        if (lastAt < 0) {
          this.overLimit.pairsOverLimit++;
          lastPair = -1;
          continue;
        }
        lastPair = idx;
      }
      const s = data[lastAt + 1] + by;
      if (s < MAX_EXACT) data[lastAt + 1] = s;
      else em.spillBytes(lastAt, by);
      data[lastAt + 2] += 1;
      if (!hist.add(idx, by < 4294967296 ? 32 - Math.clz32(by) : sizeBucket(by), 1, histRoom()))
        this.overLimit.histogramOverLimit++;
      winBytes += by;
      winMsgs += 1;
    }
    r.phase.note(b);
    r.records += n;
    r.calls += calls;
    r.mpiNsRecorded += mpi;
    const last = b.start[n - 1] + duration[n - 1];
    if (last > r.lastNs) r.lastNs = last;
    if (b.crossMsgs.length) {
      let cm = 0,
        cb = 0;
      for (let i = 0; i < n; i++) {
        if (fn[i] >>> ROLE_SHIFT === Role.Placement) continue; // a mark's cross column holds its call number
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

  // --- queries -----------------------------------------------------------------------------

  /** When each communicator switched placement epochs, by communicator then epoch. */
  placementSwitches(): PlacementSwitch[] {
    return this.switchMarks.list();
  }

  /** Placement epochs that have traffic (sorted). */
  epochs(): number[] {
    const s = new Set<number>(this.epochData.keys());
    for (const e of this.expanded().perEpoch.keys()) s.add(e);
    return [...s].sort((a, b) => a - b);
  }

  /**
   * Communication matrix (row = source world rank, column = destination): point-to-point and
   * one-sided traffic plus collectives expanded by the cost model, as its non-zero pairs in
   * (src, dst) order. `epoch` selects one placement epoch; without it, the whole job. Memory and
   * time are proportional to the pairs that talk: what reports and callers of large jobs read.
   */
  pairMatrix(epoch?: number): SparseMatrix {
    return runSteps(this.pairMatrixSteps(epoch));
  }

  /** pairMatrix() in steps (for reports that yield to the event loop, steps.ts). */
  *pairMatrixSteps(epoch?: number): Steps<SparseMatrix> {
    return yield* mergedSteps(this.storesOf(epoch), this.size);
  }

  /**
   * The same matrix dense, size x size (bytes[src * size + dst]): for small jobs and library
   * callers. Throws above DENSE_MAX_RANKS ranks, where pairMatrix() is the way.
   */
  matrix(epoch?: number): Matrix {
    return runSteps(this.matrixSteps(epoch));
  }

  /** matrix() in steps of 64 Ki pairs (for reports that yield to the event loop, steps.ts). */
  *matrixSteps(epoch?: number): Steps<Matrix> {
    if (this.size > DENSE_MAX_RANKS)
      throw new RangeError(
        `job ${this.id} has ${this.size} ranks: a dense matrix is kept to jobs of at most ${DENSE_MAX_RANKS} ranks; use pairMatrix(), which holds only the pairs that talk`,
      );
    return yield* denseSteps(this.storesOf(epoch), this.size);
  }

  /** The pair stores (point-to-point, expanded collectives) of one epoch, or of all. */
  private storesOf(epoch?: number): PairStore[] {
    const out: PairStore[] = [];
    for (const [e, d] of [...this.epochData, ...this.expanded().perEpoch])
      if (epoch === undefined || e === epoch) out.push(d);
    return out;
  }

  /** Pair cells the job holds for point-to-point traffic, over all epochs (limits.maxMatrixCells). */
  get pairCells(): number {
    return pairsHeld(this.epochData.values());
  }

  /** Message-size histogram of a pair (HISTOGRAM_BUCKETS counts; see sizeBucket). */
  histogram(src: number, dst: number): Float64Array {
    const pair = src * this.size + dst;
    const out = new Float64Array(HISTOGRAM_BUCKETS);
    this.hist.addPairTo(pair, out);
    this.expanded().hist.addPairTo(pair, out);
    return out;
  }

  /** Every non-empty (pair, size bucket) cell of the histograms, in (src, dst, bucket) order:
   * the sparse form (no object per pair) for large jobs. */
  histogramCells(): HistogramCells {
    return histogramCells([this.hist, this.expanded().hist], this.size);
  }

  /** Pairs with a non-empty histogram, in (src, dst) order (one array per pair: small jobs). */
  histogramPairs(): HistogramPair[] {
    return histogramPairs(this.histogramCells());
  }

  /** Collective records that could not be expanded (unknown communicator, intercommunicator, unmodelled). */
  get unexpandedCollectives(): number {
    return this.expanded().unexpanded;
  }

  /** Per-function totals over all ranks (or one rank), functions that were called only. */
  functions(rank?: number): FunctionStats[] {
    return functionStats(rank === undefined ? this.ranks : [this.ranks[rank]]);
  }

  /** Job wall time (ns): from the earliest rank start to the latest rank end. */
  get wallNs(): number {
    return jobWallNs(this.ranks);
  }

  /** Time in MPI over all ranks divided by wall time over all ranks. */
  get mpiFraction(): number {
    return jobMpiFraction(this.ranks);
  }

  /** Records dropped by the shims, batches and records lost on the way. */
  get losses(): Losses {
    return jobLosses(this.ranks);
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

  /**
   * Expands the collectives ahead of the queries, yielding to the event loop between slices, so
   * that a report of a large job does not hold other clients up (queries then use the result).
   */
  async prepare(): Promise<void> {
    const version = this.version;
    const it = expandSteps(this);
    for (;;) {
      const r = it.next();
      if (r.done) {
        if (this.version === version) this.cache = { version, expanded: r.value };
        return;
      }
      await new Promise<void>((res) => setImmediate(res));
    }
  }
}
