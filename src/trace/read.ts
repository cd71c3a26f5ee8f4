// Reading the records of per-rank files for a trace: the rank-file reader (loadRankFiles) hands
// each applied frame to a visitor, with its job numbered in order of first appearance (the same
// order on every pass over the same files) and duplicate batches left out, as the report does.
import { FUNCTIONS, ROLE_SHIFT, Role } from '../generated/functions.js';
import { loadRankFiles } from '../monitor/files.js';
import type { JobProfile } from '../monitor/job.js';
import type { RankState } from '../monitor/rank.js';
import type { Batch, Hello, Placement } from '../wire/messages.js';

export const FN_MASK = (1 << ROLE_SHIFT) - 1;
const NFN = FUNCTIONS.length;

/** A call record (what the report counts as a call): roles 0..Coll, a known function. */
export function isCall(code: number): boolean {
  return code >>> ROLE_SHIFT <= Role.Coll && (code & FN_MASK) < NFN;
}

const INIT = new Set(FUNCTIONS.flatMap((f, i) => (f.name === 'MPI_Init' || f.name === 'MPI_Init_thread' ? [i] : [])));

/** When a call began on its rank's clock: the shim stamps MPI_Init's record at the clock's origin
 * (the end of Init) with Init's duration, so Init began `duration` before it. */
export function callStart(code: number, start: number, duration: number): number {
  return INIT.has(code & FN_MASK) ? start - duration : start;
}

export interface RecordVisitor {
  hello?(job: number, profile: JobProfile, hello: Hello): void;
  /** A batch's columns are valid only during the call. */
  batch(job: number, profile: JobProfile, rank: RankState, batch: Batch): void;
  placement?(job: number, placement: Placement): void;
}

export interface ReadOptions {
  /** Read at most this many bytes of each file (as `sitempi report --max-file-size`). */
  maxFileBytes?: number;
}

/** Reads the files once, visiting every accepted frame; returns the job profiles. */
export async function visitRecords(
  paths: string[],
  visitor: RecordVisitor,
  opts: ReadOptions = {},
): Promise<JobProfile[]> {
  const jobIndex = new Map<JobProfile, number>();
  const batchesSeen = new WeakMap<RankState, number>();
  const indexOf = (p: JobProfile): number => {
    let i = jobIndex.get(p);
    if (i === undefined) jobIndex.set(p, (i = jobIndex.size));
    return i;
  };
  return loadRankFiles(paths, {
    maxFileBytes: opts.maxFileBytes,
    onEnvelope: (env, session) => {
      const job = session.job,
        rank = session.rank;
      if (!job || !rank) return;
      switch (env.kind) {
        case 'hello':
          visitor.hello?.(indexOf(job), job, env.hello);
          return;
        case 'batch': {
          // the profile counts a batch only once (RankState.batches grows only then)
          if (rank.batches === (batchesSeen.get(rank) ?? 0)) return;
          batchesSeen.set(rank, rank.batches);
          visitor.batch(indexOf(job), job, rank, env.batch);
          return;
        }
        case 'placement':
          visitor.placement?.(indexOf(job), env.placement);
          return;
        default:
          return;
      }
    },
  });
}
