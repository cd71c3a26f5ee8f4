// `--record-dir DIR`: the monitor keeps each rank connection's accepted frames as a rank file,
// DIR/sitempi-<job>-<rank>.smpi, in the format of the shim's file sink (each frame as received:
// a 4-byte little-endian length, then the frame), so that `sitempi report [--trace]` reads a
// monitored run (the only kind with relocations) as it reads a run without a monitor.
//
// Off the hot path: a frame is copied into its file's buffer and written later, by one writer
// that appends to one file at a time (one open file, whatever the number of ranks). Bounded: a
// job records at most maxJobBytes; what waits for the disk is at most maxPendingBytes in all.
// Past either, the job's recording stops (a note says so): each file stays a prefix of its
// rank's stream, whole frames only. Files are created 0600, exclusively, never through a link.
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Session } from './ingest.js';
import type { JobProfile } from './job.js';
import type { Monitor } from './monitor.js';

/** What one job records at most, by default. */
export const DEFAULT_RECORD_MAX_JOB_BYTES = 1024 ** 3;
/** What waits for the disk at most, over all jobs, by default. */
export const DEFAULT_RECORD_MAX_PENDING_BYTES = 64 * 1024 ** 2;
/** A file's buffer is written once it holds this much (else on the next tick of the timer). */
const FLUSH_BYTES = 1 << 20;
/** Names tried for one rank (as the shim: a file already there is kept, the next name used). */
const MAX_NAMES = 100;
/** Jobs recordings() remembers. */
const MAX_RECENT = 100;

export interface RecordDirOptions {
  /** Bytes one job records at most (default 1 GiB). */
  maxJobBytes?: number;
  /** Bytes buffered for the disk at most, all jobs together (default 64 MiB). */
  maxPendingBytes?: number;
  /** How often buffered frames are written (default 500 ms). */
  flushMs?: number;
  /** A job's recording stopped (the cap, a slow disk, a failed write): one line each. */
  onNote?: (message: string) => void;
  /** A job ended and its files are written. */
  onJobWritten?: (r: JobRecording) => void;
}

/** What a job's recording wrote. */
export interface JobRecording {
  job: string;
  files: string[];
  /** bytes accepted for writing (all written once flushed) */
  bytes: number;
  /** why recording stopped early, or null */
  stopped: string | null;
}

interface JobRec {
  job: string;
  bytes: number;
  stopped: string | null;
  rankFiles: RankFile[];
}

interface RankFile {
  rec: JobRec;
  base: string;
  rank: number;
  path: string | null;
  ino: number;
  chunks: Buffer[];
  pending: number;
}

/** The shim's file name for a job id (file_sink.cpp): other characters become '_'. */
export function rankFileBase(dir: string, job: string, rank: number): string {
  return path.join(dir, `sitempi-${job.slice(0, 128).replace(/[^A-Za-z0-9_.-]/g, '_')}-${rank}`);
}

function snapshot(r: JobRec): JobRecording {
  const files = r.rankFiles.filter((f) => f.path !== null).map((f) => f.path!);
  return { job: r.job, files, bytes: r.bytes, stopped: r.stopped };
}

export class RecordDir {
  private readonly jobs = new Map<JobProfile, JobRec>();
  private readonly sessions = new WeakMap<Session, RankFile>();
  private readonly dirty = new Set<RankFile>();
  /** the last jobs recorded (for recordings()) */
  private readonly recent: JobRec[] = [];
  private pendingBytes = 0;
  private draining: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly maxJobBytes: number;
  private readonly maxPendingBytes: number;

  private constructor(
    readonly dir: string,
    private readonly opts: RecordDirOptions,
  ) {
    this.maxJobBytes = opts.maxJobBytes ?? DEFAULT_RECORD_MAX_JOB_BYTES;
    this.maxPendingBytes = opts.maxPendingBytes ?? DEFAULT_RECORD_MAX_PENDING_BYTES;
    this.timer = setInterval(() => this.kick(), opts.flushMs ?? 500);
    this.timer.unref();
  }

  /** Records into `dir` (created 0700 if absent, in a directory that exists). */
  static async open(dir: string, opts: RecordDirOptions = {}): Promise<RecordDir> {
    for (const [k, v] of [
      ['maxJobBytes', opts.maxJobBytes],
      ['maxPendingBytes', opts.maxPendingBytes],
    ] as const)
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RangeError(`${k} must be a size in bytes`);
    // not recursive: its parent must exist (and Node's recursive mkdir loops forever under /proc)
    await fs.mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new Error(`--record-dir ${dir}: ${e.message}`);
    });
    if (!(await fs.stat(dir)).isDirectory()) throw new Error(`--record-dir ${dir} is not a directory`);
    return new RecordDir(dir, opts);
  }

  /** Keeps the frames `monitor` applies from now on; a job's files are written out when it ends. */
  attach(monitor: Monitor): void {
    monitor.frameTaps.push((session, body) => this.frame(session, body));
    monitor.on('jobEnd', (job) => void this.jobEnded(job));
  }

  /** One applied frame of a session (copied: the caller's buffer is reused). Never throws: the
   * monitor would take a throw for the rank's fault. */
  frame(session: Session, body: Uint8Array): void {
    try {
      this.keep(session, body);
    } catch (e) {
      const rec = session.job && this.jobs.get(session.job);
      if (rec && !rec.stopped) this.stop(rec, `internal error: ${(e as Error).message}`);
    }
  }

  private keep(session: Session, body: Uint8Array): void {
    const job = session.job;
    if (!job || !session.rank) return;
    let rf = this.sessions.get(session);
    if (!rf) {
      let rec = this.jobs.get(job);
      if (!rec) {
        rec = { job: job.id, bytes: 0, stopped: null, rankFiles: [] };
        this.jobs.set(job, rec);
        this.recent.push(rec);
        if (this.recent.length > MAX_RECENT) this.recent.shift();
      }
      const rank = session.rank.rank;
      rf = { rec, base: rankFileBase(this.dir, job.id, rank), rank, path: null, ino: 0, chunks: [], pending: 0 };
      rec.rankFiles.push(rf);
      this.sessions.set(session, rf);
    }
    const rec = rf.rec;
    if (rec.stopped) return;
    const size = 4 + body.length;
    if (rec.bytes + size > this.maxJobBytes) {
      this.stop(rec, `reached the cap of ${this.maxJobBytes} bytes`);
      return;
    }
    if (this.pendingBytes + size > this.maxPendingBytes) {
      this.stop(rec, `the disk did not keep up (${this.maxPendingBytes} bytes waiting)`);
      return;
    }
    const buf = Buffer.allocUnsafe(size);
    buf.writeUInt32LE(body.length, 0);
    buf.set(body, 4);
    rf.chunks.push(buf);
    rf.pending += size;
    rec.bytes += size;
    this.pendingBytes += size;
    this.dirty.add(rf);
    if (rf.pending >= FLUSH_BYTES) this.kick();
  }

  /** The last jobs' recordings (up to 100), oldest first; complete once flush() has resolved. */
  recordings(): JobRecording[] {
    return this.recent.map(snapshot);
  }

  /** Writes everything buffered; resolves when it is on the disk. */
  async flush(): Promise<void> {
    this.kick();
    while (this.draining) await this.draining;
  }

  /** Writes everything buffered and stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.jobs.clear();
    await this.flush();
  }

  private stop(rec: JobRec, why: string): void {
    rec.stopped = why;
    this.opts.onNote?.(`job ${rec.job}: recording stopped after ${rec.bytes} bytes: ${why}; its rank files end there`);
  }

  /** A job ended: its files are written out now (no frame of it comes any more). */
  private async jobEnded(job: JobProfile): Promise<void> {
    const rec = this.jobs.get(job);
    if (!rec) return;
    this.jobs.delete(job);
    await this.flush();
    this.opts.onJobWritten?.(snapshot(rec));
  }

  private kick(): void {
    if (this.draining || this.dirty.size === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.dirty.size) this.kick();
    });
  }

  private async drain(): Promise<void> {
    for (const rf of this.dirty) {
      this.dirty.delete(rf);
      const chunks = rf.chunks;
      const bytes = rf.pending;
      rf.chunks = [];
      rf.pending = 0;
      try {
        if (bytes > 0) await this.append(rf, chunks);
      } catch (e) {
        if (!rf.rec.stopped) this.stop(rf.rec, `writing ${rf.path ?? rf.base} failed (${(e as Error).message})`);
        for (const f of rf.rec.rankFiles) this.forget(f);
      } finally {
        this.pendingBytes -= bytes;
      }
    }
  }

  /** Drops what a file of a stopped job still buffers. */
  private forget(rf: RankFile): void {
    this.pendingBytes -= rf.pending;
    rf.chunks = [];
    rf.pending = 0;
    this.dirty.delete(rf);
  }

  /** Appends to the rank's file, created on the first write; a file replaced meanwhile is refused. */
  private async append(rf: RankFile, chunks: Buffer[]): Promise<void> {
    let fh: fs.FileHandle | undefined;
    if (rf.path === null) {
      for (let n = 0; n < MAX_NAMES && !fh; n++) {
        const p = `${rf.base}${n ? `.${n}` : ''}.smpi`;
        const flags = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
        try {
          fh = await fs.open(p, flags, 0o600);
          rf.path = p;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
      if (!fh) throw new Error(`${MAX_NAMES} files named ${rf.base}*.smpi exist already`);
      rf.ino = (await fh.stat()).ino;
    } else {
      fh = await fs.open(rf.path, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_NOFOLLOW);
      const st = await fh.stat().catch(async (e: Error) => {
        await fh!.close();
        throw e;
      });
      if (st.ino !== rf.ino || !st.isFile()) {
        await fh.close();
        throw new Error('the file was replaced');
      }
    }
    try {
      const want = chunks.reduce((a, c) => a + c.length, 0);
      const { bytesWritten } = await fh.writev(chunks);
      if (bytesWritten !== want) throw new Error(`short write (${bytesWritten} of ${want} bytes)`);
    } finally {
      await fh.close();
    }
  }
}
