// The simulated scenario: one job stream on 4 sites of 1 000 nodes, run under each policy (the
// planner, the planner whose network jobs wait for one site, no relocation and consolidate-only
// with today's start and with the planner's, random placement), next to two bounds no policy
// passes, and the planner's own time for 1 000 running jobs over 4 sites. By default
// (docs/planner.md, "The comparison") the stream's classes are the live scenario's programs, fitted
// from their one-site runs (src/manager/sim/live-profiles.ts, from --live, default
// bench/results/manager-live.json), at the live testbed's RTT, at 20 and at 50 ms.
//
//   npx tsc -p tsconfig.json && node dist/bench/manager/sim.js [--jobs 1000] [--gap 30] [--seed 1] [--seeds 5]
//     [--profiles live|issue --rtt 20] [--live FILE] [--out DIR]
//
// Writes DIR/manager-sim.json, .md and .svg (default: print only).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as echarts from 'echarts';

import { plan, type PlannerJob } from '../../src/manager/planner.js';
import type { PlannerCluster } from '../../src/manager/planner-model.js';
import { ISSUE_PROFILES, jobStream, rng } from '../../src/manager/sim/job-model.js';
import { readLiveProfiles } from '../../src/manager/sim/live-profiles.js';
import { simulate, type BaselineStart, type Policy, type SimResult } from '../../src/manager/sim/simulator.js';
import { median } from '../collectives/combine.js';
import { arg } from '../args.js';

const jobs = Number(arg('--jobs', '1000'));
const gap = Number(arg('--gap', '30'));
const seed = Number(arg('--seed', '1'));
const out = arg('--out', '');
const live = readLiveProfiles(arg('--live', path.join('bench', 'results', 'manager-live.json')));
const PROFILES = { live: live.profiles, issue: ISSUE_PROFILES };
type ProfileSet = keyof typeof PROFILES;
interface Scenario {
  profiles: ProfileSet;
  rttMs: number;
}
const one = process.argv.includes('--profiles') || process.argv.includes('--rtt');
const scenarios: Scenario[] = one
  ? [{ profiles: arg('--profiles', 'live') as ProfileSet, rttMs: Number(arg('--rtt', '20')) }]
  : [
      { profiles: 'live', rttMs: live.rttMs },
      { profiles: 'live', rttMs: 20 },
      { profiles: 'live', rttMs: 50 },
    ];
// The same streams under other seeds: consolidate-only's figure moves with the queue's order.
const sweepSeeds = Number(arg('--seeds', '5'));
for (const sc of scenarios)
  if (!(sc.profiles in PROFILES)) throw new Error(`--profiles: live or issue, not ${sc.profiles}`);

const sites = ['a', 'b', 'c', 'd'].map((name) => ({ name, slots: 1000 }));
const clusterAt = (rttMs: number, bandwidthBps: number): PlannerCluster => ({
  sites,
  links: sites.flatMap((x) =>
    sites.filter((y) => y !== x).map((y) => ({ from: x.name, to: y.name, latencyMs: rttMs / 2, bandwidthBps })),
  ),
});
const links = clusterAt(20, 10e9).links;

/** Median time of a plan for `n` running jobs placed at random over the 4 sites. */
function planTime(n: number): { ms: number; cpuMs: number; moves: number } {
  const r = rng(seed);
  const k = sites.length;
  const slots = sites.map((s) => s.slots * (n / 25)); // room for n jobs of up to 64 ranks
  const free = slots.slice();
  const list: PlannerJob[] = [];
  for (let i = 0; i < n; i++) {
    const ranks = 4 << Math.floor(r() * 4);
    const counts = new Array<number>(k).fill(0);
    for (let x = 0; x < ranks; x++) {
      let s = Math.floor(r() * k);
      while (free[s] === 0) s = (s + 1) % k;
      counts[s]++;
      free[s]--;
    }
    const network = r() < 0.6;
    list.push({
      id: `j${i}`,
      ranks,
      counts,
      verdict: network ? 'network' : 'compute',
      bytesPerSecond: network ? ranks * 1e6 : 0,
      messagesPerSecond: network ? 20 : 0,
      remainingSeconds: 600 + r() * 1200,
    });
  }
  const c = { sites: sites.map((s, i) => ({ name: s.name, slots: slots[i] })), links };
  const times: number[] = [];
  const cpu: number[] = [];
  let moves = 0;
  for (let rep = 0; rep < 5; rep++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    moves = plan(c, list, 0).moves.length;
    times.push(performance.now() - t0);
    const u = process.cpuUsage(c0);
    cpu.push((u.user + u.system) / 1000);
  }
  return { ms: median(times) ?? NaN, cpuMs: median(cpu) ?? NaN, moves };
}

/**
 * The policies compared. The baselines start a job as sitempi did before the manager (the free
 * nodes in order, as mpirun fills a hostfile: `node-order`) and, to show what relocation alone
 * adds, with the planner's site-aware start (one site where the job fits now).
 */
interface Variant {
  name: string;
  policy: Policy;
  baselineStart?: BaselineStart;
}
const variants: Variant[] = [
  { name: 'planner', policy: 'planner' },
  { name: 'planner-eager', policy: 'planner-eager' },
  { name: 'planner-wait', policy: 'planner-wait' },
  { name: 'none', policy: 'none', baselineStart: 'node-order' },
  { name: 'consolidate', policy: 'consolidate', baselineStart: 'node-order' },
  { name: 'none, site-aware start', policy: 'none', baselineStart: 'site-aware' },
  { name: 'consolidate, site-aware start', policy: 'consolidate', baselineStart: 'site-aware' },
  { name: 'random', policy: 'random' },
];
const variant = (name: string): Variant => variants.find((v) => v.name === name)!;
type Row = Omit<SimResult, 'log'> & { name: string; wallMs: number };
interface Outcome extends Scenario {
  results: Row[];
  /** the same queue on sites joined by a link of no latency and no limit: no split costs anything */
  ideal: Row;
  /** total work / slots: no policy finishes sooner */
  boundJobsPerHour: number;
  simSeconds: number;
  /** planner / consolidate-only and perfect placement / consolidate-only, per seed 1..sweepSeeds,
   *  for each start of consolidate-only */
  sweep: Record<BaselineStart, Sweep>;
  summary: string[];
}
interface Sweep {
  planner: number[];
  ceiling: number[];
}
/** Planner over consolidate-only, and the perfect placement over it, for seeds 1..sweepSeeds. */
function seedSweep(sc: Scenario): Record<BaselineStart, Sweep> {
  const consolidateBy: Record<BaselineStart, Variant> = {
    'node-order': variant('consolidate'),
    'site-aware': variant('consolidate, site-aware start'),
  };
  const by: Record<BaselineStart, Sweep> = {
    'node-order': { planner: [], ceiling: [] },
    'site-aware': { planner: [], ceiling: [] },
  };
  for (let sd = 1; sd <= sweepSeeds; sd++) {
    const stream = jobStream({ jobs, seed: sd, meanGapSeconds: gap, profiles: PROFILES[sc.profiles] });
    const jph = (v: Variant, c: PlannerCluster) =>
      simulate(c, stream, { policy: v.policy, baselineStart: v.baselineStart, seed: sd }).jobsPerHour;
    const planner = jph(variant('planner'), clusterAt(sc.rttMs, 10e9));
    const ideal = jph(variant('none, site-aware start'), clusterAt(0, 0));
    for (const [start, v] of Object.entries(consolidateBy) as [BaselineStart, Variant][]) {
      const consolidate = jph(v, clusterAt(sc.rttMs, 10e9));
      by[start].planner.push(planner / consolidate);
      by[start].ceiling.push(ideal / consolidate);
    }
  }
  return by;
}
/** "median 1.12 (1.04-1.16)" */
function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${(median(s) ?? NaN).toFixed(3)} (${s[0].toFixed(3)}-${s[s.length - 1].toFixed(3)})`;
}
const pt = planTime(1000);
const load = os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' ');
const outcomes: Outcome[] = scenarios.map((sc) => {
  const stream = jobStream({ jobs, seed, meanGapSeconds: gap, profiles: PROFILES[sc.profiles] });
  const cluster = clusterAt(sc.rttMs, 10e9);
  const run = (v: Variant, c: PlannerCluster): Row => {
    const s = performance.now();
    const { log: _log, ...r } = simulate(c, stream, { policy: v.policy, baselineStart: v.baselineStart, seed });
    return { ...r, name: v.name, wallMs: performance.now() - s };
  };
  const t0 = performance.now();
  const results = variants.map((v) => run(v, cluster));
  const simSeconds = (performance.now() - t0) / 1000;
  const sweep = seedSweep(sc);
  const ideal = run(variant('none, site-aware start'), clusterAt(0, 0));
  const work = stream.reduce((a, j) => a + j.ranks * j.computeSeconds, 0);
  const boundJobsPerHour = (stream.length * 3600) / (work / sites.reduce((a, x) => a + x.slots, 0));
  const by = (name: string) => results.find((r) => r.name === name)!;
  const ratio = (a: number, b: number) => (a / b).toFixed(3);
  const tag = `${sc.profiles} classes, ${sc.rttMs} ms`;
  const against = (base: string, what: string) =>
    `${tag}: planner throughput / ${what}: ${ratio(by('planner').jobsPerHour, by(base).jobsPerHour)} (goal >= 1.2; at most ${ratio(ideal.jobsPerHour, by(base).jobsPerHour)} for any placement)`;
  const summary = [
    against('none', 'no relocation'),
    against('consolidate', 'consolidate-only'),
    against('none, site-aware start', 'no relocation with the site-aware start'),
    against('consolidate, site-aware start', 'consolidate-only with the site-aware start'),
    `${tag}: planner throughput / random placement: ${ratio(by('planner').jobsPerHour, by('random').jobsPerHour)}`,
    `${tag}: all ${variants.length} simulations: ${simSeconds.toFixed(1)} s (goal < 60 s)`,
    `${tag}, seeds 1-${sweepSeeds}: planner / consolidate-only ${spread(sweep['node-order'].planner)}, the most any placement can reach over it ${spread(sweep['node-order'].ceiling)}`,
    `${tag}, seeds 1-${sweepSeeds}: planner / consolidate-only with the site-aware start ${spread(sweep['site-aware'].planner)}, the most any placement can reach over it ${spread(sweep['site-aware'].ceiling)}`,
  ];
  return { ...sc, results, ideal, boundJobsPerHour, simSeconds, sweep, summary };
});
const summary = [
  ...outcomes.flatMap((o) => o.summary),
  `one plan for 1000 running jobs over 4 sites: ${pt.ms.toFixed(1)} ms wall, ${pt.cpuMs.toFixed(1)} ms CPU, ${pt.moves} moves (goal < 100 ms)`,
  `host load average while measured: ${load}`,
];
const row = (name: string, r: Row) =>
  `| ${name} | ${r.jobs} | ${(r.makespanSeconds / 3600).toFixed(2)} | ${r.jobsPerHour.toFixed(1)} | ${r.meanSlowdown.toFixed(3)} | ${(r.meanWaitSeconds / 60).toFixed(1)} | ${r.migrations} | ${r.suspends} | ${(r.pauseSeconds / 3600).toFixed(2)} | ${(r.bytesMoved / 2 ** 30).toFixed(0)} | ${(r.wallMs / 1000).toFixed(1)} |`;
/** The live programs as classes of the stream. */
function classTable(): string[] {
  return [
    `The live scenario's programs as classes of the stream (fitted from their one-site runs on the testbed, ${live.rttMs} ms RTT):`,
    '',
    '| class | one-site run s | chain msgs | MB | verdict | chain per s of compute | MB per rank per min |',
    '|---|---|---|---|---|---|---|',
    ...(['EP', 'LU', 'CG'] as const).map((c) => {
      const f = live.fitted[c],
        p = live.profiles[c];
      return `| ${c} | ${f.computeSeconds.toFixed(1)} | ${f.chainMessages} | ${(f.bytes / 1e6).toFixed(1)} | ${f.verdict} | ${p.chainPerSecond.toFixed(2)} | ${(p.bytesPerRankMinute / 1e6).toFixed(2)} |`;
    }),
    '',
  ];
}
const md = [
  `# Simulated job stream: ${jobs} jobs, 4 sites x 1000 nodes, 10 Gb/s (seed ${seed}, mean gap ${gap} s)`,
  '',
  ...(scenarios.some((sc) => sc.profiles === 'live') ? classTable() : []),
  ...outcomes.flatMap((o) => [
    `## ${o.profiles === 'issue' ? "The issue's classes" : "The live scenario's programs (fitted from their one-site runs)"}, ${o.rttMs} ms RTT`,
    '',
    '| policy | jobs | makespan h | jobs/hour | mean slowdown | mean wait min | migrations | stopped | pause h | GiB moved | sim s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...o.results.map((r) => row(r.name, r)),
    row('(no split costs)', o.ideal),
    `| (work / slots) | | | ${o.boundJobsPerHour.toFixed(1)} | 1.000 | | | | | | |`,
    '',
  ]),
  ...summary.map((x) => `- ${x}`),
  '',
].join('\n');
console.log(md);
console.log(JSON.stringify({ summary }));

if (out) {
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'manager-sim.json'),
    JSON.stringify({ jobs, gap, seed, classes: live, outcomes, planTime: pt, load, summary }, null, 2) + '\n',
  );
  writeFileSync(path.join(out, 'manager-sim.md'), md);
  const names = outcomes.map((o) => `${o.profiles}, ${o.rttMs} ms`);
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 760, height: 380 });
  chart.setOption({
    animation: false,
    title: {
      text: `${jobs} jobs on 4 x 1000 nodes: throughput per policy and stream`,
      left: 'center',
      textStyle: { fontSize: 14 },
    },
    legend: { top: 28 },
    grid: { top: 70 },
    xAxis: { type: 'category', data: names },
    yAxis: { type: 'value', name: 'jobs/hour' },
    series: [
      ...variants.map((v) => ({
        name: v.name,
        type: 'bar',
        data: outcomes.map((o) => +o.results.find((r) => r.name === v.name)!.jobsPerHour.toFixed(1)),
      })),
      {
        name: 'no split costs',
        type: 'line',
        data: outcomes.map((o) => +o.ideal.jobsPerHour.toFixed(1)),
      },
    ],
  });
  writeFileSync(path.join(out, 'manager-sim.svg'), chart.renderToSVGString() + '\n');
  chart.dispose();
}
