// The shapes of a report (docs/report-json.md): what jobReport builds and formatJobText reads.
import type { Classification, ClassifyOptions } from '../monitor/classify.js';
import type { Rates } from '../monitor/rates.js';
import type { CoarseMatrix } from './coarse.js';
import type { SparseMatrixJson } from './sparse.js';

export interface ReportOptions {
  classify?: ClassifyOptions;
  /** Rows in the top-N tables (functions, pairs). Default 10. */
  top?: number;
  /** Include per-pair message-size histograms in JSON. Default true. */
  histograms?: boolean;
  /** Frames of each job's rank files that did not decode and were skipped (loadRankFiles' stats). */
  badFrames?: ReadonlyMap<string, number>;
  /** Also write every matrix in full, in the sparse format (sparseMatrix, epochs[].sparse). Default false. */
  fullMatrix?: boolean;
}

export interface RankReport {
  rank: number;
  host: string;
  pid: number;
  /** sent Hello */
  seen: boolean;
  /** sent Bye (its totals are final) */
  finished: boolean;
  wallSeconds: number;
  mpiSeconds: number;
  mpiFraction: number;
  /** time in MPI_Init/Init_thread/MPI_Finalize: not in mpiSeconds */
  initFinalizeSeconds: number;
  records: number;
  calls: number;
  droppedRecords: number;
  lostBatches: number;
  lostRecords: number;
  duplicateBatches: number;
  /** call or part records whose peer is outside 0..size-1: in the function table, not the matrix */
  invalidPeerRecords: number;
  /** records of function ids this monitor does not know: in no table */
  unknownFunctionRecords: number;
  crossSiteBytes: number;
  crossSiteMessages: number;
}

export interface FunctionReport {
  name: string;
  id: number;
  kind: string;
  /** calls */
  count: number;
  bytes: number;
  seconds: number;
  /** share of all time in MPI over all ranks */
  mpiShare: number;
}

export interface PairReport {
  src: number;
  dst: number;
  bytes: number;
  messages: number;
}

export interface JobReport {
  id: string;
  program: string;
  size: number;
  complete: boolean;
  endReason: string | null;
  ranksSeen: number;
  ranksFinished: number;
  wallSeconds: number;
  mpiSeconds: number;
  mpiFraction: number;
  /** time in MPI_Init/Init_thread/MPI_Finalize summed over ranks: not in mpiSeconds */
  initFinalizeSeconds: number;
  records: number;
  /** every rank up to MAX_LISTED_RANKS ranks, else those rankSummary names (by rank) */
  ranks: RankReport[];
  rankSummary: RankSummary;
  functions: FunctionReport[];
  /** ranks-with-traffic pairs of the whole job */
  pairCount: number;
  /** size x size, row = source: jobs up to MAX_BLOCKS ranks only */
  matrix?: { bytes: number[][]; messages: number[][] };
  /** the matrix in at most MAX_BLOCKS x MAX_BLOCKS blocks: jobs above MAX_BLOCKS ranks only */
  coarseMatrix?: CoarseMatrix;
  /** every non-zero pair: with the fullMatrix option only */
  sparseMatrix?: SparseMatrixJson;
  /** per placement epoch when there are several, in the forms the job's matrix has (same blocks) */
  epochs: Array<{
    epoch: number;
    bytes?: number[][];
    messages?: number[][];
    coarse?: { bytes: number[][]; messages: number[][] };
    sparse?: SparseMatrixJson;
  }>;
  topPairs: PairReport[];
  /** every pair's histogram up to MAX_BLOCKS ranks (or with fullMatrix), else those of topPairs */
  histograms?: {
    scope: 'all' | 'topPairs';
    bucketMinBytes: number[];
    pairs: Array<{ src: number; dst: number; counts: number[] }>;
  };
  dropped: {
    records: number;
    lostBatches: number;
    lostRecords: number;
    duplicateBatches: number;
    invalidPeerRecords: number;
    unknownFunctionRecords: number;
    badFrames: number;
  };
  unexpandedCollectives: number;
  /** data the monitor did not keep because the job reached one of its limits (one line each) */
  limits: string[];
  /** when each communicator switched placement epochs (monitor-provided placements only) */
  placementSwitches: Array<{
    comm: number;
    commSize: number;
    epoch: number;
    call: number;
    jobSeconds: number;
    ranks: number;
  }>;
  rates: Rates;
  classification: Classification;
}

export interface Report {
  schema: number;
  generator: string;
  generatedAt: string;
  jobs: JobReport[];
}

export interface Quantiles {
  min: number;
  p10: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  max: number;
  mean: number;
}

export interface RankSummary {
  /** "all": `ranks` lists every rank; "extremes": the ranks named below only */
  listed: 'all' | 'extremes';
  /** ranks in `ranks` */
  ranksListed: number;
  /** the ranks with the most / least time in MPI, most (least) first; empty when all are listed */
  mostMpi: number[];
  leastMpi: number[];
  /** ranks that never connected, sent no Bye or lost data (the first `top` of them); empty when all are listed */
  problems: number[];
  notSeen: number;
  notFinished: number;
  /** ranks with dropped or lost records */
  withLosses: number;
  /** call records over all ranks */
  calls: number;
  /** over the ranks that connected (all zero when none did) */
  quantiles: {
    wallSeconds: Quantiles;
    mpiSeconds: Quantiles;
    mpiFraction: Quantiles;
    calls: Quantiles;
    records: Quantiles;
  };
}
