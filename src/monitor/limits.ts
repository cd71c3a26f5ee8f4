// What one job may make the monitor hold. Every structure a client's input can grow has a cap here,
// so that no input, valid or not, makes one job (or its report) cost more than a known bound; data
// past a cap is counted and said in the report, never silently lost.
import { WireError } from '../wire/frames.js';

/** The peer broke the protocol or a limit; the message goes back in an Error frame. */
export class ProtocolError extends WireError {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface JobLimits {
  /**
   * Matrix cells (rank pairs x placement epochs) a job keeps; one epoch is always kept. Each cell
   * costs 16 bytes for point-to-point traffic and 16 for expanded collectives, and as much again
   * in a report. Placement epochs past the budget (or past maxEpochs) are merged into the last
   * epoch kept, and the report says so.
   */
  maxMatrixCells: number;
  /** Placement epochs kept per job, whatever the size. */
  maxEpochs: number;
  /** Communicator ids (CommDef.local_id) known per job, over all its ranks. */
  maxCommRefs: number;
  /** Communicator members (both groups) over a job's distinct communicators. */
  maxCommMembers: number;
  /** Distinct (epoch, function, communicator, algorithm, root, bytes) collective entries per job. */
  maxCollEntries: number;
  /** Non-empty (pair, size bucket) histogram cells per job. */
  maxHistogramCells: number;
  /** Missing batch sequence numbers remembered per job (so that late batches are accepted). */
  maxTrackedGaps: number;
  /** Distinct placement switches (communicator, epoch) per job. */
  maxPlacementSwitches: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = {
  maxMatrixCells: 1 << 22, // 4 Mi cells: 64 MiB of p2p matrices (one epoch of 2048 ranks, 64 of 256)
  maxEpochs: 1024,
  maxCommRefs: 1 << 20,
  maxCommMembers: 1 << 21,
  maxCollEntries: 1 << 20,
  maxHistogramCells: 1 << 21,
  maxTrackedGaps: 1 << 20,
  maxPlacementSwitches: 4096,
};

/** Largest P such that a job of P ranks may be accepted at all: see MonitorOptions.maxRanks. */
export const DEFAULT_MAX_RANKS = 8192;

/** Data a job did not keep because a limit was reached (all zero in any ordinary run). */
export class LimitCounters {
  /** batches whose placement epoch was merged into the last epoch kept */
  mergedEpochBatches = 0;
  /** the last epoch kept, into which later epochs were merged (-1: none merged) */
  mergedInto = -1;
  /** collective records not expanded: the job's collective table was full */
  collectivesOverLimit = 0;
  /** point-to-point records left out of the size histograms (the histograms are full) */
  histogramOverLimit = 0;
  /** batch sequence gaps counted without being remembered */
  untrackedGaps = 0;
  /** placement switch marks ignored */
  switchesOverLimit = 0;

  /** One line per limit reached, for the report (empty when none was). */
  notes(limits: JobLimits, size: number, epochsKept: number): string[] {
    const out: string[] = [];
    if (this.mergedEpochBatches)
      out.push(
        `${this.mergedEpochBatches} batches of later placement epochs were merged into epoch ${this.mergedInto}: a job of ${size} ranks keeps ${epochsKept} epochs (maxMatrixCells ${limits.maxMatrixCells}, maxEpochs ${limits.maxEpochs})`,
      );
    if (this.collectivesOverLimit)
      out.push(
        `${this.collectivesOverLimit} collective records were not expanded: more than ${limits.maxCollEntries} distinct collective calls (maxCollEntries)`,
      );
    if (this.histogramOverLimit)
      out.push(
        `${this.histogramOverLimit} messages are missing from the size histograms: more than ${limits.maxHistogramCells} histogram cells (maxHistogramCells)`,
      );
    if (this.untrackedGaps)
      out.push(
        `${this.untrackedGaps} missing batches were counted but not remembered (maxTrackedGaps ${limits.maxTrackedGaps}): a late one counts as lost`,
      );
    if (this.switchesOverLimit)
      out.push(
        `${this.switchesOverLimit} placement switch marks were ignored (more than ${limits.maxPlacementSwitches} switches)`,
      );
    return out;
  }
}

/** Placement epochs a job of `size` ranks keeps under `limits`. */
export function epochsKept(limits: JobLimits, size: number): number {
  return Math.max(1, Math.min(limits.maxEpochs, Math.floor(limits.maxMatrixCells / (size * size))));
}
