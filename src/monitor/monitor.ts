// The monitor service: listens on TCP and/or Unix sockets, accepts rank connections, groups them
// into jobs and emits typed job events.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { WireError } from '../wire/frames.js';
import { encodeAck, encodeError, encodePlacement, type Envelope, type Placement } from '../wire/messages.js';
import { MAX_FRAME_BYTES } from '../wire/proto.js';
import {
  MAX_TURN_MS,
  newConn,
  newJobMeta,
  TURN_MS,
  UNAUTHENTICATED_CONN_BYTES,
  type Conn,
  type JobMeta,
} from './conns.js';
import type { MonitorEvents } from './events.js';
import { JobTable, type JobRegistration, type Session } from './ingest.js';
import type { JobProfile } from './job.js';
import { DEFAULT_MAX_RANKS, type JobLimits } from './limits.js';
import { listenOn, removeSocketFiles } from './listen.js';
import type { MonitorOptions } from './options.js';
import { DEFAULT_REPLAY_BYTES, DEFAULT_REPLAY_TOTAL_BYTES, ReplayWindows } from './prediction.js';

export { parseListenAddress, type MonitorOptions } from './options.js';
export { HELLO_MAX_BYTES, UNAUTHENTICATED_CONN_BYTES } from './conns.js';
export type { ConnectionErrorEvent, MonitorEvents } from './events.js';

// Typed events: the interface merges into the class below (what EventEmitter subclasses do).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Monitor {
  on<K extends keyof MonitorEvents>(event: K, listener: MonitorEvents[K]): this;
  once<K extends keyof MonitorEvents>(event: K, listener: MonitorEvents[K]): this;
  off<K extends keyof MonitorEvents>(event: K, listener: MonitorEvents[K]): this;
  emit<K extends keyof MonitorEvents>(event: K, ...args: Parameters<MonitorEvents[K]>): boolean;
}

/**
 * The monitor. Usage:
 *   const m = new Monitor({ token });
 *   m.on('jobEnd', (job) => console.log(formatText([job])));
 *   const [addr] = await m.listen('tcp://0.0.0.0:0');   // the actual address, e.g. tcp://0.0.0.0:41234
 *   ...
 *   await m.close();
 * Nothing a client sends can crash it: a bad token, a malformed or oversize frame, or a frame
 * before Hello gets an Error frame and that connection (only) is closed.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Monitor extends EventEmitter {
  readonly options: Required<Omit<MonitorOptions, 'listen' | 'token' | 'limits'>> & {
    token?: string;
    limits?: Partial<JobLimits>;
  };
  private readonly table: JobTable;
  private readonly servers: net.Server[] = [];
  private readonly conns = new Set<Conn>();
  /** rejected sockets, half-closed until their peer's FIN or a timer (no longer in conns): close()
   * destroys them, or the servers' close would wait on them, for ever where one paused for its
   * turn never reads that FIN */
  private readonly rejected = new Set<net.Socket>();
  /** connections without a Hello yet, oldest first, and what they are charged in all */
  private readonly unauthenticated = new Set<Conn>();
  private unauthenticatedBytes = 0;
  /** connections with frames waiting for a turn, in order; bytes decoded this turn (> 0: another
   * turn follows, for the data that arrives meanwhile) */
  private readonly waiting: Conn[] = [];
  private turnUsed = 0;
  /** time spent applying ranks' frames this turn (ms), and what it may spend */
  private turnSpentMs = 0;
  private turnBudgetMs = TURN_MS;
  /** when the last turn ended with connections still waiting (performance.now()), or null */
  private lastTurnEndMs: number | null = null;
  private turnScheduled = false;
  private readonly meta = new Map<JobProfile, JobMeta>();
  private readonly ended: JobProfile[] = [];
  private readonly addrs: string[] = [];
  private readonly unixPaths: string[] = [];
  private closed = false;
  /** the records kept for the prediction (null: none kept) */
  readonly windows: ReplayWindows | null = null;
  /** See each frame a session has applied, as bytes and as decoded (both views into buffers that
   * are reused: copy to keep them); must not throw. `--record-dir` keeps the frames as rank files
   * (record-dir.ts), ReplayWindows a window of records for the prediction (prediction.ts). */
  readonly frameTaps: ((session: Session, body: Uint8Array, env: Envelope) => void)[] = [];

  constructor(opts: MonitorOptions = {}) {
    super();
    this.options = {
      token: opts.token,
      lingerMs: opts.lingerMs ?? 5000,
      joinWindowMs: opts.joinWindowMs ?? 60_000,
      requireJobKey: opts.requireJobKey ?? false,
      maxUnauthenticatedBytes: opts.maxUnauthenticatedBytes ?? 32 * 1024 * 1024,
      limits: opts.limits,
      updateIntervalMs: opts.updateIntervalMs ?? 1000,
      rateWindowSeconds: opts.rateWindowSeconds ?? 10,
      maxFrameBytes: opts.maxFrameBytes ?? MAX_FRAME_BYTES,
      maxRanks: opts.maxRanks ?? DEFAULT_MAX_RANKS,
      ack: opts.ack ?? false,
      keepEndedJobs: opts.keepEndedJobs ?? 100,
      helloTimeoutMs: opts.helloTimeoutMs ?? 30_000,
      replayBytes: opts.replayBytes ?? DEFAULT_REPLAY_BYTES,
      replayTotalBytes: opts.replayTotalBytes ?? DEFAULT_REPLAY_TOTAL_BYTES,
    };
    if (!(this.options.replayBytes >= 0)) throw new RangeError('replayBytes must be a size in bytes');
    if (!(this.options.replayTotalBytes >= 0)) throw new RangeError('replayTotalBytes must be a size in bytes');
    if (this.options.replayBytes > 0 && this.options.replayTotalBytes > 0) {
      const windows = new ReplayWindows(this.options.replayBytes, this.options.replayTotalBytes);
      this.windows = windows;
      this.frameTaps.push((s, _body, env) => windows.frame(s, env));
      this.on('jobEnd', (job: JobProfile) => windows.finish(job));
    }
    this.table = new JobTable({
      token: opts.token,
      rateWindowSeconds: this.options.rateWindowSeconds,
      maxRanks: this.options.maxRanks,
      requireJobKey: this.options.requireJobKey,
      limits: opts.limits,
    });
    this.table.onJobStart = (job) => {
      this.meta.set(job, newJobMeta());
      this.emit('jobStart', job);
    };
    if (opts.listen !== undefined) void this.listen(opts.listen).catch((e: Error) => this.emitError(e));
  }

  /** Starts listening; resolves with the actual addresses (ports filled in). */
  async listen(addresses: string | string[]): Promise<string[]> {
    const list = Array.isArray(addresses) ? addresses : [addresses];
    const out: string[] = [];
    for (const a of list) {
      const l = await listenOn(
        a,
        (s, unixName) => this.accept(s, unixName),
        (e) => this.emitError(e),
      );
      if (l.unixPath !== null) this.unixPaths.push(l.unixPath);
      out.push(l.address);
      this.servers.push(l.server);
    }
    this.addrs.push(...out);
    return out;
  }

  /**
   * Announces a job before its ranks connect: its ranks must present `key` in Hello.job_key (and
   * say `size` ranks, when given); the job is marked registered (only such jobs may cause
   * relocations). `sitempi run` registers the job it launches.
   */
  registerJob(jobId: string, reg: JobRegistration): void {
    if (!jobId || !reg.key) throw new Error('registerJob needs a job id and a key');
    this.table.registrations.set(jobId, { ...reg });
  }

  /** Forgets a registration (jobs already running keep their key). */
  unregisterJob(jobId: string): void {
    this.table.registrations.delete(jobId);
  }

  /** Addresses listened on. */
  get addresses(): readonly string[] {
    return this.addrs;
  }

  /** Jobs in progress. */
  jobs(): JobProfile[] {
    return [...this.table.jobs.values()].filter((j) => !j.ended);
  }

  /** A job in progress, by id. */
  job(id: string): JobProfile | undefined {
    const j = this.table.jobs.get(id);
    return j && !j.ended ? j : undefined;
  }

  /** Jobs that have ended, oldest first. */
  endedJobs(): readonly JobProfile[] {
    return this.ended;
  }

  /** Bytes charged to connections that have not said Hello (their budget: maxUnauthenticatedBytes). */
  get unauthenticatedBytesHeld(): number {
    return this.unauthenticatedBytes;
  }

  /** Open rank connections. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /**
   * Sends a Placement to every open connection of a job (or of one rank, `opts.rank`); returns
   * how many got it. Connections whose rank has sent Bye are skipped (a write racing the rank's
   * close could make Node drop the socket before its last frames are read).
   */
  sendPlacement(jobId: string, p: Placement, opts: { rank?: number } = {}): number {
    const job = this.job(jobId);
    const m = job && this.meta.get(job);
    if (!m) return 0;
    const frame = encodePlacement(p);
    let n = 0;
    for (const c of m.conns) {
      if (c.dead || c.session.byeReceived) continue;
      if (opts.rank !== undefined && c.session.rank?.rank !== opts.rank) continue;
      c.socket.write(frame);
      n++;
    }
    return n;
  }

  /** Resolves when no job is in progress (true) or after timeoutMs (false). */
  async waitForJobs(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.jobs().length > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise<void>((res) => {
        const done = (): void => {
          clearTimeout(t);
          this.off('jobEnd', done);
          res();
        };
        const t = setTimeout(done, Math.min(50, Math.max(1, deadline - Date.now())));
        this.on('jobEnd', done);
      });
    }
    return true;
  }

  /**
   * Stops listening, closes every connection and ends every job still in progress
   * (endReason "closed", a jobEnd event each). Resolves with all ended jobs.
   */
  async close(): Promise<readonly JobProfile[]> {
    if (this.closed) return this.ended;
    this.closed = true;
    const closing = this.servers.map((s) => new Promise<void>((res) => s.close(() => res())));
    for (const c of [...this.conns]) this.drop(c, null);
    for (const s of this.rejected) s.destroy();
    for (const job of this.jobs()) this.endJob(job, 'closed');
    await Promise.all(closing);
    removeSocketFiles(this.unixPaths);
    return this.ended;
  }

  // --- connections ---------------------------------------------------------------------------

  private accept(socket: net.Socket, unixName: string): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const remote = unixName || `${socket.remoteAddress}:${socket.remotePort}`;
    const c = newConn(socket, this.table.session(), remote, this.options.maxFrameBytes);
    this.conns.add(c);
    this.unauthenticated.add(c);
    this.charge(c);
    const wait = this.options.helloTimeoutMs;
    if (wait > 0) {
      c.helloTimer = setTimeout(() => this.reject(c, new WireError(`no Hello within ${wait} ms`)), wait);
      c.helloTimer.unref();
    }
    socket.on('data', (chunk: Buffer) => this.data(c, chunk));
    socket.on('error', () => {
      /* reset by peer etc.: treated as close */
    });
    socket.on('close', () => {
      if (this.pending(c)) c.closeWhenDrained = true;
      else this.drop(c, null);
    });
  }

  /**
   * A chunk from a connection. Ranks' frames are applied for TURN_MS per event-loop turn over all
   * connections (more when other work took more of the loop); past that a connection is paused
   * and its frames wait for the next turns, served in turn with the others'. A connection's Hello (and what comes
   * before it: the unauthenticated budget bounds it) is applied at once, what follows it in turns,
   * so a new connection is answered within one turn however many clients flood the monitor.
   */
  private data(c: Conn, chunk: Buffer): void {
    if (c.dead) return;
    if (c.session.job && (c.queued || this.turnSpent())) {
      c.backlog.push(chunk);
      this.enqueue(c);
      return;
    }
    if (c.session.job) this.scheduleTurn();
    this.decode(c, chunk);
    this.applyFrames(c);
    if (!c.dead && this.pending(c)) this.enqueue(c);
  }

  private turnSpent(): boolean {
    return this.turnSpentMs >= this.turnBudgetMs;
  }

  private pending(c: Conn): boolean {
    return c.frameAt < c.frames.length || c.backlog.length > 0;
  }

  /** Pauses a connection that has data waiting and queues it for the next turns. */
  private enqueue(c: Conn): void {
    c.socket.pause();
    if (!c.queued) {
      c.queued = true;
      this.waiting.push(c);
    }
    this.scheduleTurn();
  }

  /** Next turn: a fresh time budget, spent on the waiting connections a chunk's frames each,
   * round robin. */
  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      this.turnUsed = 0;
      this.turnSpentMs = 0;
      // While connections wait, ingest gets at least as much of the loop as everything else the
      // process did since the last turn (a dashboard, reports): TURN_MS alone would let other
      // work starve it
      const start = performance.now();
      const other = this.lastTurnEndMs === null ? 0 : start - this.lastTurnEndMs;
      this.turnBudgetMs = Math.min(MAX_TURN_MS, Math.max(TURN_MS, other));
      while (this.waiting.length && !this.turnSpent()) {
        const c = this.waiting.shift()!;
        c.queued = false;
        if (c.dead) continue;
        if (c.frameAt === c.frames.length) this.decode(c, c.backlog.shift()!);
        this.applyFrames(c);
        if (c.dead) continue;
        if (this.pending(c)) {
          c.queued = true;
          this.waiting.push(c);
        } else if (c.closeWhenDrained) this.drop(c, null);
        else c.socket.resume();
      }
      this.lastTurnEndMs = this.waiting.length ? performance.now() : null;
      if (this.waiting.length || this.turnUsed > 0) this.scheduleTurn();
    });
  }

  /** Splits a chunk into the connection's frames to apply. */
  private decode(c: Conn, chunk: Buffer): void {
    if (c.dead) return;
    this.turnUsed += chunk.length;
    if (c.session.job?.ended) return; // the job is over (every rank said Bye); late data is ignored
    try {
      c.frames = c.decoder.push(chunk);
      c.frameAt = 0;
    } catch (e) {
      this.reject(c, e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Applies the connection's decoded frames: before its Hello up to the Hello, after it until the
   * turn's time is spent (one frame at least). */
  private applyFrames(c: Conn): void {
    if (c.dead) return;
    const hadJob = c.session.job;
    const budgeted = hadJob !== null;
    if (hadJob?.ended) {
      c.frameAt = c.frames.length; // frames decoded before the job ended: ignored like late data
      return;
    }
    const t0 = performance.now();
    try {
      while (c.frameAt < c.frames.length) {
        const f = c.frames[c.frameAt++];
        const env = c.session.frame(f);
        for (const tap of this.frameTaps) tap(c.session, f, env);
        if (c.dead) return;
        if (budgeted ? this.turnSpentMs + (performance.now() - t0) >= this.turnBudgetMs : c.session.job) break;
      }
    } catch (e) {
      this.reject(c, e instanceof Error ? e : new Error(String(e)));
      return;
    } finally {
      if (budgeted) this.turnSpentMs += performance.now() - t0;
    }
    if (c.frameAt === c.frames.length) {
      c.frames = [];
      c.frameAt = 0;
    }
    this.afterFrames(c, hadJob);
  }

  /** What a connection's applied frames change: its charge, its job's connections, acks, the
   * job's end or next update. */
  private afterFrames(c: Conn, hadJob: JobProfile | null): void {
    const job = c.session.job;
    if (!job) {
      this.charge(c);
      return;
    }
    if (c.helloTimer) {
      clearTimeout(c.helloTimer);
      c.helloTimer = null;
    }
    if (c.charged) this.uncharge(c);
    const m = this.meta.get(job);
    if (!hadJob && m) {
      m.conns.add(c);
      if (m.lingerTimer) {
        clearTimeout(m.lingerTimer);
        m.lingerTimer = null;
      }
      if (c.session.rank && !c.session.byeReceived) this.emit('rankHello', job, c.session.rank.rank);
      if (c.dead || job.ended) return;
    }
    if (this.options.ack && c.session.lastSeq > c.ackedSeq) {
      c.ackedSeq = c.session.lastSeq;
      c.socket.write(encodeAck(c.ackedSeq));
    }
    if (job.ranksFinished === job.size) {
      this.endJob(job, 'complete');
      return;
    }
    this.scheduleUpdate(job);
  }

  /** Protocol violation: Error frame, close this connection only. */
  private reject(c: Conn, err: Error): void {
    const known = err instanceof WireError;
    const message = known ? err.message : `internal error: ${err.message}`;
    this.emit('connectionError', { error: err, remote: c.remote, job: c.session.job?.id, rank: c.session.rank?.rank });
    if (!c.dead) {
      try {
        c.socket.end(encodeError(message));
      } catch {
        /* socket already gone */
      }
      const s = c.socket;
      if (!s.destroyed) {
        this.rejected.add(s);
        s.once('close', () => this.rejected.delete(s));
      }
      setTimeout(() => s.destroy(), 1000).unref();
    }
    this.drop(c, err);
  }

  /** Charges a connection without Hello to the shared budget; closes the oldest ones past it. */
  private charge(c: Conn): void {
    const now = UNAUTHENTICATED_CONN_BYTES + c.decoder.held;
    this.unauthenticatedBytes += now - c.charged;
    c.charged = now;
    for (const old of this.unauthenticated) {
      if (this.unauthenticatedBytes <= this.options.maxUnauthenticatedBytes) break;
      this.reject(old, new WireError('too many connections without a Hello: the oldest are closed'));
    }
  }

  private uncharge(c: Conn): void {
    this.unauthenticatedBytes -= c.charged;
    c.charged = 0;
    this.unauthenticated.delete(c);
  }

  private drop(c: Conn, _err: Error | null): void {
    if (c.dead) return;
    c.dead = true;
    c.backlog.length = 0;
    c.frames = [];
    c.frameAt = 0;
    if (c.charged || this.unauthenticated.has(c)) this.uncharge(c);
    if (c.helloTimer) {
      clearTimeout(c.helloTimer);
      c.helloTimer = null;
    }
    this.conns.delete(c);
    c.session.close();
    if (!c.socket.destroyed && !_err) c.socket.destroy();
    const job = c.session.job;
    if (!job || job.ended) return;
    const m = this.meta.get(job);
    if (!m) return;
    m.conns.delete(c);
    if (job.ranksFinished === job.size) {
      this.endJob(job, 'complete');
      return;
    }
    this.armLinger(job, m);
  }

  private armLinger(job: JobProfile, m: JobMeta): void {
    if (m.conns.size > 0 || this.closed) return;
    if (m.lingerTimer) clearTimeout(m.lingerTimer);
    // ranks still to come: wait for them longer (they meet in this job, not in a second one)
    const wait =
      job.ranksSeen < job.size ? Math.max(this.options.lingerMs, this.options.joinWindowMs) : this.options.lingerMs;
    m.lingerTimer = setTimeout(() => {
      m.lingerTimer = null;
      if (m.conns.size === 0 && !job.ended) this.endJob(job, 'disconnected');
    }, wait);
    m.lingerTimer.unref?.();
  }

  private scheduleUpdate(job: JobProfile): void {
    const m = this.meta.get(job);
    if (!m || m.updateTimer) return;
    const wait = Math.max(0, m.lastUpdateMs + this.options.updateIntervalMs - Date.now());
    m.updateTimer = setTimeout(() => {
      m.updateTimer = null;
      if (job.ended || job.version === m.lastUpdateVersion) return;
      m.lastUpdateVersion = job.version;
      m.lastUpdateMs = Date.now();
      this.emit('jobUpdate', job);
    }, wait);
    m.updateTimer.unref?.();
  }

  private endJob(job: JobProfile, reason: 'complete' | 'disconnected' | 'closed'): void {
    if (job.ended) return;
    job.endedAtMs = Date.now();
    job.endReason = reason;
    const m = this.meta.get(job);
    if (m) {
      if (m.lingerTimer) clearTimeout(m.lingerTimer);
      if (m.updateTimer) clearTimeout(m.updateTimer);
      this.meta.delete(job);
    }
    this.table.forget(job);
    this.ended.push(job);
    while (this.ended.length > this.options.keepEndedJobs) this.windows?.release(this.ended.shift()!);
    this.emit('jobEnd', job);
  }

  private emitError(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
