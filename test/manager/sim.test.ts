import { describe, expect, it } from 'vitest';

import path from 'node:path';
import { ISSUE_PROFILES, jobStream, runSeconds, type SimJob } from '../../src/manager/sim/job-model.js';
import { liveCluster, readLiveProfiles } from '../../src/manager/sim/live-profiles.js';
import { simulate, type BaselineStart, type LogEntry, type SimOptions } from '../../src/manager/sim/simulator.js';
import { linkTable } from '../../src/manager/planner-model.js';

const sites = ['a', 'b', 'c', 'd'].map((name) => ({ name, slots: 600 }));
const links = sites.flatMap((x) =>
  sites.filter((y) => y !== x).map((y) => ({ from: x.name, to: y.name, latencyMs: 10, bandwidthBps: 10e9 })),
);
const cluster = { sites, links };
// the classes of the live scenario's programs, fitted from their committed one-site runs
const live = readLiveProfiles(path.join(__dirname, '..', '..', 'bench', 'results', 'manager-live.json'));
const stream = jobStream({ jobs: 150, seed: 3, meanGapSeconds: 30, profiles: live.profiles });

/** A job of one of the live programs' classes, of `ranks` ranks (4: the live scenario's) and `seconds` of compute. */
function liveJob(id: string, profile: 'EP' | 'LU', at: number, seconds: number, ranks = 4): SimJob {
  return {
    id,
    profile,
    at,
    ...live.fitted[profile],
    ranks,
    computeSeconds: seconds,
    chainMessages: Math.round(live.profiles[profile].chainPerSecond * seconds),
    bytes: (live.profiles[profile].bytesPerRankMinute * ranks * seconds) / 60,
  };
}

/**
 * Replays the holdings of the log strictly: after every entry every site within its slots (the
 * moves of a plan one after the other, a stopped flow on no site); once an instant is over, every
 * running job holds all its ranks; every job started once and ended once.
 */
function checkLog(log: LogEntry[], jobs: readonly SimJob[], cap = sites.map((s) => s.slots)): void {
  const held = new Map<string, number[]>();
  const ranks = new Map(jobs.map((j) => [j.id, j.ranks]));
  const ended = new Set<string>();
  let last = 0;
  const whole = () => {
    for (const [j, h] of held) if (!ended.has(j)) expect(h.reduce((a, b) => a + b, 0)).toBe(ranks.get(j));
  };
  for (const e of log) {
    expect(e.t).toBeGreaterThanOrEqual(last);
    if (e.t > last) whole();
    last = e.t;
    if (e.kind === 'start') expect(held.has(e.job)).toBe(false);
    else expect(held.has(e.job) && !ended.has(e.job)).toBe(true);
    if (e.kind === 'end') ended.add(e.job);
    held.set(e.job, e.held);
    expect(e.held.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(ranks.get(e.job)!);
    const used = cap.map((_, s) => [...held.values()].reduce((a, h) => a + h[s], 0));
    used.forEach((u, s) => expect(u).toBeLessThanOrEqual(cap[s]));
  }
  whole();
  expect(ended.size).toBe(jobs.length);
}

describe('simulator', () => {
  it('is deterministic for a seed, and its event log keeps every capacity at every moment', () => {
    // the start option changes only the baselines' runs
    const runs: SimOptions[] = [
      ...(['planner', 'planner-eager', 'planner-wait', 'random'] as const).map((policy) => ({ policy, seed: 5 })),
      ...(['none', 'consolidate'] as const).flatMap((policy) =>
        (['site-aware', 'node-order'] as const).map((baselineStart) => ({ policy, baselineStart, seed: 5 })),
      ),
    ];
    for (const o of runs) {
      const a = simulate(cluster, stream, o);
      const b = simulate(cluster, stream, o);
      expect(b).toEqual(a);
      expect(a.jobs).toBe(stream.length);
      checkLog(a.log, stream);
      if (o.policy === 'consolidate' || o.policy === 'planner-eager') expect(a.migrations).toBeGreaterThan(0);
    }
  });

  it("starts the baselines' jobs on the free nodes in order (node-order) or on one site where they fit (site-aware)", () => {
    // two sites of 6 and 2 slots; EP holds 5 of A's, so LU (2 ranks) fits whole only on B
    const c = liveCluster(10);
    const jobs = [liveJob('ep', 'EP', 0, 600, 5), liveJob('lu', 'LU', 1, 600, 2)];
    const startOfLu = (baselineStart: BaselineStart, policy: 'none' | 'consolidate') =>
      simulate(c, jobs, { policy, baselineStart }).log.find((e) => e.kind === 'start' && e.job === 'lu')!.held;
    // in node order LU takes A's last slot and one of B's; site-aware, both of B's
    expect(startOfLu('node-order', 'none')).toEqual([1, 1]);
    expect(startOfLu('site-aware', 'none')).toEqual([0, 2]);
    expect(startOfLu('node-order', 'consolidate')).toEqual([1, 1]);
    // the planner's own start is site-aware whatever the baselines do
    const planned = simulate(c, jobs, { policy: 'planner', baselineStart: 'node-order' });
    expect(planned.log.find((e) => e.kind === 'start' && e.job === 'lu')!.held).toEqual([0, 2]);
  });

  it('runs a job at its compute time on one site and slower when split (job model)', () => {
    const t = linkTable(cluster);
    const lu = stream.find((j) => j.profile === 'LU')!;
    const ep = stream.find((j) => j.profile === 'EP')!;
    expect(runSeconds(lu, [lu.ranks, 0, 0, 0], t)).toBe(lu.computeSeconds);
    expect(runSeconds(lu, [lu.ranks / 2, lu.ranks / 2, 0, 0], t)).toBeGreaterThan(1.2 * lu.computeSeconds);
    expect(runSeconds(ep, [ep.ranks / 2, ep.ranks / 2, 0, 0], t)).toBeLessThan(1.05 * ep.computeSeconds);
  });

  it("fits the stream's classes from the live runs: LU and CG network-intensive, EP not", () => {
    expect(live.rttMs).toBe(10);
    expect(live.fitted.LU.verdict).toBe('network');
    expect(live.fitted.CG.verdict).toBe('network');
    expect(live.fitted.EP.verdict).toBe('compute');
    // the rates of the one-site runs, scaled to a job of the stream by its compute time and ranks
    const lu = stream.find((j) => j.profile === 'LU')!;
    expect(lu.chainMessages).toBe(
      Math.round((live.fitted.LU.chainMessages / live.fitted.LU.computeSeconds) * lu.computeSeconds),
    );
    const perRankSecond = live.fitted.LU.bytes / live.fitted.LU.ranks / live.fitted.LU.computeSeconds;
    expect(lu.bytes / lu.ranks / lu.computeSeconds).toBeCloseTo(perRankSecond, 0);
    // the draws do not depend on the classes: only what a split costs differs
    const guessed = jobStream({ jobs: 150, seed: 3, meanGapSeconds: 30, profiles: ISSUE_PROFILES });
    const pick = (j: SimJob) => [j.id, j.profile, j.ranks, j.at, j.computeSeconds];
    expect(guessed.map(pick)).toEqual(stream.map(pick));
  });

  it('stages a swap between full sites as the manager does: the compute job stops, the split job moves in, it resumes', () => {
    // the live scenario's start: EP on 4 of A's 6 slots, LU 3 s later split 2 + 2 over A and B
    const c = liveCluster(10);
    const jobs = [liveJob('ep', 'EP', 0, 600), liveJob('lu', 'LU', 3, 600)];
    const r = simulate(c, jobs, { policy: 'planner', tickSeconds: 2, vmMemoryBytes: 256 * 1024 ** 2 });
    checkLog(r.log, jobs, [6, 2]);
    const steps = r.log
      .filter((e) => e.kind !== 'start' && e.kind !== 'end')
      .map((e) => `${e.kind} ${e.job} ${e.held}`);
    expect(steps).toEqual(['suspend ep 2,0', 'move lu 4,0', 'resume ep 2,2']);
    expect(r.suspends).toBe(1);
    // EP pauses for its stop-and-copy and LU's move: it ends that much later than its compute
    const end = (id: string) => r.log.find((e) => e.kind === 'end' && e.job === id)!.t;
    expect(end('ep') - 600).toBeGreaterThan(0.9 * r.pauseSeconds);
    expect(r.pauseSeconds).toBeGreaterThan(0);
    // LU runs on one site soon after its start: far from its split run time
    expect(end('lu') - 3).toBeLessThan(runSeconds(jobs[1], [2, 2], linkTable(c)));
  });

  it('starts a network job split only when a split run loses less than the wait for one site', () => {
    // two sites of 6 and 2 slots (10 ms); EP holds 4 of A's; LU (4 ranks) fits only split 2 + 2
    const c = liveCluster(10);
    const lu = liveJob('lu', 'LU', 1, 600);
    const lost = runSeconds(lu, [2, 2], linkTable(c)) - lu.computeSeconds;
    expect(lost).toBeGreaterThan(60);
    const startOfLu = (epSeconds: number, policy: 'planner' | 'planner-eager' | 'planner-wait') => {
      const r = simulate(c, [liveJob('ep', 'EP', 0, epSeconds), lu], { policy, tickSeconds: 1e6 });
      checkLog(r.log, [liveJob('ep', 'EP', 0, epSeconds), lu], [6, 2]);
      const e = r.log.find((x) => x.kind === 'start' && x.job === 'lu')!;
      return { t: e.t, held: e.held };
    };
    // EP ends well before a split LU would have made up its loss: LU waits for A
    expect(startOfLu(lost / 2, 'planner')).toEqual({ t: lost / 2, held: [4, 0] });
    // EP runs far longer than LU loses split: LU starts at once, split
    expect(startOfLu(lost * 4, 'planner')).toEqual({ t: 1, held: [2, 2] });
    // the fixed rules do one or the other whatever the wait
    expect(startOfLu(lost / 2, 'planner-eager').held).toEqual([2, 2]);
    expect(startOfLu(lost * 4, 'planner-wait').held).toEqual([4, 0]);
  });

  it('the planner beats both baselines where splits are dear (sites 100 ms apart)', () => {
    const far = {
      sites,
      links: links.map((l) => ({ ...l, latencyMs: 50 })),
    };
    const jph = (policy: 'planner' | 'none' | 'consolidate', baselineStart: BaselineStart) =>
      simulate(far, stream, { policy, seed: 5, baselineStart }).jobsPerHour;
    const planner = jph('planner', 'site-aware');
    expect(planner).toBeGreaterThan(1.05 * jph('consolidate', 'site-aware'));
    expect(planner).toBeGreaterThan(1.5 * jph('none', 'site-aware'));
    // today's start (the free nodes in order) splits more jobs: consolidate-only loses more
    expect(planner).toBeGreaterThan(1.2 * jph('consolidate', 'node-order'));
    expect(jph('consolidate', 'node-order')).toBeLessThan(jph('consolidate', 'site-aware'));
  });
});
