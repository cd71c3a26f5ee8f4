// Node usage from real agents (processes of their own): one is stopped (SIGSTOP) and goes stale,
// gets no new job, and is fresh again once resumed (SIGCONT).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { clusterFromArgs } from '../../src/manager/cluster-source.js';
import { request } from '../../src/manager/control.js';
import { readEventLog } from '../../src/manager/event-log.js';
import { Manager } from '../../src/manager/manager.js';
import { shimLibraryPath } from '../../src/native/paths.js';

interface NodeRow {
  name: string;
  health: string;
  usage: { load1: number; cpuBusy: number; memUsedBytes: number; memTotalBytes: number } | null;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-agents-'));
const agents: ChildProcess[] = [];
let mgr: Manager | undefined;

afterAll(async () => {
  for (const a of agents) {
    a.kill('SIGCONT');
    a.kill('SIGKILL');
  }
  await mgr?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function agent(addr: string, node: string): ChildProcess {
  const c = spawn(process.execPath, ['node_modules/vite-node/vite-node.mjs', 'test/cli/run-cli.ts'], {
    env: {
      ...process.env,
      SITEMPI_TOKEN: 'agents-token',
      SITEMPI_TEST_ARGV: JSON.stringify(['agent', '--manager', addr, '--node', node, '--interval', '400']),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  agents.push(c);
  return c;
}

it('marks a node stale when its agent stops reporting, and fresh when it resumes', async () => {
  mgr = new Manager({
    cluster: clusterFromArgs({ sites: 'A=1x2,B=1x2' }),
    dir,
    token: 'agents-token',
    shim: shimLibraryPath,
    staleAfter: 4,
  });
  const [addr] = await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
  const nodes = async () =>
    new Map(((await request(addr, 'agents-token', { op: 'nodes' })).nodes as NodeRow[]).map((n) => [n.name, n]));
  const until = async (what: string, f: (n: Map<string, NodeRow>) => boolean) => {
    const end = Date.now() + 60_000;
    while (!f(await nodes())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  expect((await nodes()).get('a0')!.health).toBe('unknown');
  const a0 = agent(addr, 'a0');
  agent(addr, 'b0');
  await until('both agents', (n) => n.get('a0')!.health === 'fresh' && n.get('b0')!.health === 'fresh');
  const u = (await nodes()).get('a0')!.usage!;
  expect(u.memTotalBytes).toBeGreaterThan(u.memUsedBytes);
  expect(u.memUsedBytes).toBeGreaterThan(0);
  expect(u.cpuBusy).toBeGreaterThanOrEqual(0);
  expect(u.cpuBusy).toBeLessThanOrEqual(1);

  a0.kill('SIGSTOP');
  await until('a0 stale', (n) => n.get('a0')!.health === 'stale');
  expect((await nodes()).get('b0')!.health).toBe('fresh');
  // A stale node gets no new job: this one waits for b0's two slots although a0 is free.
  const filler = await request(addr, 'agents-token', {
    op: 'submit',
    np: 2,
    app: ['sleep', '60'],
    cwd: dir,
    mpirunArgs: ['--oversubscribe'],
  });
  const queued = await request(addr, 'agents-token', { op: 'submit', np: 2, app: ['x'], cwd: dir });
  const state = async (id: unknown) =>
    (
      (await request(addr, 'agents-token', { op: 'jobs' })).jobs as {
        id: string;
        state: string;
        nodes: { node: string }[];
      }[]
    ).find((j) => j.id === id)!;
  expect((await state(filler.id)).nodes.map((n) => n.node)).toEqual(['b0']);
  expect((await state(queued.id)).state).toBe('queued');
  await request(addr, 'agents-token', { op: 'cancel', id: queued.id });
  await request(addr, 'agents-token', { op: 'cancel', id: filler.id });

  a0.kill('SIGCONT');
  await until('a0 fresh again', (n) => n.get('a0')!.health === 'fresh');
  const kinds = readEventLog(path.join(dir, 'events.jsonl'))
    .filter((e) => e.type === 'stale' || e.type === 'fresh')
    .map((e) => `${e.type} ${(e as { node: string }).node}`);
  expect(kinds).toEqual(['stale a0', 'fresh a0']);
}, 90_000);
