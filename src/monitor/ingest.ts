// Sessions (one rank connection or one per-rank file) feeding jobs. Shared by the Monitor (sockets)
// and loadRankFiles (files).
import crypto from 'node:crypto';
import { BatchScratch, decodeEnvelope, type Envelope, type Hello } from '../wire/messages.js';
import { PROTOCOL_VERSION } from '../wire/proto.js';
import { JobProfile, type JobOptions } from './job.js';
import type { RankState } from './rank.js';
import { DEFAULT_MAX_RANKS, ProtocolError } from './limits.js';

export { DEFAULT_MAX_RANKS, ProtocolError } from './limits.js';

/** Constant-time token comparison (hashes first so lengths do not leak either). */
export function tokensEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

export interface JobTableOptions extends JobOptions {
  /** Required Hello.token; unset = any token accepted. */
  token?: string;
  /** Largest job size accepted (a guard, not a memory limit). Default DEFAULT_MAX_RANKS. */
  maxRanks?: number;
  /** Refuse Hellos without a job key (Hello.job_key). Default false. */
  requireJobKey?: boolean;
}

/** A job announced by its launcher before its ranks connect (Monitor.registerJob). */
export interface JobRegistration {
  /** the secret its ranks present in Hello.job_key */
  key: string;
  /** its number of ranks (optional: then the first Hello says it) */
  size?: number;
}

/** Jobs by id, and what happens to them when sessions start. */
export class JobTable {
  readonly jobs = new Map<string, JobProfile>();
  readonly registrations = new Map<string, JobRegistration>();
  onJobStart: (job: JobProfile) => void = () => {};
  private readonly scratch = new BatchScratch();

  constructor(readonly opts: JobTableOptions = {}) {}

  session(): Session {
    return new Session(this, this.scratch);
  }

  /**
   * The job for a Hello (a new one when none or only an ended one has that id). A job is bound to
   * its registered key, or else to the key of its first Hello: a Hello with another key, another
   * size, or for a rank that is connected is refused.
   */
  jobFor(h: Pick<Hello, 'job' | 'size' | 'rank' | 'jobKey'>): JobProfile {
    const { job: id, size } = h;
    if (this.opts.requireJobKey && !h.jobKey)
      throw new ProtocolError('this monitor requires a job key (SITEMPI_JOB_KEY, set by sitempi run)');
    const reg = this.registrations.get(id);
    let job = this.jobs.get(id);
    if (job && job.ended) job = undefined;
    const key = job ? (job.key ?? '') : reg ? reg.key : h.jobKey;
    if (!tokensEqual(h.jobKey, key)) throw new ProtocolError(`job key does not match job ${id}`);
    const expected = job ? job.size : reg?.size;
    if (expected !== undefined && expected !== size)
      throw new ProtocolError(`job ${id} has ${expected} ranks, this Hello says ${size}`);
    if (job && (job.rank(h.rank)?.openConnections ?? 0) > 0)
      throw new ProtocolError(`rank ${h.rank} of job ${id} is already connected`);
    if (!job) {
      job = new JobProfile(id, size, this.opts);
      job.key = key || null;
      job.registered = reg !== undefined;
      this.jobs.set(id, job);
      this.onJobStart(job);
    }
    return job;
  }

  /** Removes an ended job from the table (the caller keeps its profile). */
  forget(job: JobProfile): void {
    if (this.jobs.get(job.id) === job) this.jobs.delete(job.id);
  }
}

/** One stream of frames from one rank: Hello first, then CommDef/Batch/Bye. */
export class Session {
  job: JobProfile | null = null;
  rank: RankState | null = null;
  /** Highest batch seq received on this session, -1 none. */
  lastSeq = -1;
  byeReceived = false;

  constructor(
    private readonly table: JobTable,
    private readonly scratch: BatchScratch,
  ) {}

  /**
   * Decodes and applies one frame body; returns what it decoded (a Batch's columns are the
   * session's scratch, valid until its next frame). Throws WireError/ProtocolError when the peer
   * misbehaves.
   */
  frame(body: Uint8Array): Envelope {
    const env = decodeEnvelope(body, this.scratch);
    this.apply(env);
    return env;
  }

  apply(env: Envelope): void {
    if (env.kind === 'hello') {
      if (this.job) throw new ProtocolError('second Hello on one connection');
      const h = env.hello;
      const token = this.table.opts.token;
      if (token !== undefined && token !== '' && !tokensEqual(h.token, token)) throw new ProtocolError('bad token');
      if (h.protocol !== PROTOCOL_VERSION)
        throw new ProtocolError(`unsupported protocol version ${h.protocol} (this monitor speaks ${PROTOCOL_VERSION})`);
      if (!h.job) throw new ProtocolError('Hello without a job id');
      const max = this.table.opts.maxRanks ?? DEFAULT_MAX_RANKS;
      if (h.size < 1 || h.size > max)
        throw new ProtocolError(
          `job size ${h.size} out of range (1..${max}; the monitor's maxRanks option raises the limit)`,
        );
      if (h.rank >= h.size) throw new ProtocolError(`rank ${h.rank} out of range for size ${h.size}`);
      const job = this.table.jobFor(h);
      this.job = job;
      this.rank = job.hello(h);
      this.rank.openConnections++;
      return;
    }
    if (!this.job || !this.rank) throw new ProtocolError(`expected Hello first, got ${env.kind}`);
    switch (env.kind) {
      case 'batch':
        if (this.job.batch(this.rank, env.batch) && env.batch.seq > this.lastSeq) this.lastSeq = env.batch.seq;
        return;
      case 'commDef':
        this.job.commDef(this.rank, env.commDef);
        return;
      case 'placement': // the placement a rank's site-aware collectives use from this epoch on
        this.job.sitesInForce(env.placement.epoch, env.placement.siteOf);
        return;
      case 'bye':
        this.job.bye(this.rank, env.bye);
        this.byeReceived = true;
        return;
      case 'unknown':
        return;
      default:
        throw new ProtocolError(`unexpected ${env.kind} from a rank`);
    }
  }

  /** The stream ended (connection closed or file read). */
  close(): void {
    if (this.rank && this.rank.openConnections > 0) this.rank.openConnections--;
  }
}
