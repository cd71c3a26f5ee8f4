// Reading the per-rank files the shim writes when no monitor is configured
// (sitempi-<job>-<rank>.smpi: the same frames it would have sent: Hello, CommDef*, Batch*, Bye).
import fs from 'node:fs/promises';
import path from 'node:path';
import { FrameDecoder } from '../wire/frames.js';
import { JobTable } from './ingest.js';
import type { JobProfile } from './job.js';

export interface LoadOptions {
  /** Called for each problem that did not stop loading (truncated or malformed file tail). */
  onWarning?: (message: string) => void;
  /** Throw on the first problem instead. Default false. */
  strict?: boolean;
  rateWindowSeconds?: number;
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

/**
 * Reads per-rank files (or directories of them) into job profiles, grouped by Hello.job, in the
 * order their jobs first appear. A file whose tail is cut off (the rank died) or malformed keeps
 * what came before, with a warning (or an exception with `strict`).
 */
export async function loadRankFiles(paths: string[], opts: LoadOptions = {}): Promise<JobProfile[]> {
  const files = await expandRankFilePaths(paths);
  const table = new JobTable({ rateWindowSeconds: opts.rateWindowSeconds });
  const jobs: JobProfile[] = [];
  table.onJobStart = (j) => jobs.push(j);
  const warn = (m: string): void => {
    if (opts.strict) throw new Error(m);
    opts.onWarning?.(m);
  };
  for (const file of files) {
    const data = await fs.readFile(file);
    const session = table.session();
    const decoder = new FrameDecoder();
    let n = 0;
    try {
      for (const f of decoder.push(data)) {
        session.frame(f);
        n++;
      }
      if (decoder.pending > 0) warn(`${file}: truncated after ${n} frames (${decoder.pending} bytes of an incomplete frame)`);
      else if (n === 0) warn(`${file}: empty`);
    } catch (e) {
      warn(`${file}: ${(e as Error).message} (after ${n} frames)`);
    } finally {
      session.close();
    }
  }
  for (const j of jobs) {
    j.endedAtMs = Date.now();
    j.endReason = 'files';
  }
  return jobs;
}
