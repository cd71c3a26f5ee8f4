export {
  Monitor,
  parseListenAddress,
  type MonitorOptions,
  type MonitorEvents,
  type ConnectionErrorEvent,
} from './monitor.js';
export {
  JobProfile,
  RankState,
  HISTOGRAM_BUCKETS,
  sizeBucket,
  bucketLow,
  type Matrix,
  type PairMatrix,
  type SparseMatrix,
  type HistogramCells,
  type FunctionStats,
  type Rates,
  type JobEndReason,
} from './job.js';
export type { CommInfo } from './comm.js';
export { loadRankFiles, expandRankFilePaths, type LoadOptions } from './files.js';
export {
  classify,
  classifyNumbers,
  crossTraffic,
  type Classification,
  type ClassifyOptions,
  type ClassifyInput,
  type Verdict,
} from './classify.js';
export { JobTable, Session, ProtocolError, tokensEqual, type JobRegistration } from './ingest.js';
export { DEFAULT_JOB_LIMITS, DEFAULT_MAX_RANKS, DENSE_MAX_RANKS, type JobLimits } from './limits.js';
export { U64Array, MAX_EXACT } from './counters.js';
