// The manager on the testbed (root: network namespaces): the cluster from the testbed's state, jobs
// placed on one site each and launched into the node namespaces through the testbed's launch
// helper; each rank says which node it ran on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterFromTestbed } from '../../src/manager/cluster-source.js';
import { request } from '../../src/manager/control.js';
import type { JobView } from '../../src/manager/job-record.js';
import { Manager } from '../../src/manager/manager.js';
import { shimLibraryPath } from '../../src/native/paths.js';
import { down, type TestbedState } from '../../src/testbed/testbed.js';
import { compileMpi } from '../helpers/mpi.js';
import { describeAsRoot } from '../helpers/root.js';
import { freshTestbed, suiteTestbed } from '../helpers/testbed.js';

// Distinct from the other suites' testbeds (prefix, state directory, subnets).
const tb = suiteTestbed('smmgr', '198.19.236.0/24', '198.19.237.0/24');

describeAsRoot('manager on the testbed (root)', () => {
  let st: TestbedState;
  let mgr: Manager;
  let addr: string;
  let sleeper: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-mgr-tb-'));

  beforeAll(async () => {
    sleeper = compileMpi(path.join(__dirname, 'sleeper.c'));
    st = await freshTestbed(
      {
        sites: [
          { name: 'A', nodes: 2 },
          { name: 'B', nodes: 1 },
        ],
        slots: 2,
        rttMs: 10,
      },
      tb,
    );
    mgr = new Manager({ cluster: clusterFromTestbed(st), testbed: st, dir, token: 'tb', shim: shimLibraryPath });
    [addr] = await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
  }, 180_000);

  afterAll(async () => {
    await mgr?.close();
    await down(tb);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('starts jobs on the nodes it chose, one site each, and queues what does not fit', async () => {
    const submit = async (np: number, ms: string) =>
      String((await request(addr, 'tb', { op: 'submit', np, app: [sleeper, ms], cwd: dir })).id);
    const four = await submit(4, '1500');
    const two = await submit(2, '1500');
    const waits = await submit(2, '100');
    const jobs = async () =>
      new Map(((await request(addr, 'tb', { op: 'jobs' })).jobs as JobView[]).map((j) => [j.id, j]));
    expect((await jobs()).get(waits)!.state).toBe('queued');
    let lastJobs = await jobs();
    const end = Date.now() + 90_000;
    while (![four, two, waits].every((id) => ['done', 'failed'].includes(lastJobs.get(id)!.state))) {
      if (Date.now() > end) throw new Error('timed out waiting for the jobs');
      await new Promise((r) => setTimeout(r, 200));
      lastJobs = await jobs();
    }
    for (const id of [four, two, waits]) expect(lastJobs.get(id)).toMatchObject({ state: 'done', exitCode: 0 });
    expect(lastJobs.get(four)!.sites).toEqual(['A']);
    expect(lastJobs.get(two)!.sites).toEqual(['B']);
    // The ranks ran where the manager put them: 2 on each A node, 2 on b0.
    const hosts = (id: string) =>
      [...fs.readFileSync(lastJobs.get(id)!.files.stdout, 'utf8').matchAll(/^rank \d+ on (\S+)$/gm)]
        .map((m) => m[1])
        .sort();
    expect(hosts(four)).toEqual(['smmgr-a0', 'smmgr-a0', 'smmgr-a1', 'smmgr-a1']);
    expect(hosts(two)).toEqual(['smmgr-b0', 'smmgr-b0']);
    expect(fs.readFileSync(lastJobs.get(four)!.files.stdout, 'utf8')).toMatch(/sum 10 \(expected 10\)/);
  }, 120_000);
});
