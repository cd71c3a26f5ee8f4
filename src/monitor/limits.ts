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
   * Rank pairs with traffic a job keeps, summed over its placement epochs (the matrices are
   * sparse: a pair costs a cell only once it talks). Point-to-point traffic and expanded
   * collectives have this budget each; a cell costs 24 bytes in a table kept 3/8 to 3/4 full
   * (32-64 bytes). Traffic of a pair that would need a cell past the budget is counted, left out
   * of the matrix, and the report says so.
   */
  maxMatrixCells: number;
  /** Placement epochs kept per job; later ones are merged into the last epoch kept. */
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
  // 8 Mi pairs: at most 512 MiB of p2p pairs (a 65 536-rank 7-point stencil has 393 216 pairs an
  // epoch); an all-to-all of 4096 ranks (16.8 Mi pairs) is cut short, and counted
  maxMatrixCells: 1 << 23,
  maxEpochs: 1024,
  maxCommRefs: 1 << 20,
  maxCommMembers: 1 << 21,
  maxCollEntries: 1 << 20,
  maxHistogramCells: 1 << 21,
  maxTrackedGaps: 1 << 20,
  maxPlacementSwitches: 4096,
};

/**
 * Largest P such that a job of P ranks may be accepted at all: see MonitorOptions.maxRanks. A
 * guard against nonsense sizes, not a memory limit: what a job holds grows with its traffic and
 * is bounded by the JobLimits.
 */
export const DEFAULT_MAX_RANKS = 65536;

/** Largest job whose matrix JobProfile.matrix() gives dense (size^2 cells: 256 MiB at 4096
 * ranks); larger jobs are read through pairMatrix(). */
export const DENSE_MAX_RANKS = 4096;

/** Data a job did not keep because a limit was reached (all zero in any ordinary run). */
export class LimitCounters {
  /** batches whose placement epoch was merged into the last epoch kept */
  mergedEpochBatches = 0;
  /** the last epoch kept, into which later epochs were merged (-1: none merged) */
  mergedInto = -1;
  /** collective records not expanded: the job's collective table was full */
  collectivesOverLimit = 0;
  /** point-to-point records left out of the matrix: their pair needed a cell past maxMatrixCells */
  pairsOverLimit = 0;
  /** point-to-point records left out of the size histograms (the histograms are full) */
  histogramOverLimit = 0;
  /** batch sequence gaps counted without being remembered */
  untrackedGaps = 0;
  /** placement switch marks ignored */
  switchesOverLimit = 0;

  /** One line per limit reached, for the report (empty when none was). */
  notes(limits: JobLimits, collectivePairsOverLimit = 0): string[] {
    const out: string[] = [];
    if (this.mergedEpochBatches)
      out.push(
        `${this.mergedEpochBatches} batches of later placement epochs were merged into epoch ${this.mergedInto}: a job keeps ${limits.maxEpochs} epochs (maxEpochs)`,
      );
    if (this.pairsOverLimit)
      out.push(
        `${this.pairsOverLimit} point-to-point records are missing from the matrix: more than ${limits.maxMatrixCells} rank pairs talked (maxMatrixCells)`,
      );
    if (collectivePairsOverLimit)
      out.push(
        `${collectivePairsOverLimit} messages of expanded collectives are missing from the matrix: they connect more than ${limits.maxMatrixCells} rank pairs (maxMatrixCells)`,
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

/** Placement epochs a job keeps under `limits` (at least one). */
export function epochsKept(limits: JobLimits): number {
  return Math.max(1, limits.maxEpochs);
}
