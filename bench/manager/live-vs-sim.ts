// The live scenario through the simulator (src/manager/sim): the job model of each program fitted
// from its one-site live run, the arrivals of each live run, the policy of the run (relocation off:
// no moves; on: the planner). Each job's simulated run time, to set beside the measured one.
//
// The fit of each program's model: src/manager/sim/live-profiles.ts (the same fit gives the classes
// of the simulated stream).
import type { PlannerCluster } from '../../src/manager/planner-model.js';
import type { ProfileName, SimJob } from '../../src/manager/sim/job-model.js';
import { fitRun } from '../../src/manager/sim/live-profiles.js';
import { simulate } from '../../src/manager/sim/simulator.js';
import type { TestbedState } from '../../src/testbed/testbed.js';
import type { JobRun, ScenarioRun } from './live-run.js';

export interface SimRow {
  name: string;
  off: number;
  on: number;
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
  const models = new Map(Object.entries(alone).map(([name, r]) => [name, fitRun(r, cluster)]));
  const times = runs.map((run) => {
    const stream: SimJob[] = run.jobs.map((j) => {
      const base = j.name.replace(/-\d$/, '');
      return { id: j.name, profile: base as ProfileName, at: j.submitted, ...models.get(base)! };
    });
    const res = simulate(cluster, stream, {
      // the live manager has no verdict before a job first runs: it starts where the job fits now
      policy: run.relocate ? 'planner-eager' : 'none',
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
