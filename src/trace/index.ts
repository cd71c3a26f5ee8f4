// Timelines: a Chrome/Perfetto trace (JSON Trace Event Format) of the jobs in per-rank files, one
// track per rank with its MPI calls, placement marks and relocations as instant events
// (docs/trace.md). Two passes over the files keep memory bounded by the event bound: the first
// counts each rank's calls and time range, the second keeps the calls (or their time buckets).
import { collectCalls, bucketPlan } from './collect.js';
import { emitJob } from './events.js';
import { ChunkedFileWriter } from './out-file.js';
import { scanFiles } from './scan.js';

/** Call events per trace file at most, by default (past it calls are coalesced into spans). */
export const DEFAULT_TRACE_MAX_EVENTS = 1_000_000;
/** Placement marks kept at most (they are few: a few per communicator and relocation). */
export const MAX_TRACE_MARKS = 100_000;

export interface TraceOptions {
  /** Bound on call events (spans); past it each rank's calls are summed by time bucket. */
  maxEvents?: number;
  /** Read at most this many bytes of each file. */
  maxFileBytes?: number;
  /** Permission bits of the trace file (default 0600: it holds host and program names). */
  mode?: number;
}

export interface TraceSummary {
  file: string;
  jobs: number;
  ranks: number;
  /** call records in the files */
  calls: number;
  /** call events written (calls, or spans when coalesced) */
  spans: number;
  /** calls the written spans stand for (equals `calls` unless a file grew while being read) */
  callsWritten: number;
  coalesced: boolean;
  instants: number;
  /** placement marks left out past MAX_TRACE_MARKS */
  marksOverLimit: number;
  bytes: number;
}

/** Writes the trace of the jobs in `paths` (per-rank files or directories of them) to `out`. */
export async function writeTrace(paths: string[], out: string, opts: TraceOptions = {}): Promise<TraceSummary> {
  const maxEvents = opts.maxEvents ?? DEFAULT_TRACE_MAX_EVENTS;
  if (!Number.isInteger(maxEvents) || maxEvents < 1) throw new RangeError(`maxEvents must be a positive integer`);
  const read = { maxFileBytes: opts.maxFileBytes };
  // the file first: a trace that cannot be written is said before the files are read
  const w = await ChunkedFileWriter.create(out, opts.mode ?? 0o600);
  try {
    const scan = await scanFiles(paths, MAX_TRACE_MARKS, read);
    const plan = bucketPlan(scan, maxEvents);
    const collected = await collectCalls(paths, scan, plan, read);
    const summary: TraceSummary = {
      file: out,
      jobs: scan.jobs.length,
      ranks: 0,
      calls: scan.calls,
      spans: 0,
      callsWritten: 0,
      coalesced: plan !== null,
      instants: 0,
      marksOverLimit: 0,
      bytes: 0,
    };
    const other = { producer: 'sitempi', maxEvents, coalesced: plan !== null, calls: scan.calls };
    await w.write(`{"displayTimeUnit":"ns","otherData":${JSON.stringify(other)},"traceEvents":[\n`);
    let first = true;
    const emit = (json: string): Promise<void> | undefined => {
      const p = w.write(first ? json : `,\n${json}`);
      first = false;
      return p;
    };
    for (let ji = 0; ji < scan.jobs.length; ji++) {
      const job = scan.jobs[ji];
      const c = await emitJob(job, ji + 1, collected.ranks[ji], plan !== null, emit);
      summary.ranks += job.ranks.size;
      summary.spans += c.spans;
      summary.callsWritten += c.calls;
      summary.instants += c.instants;
      summary.marksOverLimit += job.marksOverLimit;
    }
    await w.write('\n]}\n');
    await w.commit();
    summary.bytes = w.bytes;
    return summary;
  } catch (e) {
    await w.abort();
    throw e;
  }
}
