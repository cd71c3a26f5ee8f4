// The control socket against careless and hostile clients: garbage, oversize lines, wrong tokens,
// unknown operations; each gets an error reply (or its connection closed) and the service goes on.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterFromArgs } from '../../src/manager/cluster-source.js';
import { MAX_LINE_BYTES, request } from '../../src/manager/control.js';
import { Manager } from '../../src/manager/manager.js';
import { shimLibraryPath } from '../../src/native/paths.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-ctl-'));
let mgr: Manager;
let sock: string;

beforeAll(async () => {
  mgr = new Manager({ cluster: clusterFromArgs({ sites: 'A=2x2' }), dir, token: 't', shim: shimLibraryPath });
  [sock] = await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
});
afterAll(async () => {
  await mgr.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Sends raw bytes; resolves with what came back until the server closed or `ms` passed. */
function raw(data: string | Buffer, ms = 1000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(sock.slice(5));
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.write(data);
    setTimeout(() => s.destroy(), ms);
  });
}

it('answers garbage with errors, one per line, and goes on serving', async () => {
  const got = await raw('not json\n[1,2]\n{"op":"jobs"}\n{"op":"explode","token":"t"}\n');
  const replies = got
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { ok: boolean; error: string });
  expect(replies.map((r) => r.error)).toEqual([
    'not a JSON line',
    'a request is a JSON object with "op"',
    'bad or missing token',
    'unknown op explode',
  ]);
  expect((await request(sock, 't', { op: 'jobs' })).jobs).toEqual([]);
});

it('closes a connection whose line never ends', async () => {
  const got = await raw(Buffer.alloc(MAX_LINE_BYTES + 1024, 'x'), 5000);
  expect(got).toMatch(/request line over/);
  expect((await request(sock, 't', { op: 'nodes' })).nodes).toHaveLength(2);
});

it('refuses bad submissions and samples without changing anything', async () => {
  const bad: Record<string, unknown>[] = [
    { op: 'submit', np: 0, app: ['x'], cwd: dir },
    { op: 'submit', np: 1.5, app: ['x'], cwd: dir },
    { op: 'submit', np: 1, app: [], cwd: dir },
    { op: 'submit', np: 1, app: [1], cwd: dir },
    { op: 'submit', np: 1, app: ['x'], cwd: 'relative' },
    { op: 'submit', np: 1, app: ['x'], cwd: dir, name: '../etc' },
    { op: 'submit', np: 1, app: ['x'], cwd: dir, mpirunArgs: ['--hostfile=/etc/hosts'] },
    { op: 'usage', node: 'zz', intervalMs: 1000, sample: {} },
    { op: 'usage', node: 'a0', intervalMs: 1, sample: {} },
    { op: 'usage', node: 'a0', intervalMs: 1000, sample: { load1: -1, cpuBusy: 0, memUsedBytes: 0, memTotalBytes: 0 } },
    { op: 'usage', node: 'a0', intervalMs: 1000, sample: { load1: 0, cpuBusy: 2, memUsedBytes: 0, memTotalBytes: 0 } },
  ];
  for (const r of bad) await expect(request(sock, 't', r as { op: string })).rejects.toThrow();
  expect((await request(sock, 't', { op: 'jobs' })).jobs).toEqual([]);
  const nodes = (await request(sock, 't', { op: 'nodes' })).nodes as { health: string }[];
  expect(nodes.map((n) => n.health)).toEqual(['unknown', 'unknown']);
});
