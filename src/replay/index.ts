// The replay model (docs/replay.md): a job's records replayed on any placement.
import type { Cluster } from './cluster.js';
import { replay, type ReplayResult } from './engine.js';
import type { Trace } from './trace.js';

export * from './calibrate.js';
export * from './cluster.js';
export { replay, type ReplayResult } from './engine.js';
export { buildTrace, readRankRecords, traceFromFiles, DEFAULT_MAX_RECORDS_PER_RANK } from './records.js';
export type { BuildOptions, RankRecords, ReadOptions } from './records.js';
export { Coll, emitSteps, tunedSteps, type Step } from './schedules.js';
export { Op, TraceBuilder, type Trace } from './trace.js';

export interface Prediction {
  /** the replay on the placement asked for */
  target: ReplayResult;
  /** the replay on the recorded placement */
  baseline: ReplayResult;
  /** target / baseline wall time: the slowdown the model predicts */
  slowdown: number;
  /** target wall time / the recorded run's (NaN when the trace has no recorded time) */
  slowdownVsRecorded: number;
}

/**
 * The predicted slowdown of a job on `target` against `recorded` (the cluster and placement its
 * records were taken on): both replayed with the same model, so that the model's own error on the
 * recorded placement cancels out.
 */
export function predict(trace: Trace, recorded: Cluster, target: Cluster): Prediction {
  const baseline = replay(trace, recorded);
  const t = replay(trace, target);
  return {
    target: t,
    baseline,
    slowdown: baseline.wallNs > 0 ? t.wallNs / baseline.wallNs : 1,
    slowdownVsRecorded: trace.recordedNs > 0 ? t.wallNs / trace.recordedNs : NaN,
  };
}
