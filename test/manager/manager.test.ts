// The manager with real mpirun and real ranks on a local cluster (every node is localhost with
// slots: no root needed): submit, queue, start, end, cancel (queued and running), failing jobs,
// backfill order with its starvation rule, and slot usage replayed from the event log.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { clusterFromJson } from '../../src/manager/cluster-source.js';
import { request } from '../../src/manager/control.js';
import { readEventLog } from '../../src/manager/event-log.js';
import type { JobView } from '../../src/manager/job-record.js';
import { Manager } from '../../src/manager/manager.js';
import { shimLibraryPath } from '../../src/native/paths.js';
import { compileMpi } from '../helpers/mpi.js';

const MPI = ['--oversubscribe', '--mca', 'mpi_yield_when_idle', '1', '--mca', 'btl', 'self,vader'];
const TOKEN = 'manager-test-token';

let dir: string;
let mgr: Manager;
let addr: string;
let sleeper: string;

async function ask(op: string, more: Record<string, unknown> = {}) {
  return await request(addr, TOKEN, { op, ...more });
}
async function submit(np: number, app: string[], name?: string): Promise<string> {
  return String((await ask('submit', { np, app, mpirunArgs: MPI, cwd: dir, name })).id);
}
async function jobs(): Promise<Map<string, JobView>> {
  return new Map(((await ask('jobs')).jobs as JobView[]).map((j) => [j.id, j]));
}
async function until(what: string, f: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const ended = (s: string) => ['done', 'failed', 'cancelled'].includes(s);

beforeAll(async () => {
  sleeper = compileMpi(path.join(__dirname, 'sleeper.c'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-mgr-'));
  // Two sites of one node with two slots each: 4 slots in all.
  const cluster = clusterFromJson({
    sites: [
      { name: 'A', nodes: 1, slots: 2, host: 'localhost' },
      { name: 'B', nodes: 1, slots: 2, host: 'localhost' },
    ],
    defaultLink: { rtt: '10ms' },
  });
  mgr = new Manager({ cluster, dir, token: TOKEN, shim: shimLibraryPath, graceMs: 2000, rules: { maxBypass: 1 } });
  [addr] = await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
}, 60_000);

afterAll(async () => {
  await mgr?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('manager', () => {
  it('refuses what can never run, and clients without the token', async () => {
    await expect(ask('submit', { np: 5, app: [sleeper], cwd: dir })).rejects.toThrow(/cluster has 4 slots/);
    await expect(ask('submit', { np: 1, app: [sleeper], cwd: dir, mpirunArgs: ['--host', 'x'] })).rejects.toThrow(
      /--host is the manager's/,
    );
    for (const time of [0, -5, 'soon', 1e12])
      await expect(ask('submit', { np: 1, app: [sleeper], cwd: dir, time })).rejects.toThrow(/--time must be/);
    await expect(request(addr, 'wrong', { op: 'jobs' })).rejects.toThrow(/bad or missing token/);
    await expect(ask('cancel', { id: '999' })).rejects.toThrow(/no job 999/);
  });

  it('runs jobs first come first served with backfill, fails and cancels without stopping', async () => {
    const long = await submit(2, [sleeper, '4000'], 'long'); // site A or B, 4 s
    const big = await submit(4, [sleeper, '100']); // waits: only 2 slots free
    const small = await submit(2, [sleeper, '100']); // backfills: fits now (big bypassed once)
    const late = await submit(1, [sleeper, '100']); // fits once small ends, but big has starved
    const queued = await submit(4, [sleeper, '100']);
    expect((await ask('cancel', { id: queued })).state).toBe('cancelled');
    await until('the big job', async () => ended((await jobs()).get(late)!.state), 90_000);
    const js = await jobs();
    for (const id of [long, big, small, late]) expect(js.get(id)).toMatchObject({ state: 'done', exitCode: 0 });
    expect(js.get(long)!.name).toBe('long');
    expect(js.get(queued)).toMatchObject({ state: 'cancelled', nodes: [] });
    expect(js.get(big)!.sites.sort()).toEqual(['A', 'B']);
    expect(js.get(small)!.sites.length).toBe(1); // the fewest sites
    // Start order: long, small (backfill), big (starved: late waited behind it), late.
    const starts = readEventLog(path.join(dir, 'events.jsonl'))
      .filter((e) => e.type === 'start')
      .map((e) => (e as { job: string }).job);
    expect(starts).toEqual([long, small, big, late]);
    // The output and exit files the listing names hold the job's own results.
    expect(fs.readFileSync(js.get(big)!.files.stdout, 'utf8')).toMatch(/sleeper: 4 ranks, sum 10 \(expected 10\)/);
    expect(fs.readFileSync(js.get(big)!.files.exit, 'utf8')).toBe('0\n');

    // A job that fails, a program that does not exist: the manager goes on.
    const fails = await submit(2, [sleeper, '0', '3']);
    const missing = await submit(1, [path.join(dir, 'no-such-program')]);
    const running = await submit(2, [sleeper, '60000']);
    await until('the failures', async () => {
      const j = await jobs();
      return ended(j.get(fails)!.state) && ended(j.get(missing)!.state) && j.get(running)!.state === 'running';
    });
    const f = await jobs();
    expect(f.get(fails)).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(f.get(missing)!.state).toBe('failed');
    expect(f.get(missing)!.exitCode).not.toBe(0);
    expect(fs.readFileSync(f.get(fails)!.files.exit, 'utf8')).toBe('3\n');

    // Cancel a running job: mpirun terminated, its slots free again.
    const t0 = Date.now();
    expect((await ask('cancel', { id: running })).state).toBe('cancelling');
    await until('the cancel', async () => ended((await jobs()).get(running)!.state), 30_000);
    expect((await jobs()).get(running)!.state).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(30_000);
    const nodes = (await ask('nodes')).nodes as { used: number }[];
    expect(nodes.map((n) => n.used)).toEqual([0, 0]);

    // The report of a finished job, from the embedded monitor.
    await until('a report', async () => fs.existsSync(js.get(big)!.files.report), 15_000);
    const rep = JSON.parse(fs.readFileSync(js.get(big)!.files.report, 'utf8')) as { jobs: { ranks: unknown[] }[] };
    expect(rep.jobs[0].ranks.length).toBe(4);
  }, 150_000);

  it('never gives a node more slots than it has (replayed from the event log)', () => {
    const events = readEventLog(path.join(dir, 'events.jsonl'));
    const cap = new Map<string, number>();
    for (const e of events) if (e.type === 'cluster') for (const n of e.nodes) cap.set(n.name, n.slots);
    const use = new Map<string, number>();
    const held = new Map<string, { node: string; slots: number }[]>();
    let starts = 0;
    for (const e of events) {
      if (e.type === 'start') {
        starts++;
        held.set(e.job, e.nodes);
        for (const n of e.nodes) {
          use.set(n.node, (use.get(n.node) ?? 0) + n.slots);
          expect(use.get(n.node)).toBeLessThanOrEqual(cap.get(n.node)!);
        }
      } else if (e.type === 'end') for (const n of held.get(e.job) ?? []) use.set(n.node, use.get(n.node)! - n.slots);
    }
    expect(starts).toBeGreaterThanOrEqual(7);
    expect([...use.values()].every((v) => v === 0)).toBe(true);
  });

  it('is driven from the command line: submit prints the id, jobs lists it', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    process.env.SITEMPI_TOKEN = TOKEN;
    try {
      const cwd = process.cwd();
      const argv = [
        'submit',
        '--manager',
        addr,
        '--name',
        'cli',
        '--time',
        '600',
        ...MPI,
        '-np',
        '2',
        '--',
        sleeper,
        '10',
      ];
      expect(await main(argv)).toBe(0);
      const id = out.join('').trim();
      expect(id).toMatch(/^\d+$/);
      // --time goes to the manager (a bound on the remaining time), not to mpirun
      expect((await jobs()).get(id)!.timeLimitSeconds).toBe(600);
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        expect(await main(argv.map((a) => (a === '600' ? 'soon' : a)))).not.toBe(0);
      } finally {
        err.mockRestore();
      }
      await until('the cli job', async () => ended((await jobs()).get(id)!.state));
      out.length = 0;
      expect(await main(['jobs', '--manager', addr])).toBe(0);
      expect(out.join('')).toMatch(new RegExp(`^${id}\\s+cli\\s+2\\s+done\\s+0`, 'm'));
      expect((await jobs()).get(id)!.cwd).toBe(cwd);
    } finally {
      spy.mockRestore();
      delete process.env.SITEMPI_TOKEN;
    }
  }, 60_000);
});
