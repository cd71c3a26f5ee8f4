// The manager through a real Slurm on the testbed (root): slurmctld in the root namespace, one
// slurmd per node namespace, munged with a key of its own. Jobs go to Slurm with the nodes sitempi
// chose; Slurm queues, allocates and launches (mpirun's daemons start through srun); the manager
// follows them to their end, cancels through scancel, and keeps Slurm's site features equal to
// where the nodes are after the testbed executor relocates a running job.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterFromTestbed } from '../../src/manager/cluster-source.js';
import { request } from '../../src/manager/control.js';
import type { JobView } from '../../src/manager/job-record.js';
import { Manager } from '../../src/manager/manager.js';
import { SlurmCli, type SlurmNode } from '../../src/manager/slurm-cli.js';
import { startSlurmOnTestbed, testbedSites, type SlurmOnTestbed } from '../../src/manager/slurm-testbed.js';
import { shimLibraryPath } from '../../src/native/paths.js';
import { TestbedExecutor } from '../../src/placement/testbed-executor.js';
import { down, type TestbedState } from '../../src/testbed/testbed.js';
import { compileMpi } from '../helpers/mpi.js';
import { describeAsRoot } from '../helpers/root.js';
import { freshTestbed, suiteTestbed } from '../helpers/testbed.js';

// Distinct from the other suites' testbeds (prefix, state directory, subnets).
const tb = suiteTestbed('smslm', '198.19.240.0/24', '198.19.241.0/24');

describeAsRoot('manager through Slurm on the testbed (root)', () => {
  let st: TestbedState;
  let slurm: SlurmOnTestbed | undefined;
  let mgr: Manager | undefined;
  let addr: string;
  let sleeper: string;
  let cli: SlurmCli;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-slurm-'));

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
    slurm = await startSlurmOnTestbed(st);
    cli = new SlurmCli({ conf: slurm.conf });
    mgr = new Manager({
      cluster: clusterFromTestbed(st),
      testbed: st,
      dir,
      token: 'slm',
      shim: shimLibraryPath,
      slurm: { conf: slurm.conf, partition: slurm.partition, pollMs: 300, sitesNow: testbedSites(tb.stateDir!) },
    });
    [addr] = await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
  }, 120_000);

  afterAll(async () => {
    await mgr?.close();
    await slurm?.stop();
    await down(tb);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const submit = async (np: number, ...args: string[]) =>
    String((await request(addr, 'slm', { op: 'submit', np, app: [sleeper, ...args], cwd: dir })).id);
  const jobs = async () =>
    new Map(((await request(addr, 'slm', { op: 'jobs' })).jobs as JobView[]).map((j) => [j.id, j]));
  const until = async (what: string, ok: (j: Map<string, JobView>) => boolean, ms = 60_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const j = await jobs();
      if (ok(j)) return j;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify([...j.values()])}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const ended = (s: string) => ['done', 'failed', 'cancelled'].includes(s);
  const hosts = (j: JobView) =>
    [...fs.readFileSync(j.files.stdout, 'utf8').matchAll(/^rank \d+ on (\S+)$/gm)].map((m) => m[1]).sort();
  /** Slurm's allocated CPUs per node against the slots the manager's model holds. */
  const sameNodeView = async () => {
    const slurmNodes = new Map((await cli.nodes()).map((n: SlurmNode) => [n.name, n.allocCpus]));
    const ours = (await request(addr, 'slm', { op: 'nodes' })).nodes as { name: string; used: number }[];
    return ours.map((n) => [n.name, n.used, slurmNodes.get(`${tb.prefix}-${n.name}`)]);
  };

  it("runs jobs where sitempi chose, queues, fails, cancels, and keeps Slurm's nodes in step", async () => {
    // First the 2-rank job: the manager puts it on B, the fullest site that holds it (Slurm on
    // its own would take the first free nodes, a0); then the 4-rank job fills A.
    const two = await submit(2, '3000');
    const four = await submit(4, '3000');
    const waits = await submit(2, '4000'); // nothing free: Slurm queues it
    let j = await until(
      'both first jobs running',
      (m) => m.get(four)!.state === 'running' && m.get(two)!.state === 'running',
    );
    expect(j.get(waits)!.state).toBe('queued');
    expect(j.get(waits)!.slurmJob).toMatch(/^\d+$/);
    // One site each: the four ranks on A's nodes, the two on B's; Slurm's allocation is the manager's.
    expect(j.get(four)!.sites).toEqual(['A']);
    expect(j.get(two)!.sites).toEqual(['B']);
    // Slurm's record of the jobs: the nodes and site the manager asked for, and what it allocated.
    const record = async (id: string) =>
      Object.fromEntries(
        (await cli.run('scontrol', ['-o', 'show', 'job', j.get(id)!.slurmJob!]))
          .trim()
          .split(' ')
          .map((kv) => kv.split('=', 2)),
      );
    expect(await record(two)).toMatchObject({
      ReqNodeList: `${tb.prefix}-b0`,
      NodeList: `${tb.prefix}-b0`,
      Features: 'site_B',
    });
    expect(await record(four)).toMatchObject({ ReqNodeList: `${tb.prefix}-a[0-1]`, NodeList: `${tb.prefix}-a[0-1]` });
    expect((await record(waits)).ReqNodeList).toBe('(null)');
    let view = await sameNodeView();
    for (const [, used, alloc] of view) expect(alloc).toBe(used);
    expect(view.map((v) => v[1])).toEqual([2, 2, 2]);

    j = await until('the queued job running', (m) => m.get(waits)!.state === 'running');
    // It started when one of the first two had ended and freed its nodes.
    expect([four, two].some((id) => j.get(id)!.state === 'done')).toBe(true);
    // The running job is relocated to the other site by the testbed executor (its node migrates):
    // Slurm's features follow.
    const w = j.get(waits)!;
    const moved = w.nodes[0].node;
    const other = st.nodes.find((n) => n.name === moved)!.site === 'A' ? 'B' : 'A';
    let rankHosts: string[] = [];
    for (let t = Date.now(); rankHosts.length < 2 && Date.now() - t < 10_000;) {
      await new Promise((r) => setTimeout(r, 100));
      const out = fs.readFileSync(w.files.stdout, 'utf8');
      rankHosts = [...out.matchAll(/^rank (\d+) on (\S+)$/gm)].sort((a, b) => +a[1] - +b[1]).map((m) => m[2]);
    }
    expect(rankHosts).toHaveLength(2);
    const ex = new TestbedExecutor({ stateDir: tb.stateDir!, maxNodesPerSite: Infinity, downtimeMs: 0 });
    try {
      await ex.start();
      const reached = await ex.relocate({
        job: { id: w.id, size: 2, hosts: rankHosts },
        current: null,
        target: { sites: [other], siteOf: [0, 0] },
        reason: 'test',
      });
      expect(reached.siteOf.map((k) => reached.sites[k])).toEqual([other, other]);
    } finally {
      await ex.close();
    }
    const end = Date.now() + 10_000;
    let features: string[] = [];
    while (Date.now() < end) {
      features = (await cli.nodes()).find((n) => n.name === `${tb.prefix}-${moved}`)!.activeFeatures;
      if (features.includes(`site_${other}`)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(features).toEqual([`site_${other}`]);

    const fails = await submit(2, '100', '3');
    const cancel = await submit(2, '30000');
    // --time through Slurm: sbatch gets it in minutes, the manager stops the job at the second
    const timed = String(
      (await request(addr, 'slm', { op: 'submit', np: 2, app: [sleeper, '30000'], cwd: dir, time: 1 })).id,
    );
    j = await until('the long job running', (m) => m.get(cancel)!.state === 'running');
    await request(addr, 'slm', { op: 'cancel', id: cancel });
    j = await until('every job ended', (m) => [...m.values()].every((x) => ended(x.state)));

    for (const id of [four, two, waits]) {
      expect(j.get(id)).toMatchObject({ state: 'done', exitCode: 0 });
      expect(fs.readFileSync(j.get(id)!.files.exit, 'utf8')).toBe('0\n');
      // The ranks ran on the nodes the manager recorded (Slurm's allocation of sitempi's choice).
      const expected = j
        .get(id)!
        .nodes.flatMap((n) => new Array<string>(n.slots).fill(`${tb.prefix}-${n.node}`))
        .sort();
      expect(hosts(j.get(id)!)).toEqual(expected);
    }
    expect(hosts(j.get(four)!)).toEqual([`${tb.prefix}-a0`, `${tb.prefix}-a0`, `${tb.prefix}-a1`, `${tb.prefix}-a1`]);
    expect(fs.readFileSync(j.get(four)!.files.stdout, 'utf8')).toMatch(/sum 10 \(expected 10\)/);
    // Across the migration the job's result stayed right.
    expect(fs.readFileSync(j.get(waits)!.files.stdout, 'utf8')).toMatch(/sum 3 \(expected 3\)/);
    expect(j.get(fails)).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(j.get(cancel)!.state).toBe('cancelled');
    expect(j.get(timed)).toMatchObject({ state: 'failed', error: 'time limit of 1 s reached: stopped' });
    expect(j.get(timed)!.endedAt! - j.get(timed)!.startedAt!).toBeLessThan(20_000);
    const timedRec = await cli.run('scontrol', ['-o', 'show', 'job', j.get(timed)!.slurmJob!]);
    expect(timedRec).toMatch(/ TimeLimit=00:01:00 /);
    // Slurm's own record agrees.
    const slurmJobs = await cli.jobs();
    expect(slurmJobs.get(j.get(fails)!.slurmJob!)!.state).toBe('FAILED');
    expect(slurmJobs.get(j.get(cancel)!.slurmJob!)!.state).toBe('CANCELLED');
    expect(slurmJobs.get(j.get(four)!.slurmJob!)!.state).toBe('COMPLETED');

    // Everything ended: no node holds a slot, in Slurm or in the manager.
    const settle = Date.now() + 10_000;
    do {
      view = await sameNodeView();
      if (view.every(([, used, alloc]) => used === 0 && alloc === 0)) break;
      await new Promise((r) => setTimeout(r, 300));
    } while (Date.now() < settle);
    expect(view.map(([, used, alloc]) => [used, alloc])).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  }, 90_000);
});
