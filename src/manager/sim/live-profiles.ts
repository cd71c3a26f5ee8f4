// The simulator's job model fitted from the live scenario's runs (bench/manager/live.ts writes them
// to bench/results/manager-live.json): each program alone on one site of the testbed, its run time
// and the traffic matrix the monitor recorded. One fit serves both the check of the simulator
// against the live scenario (bench/manager/live-vs-sim.ts) and the classes of the simulated stream
// (bench/manager/sim.ts), so the stream's EP-, LU- and CG-like jobs are the live programs, scaled.
//
// The fit (job-model.ts: T = compute + chain x RTT + crossing bytes / bandwidth):
// - compute: the one-site run time (start to end, as the manager measures it);
// - chain: the messages of the busiest rank to the other half of the ranks (the contiguous split of
//   the ranks in two, the live scenario's split): each waits about a round trip once it crosses;
// - bytes: all the bytes of the run's traffic matrix;
// - verdict: network where that split costs more than 10% at the testbed's link.
// As a class of the stream: chain per second of compute, bytes per rank per minute of compute.
import { readFileSync } from 'node:fs';
import { linkTable, type PlannerCluster } from '../planner-model.js';
import { runSeconds, type ClassProfile, type ProfileName, type SimJob } from './job-model.js';

/** What the fit needs of a live run (bench/manager/live-run.ts JobRun). */
export interface OneSiteRun {
  started: number;
  ended: number;
  report?: { messages: number[][]; bytes: number[][] } | null;
}

export interface FittedModel {
  ranks: number;
  computeSeconds: number;
  chainMessages: number;
  bytes: number;
  verdict: 'network' | 'compute';
}

export function fitRun(run: OneSiteRun, cluster: PlannerCluster): FittedModel {
  const computeSeconds = run.ended - run.started;
  const r = run.report;
  const P = r ? r.messages.length : 4;
  const half = Math.floor(P / 2);
  let chain = 0,
    bytes = 0;
  for (let i = 0; r && i < P; i++) {
    let c = 0;
    for (let j = 0; j < P; j++) {
      bytes += r.bytes[i][j];
      if (i < half !== j < half) c += r.messages[i][j];
    }
    chain = Math.max(chain, c);
  }
  const m: FittedModel = { ranks: P, computeSeconds, chainMessages: chain, bytes, verdict: 'compute' };
  const probe: SimJob = { id: 'x', profile: 'EP', at: 0, ...m };
  const counts = cluster.sites.map((_, s) => (s === 0 ? half : s === 1 ? P - half : 0));
  m.verdict = runSeconds(probe, counts, linkTable(cluster)) / computeSeconds > 1.1 ? 'network' : 'compute';
  return m;
}

/** A fitted run as a class of the stream: its rates per second of compute (and per rank). */
export function classOf(m: FittedModel): ClassProfile {
  return {
    chainPerSecond: m.chainMessages / m.computeSeconds,
    bytesPerRankMinute: m.bytes / m.ranks / (m.computeSeconds / 60),
    verdict: m.verdict,
  };
}

/** The live testbed of bench/manager/live-scenario.ts as the planner sees it: A 6 and B 2 slots. */
export function liveCluster(rttMs: number, bandwidthBps = 1e9): PlannerCluster {
  return {
    sites: [
      { name: 'A', slots: 6 },
      { name: 'B', slots: 2 },
    ],
    links: [
      { from: 'A', to: 'B', latencyMs: rttMs / 2, bandwidthBps },
      { from: 'B', to: 'A', latencyMs: rttMs / 2, bandwidthBps },
    ],
  };
}

export interface LiveProfiles {
  /** the live testbed's RTT, ms */
  rttMs: number;
  fitted: Record<ProfileName, FittedModel>;
  profiles: Record<ProfileName, ClassProfile>;
}

/**
 * The classes of the live runs in a manager-live.json (its `alone` runs: LU, CG, EP; the testbed's
 * default link of 1 Gbit/s). Throws naming the file when a program's run is missing.
 */
export function readLiveProfiles(file: string): LiveProfiles {
  const d = JSON.parse(readFileSync(file, 'utf8')) as { rttMs: number; alone: Record<string, OneSiteRun> };
  const cluster = liveCluster(d.rttMs);
  const fit = (name: ProfileName) => {
    const run = d.alone?.[name];
    if (!run || !(run.ended > run.started)) throw new Error(`${file}: no one-site run of ${name}`);
    return fitRun(run, cluster);
  };
  const fitted = { EP: fit('EP'), LU: fit('LU'), CG: fit('CG') };
  return {
    rttMs: d.rttMs,
    fitted,
    profiles: { EP: classOf(fitted.EP), LU: classOf(fitted.LU), CG: classOf(fitted.CG) },
  };
}
