// The verdict from the prediction (docs/replay.md, "The verdict from the prediction"): a bounded
// window of each job's records is replayed on one site, on the two-site split in halves of the
// rates rule and on the job's current placement; the predicted slowdown of the split (against one
// site) decides the verdict.
//
// The window: at most `replayBytes` of records per job (about RECORD_BYTES each while kept), the
// same share per rank, cut at one time for all ranks (records.ts): the replay is of the job's first
// part. Records reach it from the monitor's frame tap (ReplayWindows) or from rank files.
import { Role, ROLE_SHIFT } from '../generated/functions.js';
import type { Envelope } from '../wire/messages.js';
import {
  addCommDef,
  appendBatch,
  buildTrace,
  cutAtCommonTime,
  readRankRecords,
  type RankRecords,
} from '../replay/records.js';
import { makeCluster, wanLink } from '../replay/cluster.js';
import { replay } from '../replay/engine.js';
import type { Session } from './ingest.js';
import { runSteps, type Steps } from './steps.js';
import type { JobProfile } from './job.js';

/** Default bound on the records a job keeps for the prediction (bytes while kept). */
export const DEFAULT_REPLAY_BYTES = 8 * 1024 * 1024;
/** Default bound on the records all jobs' windows in a monitor keep together (bytes): without it
 * a monitor's memory for windows grows with the number of jobs (200 jobs: +300-450 MB RSS). */
export const DEFAULT_REPLAY_TOTAL_BYTES = 128 * 1024 * 1024;
/** Memory of one kept record (eight numbers in arrays). */
export const RECORD_BYTES = 64;
/** Default WAN of the prediction: 10 ms RTT, 1 Gbit/s. */
export const DEFAULT_WAN_RTT_MS = 10;
export const DEFAULT_WAN_MBPS = 1000;
/** Default largest slowdown the extra nodes of a second site pay for. */
export const DEFAULT_MAX_SPLIT_SLOWDOWN = 1.25;
/** Larger jobs get no prediction in the monitor (its replay of a 1024-rank synthetic job held the
 * event loop for seconds): the rates rule decides and the report says why. */
export const MAX_PREDICTED_RANKS = 256;
/** Fewer communication records per rank than this: no prediction (the rates rule decides). */
export const MIN_COMM_RECORDS_PER_RANK = 2;

/** A job's window of records for replay. */
export interface ReplayWindow {
  ranks: RankRecords[];
  /** records kept, all ranks */
  records: number;
  /** the bound (bytes) */
  bytesLimit: number;
  /** true when some rank had more records than its share: the window is the job's first part */
  truncated: boolean;
}

export interface PredictOptions {
  /** WAN round-trip time of the predicted placements (ms); default DEFAULT_WAN_RTT_MS */
  wanRttMs?: number;
  /** WAN bandwidth (Mbit/s); default DEFAULT_WAN_MBPS */
  wanMbps?: number;
  /** the split's largest slowdown the extra nodes pay for; default DEFAULT_MAX_SPLIT_SLOWDOWN */
  maxSplitSlowdown?: number;
}

export interface PredictedSlowdown {
  /** replayed wall time on the split in halves / on one site (null: not predicted) */
  split: number | null;
  /** the same on the job's current placement (null: no site map, or not predicted) */
  current: number | null;
  /** why there is no prediction (too few records, no window, a stalled replay), else absent */
  missing?: string;
  window: {
    records: number;
    recordsInJob: number;
    bytesLimit: number;
    truncated: boolean;
    /** the recorded span replayed (s) */
    seconds: number;
  };
  params: { wanRttMs: number; wanMbps: number; maxSplitSlowdown: number };
}

/** Records that are communication: sends, receives (a receive request's at its completion), collectives. */
const COMM_ROLES = new Set<number>([Role.Send, Role.Recv, Role.RecvDone, Role.Pull, Role.Coll]);

const windows = new WeakMap<JobProfile, ReplayWindow>();

/** Attaches the window of records `job` is predicted from (rank files, or the monitor's tap). */
export function setReplayWindow(job: JobProfile, w: ReplayWindow): void {
  windows.set(job, w);
}

export function replayWindowOf(job: JobProfile): ReplayWindow | undefined {
  return windows.get(job);
}

/** Records kept per rank for a job of `size` ranks under `bytes`. */
export function recordsPerRank(bytes: number, size: number): number {
  return Math.floor(bytes / RECORD_BYTES / Math.max(1, size));
}

/**
 * Each job's window read from its rank files (sitempi report); a job whose files cannot be read
 * again gets none, and `onWarning` says why.
 */
export async function windowsFromFiles(
  files: string[],
  jobs: JobProfile[],
  bytes = DEFAULT_REPLAY_BYTES,
  onWarning: (m: string) => void = () => {},
): Promise<void> {
  if (bytes <= 0) return;
  for (const job of jobs) {
    try {
      const ranks = await readRankRecords(files, { job: job.id, maxRecordsPerRank: recordsPerRank(bytes, job.size) });
      const records = ranks.reduce((n, r) => n + r.fn.length, 0);
      setReplayWindow(job, { ranks, records, bytesLimit: bytes, truncated: records < job.records });
    } catch (e) {
      onWarning(`no prediction for job ${job.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Where a job's records were taken: the first site map (or one site), ranks on one host one node. */
export function recordedPlacement(job: JobProfile): { siteOf: number[]; nodeOf: number[] } {
  const hosts = new Map<string, number>();
  const nodeOf = Array.from({ length: job.size }, (_, i) => {
    const h = job.rank(i)?.host || `rank ${i}`;
    if (!hosts.has(h)) hosts.set(h, hosts.size);
    return hosts.get(h) as number;
  });
  const epochs = [...job.siteMaps.keys()].sort((a, b) => a - b);
  const siteOf = epochs.length ? (job.siteMaps.get(epochs[0]) as number[]) : new Array<number>(job.size).fill(0);
  return { siteOf, nodeOf };
}

/** The predicted slowdowns of `job` from its window (null when it has none). */
export function predictSlowdown(job: JobProfile, opts: PredictOptions = {}): PredictedSlowdown | null {
  return runSteps(predictSlowdownSteps(job, opts));
}

/** predictSlowdown in steps (see steps.ts): a yield after the trace and after each replay. */
export function* predictSlowdownSteps(job: JobProfile, opts: PredictOptions = {}): Steps<PredictedSlowdown | null> {
  const w = windows.get(job);
  if (!w) return null;
  const params = {
    wanRttMs: opts.wanRttMs ?? DEFAULT_WAN_RTT_MS,
    wanMbps: opts.wanMbps ?? DEFAULT_WAN_MBPS,
    maxSplitSlowdown: opts.maxSplitSlowdown ?? DEFAULT_MAX_SPLIT_SLOWDOWN,
  };
  const P = job.size;
  const out: PredictedSlowdown = {
    split: null,
    current: null,
    window: {
      records: w.records,
      recordsInJob: job.records,
      bytesLimit: w.bytesLimit,
      truncated: w.truncated,
      seconds: 0,
    },
    params,
  };
  if (P > MAX_PREDICTED_RANKS) {
    out.missing = `${P} ranks: the monitor predicts jobs of up to ${MAX_PREDICTED_RANKS} ranks`;
    return out;
  }
  const comm = w.ranks.reduce(
    (n, r) => n + r.fn.reduce((k, f) => k + (COMM_ROLES.has(f >>> ROLE_SHIFT) ? 1 : 0), 0),
    0,
  );
  if (w.bytesLimit <= 0) {
    out.missing = "no records kept: the windows of other jobs held all of the monitor's total (--replay-total)";
    return out;
  }
  if (P < 2 || w.ranks.length < P || comm < MIN_COMM_RECORDS_PER_RANK * P) {
    out.missing = `too few records for a prediction (${w.ranks.length}/${P} ranks, ${comm} with a peer; at least ${MIN_COMM_RECORDS_PER_RANK} per rank needed)`;
    return out;
  }
  const epochs = [...job.siteMaps.keys()].sort((a, b) => a - b);
  const { siteOf: recordedSites, nodeOf } = recordedPlacement(job);
  const wan = wanLink(params.wanRttMs, params.wanMbps);
  try {
    const trace = buildTrace(w.ranks, { siteOf: recordedSites });
    out.window.seconds = trace.recordedNs / 1e9;
    yield;
    // The base is the job on one site (its ranks on the nodes they were recorded on), not the
    // recorded placement: a job recorded while split would otherwise predict 1.0 for the split.
    const base = replay(trace, makeCluster(new Array<number>(P).fill(0), wan, { nodeOf }));
    if (base.stalled.length || !(base.wallNs > 0)) {
      out.missing = `the window's replay did not complete (${base.stalled.length} ranks stalled)`;
      return out;
    }
    const ratio = (siteOf: number[]): number | null => {
      const t = replay(trace, makeCluster(siteOf, wan, { nodeOf }));
      return t.stalled.length ? null : t.wallNs / base.wallNs;
    };
    yield;
    out.split = ratio(Array.from({ length: P }, (_, i) => (i < Math.floor(P / 2) ? 0 : 1)));
    yield;
    if (epochs.length) out.current = ratio(job.siteMaps.get(epochs[epochs.length - 1]) as number[]);
    if (out.split === null) out.missing = 'the replay of the split stalled';
  } catch (e) {
    out.missing = `no prediction: ${e instanceof Error ? e.message : String(e)}`;
  }
  return out;
}

/**
 * Keeps each job's window from the monitor's frames (attach to Monitor.frameTaps). The bound is per
 * job (`bytes`) and over all windows held (`totalBytes`): a job claims its bound, or what the
 * others left, when its first frame arrives, shared equally by its ranks; a job's records past its
 * ranks' shares are not copied. The monitor gives a job's claim back when it forgets the job.
 */
export class ReplayWindows {
  private readonly byJob = new WeakMap<
    JobProfile,
    ReplayWindow & { perRank: number; byRank: Map<number, RankRecords>; released: boolean }
  >();
  /** records claimed by the windows not released */
  private claimed = 0;
  private readonly maxClaimed: number;

  constructor(
    readonly bytes: number = DEFAULT_REPLAY_BYTES,
    readonly totalBytes: number = DEFAULT_REPLAY_TOTAL_BYTES,
  ) {
    this.maxClaimed = Math.floor(totalBytes / RECORD_BYTES);
  }

  /** Records the windows not released may hold together (their claims), all jobs. */
  get records(): number {
    return this.claimed;
  }

  /** One frame a session applied, as it decoded it. Never throws (a throw would be taken for the
   * rank's fault). */
  frame(session: Session, env: Envelope): void {
    const job = session.job;
    if (!job || !session.rank || this.bytes <= 0 || job.size > MAX_PREDICTED_RANKS) return;
    try {
      let w = this.byJob.get(job);
      if (!w) {
        // the job's claim on the total: its bound, or what other jobs left
        const bytes = Math.min(this.bytes, (this.maxClaimed - this.claimed) * RECORD_BYTES);
        const perRank = recordsPerRank(bytes, job.size);
        this.claimed += perRank * job.size;
        w = {
          ranks: [],
          records: 0,
          bytesLimit: bytes,
          truncated: false,
          perRank,
          byRank: new Map(),
          released: false,
        };
        this.byJob.set(job, w);
        setReplayWindow(job, w);
      }
      if (env.kind === 'hello') {
        if (w.byRank.has(env.hello.rank)) return; // a reconnection: the first session's records stay
        const rec: RankRecords = {
          hello: env.hello,
          ...{ fn: [], peer: [], bytes: [], comm: [], start: [], duration: [], alg: [], tag: [] },
          comms: new Map(),
        };
        w.byRank.set(env.hello.rank, rec);
        w.ranks.push(rec);
        return;
      }
      const rec = w.byRank.get(session.rank.rank);
      if (!rec) return;
      if (env.kind === 'commDef') addCommDef(rec, env.commDef);
      else if (env.kind === 'batch') {
        const n = appendBatch(rec, env.batch, w.released ? 0 : w.perRank - rec.fn.length);
        if (n < env.batch.n) w.truncated = true;
        w.records += n;
      }
    } catch {
      // a frame the session accepted always decodes; nothing else to do
    }
  }

  /** Cuts the job's window at one time for all ranks (at its end, before the report). */
  finish(job: JobProfile): void {
    const w = this.byJob.get(job);
    if (!w || !w.truncated || !w.ranks.length) return;
    cutAtCommonTime(w.ranks, w.perRank);
    w.records = w.ranks.reduce((n, r) => n + r.fn.length, 0);
  }

  /** The monitor no longer holds the job: its records leave the total (the window stays with the
   * job for whoever still holds it). */
  release(job: JobProfile): void {
    const w = this.byJob.get(job);
    if (!w || w.released) return;
    w.released = true;
    this.claimed -= w.perRank * job.size;
  }
}
