// The replay engine: a discrete-event LogGP replay of a trace on a cluster (the event loop:
// ./loop.ts; the model: docs/replay.md).
import { checkCluster, type Cluster } from './cluster.js';
import { Engine } from './loop.js';
import type { Trace } from './trace.js';

export interface ReplayResult {
  /** predicted wall time: the last rank's end (ns) */
  wallNs: number;
  endNs: Float64Array;
  /** per rank: time in compute gaps, in MPI waiting on local messages, on WAN messages */
  computeNs: Float64Array;
  localNs: Float64Array;
  wanNs: Float64Array;
  /** operations replayed */
  events: number;
  /** ranks that could not finish (waiting for a message that never comes: a mismatched trace) */
  stalled: number[];
}

export function replay(trace: Trace, cluster: Cluster): ReplayResult {
  return replayWith(trace, cluster, true);
}

/** The replay kept in time order to its end (the reference the dataflow mode's results must equal). */
export function replayInTimeOrder(trace: Trace, cluster: Cluster): ReplayResult {
  return replayWith(trace, cluster, false);
}

function replayWith(trace: Trace, cluster: Cluster, mayFlow: boolean): ReplayResult {
  const P = trace.size;
  checkCluster(cluster, P);
  const e = new Engine(trace, cluster, mayFlow);
  e.run();
  const stalled: number[] = [];
  let wallNs = 0;
  for (let r = 0; r < P; r++) {
    if (e.pc[r] < trace.first[r + 1]) stalled.push(r);
    wallNs = Math.max(wallNs, e.t[r]);
  }
  return {
    wallNs,
    endNs: e.t,
    computeNs: e.computeNs,
    localNs: e.localNs,
    wanNs: e.wanNs,
    events: e.events,
    stalled,
  };
}
