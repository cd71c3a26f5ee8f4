// The simulated scenario: one job stream on 4 sites of 1 000 nodes, run under each policy (the
// planner, the planner whose network jobs wait for one site, no relocation, consolidate-only,
// random placement), and the planner's own time for
// 1 000 running jobs over 4 sites.
//
//   npx tsc -p tsconfig.json && node dist/bench/manager/sim.js [--jobs 1000] [--gap 30] [--seed 1]
//     [--rtt 20] [--out DIR]
//
// Writes DIR/manager-sim.json, .md and .svg (default: print only).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import * as echarts from 'echarts';

import { plan, type PlannerJob } from '../../src/manager/planner.js';
import { jobStream, rng } from '../../src/manager/sim/job-model.js';
import { simulate, type Policy, type SimResult } from '../../src/manager/sim/simulator.js';
import { arg } from '../args.js';

const jobs = Number(arg('--jobs', '1000'));
const gap = Number(arg('--gap', '30'));
const seed = Number(arg('--seed', '1'));
const rttMs = Number(arg('--rtt', '20'));
const out = arg('--out', '');

const sites = ['a', 'b', 'c', 'd'].map((name) => ({ name, slots: 1000 }));
const links = sites.flatMap((x) =>
  sites.filter((y) => y !== x).map((y) => ({ from: x.name, to: y.name, latencyMs: rttMs / 2, bandwidthBps: 10e9 })),
);
const cluster = { sites, links };

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
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return { ms: median(times), cpuMs: median(cpu), moves };
}

const stream = jobStream({ jobs, seed, meanGapSeconds: gap });
const policies: Policy[] = ['planner', 'planner-wait', 'none', 'consolidate', 'random'];
const results: (Omit<SimResult, 'log'> & { wallMs: number })[] = [];
const t0 = performance.now();
for (const policy of policies) {
  const s = performance.now();
  const { log: _log, ...r } = simulate(cluster, stream, { policy, seed });
  results.push({ ...r, wallMs: performance.now() - s });
}
const totalMs = performance.now() - t0;
const pt = planTime(1000);
const by = (p: Policy) => results.find((r) => r.policy === p)!;
const summary = [
  `planner throughput / no relocation: ${(by('planner').jobsPerHour / by('none').jobsPerHour).toFixed(3)} (goal >= 1.2)`,
  `planner throughput / consolidate-only: ${(by('planner').jobsPerHour / by('consolidate').jobsPerHour).toFixed(3)} (goal >= 1.2)`,
  `planner throughput / random placement: ${(by('planner').jobsPerHour / by('random').jobsPerHour).toFixed(3)}`,
  `all ${policies.length} simulations: ${(totalMs / 1000).toFixed(1)} s (goal < 60 s)`,
  `one plan for 1000 running jobs over 4 sites: ${pt.ms.toFixed(1)} ms wall, ${pt.cpuMs.toFixed(1)} ms CPU, ${pt.moves} moves (goal < 100 ms)`,
];
const rows = results.map(
  (r) =>
    `| ${r.policy} | ${r.jobs} | ${(r.makespanSeconds / 3600).toFixed(2)} | ${r.jobsPerHour.toFixed(1)} | ${r.meanSlowdown.toFixed(3)} | ${(r.meanWaitSeconds / 60).toFixed(1)} | ${r.migrations} | ${(r.bytesMoved / 2 ** 30).toFixed(0)} | ${(r.wallMs / 1000).toFixed(1)} |`,
);
const md = [
  `# Simulated job stream: ${jobs} jobs, 4 sites x 1000 nodes, ${rttMs} ms RTT, 10 Gb/s (seed ${seed}, mean gap ${gap} s)`,
  '',
  '| policy | jobs | makespan h | jobs/hour | mean slowdown | mean wait min | migrations | GiB moved | sim s |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  ...summary.map((s) => `- ${s}`),
  '',
].join('\n');
console.log(md);
console.log(JSON.stringify({ summary }));

if (out) {
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'manager-sim.json'),
    JSON.stringify({ jobs, gap, seed, rttMs, results, planTime: pt, summary }, null, 2) + '\n',
  );
  writeFileSync(path.join(out, 'manager-sim.md'), md);
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 720, height: 360 });
  chart.setOption({
    animation: false,
    title: {
      text: `${jobs} jobs on 4 x 1000 nodes: throughput and slowdown per policy`,
      left: 'center',
      textStyle: { fontSize: 14 },
    },
    legend: { top: 28 },
    grid: { top: 70 },
    xAxis: { type: 'category', data: policies },
    yAxis: [
      { type: 'value', name: 'jobs/hour' },
      { type: 'value', name: 'mean slowdown', min: 1 },
    ],
    series: [
      { name: 'jobs/hour', type: 'bar', data: results.map((r) => +r.jobsPerHour.toFixed(1)) },
      { name: 'mean slowdown', type: 'line', yAxisIndex: 1, data: results.map((r) => +r.meanSlowdown.toFixed(3)) },
    ],
  });
  writeFileSync(path.join(out, 'manager-sim.svg'), chart.renderToSVGString() + '\n');
  chart.dispose();
}
