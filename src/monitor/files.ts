// Reading the per-rank files the shim writes when no monitor is configured
// (sitempi-<job>-<rank>.smpi: the same frames it would have sent: Hello, CommDef*, Batch*, Bye).
//
// Only regular files are read (a FIFO would block, a device never end), at most maxFileBytes of
// each, streamed in 1 MiB chunks: memory does not grow with the file. A frame that does not decode
// (a flipped byte) is skipped and counted, and the frames after it are read: the length prefixes
// still delimit them. Only a broken length prefix (a frame longer than the protocol allows) ends a
// file early.
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FrameDecoder } from '../wire/frames.js';
import { BatchScratch, decodeEnvelope, type Envelope } from '../wire/messages.js';
import { JobTable, type Session } from './ingest.js';
import type { JobProfile } from './job.js';

/** Bytes read of one file at most, by default: far above what a rank writes in a day of records. */
export const DEFAULT_MAX_FILE_BYTES = 16 * 1024 ** 3;
const CHUNK_BYTES = 1 << 20;

export interface LoadOptions {
  /** Called for each problem that did not stop loading (a refused file, skipped frames, a cut tail). */
  onWarning?: (message: string) => void;
  /** Throw on the first problem instead. Default false. */
  strict?: boolean;
  rateWindowSeconds?: number;
  /** Read at most this many bytes of each file (the rest is left out, with a warning). Default 16 GiB. */
  maxFileBytes?: number;
  /** Filled in while loading, for the report: what was skipped. */
  stats?: LoadStats;
  /** Called with each frame that was applied, and its file's session (src/trace reads records so;
   * a batch's columns are valid only during the call). */
  onEnvelope?: (env: Envelope, session: Session) => void;
}

export interface LoadStats {
  /** frames that did not decode and were skipped, by job id ('' when the file's Hello was lost) */
  badFrames: Map<string, number>;
  /** files not read: not regular files, or unreadable */
  refusedFiles: string[];
}

export function newLoadStats(): LoadStats {
  return { badFrames: new Map(), refusedFiles: [] };
}

/** Expands directories into the *.smpi files they contain (sorted). */
export async function expandRankFilePaths(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await fs.stat(p);
    if (st.isDirectory()) {
      const names = (await fs.readdir(p)).filter((n) => n.endsWith('.smpi')).sort(naturalCompare);
      out.push(...names.map((n) => path.join(p, n)));
    } else out.push(p);
  }
  return out;
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

function fileKind(st: {
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
  isDirectory(): boolean;
}): string {
  return st.isFIFO()
    ? 'a FIFO'
    : st.isCharacterDevice()
      ? 'a character device'
      : st.isBlockDevice()
        ? 'a block device'
        : st.isSocket()
          ? 'a socket'
          : st.isDirectory()
            ? 'a directory'
            : 'not a regular file';
}

/**
 * Reads per-rank files (or directories of them) into job profiles, grouped by Hello.job, in the
 * order their jobs first appear. A file whose tail is cut off (the rank died) keeps what came
 * before; frames that do not decode are skipped and counted (opts.stats); files that are not
 * regular files are refused; each with a warning (or an exception with `strict`).
 */
export async function loadRankFiles(paths: string[], opts: LoadOptions = {}): Promise<JobProfile[]> {
  const files = await expandRankFilePaths(paths);
  const table = new JobTable({ rateWindowSeconds: opts.rateWindowSeconds });
  const jobs: JobProfile[] = [];
  table.onJobStart = (j) => jobs.push(j);
  const stats = opts.stats ?? newLoadStats();
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const scratch = new BatchScratch();
  const warn = (m: string): void => {
    if (opts.strict) throw new Error(m);
    opts.onWarning?.(m);
  };
  for (const file of files) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (fstat then refuses it)
    const fh = await fs.open(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY).catch((e: Error) => e);
    if (fh instanceof Error) {
      stats.refusedFiles.push(file);
      warn(`${file}: ${fh.message}`);
      continue;
    }
    const session = table.session();
    const decoder = new FrameDecoder();
    let frames = 0,
      bad = 0,
      total = 0,
      firstBad = '';
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        stats.refusedFiles.push(file);
        warn(`${file}: ${fileKind(st)}, not a regular file: not read`);
        continue;
      }
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      let stop = '';
      while (!stop) {
        const want = Math.min(buf.length, maxBytes - total);
        if (want <= 0) {
          if ((await fh.read(buf, 0, 1, total)).bytesRead > 0)
            stop = `read only its first ${maxBytes} bytes (the limit per file)`;
          break;
        }
        const { bytesRead } = await fh.read(buf, 0, want, total);
        if (bytesRead === 0) break;
        total += bytesRead;
        let bodies: Uint8Array[];
        try {
          bodies = decoder.push(buf.subarray(0, bytesRead));
        } catch (e) {
          stop = `${(e as Error).message}: the frames after ${frames + bad} are lost`;
          break;
        }
        for (const body of bodies) {
          try {
            const env = decodeEnvelope(body, scratch);
            session.apply(env);
            frames++;
            opts.onEnvelope?.(env, session);
          } catch (e) {
            if (opts.strict) throw new Error(`${file}: ${(e as Error).message} (after ${frames} frames)`);
            if (!bad) firstBad = `frame ${frames + bad}: ${(e as Error).message}`;
            bad++;
          }
        }
      }
      if (bad)
        warn(
          `${file}: ${bad} frame${bad === 1 ? '' : 's'} that did not decode skipped (first: ${firstBad}); ${frames} read`,
        );
      if (stop) warn(`${file}: ${stop}`);
      else if (decoder.pending > 0)
        warn(`${file}: truncated after ${frames} frames (${decoder.pending} bytes of an incomplete frame)`);
      else if (frames === 0 && bad === 0) warn(`${file}: empty`);
    } finally {
      session.close();
      await fh.close();
      if (bad) {
        const id = session.job?.id ?? '';
        stats.badFrames.set(id, (stats.badFrames.get(id) ?? 0) + bad);
      }
    }
  }
  for (const j of jobs) {
    j.endedAtMs = Date.now();
    j.endReason = 'files';
  }
  return jobs;
}
