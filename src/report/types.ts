// The shapes of a report (docs/report-json.md): what jobReport builds and formatJobText reads.
import type { Classification, ClassifyOptions } from '../monitor/classify.js';
import type { Rates } from '../monitor/job.js';

export interface ReportOptions {
  classify?: ClassifyOptions;
  /** Rows in the top-N tables (functions, pairs). Default 10. */
  top?: number;
  /** Include per-pair message-size histograms in JSON. Default true. */
  histograms?: boolean;
  /** Frames of each job's rank files that did not decode and were skipped (loadRankFiles' stats). */
  badFrames?: ReadonlyMap<string, number>;
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
  ranks: RankReport[];
  functions: FunctionReport[];
  matrix: { bytes: number[][]; messages: number[][] };
  epochs: Array<{ epoch: number; bytes: number[][]; messages: number[][] }>;
  topPairs: PairReport[];
  histograms?: { bucketMinBytes: number[]; pairs: Array<{ src: number; dst: number; counts: number[] }> };
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
