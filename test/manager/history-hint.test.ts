// The manager started with a job history: a job whose name last ran network-intensive waits for one
// site that can hold it instead of spanning sites now; a name without history spans at once. Real
// mpirun, real ranks, a real history database file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HistoryRecorder } from '../../src/history/recorder.js';
import { HistoryStore } from '../../src/history/store.js';
import { clusterFromJson } from '../../src/manager/cluster-source.js';
import { request } from '../../src/manager/control.js';
import type { JobView } from '../../src/manager/job-record.js';
import { Manager } from '../../src/manager/manager.js';
import { shimLibraryPath } from '../../src/native/paths.js';
import { compileMpi } from '../helpers/mpi.js';
import { run } from './history-entry.js';

const MPI = ['--oversubscribe', '--mca', 'mpi_yield_when_idle', '1', '--mca', 'btl', 'self,vader'];
const TOKEN = 'hint-test-token';
let dir: string, mgr: Manager, addr: string, sleeper: string, history: HistoryRecorder;

const ask = async (op: string, more: Record<string, unknown> = {}) => await request(addr, TOKEN, { op, ...more });
const submit = async (np: number, ms: number, name: string) =>
  String((await ask('submit', { np, app: [sleeper, String(ms)], mpirunArgs: MPI, cwd: dir, name })).id);
const view = async (id: string) => ((await ask('jobs')).jobs as JobView[]).find((j) => j.id === id)!;
async function until(what: string, f: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  sleeper = compileMpi(path.join(__dirname, 'sleeper.c'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-hint-'));
  const file = path.join(dir, 'history.db');
  const w = HistoryStore.open(file);
  w.write(run('netjob', 'netjob-1', 'network-intensive', Date.now() - 60_000));
  w.close();
  history = HistoryRecorder.open(file, { log: () => {} });
  // A: 3 slots, B: 2 slots, on one node each
  const cluster = clusterFromJson({
    sites: [
      { name: 'A', nodes: 1, slots: 3, host: 'localhost' },
      { name: 'B', nodes: 1, slots: 2, host: 'localhost' },
    ],
    defaultLink: { rtt: '10ms' },
  });
  mgr = new Manager({ cluster, dir, token: TOKEN, shim: shimLibraryPath, graceMs: 2000, history });
  [addr] = await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
}, 60_000);

afterAll(async () => {
  await mgr?.close();
  history?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('a name that last ran network-intensive waits for one site rather than span sites', async () => {
  // B full for 2 s, A holding 1 of 3 slots for 8 s: once B ends, 4 slots are free, but 3 on no site
  const holdB = await submit(2, 2000, 'holdB');
  await until('holdB running', async () => (await view(holdB)).state === 'running');
  expect((await view(holdB)).sites).toEqual(['B']);
  const holdA = await submit(1, 8000, 'holdA');
  await until('holdA running', async () => (await view(holdA)).state === 'running');
  expect((await view(holdA)).sites).toEqual(['A']);
  const net = await submit(3, 100, 'netjob');
  await until('holdB ended', async () => (await view(holdB)).state === 'done', 60_000);
  await new Promise((r) => setTimeout(r, 1000)); // the queue is scheduled again when a job ends
  expect((await view(holdA)).state).toBe('running');
  expect((await view(net)).state).toBe('queued'); // without its history it would span A and B now
  await until('netjob ended', async () => ['done', 'failed'].includes((await view(net)).state), 90_000);
  const n = await view(net);
  expect(n.state).toBe('done');
  expect(n.sites).toEqual(['A']);
  // the manager writes the jobs it ran into the history
  await until('holdB in the history', async () => history.store.pastVerdict('holdB') !== null, 30_000);
}, 120_000);
