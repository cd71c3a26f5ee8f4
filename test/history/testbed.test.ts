// Placement from history on the testbed (root: namespaces, wanemu): `sitempi run --testbed
// --relocate auto --history DB --name NAME` of a network-intensive job spread over two sites. The
// first run is measured and then moved by the policy; the second, under the same name, is
// consolidated on one site from its first placement, before the policy could have measured it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodeHosts, relocatingRunArgs } from '../../bench/relocation/testbed-run.js';
import type { PlacementReport } from '../../src/placement/report.js';
import { wanemuPath } from '../../src/native/paths.js';
import { down, migrate, status, type TestbedState } from '../../src/testbed/testbed.js';
import { runCli } from '../helpers/cli.js';
import { compileMpi } from '../helpers/mpi.js';
import { describeAsRoot } from '../helpers/root.js';
import { freshTestbed, suiteTestbed } from '../helpers/testbed.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Distinct from a developer's testbed and the other suites' (prefix, subnets, state directory).
const opts = suiteTestbed('smhist', '10.226.0.0/24', '10.227.0.0/24');

describeAsRoot('placement from history on the testbed (root)', () => {
  let st: TestbedState;
  let program: string;

  beforeAll(async () => {
    if (!fs.existsSync(wanemuPath)) throw new Error(`${wanemuPath} is missing: run npm run build`);
    program = compileMpi(path.join(here, 'pingpong.c'));
    st = await freshTestbed({ sites: { A: 2, B: 2 }, slots: 1, rttMs: 10, bandwidth: 1e9 }, opts);
  }, 180_000);

  afterAll(async () => {
    await down(opts);
    fs.rmSync(opts.stateDir, { recursive: true, force: true });
  }, 60_000);

  /** Every node back on its own site. */
  async function home(): Promise<void> {
    const s = await status({ stateDir: opts.stateDir });
    for (const n of s.nodes) {
      const want = n.name.startsWith('a') ? 'A' : 'B';
      if (n.site !== want) await migrate(n.name, want, { stateDir: opts.stateDir });
    }
  }

  /** One run of the ping-pong job under `name`: ranks 0,1 on site A, 2,3 on B, each talking across. */
  async function run(db: string, name: string): Promise<PlacementReport> {
    await home();
    const report = path.join(opts.stateDir, `${name}-${Date.now()}.json`);
    const { code, err } = await runCli(
      relocatingRunArgs({
        stateDir: opts.stateDir,
        siteCapacity: 'A=4,B=4',
        minObserve: 1,
        report,
        hosts: nodeHosts(st, ['a0', 'a1', 'b0', 'b1']),
        command: [program, '3'],
        extra: ['--evaluate-every', '0.2', '--no-gain-check', '--history', db, '--name', name],
      }),
    );
    expect(code, err).toBe(0);
    const job = (JSON.parse(fs.readFileSync(report, 'utf8')) as { jobs: Array<{ placement: PlacementReport }> })
      .jobs[0];
    return job.placement;
  }

  it('a network-intensive job run twice under one name is on one site from the start the second time', async () => {
    const db = path.join(opts.stateDir, 'history.db');
    const first = await run(db, 'cg-like');
    expect(first.verdictSource).toBe('measured');
    expect(first.timeline[0].siteOf).toEqual([0, 0, 1, 1]);
    expect(first.relocations.map((r) => [r.trigger, r.ok])).toEqual([['policy', true]]);
    const movedAt = first.timeline[1].jobSeconds;
    expect(movedAt).toBeGreaterThanOrEqual(1); // measured first
    expect(new Set(first.timeline[1].siteOf).size).toBe(1);

    const second = await run(db, 'cg-like');
    expect(second.verdictSource).toBe('history');
    expect(second.historyVerdict).toMatchObject({ name: 'cg-like', verdict: 'network-intensive', runs: 1 });
    expect(second.relocations.map((r) => [r.trigger, r.ok])).toEqual([['history', true]]);
    const [, consolidated] = second.timeline;
    expect(new Set(consolidated.siteOf).size).toBe(1);
    expect(consolidated.jobSeconds).toBeLessThan(1);
    expect(consolidated.jobSeconds).toBeLessThan(movedAt);
    // the policy found nothing left to do
    expect(second.decisions.every((d) => d.action !== 'relocate')).toBe(true);
  }, 240_000);
});
