// One run of the live scenario on the testbed (bench/manager/live.ts): the manager in this process,
// jobs submitted as Tatezono et al.'s scenario has them (EP runs, LU arrives, EP ends and CG arrives, CG
// ends and a second EP arrives), each job's start, end and placements read from the event log.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusterFromTestbed } from '../../src/manager/cluster-source.js';
import { readEventLog } from '../../src/manager/event-log.js';
import { Manager } from '../../src/manager/manager.js';
import { shimLibraryPath } from '../../src/native/paths.js';
import type { TestbedState } from '../../src/testbed/testbed.js';

export interface Program {
  name: string;
  app: string[];
}

export interface JobRun {
  id: string;
  name: string;
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
  steps: { job: Program; when: (ended: Set<string>, t: number) => boolean }[],
  log: (m: string) => void,
): Promise<ScenarioRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-live-'));
  const mgr = new Manager({
    cluster: clusterFromTestbed(st),
    testbed: st,
    dir,
    shim: shimLibraryPath,
    relocate,
    planTickMs: 2000,
    // the testbed's nodes are namespaces: a VM of 256 MiB is what a migration is costed at
    planner: { cost: { vmMemoryBytes: 256 * 1024 * 1024 } },
    log: (m) => log(`  [${relocate ? 'on' : 'off'}] ${m}`),
  });
  await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
  const t0 = Date.now();
  const ids = new Map<number, string>();
  try {
    for (;;) {
      const ended = new Set(
        mgr
          .jobViews()
          .filter((j) => j.endedAt !== undefined)
          .map((j) => j.name),
      );
      const t = (Date.now() - t0) / 1000;
      steps.forEach((s, i) => {
        if (!ids.has(i) && s.when(ended, t))
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
  fs.rmSync(dir, { recursive: true, force: true });
  return { relocate, jobs, makespan: Math.max(...jobs.map((j) => j.ended)), plans };
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
