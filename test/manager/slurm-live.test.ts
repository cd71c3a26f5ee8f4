// The live scenario through a real Slurm on the testbed (root): sites A (6 nodes) and B (2 nodes),
// slurmctld in the root namespace and one slurmd per node namespace, the four jobs of
// bench/manager/live.ts (EP-1, LU, CG, EP-2 in Tatezono et al.'s order) at a third of the full run
// (as `live.js --slurm --quick`), relocation on. Checks that every job went through Slurm where the
// manager placed it, that the LU job was consolidated while it ran and Slurm's node features
// followed every move, that no site or node held more slots than it has, and every job's results.
// Slurm is part of CI: as root a missing daemon fails the suite, it does not skip it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runManager, type ScenarioRun } from '../../bench/manager/live-run.js';
import { liveScenario, liveTestbedSpec } from '../../bench/manager/live-scenario.js';
import { readEventLog } from '../../src/manager/event-log.js';
import { SlurmCli } from '../../src/manager/slurm-cli.js';
import { startSlurmOnTestbed, testbedSites, type SlurmOnTestbed } from '../../src/manager/slurm-testbed.js';
import { requireState } from '../../src/testbed/state.js';
import { down, type TestbedState } from '../../src/testbed/testbed.js';
import { describeAsRoot } from '../helpers/root.js';
import { freshTestbed, suiteTestbed } from '../helpers/testbed.js';
import { replayCapacity } from './event-capacity.js';

const tb = suiteTestbed('smsll', '198.19.238.0/24', '198.19.239.0/24');
// Not a system Slurm's ports (6817/6818), nor slurm.test.ts's (6917/6918) or the benchmark's (6937/6938).
const PORTS = { ctldPort: 6927, slurmdPort: 6928 };
/** Longest Slurm's features may lag a move: the manager's poll (500 ms) and a few scontrol updates. */
const SYNC_GRACE_MS = 4000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What Slurm and the testbed said at one moment of the run. */
interface Snapshot {
  t: number;
  /** Slurm job ids squeue listed as RUNNING */
  running: Set<string>;
  /** Slurm NodeName → the site of its active site_ feature */
  slurmSite: Map<string, string>;
  /** Slurm NodeName (the node's host) → the site the testbed has it on */
  site: Map<string, string>;
}

describeAsRoot('the live scenario through Slurm (root, testbed)', () => {
  let st: TestbedState;
  let slurm: SlurmOnTestbed | undefined;
  let cli: SlurmCli;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-slurm-live-'));
  const said: string[] = [];

  beforeAll(async () => {
    const missing = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol'].filter(
      (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
    );
    if (missing.length)
      throw new Error(`${missing.join(', ')} not installed (Debian: slurm-wlm, munge): this suite runs a real Slurm`);
    st = await freshTestbed(liveTestbedSpec(10), tb);
    slurm = await startSlurmOnTestbed(st, PORTS);
    cli = new SlurmCli({ conf: slurm.conf });
  }, 180_000);

  afterAll(async () => {
    await slurm?.stop();
    await down(tb);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("runs the four jobs through Slurm, consolidates LU while it runs, keeps Slurm's nodes true", async () => {
    const scenario = liveScenario(1 / 3);
    // Slurm's own view through the run, read beside the manager (which reads it too).
    const snaps: Snapshot[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        try {
          const [jobs, nodes, now] = await Promise.all([cli.jobs(), cli.nodes(), requireState(tb)]);
          snaps.push({
            t: Date.now(),
            running: new Set([...jobs.values()].filter((j) => j.state === 'RUNNING').map((j) => j.id)),
            slurmSite: new Map(nodes.map((n) => [n.name, n.activeFeatures.join().replace(/^.*site_(\w+).*$/, '$1')])),
            site: new Map(now.nodes.map((n) => [n.host, n.site])),
          });
        } catch {
          /* a state file being rewritten, a slow controller: the next one */
        }
        await sleep(400);
      }
    })();
    let run: ScenarioRun;
    try {
      run = await runManager(st, true, scenario.steps, (m) => said.push(m), {
        slurm: { conf: slurm!.conf, partition: slurm!.partition, pollMs: 500, sitesNow: testbedSites(tb.stateDir!) },
        dir,
      });
    } finally {
      watching = false;
      await watch;
    }
    const job = (name: string) => run.jobs.find((j) => j.name === name)!;
    const events = readEventLog(path.join(dir, 'events.jsonl'));
    // What the planner decided for LU at each plan (none: it was not a network-intensive job then),
    // the first thing to read when it never moved.
    const luPlans = events.flatMap((e) => {
      if (e.type !== 'plan') return [];
      const d = e.decisions.find((x) => x.job === job('LU')?.id);
      return [`  ${e.reason}: ${d ? JSON.stringify(d) : 'no decision on LU'}`];
    });
    const why = `manager log:\n${said.join('\n')}\nplanner on LU:\n${luPlans.join('\n')}`;
    const at = (s: number) => run.startedAt + s * 1000;

    // The four jobs in Tatezono et al.'s order: LU while EP-1 runs, CG once EP-1 ended, EP-2 once CG ended.
    expect(run.jobs.map((j) => j.name)).toEqual(['EP-1', 'LU', 'CG', 'EP-2']);
    expect(job('LU').submitted).toBeGreaterThan(job('EP-1').started);
    expect(job('LU').submitted).toBeLessThan(job('EP-1').ended);
    expect(job('CG').submitted).toBeGreaterThanOrEqual(job('EP-1').ended);
    expect(job('EP-2').submitted).toBeGreaterThanOrEqual(job('CG').ended);

    // Every job went through Slurm: an sbatch id each, squeue listed it running, and the
    // controller's record says where it ran and how it ended (no slurmdbd: scontrol, not sacct).
    const ids = run.jobs.map((j) => j.slurmJob);
    for (const id of ids) expect(id, why).toMatch(/^\d+$/);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(snaps.some((s) => s.running.has(id!))).toBe(true);
    const hostnames = async (list: string) =>
      list === '(null)' ? [] : (await cli.run('scontrol', ['show', 'hostnames', list])).trim().split('\n').sort();
    const hostOf = new Map(st.nodes.map((n) => [n.name, n.host]));
    for (const j of run.jobs) {
      const rec = Object.fromEntries(
        (await cli.run('scontrol', ['-o', 'show', 'job', j.slurmJob!]))
          .trim()
          .split(' ')
          .map((kv) => kv.split('=', 2)),
      );
      expect(rec, j.name).toMatchObject({ JobState: 'COMPLETED', ExitCode: '0:0' });
      // The nodes the manager placed the job on (its start in the event log) are Slurm's allocation,
      // and what sbatch asked for: --nodelist when it fitted at submission, --constraint on one site.
      const start = events.find((e) => e.type === 'start' && e.job === j.id) as
        { nodes: { node: string; site: string }[] } | undefined;
      const placed = start!.nodes.map((n) => hostOf.get(n.node)!).sort();
      expect(await hostnames(rec.NodeList), j.name).toEqual(placed);
      const asked = await hostnames(rec.ReqNodeList);
      const sites = [...new Set(start!.nodes.map((n) => n.site))];
      if (asked.length > 0 || ['EP-1', 'LU'].includes(j.name)) {
        // EP-1 and LU always fit when they arrive (8 nodes, 4 free for LU)
        expect(asked, j.name).toEqual(placed);
        expect(rec.Features, j.name).toBe(sites.length === 1 ? `site_${sites[0]}` : '(null)');
      }
    }
    // LU arrived while EP-1 held 4 of A's 6 nodes: Slurm started it split over A and B.
    expect(Object.keys(job('LU').placements[0].sites).sort()).toEqual(['A', 'B']);

    // LU was consolidated on one site while it ran (the planner's move, through the testbed executor).
    const lu = job('LU');
    expect(lu.relocations, why).toBeGreaterThanOrEqual(1);
    // ... and once network-intensive, it stayed so in every plan until it moved (a window of a
    // running job whose ranks' records end at different times once made its prediction fail now and
    // then, and the verdict fell back to the rates rule's)
    const plans = events.filter((e) => e.type === 'plan');
    const decided = (e: (typeof plans)[number]) => e.type === 'plan' && e.decisions.some((d) => d.job === lu.id);
    const firstOn = plans.findIndex(decided);
    const moved = plans.findIndex((e) => e.type === 'plan' && e.moves.some((m) => m.job === lu.id));
    expect(firstOn, why).toBeGreaterThanOrEqual(0);
    expect(moved, why).toBeGreaterThanOrEqual(firstOn);
    for (const e of plans.slice(firstOn, moved + 1)) expect(decided(e), why).toBe(true);
    const last = lu.placements[lu.placements.length - 1];
    expect(Object.values(last.sites)).toEqual([4]);
    expect(last.t).toBeGreaterThan(lu.started);
    expect(last.t).toBeLessThan(lu.ended);
    expect(run.plans.some((p) => p.moves.some((m) => m.job === lu.id))).toBe(true);
    // Slurm's view of LU's nodes followed: before LU ended, Slurm had every one of them on LU's site.
    const luSite = Object.keys(last.sites)[0];
    const luHosts = (
      events.find((e) => e.type === 'start' && e.job === lu.id) as unknown as { nodes: { node: string }[] }
    ).nodes.map((n) => hostOf.get(n.node)!);
    expect(
      snaps.some((s) => s.t > at(last.t) && s.t < at(lu.ended) && luHosts.every((h) => s.slurmSite.get(h) === luSite)),
      `Slurm never showed LU's nodes ${luHosts.join(',')} on ${luSite}`,
    ).toBe(true);
    // ... and at every moment of the run outside a move (and the manager's next poll after it),
    // Slurm's site of every node is the site the testbed has it on.
    const moves = events.filter((e) => ['move', 'relocated', 'freeNode'].includes(e.type)).map((e) => e.t);
    const quiet = snaps.filter((s) => !moves.some((m) => m <= s.t && s.t - m < SYNC_GRACE_MS));
    expect(quiet.length).toBeGreaterThan(10);
    for (const s of quiet)
      expect(Object.fromEntries(s.slurmSite), `${new Date(s.t).toISOString()}`).toEqual(Object.fromEntries(s.site));
    // The moves changed Slurm's view: some quiet moment had a node on a site other than its home.
    const home = new Map(st.nodes.map((n) => [n.host, n.homeSite]));
    expect(quiet.some((s) => [...s.slurmSite].some(([h, site]) => home.get(h) !== site))).toBe(true);

    // No site and no node ever held more slots than it has (the event log replayed).
    const worst = replayCapacity(events);
    expect(worst.checked).toBeGreaterThanOrEqual(8);
    expect(worst.site).toBeLessThanOrEqual(0);
    expect(worst.node).toBeLessThanOrEqual(0);

    // Every job's results: exit 0 (EP and CG check their allreduce results), its report from the
    // monitor with 4 ranks, and every one of LU's wavefront messages sent across its relocation.
    for (const j of run.jobs) {
      expect(j.exitCode, `${j.name}: ${why}`).toBe(0);
      expect(fs.readFileSync(path.join(dir, 'jobs', `${j.id}.exit`), 'utf8')).toBe('0\n');
      expect(j.report?.messages.length, j.name).toBe(4);
    }
    const sweeps = Number(scenario.steps[1].job.app[1]);
    // the 2 x 2 grid: 0 → 1, 0 → 2 (east, south), 1 → 3, 2 → 3
    const edges = [
      [0, sweeps, sweeps, 0],
      [0, 0, 0, sweeps],
      [0, 0, 0, sweeps],
      [0, 0, 0, 0],
    ];
    expect(lu.report!.messages).toEqual(edges);
    expect(lu.report!.bytes).toEqual(edges.map((r) => r.map((m) => m * 131072)));
  }, 240_000);
});
