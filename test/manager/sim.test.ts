import { describe, expect, it } from 'vitest';

import { jobStream, MEASURED_PROFILES, runSeconds, type SimJob } from '../../src/manager/sim/job-model.js';
import { simulate, type LogEntry } from '../../src/manager/sim/simulator.js';
import { linkTable } from '../../src/manager/planner-model.js';

const sites = ['a', 'b', 'c', 'd'].map((name) => ({ name, slots: 600 }));
const links = sites.flatMap((x) =>
  sites.filter((y) => y !== x).map((y) => ({ from: x.name, to: y.name, latencyMs: 10, bandwidthBps: 10e9 })),
);
const cluster = { sites, links };
const stream = jobStream({ jobs: 150, seed: 3, meanGapSeconds: 30 });

/** Replays the holdings of the log: every moment within every site's slots, every job started once and ended once. */
function checkLog(log: LogEntry[], jobs: readonly SimJob[]): void {
  const held = new Map<string, number[]>();
  const ended = new Set<string>();
  let last = 0;
  const check = () => {
    const used = sites.map((_, s) => [...held.values()].reduce((a, h) => a + h[s], 0));
    used.forEach((u, s) => expect(u).toBeLessThanOrEqual(sites[s].slots));
  };
  for (const e of log) {
    expect(e.t).toBeGreaterThanOrEqual(last);
    if (e.t > last) check(); // the entries of one instant are simultaneous (the moves of a plan)
    last = e.t;
    if (e.kind === 'start') expect(held.has(e.job)).toBe(false);
    else expect(held.has(e.job) && !ended.has(e.job)).toBe(true);
    if (e.kind === 'end') ended.add(e.job);
    held.set(e.job, e.held);
    if (e.kind !== 'end') expect(e.held.reduce((a, b) => a + b, 0)).toBe(jobs.find((j) => j.id === e.job)!.ranks);
  }
  check();
  expect(ended.size).toBe(jobs.length);
}

describe('simulator', () => {
  it('is deterministic for a seed, and its event log keeps every capacity at every moment', () => {
    for (const policy of ['planner', 'planner-wait', 'none', 'consolidate', 'random'] as const) {
      const a = simulate(cluster, stream, { policy, seed: 5 });
      const b = simulate(cluster, stream, { policy, seed: 5 });
      expect(b).toEqual(a);
      expect(a.jobs).toBe(stream.length);
      checkLog(a.log, stream);
      if (policy === 'consolidate' || policy === 'planner') expect(a.migrations).toBeGreaterThan(0);
    }
  });

  it('runs a job at its compute time on one site and slower when split (job model)', () => {
    const t = linkTable(cluster);
    const lu = stream.find((j) => j.profile === 'LU')!;
    const ep = stream.find((j) => j.profile === 'EP')!;
    expect(runSeconds(lu, [lu.ranks, 0, 0, 0], t)).toBe(lu.computeSeconds);
    expect(runSeconds(lu, [lu.ranks / 2, lu.ranks / 2, 0, 0], t)).toBeGreaterThan(1.2 * lu.computeSeconds);
    expect(runSeconds(ep, [ep.ranks / 2, ep.ranks / 2, 0, 0], t)).toBeLessThan(1.01 * ep.computeSeconds);
  });

  it('draws the same jobs whatever the classes cost split; the planner beats both baselines where splits are dear', () => {
    const measured = jobStream({ jobs: 150, seed: 3, meanGapSeconds: 30, profiles: MEASURED_PROFILES });
    const pick = (j: SimJob) => [j.id, j.profile, j.ranks, j.at, j.computeSeconds, j.bytes];
    expect(measured.map(pick)).toEqual(stream.map(pick));
    const cg = measured.findIndex((j) => j.profile === 'CG');
    expect(measured[cg].chainMessages).toBeGreaterThan(4 * stream[cg].chainMessages);
    // sites 100 ms apart: a split CG-like job runs 11 x
    const far = {
      sites,
      links: links.map((l) => ({ ...l, latencyMs: 50 })),
    };
    const jph = (policy: 'planner' | 'none' | 'consolidate') =>
      simulate(far, measured, { policy, seed: 5 }).jobsPerHour;
    const planner = jph('planner');
    expect(planner).toBeGreaterThan(1.1 * jph('consolidate'));
    expect(planner).toBeGreaterThan(1.5 * jph('none'));
  });
});
