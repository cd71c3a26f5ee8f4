// The planner in the manager, on the testbed (root: network namespaces). Sites A and B of 3 nodes
// (1 slot each) are full: a compute job on a0,a1, another on b0,b1, and a network-intensive job
// split over a2 and b2. One plan consolidates the network job and moves a compute job's node the
// other way: a cycle between two full sites, broken by stopping the compute job's VM first
// (stop-and-copy); the event log, replayed one migration at a time, shows that no site ever held
// more slots than it has, and every job's results are right across the moves.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterFromTestbed } from '../../src/manager/cluster-source.js';
import { readEventLog } from '../../src/manager/event-log.js';
import { Manager } from '../../src/manager/manager.js';
import { shimLibraryPath } from '../../src/native/paths.js';
import { down, type TestbedState } from '../../src/testbed/testbed.js';
import { compileMpi } from '../helpers/mpi.js';
import { describeAsRoot } from '../helpers/root.js';
import { freshTestbed, suiteTestbed } from '../helpers/testbed.js';
import { replayCapacity } from './event-capacity.js';

const tb = suiteTestbed('smmlv', '198.19.242.0/24', '198.19.243.0/24');

type Ev = ReturnType<typeof readEventLog>[number] & Record<string, unknown>;

describeAsRoot('the planner in the manager (root, testbed)', () => {
  let st: TestbedState;
  let mgr: Manager;
  let sleeper: string;
  let relocating: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-mgr-reloc-'));

  beforeAll(async () => {
    sleeper = compileMpi(path.join(__dirname, 'sleeper.c'));
    relocating = compileMpi(path.join(__dirname, 'relocating.c'));
    st = await freshTestbed(
      {
        sites: [
          { name: 'A', nodes: 3 },
          { name: 'B', nodes: 3 },
        ],
        slots: 1,
        rttMs: 20,
      },
      tb,
    );
    mgr = new Manager({
      cluster: clusterFromTestbed(st),
      testbed: st,
      dir,
      token: 'rl',
      shim: shimLibraryPath,
      planTickMs: 1000,
      // the testbed's nodes are namespaces: a migration copies no memory; a small VM keeps moves cheap
      planner: { cost: { vmMemoryBytes: 64 * 1024 * 1024 } },
    });
    await mgr.start([`unix:${path.join(dir, 'ctl.sock')}`]);
  }, 180_000);

  afterAll(async () => {
    await mgr?.close();
    await down(tb);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('moves two jobs in one plan, within the sites’ slots, and every result stays right', async () => {
    const submit = (np: number, app: string[]) => mgr.submit({ np, app, cwd: dir, mpirunArgs: [] });
    const c1 = submit(2, [sleeper, '16000']);
    const c2 = submit(2, [sleeper, '16000']);
    const net = submit(2, [relocating, '12000']);
    const jobs = () => mgr.jobViews();
    const end = Date.now() + 70_000;
    while (!jobs().every((j) => ['done', 'failed', 'cancelled'].includes(j.state))) {
      if (Date.now() > end) throw new Error(`timed out: ${JSON.stringify(jobs().map((j) => [j.id, j.state]))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const byId = new Map(jobs().map((j) => [j.id, j]));
    for (const id of [c1, c2, net]) expect(byId.get(id)).toMatchObject({ state: 'done', exitCode: 0 });
    const out = fs.readFileSync(byId.get(net)!.files.stdout, 'utf8');
    expect(out).toMatch(/relocating: 2 ranks, \d+ rounds, 0 errors/);
    for (const id of [c1, c2])
      expect(fs.readFileSync(byId.get(id)!.files.stdout, 'utf8')).toMatch(/sum 3 \(expected 3\)/);

    const events = readEventLog(path.join(dir, 'events.jsonl')) as Ev[];
    // one plan moved the network job and a compute job
    const plans = events.filter((e) => e.type === 'plan' && (e.moves as unknown[]).length >= 2);
    const planLines = events.filter((e) => e.type === 'plan').map((e) => JSON.stringify(e));
    expect(plans.length, planLines.join('\n')).toBeGreaterThanOrEqual(1);
    const moved = new Set((plans[0].moves as { job: string }[]).map((m) => m.job));
    expect(moved.has(net)).toBe(true);
    expect(moved.size).toBe(2);
    const relocated = events.filter((e) => e.type === 'relocated' && e.ok === true).map((e) => e.job);
    for (const j of moved) expect(relocated).toContain(j);
    // the network job ended on one site
    expect(byId.get(net)!.sites.length).toBe(1);
    expect(byId.get(net)!.relocations).toBeGreaterThanOrEqual(1);
    // the compute job's VM stopped first, and resumed on the other site after the network job's came in
    const stops = events.filter((e) => e.type === 'suspend');
    expect(stops.map((e) => e.job)).toEqual([...moved].filter((j) => j !== net));
    const worst = replayCapacity(events);
    expect(worst.checked).toBeGreaterThan(6);
    expect(worst.site).toBe(0); // full sites, never over
    expect(worst.node).toBeLessThanOrEqual(0);
  }, 100_000);
});
