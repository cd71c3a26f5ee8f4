// The planner's gain estimate from the replay model (docs/replay.md): a job's recorded trace
// replayed on a placement given as ranks per site, relative to its replay on one site (the
// planner only uses ratios of two placements). Ranks go to sites in rank order (the contiguous
// split), one rank per node; the local link parameters are those of the cluster the trace was
// recorded on. Each placement is replayed once and remembered: a plan asks about few placements.
//
// A job without enough records (or one too large to replay in a plan) gets no replay model: the
// planner then weighs its moves with the old formula (src/placement/cost.ts, relocationGain).
import { replay, Op, type Cluster, type Trace, type WanLink } from '../replay/index.js';
import { buildTrace } from '../replay/records.js';
import { makeCluster, wanLink } from '../replay/cluster.js';
import type { JobProfile } from '../monitor/job.js';
import {
  MAX_PREDICTED_RANKS,
  MIN_COMM_RECORDS_PER_RANK,
  recordedPlacement,
  replayWindowOf,
} from '../monitor/prediction.js';
import type { LinkTable } from './planner-model.js';

/** Run time on a placement (ranks per site) relative to one site; NaN when the replay stalled. */
export type SlowdownModel = (counts: readonly number[]) => number;

export function replaySlowdown(trace: Trace, recorded: Cluster, links: LinkTable): SlowdownModel {
  const k = links.latency.length;
  const wanLinks: WanLink[][] = links.latency.map((row, a) =>
    row.map((lat, b) => ({
      L: lat * 1e9,
      G: Number.isFinite(links.bandwidth[a][b]) ? 1e9 / (links.bandwidth[a][b] / 8) : 0,
    })),
  );
  const wallNs = (siteOf: Int32Array) => {
    const r = replay(trace, { ...recorded, siteOf, nodeOf: undefined, wanLinks });
    return r.stalled.length ? NaN : r.wallNs;
  };
  const base = wallNs(new Int32Array(trace.size));
  const memo = new Map<string, number>();
  return (counts) => {
    if (counts.length !== k) throw new Error(`replaySlowdown: ${counts.length} site counts for ${k} sites`);
    const key = counts.join(',');
    let s = memo.get(key);
    if (s === undefined) {
      const siteOf = new Int32Array(trace.size);
      let r = 0;
      counts.forEach((c, site) => {
        for (let i = 0; i < c && r < siteOf.length; i++) siteOf[r++] = site;
      });
      s = base > 0 ? wallNs(siteOf) / base : NaN;
      memo.set(key, s);
    }
    return s;
  };
}

/** Operations with a peer in a trace (sends and receives, collectives expanded). */
function messageOps(trace: Trace): number {
  let n = 0;
  for (let i = 0; i < trace.kind.length; i++) if (trace.kind[i] !== Op.Compute && trace.kind[i] !== Op.Wait) n++;
  return n;
}

/**
 * The replay model of a trace for the planner, or undefined when the trace is too thin to say
 * anything (fewer than MIN_COMM_RECORDS_PER_RANK messages per rank), too large to replay within a
 * plan (more than MAX_PREDICTED_RANKS ranks), or does not replay on one site: the planner then
 * uses the old formula.
 */
export function replayGainModel(
  trace: Trace | null | undefined,
  recorded: Cluster,
  links: LinkTable,
): SlowdownModel | undefined {
  if (!trace || trace.size < 2 || trace.size > MAX_PREDICTED_RANKS) return undefined;
  if (messageOps(trace) < MIN_COMM_RECORDS_PER_RANK * trace.size) return undefined;
  const model = replaySlowdown(trace, recorded, links);
  return Number.isFinite(model(onOneSite(trace.size, links.latency.length))) ? model : undefined;
}

function onOneSite(ranks: number, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  c[0] = ranks;
  return c;
}

/**
 * The replay model of a running job from the window of records the monitor keeps for its
 * prediction (src/monitor/prediction.ts), or undefined (no window, too few records): what the
 * manager passes as PlannerJob.slowdown. The recorded run's local links are the replay's defaults.
 */
export function jobGainModel(job: JobProfile, links: LinkTable): SlowdownModel | undefined {
  const w = replayWindowOf(job);
  if (!w || job.size > MAX_PREDICTED_RANKS || w.ranks.length < job.size) return undefined;
  try {
    const { siteOf, nodeOf } = recordedPlacement(job);
    const trace = buildTrace(w.ranks, { siteOf });
    // the WAN of the recorded cluster is replaced site pair by site pair with the planned links
    return replayGainModel(trace, makeCluster(siteOf, wanLink(0, 1e6), { nodeOf }), links);
  } catch {
    return undefined; // records that do not build a trace: the old formula decides
  }
}
