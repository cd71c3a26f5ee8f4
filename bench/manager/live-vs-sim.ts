// The live scenario through the simulator (src/manager/sim): the job model of each program fitted
// from its one-site live run, the arrivals of each live run, the policy of the run (relocation off:
// no moves; on: the planner). Each job's simulated run time, to set beside the measured one.
//
// The fit (src/manager/sim/job-model.ts: T = compute + chain x RTT + crossing bytes / bandwidth):
// - compute: the one-site run time (start to end, as the manager measures it);
// - chain: the messages of the busiest rank to the other half of the ranks (the contiguous split of
//   4 ranks into 2 + 2, the scenario's split): each waits about a round trip once it crosses;
// - bytes: all the bytes of the run's traffic matrix;
// - verdict: network where the chain or the bytes cost more than 10% at the testbed's link.
import { linkTable, type PlannerCluster } from '../../src/manager/planner-model.js';
import { runSeconds, type ProfileName, type SimJob } from '../../src/manager/sim/job-model.js';
import { simulate } from '../../src/manager/sim/simulator.js';
import type { TestbedState } from '../../src/testbed/testbed.js';
import type { JobRun, ScenarioRun } from './live-run.js';

export interface SimRow {
  name: string;
  off: number;
  on: number;
}

export interface FittedModel {
  computeSeconds: number;
  chainMessages: number;
  bytes: number;
  verdict: 'network' | 'compute';
}

export function fit(run: JobRun, cluster: PlannerCluster): FittedModel {
  const computeSeconds = run.ended - run.started;
  const r = run.report;
  let chain = 0,
    bytes = 0;
  if (r) {
    const P = r.messages.length,
      half = Math.floor(P / 2);
    for (let i = 0; i < P; i++) {
      let c = 0;
      for (let j = 0; j < P; j++) {
        bytes += r.bytes[i][j];
        if (i < half !== j < half) c += r.messages[i][j];
      }
      chain = Math.max(chain, c);
    }
  }
  const m: FittedModel = { computeSeconds, chainMessages: chain, bytes, verdict: 'compute' };
  const probe: SimJob = { id: 'x', profile: 'EP', ranks: 4, at: 0, ...m };
  const split = runSeconds(probe, [2, 2], linkTable(cluster)) / computeSeconds;
  m.verdict = split > 1.1 ? 'network' : 'compute';
  return m;
}

export function plannerCluster(st: TestbedState): PlannerCluster {
  const slots = st.sites.map((s) => st.nodes.filter((n) => n.homeSite === s).reduce((a, n) => a + n.slots, 0));
  return {
    sites: st.sites.map((name, i) => ({ name, slots: slots[i] })),
    links: st.links.map((l) => ({ from: l.from, to: l.to, latencyMs: l.latencyMs, bandwidthBps: l.bandwidthBps })),
  };
}

export function liveVsSim(st: TestbedState, alone: Record<string, JobRun>, runs: ScenarioRun[]): SimRow[] {
  const cluster = plannerCluster(st);
  const models = new Map(Object.entries(alone).map(([name, r]) => [name, fit(r, cluster)]));
  const times = runs.map((run) => {
    const stream: SimJob[] = run.jobs.map((j) => {
      const base = j.name.replace(/-\d$/, '');
      return { id: j.name, profile: base as ProfileName, ranks: 4, at: j.submitted, ...models.get(base)! };
    });
    const res = simulate(cluster, stream, {
      policy: run.relocate ? 'planner' : 'none',
      tickSeconds: 2,
      vmMemoryBytes: 256 * 1024 * 1024,
    });
    const t = new Map<string, number>();
    for (const e of res.log) {
      if (e.kind === 'start') t.set(e.job, -e.t);
      if (e.kind === 'end') t.set(e.job, t.get(e.job)! + e.t);
    }
    return t;
  });
  return runs[0].jobs.map((j) => ({ name: j.name, off: times[0].get(j.name)!, on: times[1].get(j.name)! }));
}
