// One run of the live scenario on the testbed (bench/manager/live.ts): the manager in this process,
// jobs submitted as Tatezono et al.'s scenario has them (EP runs, LU arrives, EP ends and CG arrives, CG
// ends and a second EP arrives), each job's start, end and placements read from the event log. The
// queue is the manager's built-in one or Slurm (`slurm`: the same jobs through sbatch and squeue).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusterFromTestbed } from '../../src/manager/cluster-source.js';
import { readEventLog } from '../../src/manager/event-log.js';
import { Manager } from '../../src/manager/manager.js';
import type { SlurmOptions } from '../../src/manager/slurm-jobs.js';
import { shimLibraryPath } from '../../src/native/paths.js';
import type { TestbedState } from '../../src/testbed/testbed.js';

export interface Program {
  name: string;
  app: string[];
}

/** What a step's condition sees: the jobs ended so far (by name), how long one has run (0: not yet). */
export interface StepState {
  ended: ReadonlySet<string>;
  runningFor: (name: string) => number;
  /** seconds since the run's start */
  t: number;
}

export interface Step {
  job: Program;
  when: (s: StepState) => boolean;
}

export interface RunOptions {
  /** Jobs through Slurm (its queue and allocation) instead of the built-in queue. */
  slurm?: SlurmOptions;
  /** The manager's directory (event log, job files), kept; default a temporary one, removed. */
  dir?: string;
}

export interface JobRun {
  id: string;
  name: string;
  /** Slurm's job id (through Slurm only) */
  slurmJob?: string;
  /** seconds from the run's start */
  submitted: number;
  started: number;
  ended: number;
  exitCode: number | null;
  /** ranks per site over time: [seconds, {site: ranks}] from its start */
  placements: { t: number; sites: Record<string, number> }[];
  relocations: number;
  /** the monitor's numbers of the job (its report): traffic matrix of the whole run */
  report: { bytes: number[][]; messages: number[][]; wallSeconds: number } | null;
}

export interface ScenarioRun {
  relocate: boolean;
  queue: 'built-in' | 'slurm';
  /** the run's start (epoch ms): its times are seconds after it */
  startedAt: number;
  jobs: JobRun[];
  makespan: number;
  /** the planner's decisions that moved something */
  plans: { t: number; reason: string; moves: { job: string; from: number[]; to: number[] }[] }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function countsOf(nodes: { site: string; slots: number }[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const n of nodes) m[n.site] = (m[n.site] ?? 0) + n.slots;
  return m;
}

/** Runs `steps` on a fresh manager: each step submits when its condition holds. */
export async function runManager(
  st: TestbedState,
  relocate: boolean,
  steps: Step[],
  log: (m: string) => void,
  o: RunOptions = {},
): Promise<ScenarioRun> {
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-live-'));
  const mgr = new Manager({
    cluster: clusterFromTestbed(st),
    testbed: st,
    dir,
    shim: shimLibraryPath,
    relocate,
    planTickMs: 2000,
    // the testbed's nodes are namespaces: a VM of 256 MiB is what a migration is costed at
    planner: { cost: { vmMemoryBytes: 256 * 1024 * 1024 } },
    slurm: o.slurm,
    log: (m) => log(`  [${relocate ? 'on' : 'off'}] ${m}`),
  });
  await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
  const t0 = Date.now();
  const ids = new Map<number, string>();
  try {
    for (;;) {
      const now = mgr.jobViews();
      const ended = new Set(now.filter((j) => j.endedAt !== undefined).map((j) => j.name));
      const runningFor = (name: string) => {
        const j = now.find((v) => v.name === name && v.startedAt !== undefined);
        return j ? ((j.endedAt ?? Date.now()) - j.startedAt!) / 1000 : 0;
      };
      const t = (Date.now() - t0) / 1000;
      steps.forEach((s, i) => {
        if (!ids.has(i) && s.when({ ended, runningFor, t }))
          ids.set(i, mgr.submit({ name: s.job.name, np: 4, app: s.job.app, cwd: dir, mpirunArgs: [] }));
      });
      const views = mgr.jobViews();
      if (ids.size === steps.length && views.every((j) => j.endedAt !== undefined)) {
        // the reports are written once the monitor has the ranks' ends
        const until = Date.now() + 5000;
        while (views.some((j) => !fs.existsSync(j.files.report)) && Date.now() < until) await sleep(100);
        break;
      }
      if (t > 900) throw new Error('the scenario ran over 15 minutes');
      await sleep(100);
    }
  } finally {
    await mgr.close();
  }
  const events = readEventLog(path.join(dir, 'events.jsonl'));
  const views = new Map(mgr.jobViews().map((j) => [j.id, j]));
  const sec = (ms: number) => (ms - t0) / 1000;
  const jobs: JobRun[] = [...ids.values()].map((id) => {
    const v = views.get(id)!;
    const placements: JobRun['placements'] = [];
    for (const e of events)
      if ((e.type === 'start' || e.type === 'relocated') && e.job === id)
        placements.push({ t: sec(e.t), sites: countsOf(e.nodes) });
    return {
      id,
      name: v.name,
      ...(v.slurmJob ? { slurmJob: v.slurmJob } : {}),
      submitted: sec(v.submittedAt),
      started: sec(v.startedAt!),
      ended: sec(v.endedAt!),
      exitCode: v.exitCode,
      placements,
      relocations: v.relocations ?? 0,
      report: readReport(v.files.report),
    };
  });
  const plans: ScenarioRun['plans'] = [];
  for (const e of events)
    if (e.type === 'plan' && e.moves.length > 0)
      plans.push({
        t: sec(e.t),
        reason: e.reason,
        moves: e.moves.map((m) => ({ job: m.job, from: m.from, to: m.to })),
      });
  if (!o.dir) fs.rmSync(dir, { recursive: true, force: true });
  return {
    relocate,
    queue: o.slurm ? 'slurm' : 'built-in',
    startedAt: t0,
    jobs,
    makespan: Math.max(...jobs.map((j) => j.ended)),
    plans,
  };
}

function readReport(file: string): JobRun['report'] {
  try {
    const j = (JSON.parse(fs.readFileSync(file, 'utf8')) as { jobs: Record<string, unknown>[] }).jobs[0];
    const m = j.matrix as { bytes: number[][]; messages: number[][] } | undefined;
    return m ? { bytes: m.bytes, messages: m.messages, wallSeconds: j.wallSeconds as number } : null;
  } catch {
    return null;
  }
}
