// The planner's moves through the command hook (--executor-command), without a testbed or root:
// real mpirun, a manager on a `--sites` cluster of virtual nodes on this machine, and a hook of the
// test's own that logs each request it gets (its stdin and environment) and succeeds, or fails.
// Sites A and B of 3 one-slot nodes are full: a compute job on each, a network-intensive job split
// over both. A plan consolidates the network job: the compute job's VM stops (a suspend request),
// the network job's moves into its slot, the compute job's resumes on the other site (each job's
// move a relocate request); when the hook fails the moves, the network job stays where it was, the
// stopped VM resumes where it was (a resume request), and the event log says why. Results are
// right and no site is ever over its slots, in both runs; the plan weighs the network job's gain
// over its remaining time, from a job history in one run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../src/history/recorder.js';
import { clusterFromArgs } from '../../src/manager/cluster-source.js';
import { readEventLog } from '../../src/manager/event-log.js';
import type { JobView } from '../../src/manager/job-record.js';
import { Manager } from '../../src/manager/manager.js';
import { shimLibraryPath } from '../../src/native/paths.js';
import { pastRuns } from '../../src/manager/remaining.js';
import { CommandExecutor } from '../../src/placement/command-executor.js';
import { compileMpi } from '../helpers/mpi.js';
import { replayCapacity } from './event-capacity.js';
import { run as pastRun } from './history-entry.js';

const MPI = ['--oversubscribe', '--mca', 'mpi_yield_when_idle', '1', '--mca', 'btl', 'self,vader'];

/** The hook: appends {argv, request, env} to the log named by argv[2]; argv[3] 'fail': a relocate exits 3. */
const HOOK = `#!${process.execPath}
const fs = require('node:fs');
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const env = { mark: process.env.SMEXE_MARK ?? null, token: process.env.SITEMPI_TOKEN ?? null,
    key: process.env.SITEMPI_JOB_KEY ?? null };
  fs.appendFileSync(process.argv[2], JSON.stringify({ argv: process.argv.slice(2), req, env }) + '\\n');
  if (process.argv[3] === 'fail' && req.action === 'relocate') {
    process.stderr.write('no room on the far side\\n');
    process.exit(3);
  }
  process.stdout.write(JSON.stringify({ placement: req.target }) + '\\n');
});
`;

interface HookCall {
  argv: string[];
  req: {
    action: string;
    reason: string;
    job: { id: string; size: number; hosts: string[] };
    ranks?: number[];
    current: { sites: string[]; siteOf: number[] } | null;
    target: { sites: string[]; siteOf: number[] };
    estimate: { mode: string } | null;
  };
  env: { mark: string | null; token: string | null; key: string | null };
}

interface Run {
  dir: string;
  ids: { c1: string; c2: string; net: string };
  jobs: Map<string, JobView>;
  calls: HookCall[];
  events: ReturnType<typeof readEventLog>;
  /** The network job's runs in the history after the run (the 'ok' run has one). */
  netRuns: number;
}

let sleeper: string;
let relocating: string;
let hook: string;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-mgr-exe-'));
const savedToken = process.env.SITEMPI_TOKEN;

/** One manager with the hook (`ok` or `fail`), the three jobs, until they have all ended. */
async function scenario(mode: 'ok' | 'fail'): Promise<Run> {
  const dir = path.join(root, mode);
  fs.mkdirSync(dir);
  const log = path.join(dir, 'hook.jsonl');
  // The 'ok' run has a job history with a past run of the network job's name: its remaining time
  // comes from its progress against that run's messages. (That run was judged compute-intensive,
  // so the job starts where it fits, split, instead of waiting for one site.)
  const history =
    mode === 'ok' ? HistoryRecorder.open(path.join(dir, 'history.db'), { log: () => undefined }) : undefined;
  history?.store.write({
    ...pastRun('net', 'net-0', 'compute-intensive', Date.now() - 60_000),
    size: 2,
    wallSeconds: 60,
    messages: 1e8,
  });
  const mgr = new Manager({
    cluster: clusterFromArgs({ sites: 'A=3x1,B=3x1', rtt: '20ms', bandwidth: '1gbit' }),
    dir,
    token: `exe-${mode}`,
    shim: shimLibraryPath,
    relocate: true,
    executor: new CommandExecutor({ command: `${hook} ${log} ${mode}` }),
    planTickMs: 1000,
    history,
    // a small VM keeps the moves cheap against the jobs' few seconds
    planner: { cost: { vmMemoryBytes: 64 * 1024 * 1024 } },
  });
  await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
  try {
    const submit = (np: number, app: string[]) => mgr.submit({ np, app, cwd: dir, mpirunArgs: MPI });
    const ids = {
      // long enough for three hook calls of a few seconds each on a loaded host
      c1: submit(2, [sleeper, '20000']),
      c2: submit(2, [sleeper, '20000']),
      net: String(mgr.submit({ np: 2, app: [relocating, '10000'], cwd: dir, mpirunArgs: MPI, name: 'net' })),
    };
    const end = Date.now() + 80_000;
    // until every job has ended and the plan's last step (a hook call) is done
    while (!mgr.jobViews().every((j) => ['done', 'failed', 'cancelled'].includes(j.state)) || mgr.relocator?.busy) {
      if (Date.now() > end) throw new Error(`${mode}: timed out: ${JSON.stringify(mgr.jobViews())}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const jobs = new Map(mgr.jobViews().map((j) => [j.id, j]));
    const calls = fs.existsSync(log)
      ? fs
          .readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as HookCall)
      : [];
    // the monitor's end of the network job writes it to the history (after mpirun's end, or before)
    let netRuns = pastRuns(history?.store, 'net').length;
    for (let i = 0; history && netRuns < 2 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      netRuns = pastRuns(history.store, 'net').length;
    }
    return { dir, ids, jobs, calls, events: readEventLog(path.join(dir, 'events.jsonl')), netRuns };
  } finally {
    await mgr.close();
    history?.close();
  }
}

function expectResultsRight(r: Run): void {
  for (const id of Object.values(r.ids)) expect(r.jobs.get(id)).toMatchObject({ state: 'done', exitCode: 0 });
  expect(fs.readFileSync(r.jobs.get(r.ids.net)!.files.stdout, 'utf8')).toMatch(
    /relocating: 2 ranks, \d+ rounds, 0 errors/,
  );
  for (const id of [r.ids.c1, r.ids.c2])
    expect(fs.readFileSync(r.jobs.get(id)!.files.stdout, 'utf8')).toMatch(/sum 3 \(expected 3\)/);
}

const plans = (r: Run) => r.events.filter((e) => e.type === 'plan' && e.moves.length > 0);

describe('the manager moves jobs through --executor-command', () => {
  let ok: Run;
  let failed: Run;

  beforeAll(async () => {
    sleeper = compileMpi(path.join(__dirname, 'sleeper.c'));
    relocating = compileMpi(path.join(__dirname, 'relocating.c'));
    hook = path.join(root, 'hook.cjs');
    fs.writeFileSync(hook, HOOK, { mode: 0o755 });
    // the hook gets the manager's environment, less the secrets
    process.env.SMEXE_MARK = 'passed on';
    process.env.SITEMPI_TOKEN = 'not for hooks';
    // two managers at once: the two runs take the time of one
    [ok, failed] = await Promise.all([scenario('ok'), scenario('fail')]);
  }, 150_000);

  afterAll(() => {
    delete process.env.SMEXE_MARK;
    if (savedToken === undefined) delete process.env.SITEMPI_TOKEN;
    else process.env.SITEMPI_TOKEN = savedToken;
    if (!process.env.SMEXE_KEEP) fs.rmSync(root, { recursive: true, force: true });
  });

  it('hands the plan’s moves to the hook, and the jobs switch to their new placement', () => {
    const { net, c1, c2 } = ok.ids;
    const planned = plans(ok);
    expect(planned.length, JSON.stringify(ok.events.filter((e) => e.type === 'plan'))).toBeGreaterThanOrEqual(1);
    const moved = new Set(planned[0].type === 'plan' ? planned[0].moves.map((m) => m.job) : []);
    expect(moved.has(net)).toBe(true);
    expect(moved.size).toBe(2);
    const other = [...moved].find((j) => j !== net)!;
    expect([c1, c2]).toContain(other);
    // the compute job's VM stops first (its host is free), then one relocate per job moved: the
    // network job's first (it goes into the slot the stopped VM left)
    expect(ok.calls.map((c) => [c.req.action, c.req.reason.match(/job (\d+)/)?.[1]])).toEqual([
      ['suspend', other],
      ['relocate', net],
      ['relocate', other],
    ]);
    const s = ok.calls[0].req;
    expect(s.reason).toMatch(/node [ab]\d [AB] -> [AB] \(stopped for stop-and-copy\)/);
    expect(s.ranks).toHaveLength(1);
    expect(s.target.siteOf[s.ranks![0]]).not.toBe(s.current!.siteOf[s.ranks![0]]);
    expect(s.target.siteOf.filter((x, r) => x !== s.current!.siteOf[r])).toHaveLength(1);
    expect(ok.calls[2].req.target).toEqual(s.target);
    for (const c of ok.calls.slice(1)) {
      expect(c.argv).toEqual([path.join(ok.dir, 'hook.jsonl'), 'ok']);
      expect(c.env).toEqual({ mark: 'passed on', token: null, key: null });
      expect(c.req).toMatchObject({ action: 'relocate', job: { size: 2 }, current: { sites: ['A', 'B'] } });
      expect(c.req.job.id).toMatch(/^mgr-/);
      expect(c.req.job.hosts).toHaveLength(2);
      expect(c.req.target.sites).toEqual(['A', 'B']);
    }
    // the network job: one rank on each site, then both on one
    const n = ok.calls[1].req;
    expect(new Set(n.current!.siteOf).size).toBe(2);
    expect(new Set(n.target.siteOf).size).toBe(1);
    expect(n.reason).toMatch(/node [ab]\d [AB] -> [AB]/);
    // the compute job's stopped VM went the other way, as a stop-and-copy
    const stop = ok.events.find((e) => e.type === 'suspend');
    expect(stop).toMatchObject({ job: other });
    const relocated = ok.events.filter((e) => e.type === 'relocated');
    expect(relocated.map((e) => e.type === 'relocated' && [e.job, e.ok])).toEqual([
      [net, true],
      [other, true],
    ]);
    for (const e of relocated) if (e.type === 'relocated') expect(e.epoch).toBeGreaterThanOrEqual(2);
    expect(ok.jobs.get(net)!.sites).toHaveLength(1);
    expect(ok.jobs.get(net)!.relocations).toBe(1);
    expect(ok.jobs.get(other)!.sites).toHaveLength(2);
    // the plan's numbers carry the remaining time it weighed the gain over
    const d = planned[0].type === 'plan' ? planned[0].decisions.find((x) => x.job === net) : undefined;
    // (from its progress against the past run in the history, which the manager adds this run to)
    expect(d).toMatchObject({ action: 'move', remainingSource: 'progress' });
    expect(d!.remainingSeconds as number).toBeGreaterThanOrEqual(5);
    expect(ok.jobs.get(net)!.remaining).toMatchObject({ source: 'progress' });
    expect(ok.jobs.get(net)!.remaining!.detail).toMatch(/of 100000000 messages \(1 past run\)/);
    expect(ok.netRuns).toBe(2);
    // without a history: as long again as it has run
    const f = plans(failed)[0];
    expect(f.type === 'plan' && f.decisions.find((x) => x.job === failed.ids.net)).toMatchObject({
      remainingSource: 'default',
    });
    expectResultsRight(ok);
  });

  it('leaves the job where it was when the hook fails, and says why', () => {
    const { net } = failed.ids;
    expect(plans(failed).length).toBeGreaterThanOrEqual(1);
    // the network job's move failed: the stopped VM resumed where it was
    const other = failed.calls[0]?.req.reason.match(/job (\d+)/)?.[1];
    expect(failed.calls.map((c) => [c.req.action, c.req.reason.match(/job (\d+)/)?.[1]])).toEqual([
      ['suspend', other],
      ['relocate', net],
      ['resume', other],
    ]);
    expect(failed.calls[2].req.reason).toMatch(/\(resumes where it was\)/);
    expect(failed.calls[2].req.target).toEqual(failed.calls[0].req.current);
    const rel = failed.events.filter((e) => e.type === 'relocated');
    expect(rel).toHaveLength(1);
    expect(rel[0]).toMatchObject({ job: net, ok: false });
    expect(rel[0].type === 'relocated' && rel[0].error).toMatch(/exited with code 3: no room on the far side/);
    const stop = failed.events.find((e) => e.type === 'suspend');
    const resume = failed.events.find((e) => e.type === 'move' && e.stage === 'resume');
    expect(stop && resume && stop.type === 'suspend' && resume.type === 'move').toBe(true);
    if (stop?.type === 'suspend' && resume?.type === 'move')
      expect(resume.nodes).toEqual([{ node: stop.node, from: stop.from, to: stop.from, job: stop.job }]);
    expect(failed.jobs.get(net)!.sites).toEqual(expect.arrayContaining(['A', 'B']));
    expect(failed.jobs.get(net)!.relocations ?? 0).toBe(0);
    expectResultsRight(failed);
  });

  it('never holds more slots on a site than it has (the event log, one migration at a time)', () => {
    for (const r of [ok, failed]) {
      const worst = replayCapacity(r.events);
      expect(worst.checked).toBeGreaterThan(6);
      expect(worst.site).toBe(0); // both sites full, never over
      expect(worst.node).toBeLessThanOrEqual(0);
    }
  });
});
