// The live scenario of Tatezono et al. ("Multi-Site MPI Execution with Virtual Cluster"; its
// Table 2: sites of 24 and 8 nodes, EP runs, LU arrives, EP ends and CG arrives, CG ends and a
// second EP arrives; LU 537 s without relocation, 420 s with it) at the scale of this machine: a
// testbed of sites A (6 nodes) and B (2 nodes), 1 slot each, jobs of 4 ranks: sitempi's own
// programs (bench/validation: ep.c, wavefront.c as LU, cg.c as CG) whose compute is a timed sleep.
// LU arrives while EP holds 4 of A's 6 nodes, so it starts split over A and B.
//
//   sudo node dist/bench/manager/live.js [--quick] [--slurm] [--rtt 10] [--out bench/results]
//   node dist/bench/manager/live.js --from bench/results/manager-live.json --out DIR   (table, plot again)
//
// Runs each program alone on site A first (the profiles the simulator's job model is fitted from),
// then the scenario twice, relocation off and on, and the same scenario through the simulator
// (src/manager/sim) with the fitted job model. Writes DIR/manager-live.{md,json,svg}. With --slurm
// every job goes through a real Slurm on the testbed (slurmctld, a slurmd per node namespace:
// src/manager/slurm-testbed.ts) and the files are DIR/manager-live-slurm.{md,json,svg}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSlurmOnTestbed, testbedSites, type SlurmOnTestbed } from '../../src/manager/slurm-testbed.js';
import { wanemuPath } from '../../src/native/paths.js';
import { down, up } from '../../src/testbed/testbed.js';
import { arg } from '../args.js';
import { runManager, type JobRun, type RunOptions, type ScenarioRun } from './live-run.js';
import { liveScenario, liveTestbedSpec } from './live-scenario.js';
import { liveVsSim, type SimRow } from './live-vs-sim.js';
import { timelineSvg } from './live-plot.js';

const out = arg('--out', '');
const PREFIX = 'smlive';
const opts = { stateDir: path.join(os.tmpdir(), 'sitempi-testbed-live'), prefix: PREFIX };
const log = (m: string) => process.stderr.write(`${m}\n`);
// Slurm's ports here: not a system Slurm's (6817/6818) nor the tests' (6917, 6927).
const SLURM_PORTS = { ctldPort: 6937, slurmdPort: 6938 };

interface Measured {
  rttMs: number;
  quick: boolean;
  /** absent in runs before --slurm existed: the built-in queue */
  queue?: ScenarioRun['queue'];
  loadAverage: number[];
  alone: Record<string, JobRun>;
  runs: ScenarioRun[];
  sim: SimRow[];
}

async function main(): Promise<void> {
  const from = arg('--from', '');
  if (from) {
    // the table and plot again from an earlier run's JSON
    report(JSON.parse(fs.readFileSync(from, 'utf8')) as Measured);
    return;
  }
  const quick = process.argv.includes('--quick');
  const slurm = process.argv.includes('--slurm');
  const rttMs = Number(arg('--rtt', '10'));
  // One-site run times (emulated compute): EP ~30 s, LU ~30 s, CG ~40 s; --quick a third of that.
  const scenario = liveScenario(quick ? 1 / 3 : 1);
  const load = os.loadavg();
  await down(opts);
  const st = await up(liveTestbedSpec(rttMs), {
    ...opts,
    wanemuPath,
    mgmtSubnet: '198.19.244.0/24',
    dataSubnet: '198.19.245.0/24',
  });
  let sl: SlurmOnTestbed | undefined;
  try {
    const run: RunOptions = {};
    if (slurm) {
      sl = await startSlurmOnTestbed(st, SLURM_PORTS);
      log(`Slurm on the testbed: SLURM_CONF=${sl.conf}`);
      run.slurm = { conf: sl.conf, partition: sl.partition, pollMs: 500, sitesNow: testbedSites(opts.stateDir) };
    }
    const alone: Record<string, JobRun> = {};
    for (const p of scenario.alone) {
      log(`one site: ${p.name}`);
      const r = await runManager(st, false, [{ job: p, when: () => true }], log, run);
      alone[p.name] = r.jobs[0];
      log(`  ${p.name} alone on ${JSON.stringify(r.jobs[0].placements[0].sites)}: ${time(r.jobs[0]).toFixed(1)} s`);
    }
    const runs: ScenarioRun[] = [];
    for (const relocate of [false, true]) {
      log(`scenario, relocation ${relocate ? 'on' : 'off'}`);
      runs.push(await runManager(st, relocate, scenario.steps, log, run));
    }
    const sim = liveVsSim(st, alone, runs);
    report({ rttMs, quick, queue: slurm ? 'slurm' : 'built-in', loadAverage: load, alone, runs, sim });
  } finally {
    await sl?.stop();
    await down(opts);
  }
}

function time(j: JobRun): number {
  return j.ended - j.started;
}

function report(m: Measured): void {
  const { runs, alone, sim, rttMs, quick, loadAverage: load } = m;
  const slurm = m.queue === 'slurm';
  const [off, on] = runs;
  const by = (r: ScenarioRun, name: string) => r.jobs.find((j) => j.name === name)!;
  const names = off.jobs.map((j) => j.name);
  const rows = names.map((name) => {
    const a = time(by(off, name)),
      b = time(by(on, name));
    return { name, off: a, on: b, change: b / a - 1 };
  });
  const lu = rows.find((r) => r.name === 'LU')!;
  const worst = Math.max(...rows.filter((r) => r.name !== 'LU').map((r) => r.change));
  const failed = runs.flatMap((r) =>
    r.jobs.filter((j) => j.exitCode !== 0).map((j) => `${j.name} (exit ${j.exitCode})`),
  );
  const lines = [
    `# The live scenario${slurm ? ' through Slurm' : ''}: relocation on and off`,
    '',
    `Testbed: sites A (6 nodes) and B (2 nodes), 1 slot each, ${rttMs} ms RTT between them; jobs of 4 ranks,`,
    `compute emulated by timed sleeps${quick ? ' (--quick: a third of the full run)' : ''}. Host load average at the start:`,
    `${load.map((x) => x.toFixed(2)).join(' ')} (2 cores shared with other work).`,
    ...(slurm
      ? [
          '',
          'Every job went through Slurm (slurmctld, one slurmd per node namespace): sbatch with the nodes the',
          "manager chose, followed with squeue; run times are the manager's, from Slurm's start to Slurm's end.",
          `Slurm job ids (off / on): ${off.jobs.map((j) => `${j.name} ${j.slurmJob ?? '-'} / ${by(on, j.name).slurmJob ?? '-'}`).join(', ')}.`,
        ]
      : []),
    '',
    'Run time of each job (start to end, seconds), as Table 2 of Tatezono et al.:',
    '',
    '| job | alone on one site | relocation off | relocation on | on vs off | simulated off | simulated on |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const s = sim.find((x) => x.name === r.name)!;
      const al = alone[r.name.replace(/-\d$/, '')];
      return `| ${r.name} | ${al ? time(al).toFixed(1) : '-'} | ${r.off.toFixed(1)} | ${r.on.toFixed(1)} | ${(r.change * 100).toFixed(1)}% | ${s.off.toFixed(1)} (${pct(s.off, r.off)}) | ${s.on.toFixed(1)} (${pct(s.on, r.on)}) |`;
    }),
    `| makespan | | ${off.makespan.toFixed(1)} | ${on.makespan.toFixed(1)} | ${((on.makespan / off.makespan - 1) * 100).toFixed(1)}% | | |`,
    '',
    `LU ${(-lu.change * 100).toFixed(1)}% sooner with relocation (goal: at least 15%); the other jobs at most ${(worst * 100).toFixed(1)}% slower (goal: at most 10%).`,
    failed.length ? `Failed jobs: ${failed.join(', ')}.` : 'Every job exited 0.',
    '',
    'The plans that moved jobs (relocation on; ranks per site A, B):',
    '',
    ...on.plans.map(
      (p) =>
        `- ${p.t.toFixed(1)} s (${p.reason}): ${p.moves.map((m) => `job ${on.jobs.find((j) => j.id === m.job)?.name ?? m.job} ${m.from.join('+')} -> ${m.to.join('+')}`).join('; ')}`,
    ),
    '',
    'Simulated: the same arrivals (the measured submission times of each run) through the simulator with the',
    'job model fitted from the one-site runs (docs/manager.md, "The live scenario"); in brackets the',
    'difference from the measured time (goal: within 20%).',
    '',
  ];
  const md = lines.join('\n');
  process.stdout.write(md + '\n');
  if (out) {
    const base = path.join(out, slurm ? 'manager-live-slurm' : 'manager-live');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(`${base}.md`, md);
    fs.writeFileSync(`${base}.json`, JSON.stringify({ ...m, rows }, null, 1) + '\n');
    const title = `The live scenario${slurm ? ' through Slurm' : ''} at ${rttMs} ms RTT`;
    fs.writeFileSync(`${base}.svg`, timelineSvg(runs, title));
  }
}

function pct(sim: number, measured: number): string {
  const d = sim / measured - 1;
  return `${d >= 0 ? '+' : ''}${(d * 100).toFixed(0)}%`;
}

main().catch((e: Error) => {
  process.stderr.write(`live: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
