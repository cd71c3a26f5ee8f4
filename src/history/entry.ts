// One ended job as the history keeps it: its totals, per-function table, coarsened matrix,
// verdict and numbers, placements and relocations. Built from the monitor's JobProfile (after
// `await job.prepare()`) and the placement service's timeline of the job, when there is one.
import path from 'node:path';
import { classify, type Classification, type ClassifyOptions } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { PastVerdict, PlacementHistory } from '../placement/events.js';
import { placementRow, relocationRow, type PlacementRow, type RelocationRow } from '../placement/report.js';
import { coarsen, DEFAULT_MAX_BLOCKS, type CoarseMatrix } from './coarse.js';

export interface HistoryEntry {
  jobId: string;
  name: string;
  program: string;
  size: number;
  /** Date.now() values */
  startedAt: number;
  endedAt: number;
  endReason: string | null;
  records: number;
  bytes: number;
  messages: number;
  mpiSeconds: number;
  wallSeconds: number;
  mpiFraction: number;
  classification: Classification;
  /** the verdict from history the job's first placement used, when it had one */
  startVerdict: PastVerdict | null;
  functions: Array<{ name: string; kind: string; calls: number; bytes: number; timeNs: number }>;
  matrix: CoarseMatrix;
  placements: PlacementRow[];
  relocations: Array<RelocationRow & { costSeconds: number; gainSeconds: number }>;
}

/** The default name of a job: its program's file name (Hello.program), else its id. */
export function defaultJobName(job: JobProfile): string {
  return job.program ? path.basename(job.program) : job.id;
}

export function historyEntry(
  job: JobProfile,
  opts: {
    name?: string;
    classify?: ClassifyOptions;
    placement?: PlacementHistory | null;
    maxBlocks?: number;
  } = {},
): HistoryEntry {
  const pm = job.pairMatrix();
  const h = opts.placement ?? null;
  const wallSeconds = job.wallNs / 1e9;
  const mpiNs = job.ranks.reduce((s, r) => s + (r ? r.mpiNs : 0), 0);
  return {
    jobId: job.id,
    name: opts.name || defaultJobName(job),
    program: job.program,
    size: job.size,
    startedAt: job.startedAtMs,
    endedAt: job.endedAtMs ?? Date.now(),
    endReason: job.endReason,
    records: job.records,
    bytes: Number(pm.totalBytes()),
    messages: Number(pm.totalMessages()),
    mpiSeconds: mpiNs / 1e9,
    wallSeconds,
    mpiFraction: job.mpiFraction,
    classification: classify(job, opts.classify),
    startVerdict: h?.fromHistory ?? null,
    functions: job
      .functions()
      .map((f) => ({ name: f.name, kind: f.kind, calls: f.count, bytes: f.bytes, timeNs: f.timeNs })),
    matrix: coarsen(pm, opts.maxBlocks ?? DEFAULT_MAX_BLOCKS),
    placements: (h?.timeline ?? []).map(placementRow),
    relocations: (h?.relocations ?? []).map((e) => ({
      ...relocationRow(e),
      costSeconds: e.numbers.cost.costSeconds,
      gainSeconds: e.numbers.gain.gainSeconds,
    })),
  };
}
