// The job history as the run and monitor commands use it: `--history FILE` opens the store, every
// ended job is written to it (after the report: off the ingest path, one small transaction), and
// the placement service reads a job name's past verdict from it.
import type { ClassifyOptions } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { PlacementService } from '../placement/service.js';
import { defaultJobName, historyEntry } from './entry.js';
import { defaultHistoryPath, HistoryStore } from './store.js';

/** `--history FILE`: FILE, or 'default' for defaultHistoryPath(). */
export function historyPath(value: string): string {
  return value === 'default' ? defaultHistoryPath() : value;
}

export class HistoryRecorder {
  /** job id -> name given at submission (sitempi run --name) */
  readonly names = new Map<string, string>();

  constructor(
    readonly store: HistoryStore,
    private readonly opts: { classify?: ClassifyOptions; log: (m: string) => void },
  ) {}

  static open(file: string, opts: { classify?: ClassifyOptions; log: (m: string) => void }): HistoryRecorder {
    return new HistoryRecorder(HistoryStore.open(historyPath(file)), opts);
  }

  /** The job's name: given at submission, else its program's file name. */
  nameOf(job: JobProfile): string {
    return this.names.get(job.id) ?? defaultJobName(job);
  }

  /** Makes the placement service start jobs with their past verdict. */
  attach(svc: PlacementService | null): void {
    if (svc) svc.pastVerdict = (job) => this.store.pastVerdict(this.nameOf(job));
  }

  /** Writes an ended job (after `await job.prepare()`); a failure is logged, never thrown. */
  record(job: JobProfile, svc: PlacementService | null): void {
    try {
      const e = historyEntry(job, {
        name: this.nameOf(job),
        classify: this.opts.classify,
        placement: svc?.history(job) ?? null,
      });
      const { ms } = this.store.write(e);
      if (process.env.SITEMPI_HISTORY_DEBUG)
        this.opts.log(`history: job ${job.id} (${e.name}) written in ${ms.toFixed(2)} ms`);
    } catch (err) {
      this.opts.log(`history: job ${job.id} not written: ${(err as Error).message}`);
    }
  }

  close(): void {
    this.store.close();
  }
}

/** The recorder for `--history FILE` (null without the option). Throws when the file cannot be used. */
export function historyFromOptions(
  values: Record<string, string | boolean | string[]>,
  classify: ClassifyOptions | undefined,
  log: (m: string) => void,
): HistoryRecorder | null {
  return typeof values.history === 'string' ? HistoryRecorder.open(values.history, { classify, log }) : null;
}
