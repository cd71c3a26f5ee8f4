export {
  Monitor,
  parseListenAddress,
  type MonitorOptions,
  type MonitorEvents,
  type ConnectionErrorEvent,
} from './monitor.js';
export { JobProfile, type JobEndReason } from './job.js';
export { RankState } from './rank.js';
export { HISTOGRAM_BUCKETS, sizeBucket, bucketLow } from './histogram.js';
export type { Matrix, PairMatrix, SparseMatrix } from './pairs.js';
export type { HistogramCells, HistogramPair } from './matrices.js';
export type { FunctionStats } from './summary.js';
export type { Rates } from './rates.js';
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
