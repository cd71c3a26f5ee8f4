// The placement service over real sockets, with fake ranks speaking the shim's wire format.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../src/monitor/monitor.js';
import { CommandExecutor } from '../../src/placement/command-executor.js';
import type { Executor, ExternalChange, JobInfo, RelocationRequest } from '../../src/placement/executor.js';
import type { SitePlacement } from '../../src/placement/sitemap.js';
import { PlacementService, type PlacementEvent, type RelocationEvent } from '../../src/placement/service.js';
import type { PolicyDecision } from '../../src/placement/policy.js';
import { FakeRank, sleep, traffic, until } from './helpers.js';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(
  opts: ConstructorParameters<typeof PlacementService>[1] = {},
  monitorOpts: ConstructorParameters<typeof Monitor>[0] = {},
) {
  const m = new Monitor({ updateIntervalMs: 50, ...monitorOpts });
  m.on('jobStart', (j) => {
    j.registered = true;
  }); // as an operator's registration: these jobs may move
  const svc = new PlacementService(m, opts);
  await svc.start();
  const [addr] = await m.listen('tcp://127.0.0.1:0');
  const placements: PlacementEvent[] = [];
  const relocations: RelocationEvent[] = [];
  const decisions: PolicyDecision[] = [];
  const warnings: string[] = [];
  svc.on('placement', (e) => placements.push(e));
  svc.on('relocation', (e) => relocations.push(e));
  svc.on('decision', (d) => decisions.push(d));
  svc.on('warning', (w) => warnings.push(w));
  const ranks: FakeRank[] = [];
  const rank = (job: string, r: number, size: number, host?: string) => {
    const f = new FakeRank(addr, job, r, size, host);
    ranks.push(f);
    return f;
  };
  cleanup.push(async () => {
    for (const f of ranks) if (!f.closed) f.socket.destroy();
    await m.close();
    await svc.close();
  });
  return { m, svc, addr, placements, relocations, decisions, warnings, rank };
}

const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-placement-'));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
};

/** A hook script (node) that logs its stdin to `log` and then does what `body` says. */
function hook(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    `#!/usr/bin/env node
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  require('fs').appendFileSync(${JSON.stringify(path.join(dir, 'calls.log'))}, input);
  const req = JSON.parse(input);
  ${body}
});
`,
    { mode: 0o755 },
  );
  // the package is "type": "module": run it as CommonJS
  const cjs = file + '.cjs';
  fs.renameSync(file, cjs);
  return cjs;
}

describe('placement service', () => {
  it('gives a rank the current placement right after its Hello, also when it connects later', async () => {
    const { rank, placements, svc } = await setup({ sites: 'A:0-1;B:2-3' });
    const r0 = rank('J1', 0, 4);
    await r0.hello();
    await until(() => r0.placements().length === 1, 2000, 'placement at rank 0');
    expect(r0.received[0]).toEqual({
      at: expect.any(Number),
      kind: 'placement',
      epoch: 1,
      sites: ['A', 'B'],
      siteOf: [0, 0, 1, 1],
    });
    expect(r0.received[0].at - r0.helloAt).toBeLessThan(500);
    expect(placements).toHaveLength(1);
    expect(placements[0]).toMatchObject({
      jobId: 'J1',
      epoch: 1,
      source: 'config',
      map: 'A:0,1;B:2,3',
      previous: null,
    });
    await sleep(100);
    const r3 = rank('J1', 3, 4);
    await r3.hello();
    await until(() => r3.placements().length === 1, 2000, 'placement at rank 3');
    expect(r3.received[0]).toMatchObject({ kind: 'placement', epoch: 1, siteOf: [0, 0, 1, 1] });
    expect(r0.placements()).toHaveLength(1); // nothing new for rank 0
    expect(svc.current('J1')?.epoch).toBe(1);
  });

  it('resolves host-pattern maps once every rank has said Hello, and warns about maps that do not fit', async () => {
    const { rank, warnings, svc } = await setup({ sites: 'A:@node-a*;B:@node-b*' });
    const r = [rank('J2', 0, 3, 'node-a1'), rank('J2', 1, 3, 'node-b1'), rank('J2', 2, 3, 'node-a2.example')];
    await r[0].hello();
    await r[1].hello();
    await sleep(100);
    expect(r[0].placements()).toHaveLength(0);
    await r[2].hello();
    await until(() => r.every((x) => x.placements().length === 1), 2000, 'placements');
    for (const x of r) expect(x.placements()[0]).toMatchObject({ epoch: 1, sites: ['A', 'B'], siteOf: [0, 1, 0] });
    // a 2-rank job does not fit "A:0-1;B:2-3": warned once, no placement
    const { rank: rank2, warnings: w2 } = await setup({ sites: 'A:0-1;B:2-3' });
    const y = rank2('J3', 0, 2);
    await y.hello();
    await until(() => w2.length === 1, 2000, 'warning');
    expect(w2[0]).toMatch(/configured site map does not fit.*out of range/);
    expect(y.placements()).toHaveLength(0);
    expect(warnings).toEqual([]);
    expect(svc.current('J2')?.map).toBe('A:0,2;B:1');
  });

  it('relocate() pushes Placement{epoch+1} to every connected rank; epochs grow by one; events carry reason and numbers', async () => {
    const { rank, svc, placements, relocations } = await setup({ sites: 'A:0,2;B:1,3' });
    const r = [0, 1, 2, 3].map((i) => rank('J4', i, 4));
    for (const x of r) await x.hello();
    await until(() => r.every((x) => x.placements().length === 1), 2000, 'first placement');
    // a ring: every message crosses sites under the interleaved placement (4 x 2 MB)
    for (const x of r) await x.records(traffic((x.rank + 1) % 4, 1, 2e6, 0.5));
    await until(() => (svc.monitor.job('J4')?.records ?? 0) === 400, 2000, 'records');

    const ev = await svc.relocate('J4', 'A:0-1;B:2-3', 'test: pairs together');
    expect(ev).toMatchObject({
      jobId: 'J4',
      ok: true,
      error: null,
      trigger: 'api',
      reason: 'test: pairs together',
      executor: 'none',
      epochBefore: 1,
      epochAfter: 2,
      reachedTarget: true,
    });
    expect(ev.numbers.crossBytesBefore).toBe(8e6);
    expect(ev.numbers.crossBytesAfter).toBe(4e6); // 1->2 and 3->0 still cross
    expect(ev.numbers.crossBytesReached).toBe(4e6);
    expect(ev.numbers.movedRanks).toBe(2);
    expect(ev.numbers.movedVms).toBe(2);
    expect(ev.numbers.classification?.numbers.crossBytes).toBe(8e6);
    expect(ev.numbers.cost.downtimeSeconds).toBeGreaterThan(0);
    expect(ev.numbers.gain.crossBytesPerSecondBefore).toBeGreaterThan(ev.numbers.gain.crossBytesPerSecondAfter);
    expect(ev.timings.ranksNotified).toBe(4);
    await until(() => r.every((x) => x.placements().length === 2), 2000, 'epoch 2 at every rank');
    for (const x of r) expect(x.placements()[1]).toMatchObject({ epoch: 2, sites: ['A', 'B'], siteOf: [0, 0, 1, 1] });

    const ev3 = await svc.relocate('J4', { sites: ['B', 'A'], siteOf: [1, 1, 1, 1] }, 'all on A');
    expect(ev3).toMatchObject({ ok: true, epochBefore: 2, epochAfter: 3 });
    expect(ev3.numbers.crossBytesAfter).toBe(0);
    await until(() => r.every((x) => x.placements().length === 3), 2000, 'epoch 3 at every rank');
    for (const x of r) expect(x.placements()[2]).toMatchObject({ epoch: 3, sites: ['B', 'A'], siteOf: [1, 1, 1, 1] });

    // the same placement again: no new epoch, nothing sent
    const same = await svc.relocate('J4', 'A:0-3', 'again');
    expect(same).toMatchObject({ ok: true, epochBefore: 3, epochAfter: 3, reachedTarget: true });
    // a change made outside (setPlacement): next epoch
    expect(svc.setPlacement('J4', 'A:0;B:1-3', 'moved by hand')).toMatchObject({
      epoch: 4,
      source: 'api',
      reason: 'moved by hand',
      ranksNotified: 4,
    });
    await until(() => r.every((x) => x.placements().length === 4), 2000, 'epoch 4');
    expect(r.map((x) => x.placements().map((p) => p.epoch))).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ]);
    expect(placements.map((p) => [p.epoch, p.source])).toEqual([
      [1, 'config'],
      [2, 'relocation'],
      [3, 'relocation'],
      [4, 'api'],
    ]);
    expect(relocations).toHaveLength(3);
    // a late rank gets only the newest (rank 1 reconnecting: a connected rank cannot be claimed twice)
    await r[1].end();
    await until(() => svc.monitor.job('J4')?.rank(1)?.openConnections === 0, 2000, 'rank 1 gone');
    const late = rank('J4', 1, 4);
    await late.hello();
    await until(() => late.placements().length === 1, 2000, 'late rank');
    expect(late.placements()[0].epoch).toBe(4);
    // history for the report
    const h = svc.history('J4')!;
    expect(h.timeline.map((t) => t.map)).toEqual(['A:0,2;B:1,3', 'A:0,1;B:2,3', 'A:0-3', 'A:0;B:1-3']);
    await expect(svc.relocate('nope', 'A:0', 'x')).rejects.toThrow(/no job nope/);
    await expect(svc.relocate('J4', 'A:0-2', 'x')).rejects.toThrow(/rank 3 is in no site/);
  });

  it('relocates through a command hook: success, failure and bad output are reported, never crash the monitor', async () => {
    const dir = tmp();
    const ok = hook(
      dir,
      'ok',
      `
  // reaches the target except that rank 3 stays where it was
  const t = req.target, cur = req.current;
  const from = cur.sites[cur.siteOf[3]];
  const sites = t.sites.includes(from) ? t.sites.slice() : [...t.sites, from];
  const siteOf = t.siteOf.map((s) => sites.indexOf(t.sites[s]));
  siteOf[3] = sites.indexOf(from);
  process.stdout.write('migrating...\\n' + JSON.stringify({ placement: { sites, siteOf } }) + '\\n');`,
    );
    const fail = hook(dir, 'fail', `process.stderr.write('site A has no capacity left\\n'); process.exit(3);`);
    const bad = hook(dir, 'bad', `process.stdout.write('done, I think\\n');`);
    const short = hook(dir, 'short', `process.stdout.write(JSON.stringify({ sites: ['A'], siteOf: [0] }));`);
    let which = ok;
    const exec = new CommandExecutor({ command: ['node', path.join(dir, 'dispatch.cjs')] });
    fs.writeFileSync(
      path.join(dir, 'dispatch.cjs'),
      `require(require('fs').readFileSync(${JSON.stringify(path.join(dir, 'which'))}, 'utf8'));`,
    );
    const use = (f: string) => {
      which = f;
      fs.writeFileSync(path.join(dir, 'which'), which);
    };
    const { rank, svc } = await setup({ sites: 'A:0,1;B:2,3', executor: exec });
    const r = [0, 1, 2, 3].map((i) => rank('J5', i, 4, `vm${i >> 1}`));
    for (const x of r) await x.hello();
    await until(() => r.every((x) => x.placements().length === 1), 2000, 'first placement');

    use(ok);
    const ev = await svc.relocate('J5', 'A:0-3', 'consolidate');
    expect(ev).toMatchObject({ ok: true, executor: 'command', epochAfter: 2, reachedTarget: false });
    expect(ev.reached).toEqual({ sites: ['A', 'B'], siteOf: [0, 0, 0, 1] });
    expect(ev.numbers.crossBytesReached).toBe(0); // no traffic in this job
    await until(() => r.every((x) => x.placements().length === 2), 2000, 'epoch 2');
    const input = JSON.parse(fs.readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n')[0]);
    expect(input).toMatchObject({
      action: 'relocate',
      reason: 'consolidate',
      job: { id: 'J5', size: 4, hosts: ['vm0', 'vm0', 'vm1', 'vm1'] },
      hosts: { 0: 'vm0', 1: 'vm0', 2: 'vm1', 3: 'vm1' },
      current: { sites: ['A', 'B'], siteOf: [0, 0, 1, 1] },
      target: { sites: ['A'], siteOf: [0, 0, 0, 0] },
    });
    expect(input.estimate.mode).toMatch(/live|stop/);

    use(fail);
    const ev2 = await svc.relocate('J5', 'B:0-3', 'to B');
    expect(ev2.ok).toBe(false);
    expect(ev2.error).toMatch(/exited with code 3: site A has no capacity left/);
    expect(ev2).toMatchObject({ epochBefore: 2, epochAfter: 2, reached: null });

    use(bad);
    const ev3 = await svc.relocate('J5', 'B:0-3', 'to B');
    expect(ev3.ok).toBe(false);
    expect(ev3.error).toMatch(/printed no JSON placement on stdout \(got: "done, I think"\)/);

    use(short);
    const ev4 = await svc.relocate('J5', 'B:0-3', 'to B');
    expect(ev4.error).toMatch(/unusable placement: the placement has 1 ranks, the job 4/);

    const missing = new CommandExecutor({ command: ['/nonexistent/hook'] });
    await expect(
      missing.relocate({
        job: { id: 'J5', size: 1, hosts: ['x'] },
        current: null,
        target: { sites: ['A'], siteOf: [0] },
        reason: 'x',
      }),
    ).rejects.toThrow(/could not start: \/nonexistent\/hook not found/);

    // the monitor and the ranks are still fine; nothing new was pushed
    await sleep(50);
    expect(r.every((x) => !x.closed && x.placements().length === 2)).toBe(true);
    expect(svc.current('J5')?.epoch).toBe(2);
  });
});

/** An in-memory executor: hosts live on sites; ranks follow their host. */
class FakeExecutor implements Executor {
  readonly kind = 'fake';
  onChange: ((ev: ExternalChange) => void) | null = null;
  failAfterFirstMove = false;
  constructor(
    readonly hostSite: Record<string, string>,
    readonly sites = ['A', 'B'],
  ) {}
  async placementOf(job: JobInfo): Promise<SitePlacement | null> {
    if (job.hosts.some((h) => !(h in this.hostSite))) return null;
    return { sites: this.sites, siteOf: job.hosts.map((h) => this.sites.indexOf(this.hostSite[h])) };
  }
  async relocate(req: RelocationRequest): Promise<SitePlacement> {
    let moved = 0;
    for (let r = 0; r < req.job.size; r++) {
      const h = req.job.hosts[r],
        want = req.target.sites[req.target.siteOf[r]];
      if (this.hostSite[h] === want) continue;
      if (this.failAfterFirstMove && moved === 1) throw new Error(`host ${h} refused to move`);
      this.hostSite[h] = want;
      moved++;
    }
    return (await this.placementOf(req.job))!;
  }
  watch(cb: (ev: ExternalChange) => void): () => void {
    this.onChange = cb;
    return () => {
      this.onChange = null;
    };
  }
}

describe('placement service with an executor', () => {
  it('starts from the executor, reaches the configured map through it, follows outside moves, keeps what a failed move reached', async () => {
    const ex = new FakeExecutor({ h0: 'A', h1: 'B', h2: 'A', h3: 'B' });
    const { rank, placements, relocations, svc } = await setup({ sites: 'A:0-1;B:2-3', executor: ex });
    const r = [0, 1, 2, 3].map((i) => rank('X', i, 4));
    await r[0].hello();
    await sleep(100);
    expect(r[0].placements()).toHaveLength(0); // the executor needs every rank's host
    for (const x of r.slice(1)) await x.hello();
    await until(() => r.every((x) => x.placements().length === 2), 2000, 'epochs 1 and 2');
    expect(placements.map((p) => [p.epoch, p.source, p.map])).toEqual([
      [1, 'executor', 'A:0,2;B:1,3'],
      [2, 'relocation', 'A:0,1;B:2,3'],
    ]);
    expect(relocations[0]).toMatchObject({
      trigger: 'config',
      reason: 'configured site map',
      ok: true,
      executor: 'fake',
      reachedTarget: true,
    });
    expect(r[3].placements()[1]).toMatchObject({ epoch: 2, sites: ['A', 'B'], siteOf: [0, 0, 1, 1] });

    ex.hostSite.h3 = 'A';
    ex.onChange!({ at: Date.now(), description: 'h3 moved B -> A' });
    await until(() => r.every((x) => x.placements().length === 3), 2000, 'epoch 3');
    expect(placements[2]).toMatchObject({
      epoch: 3,
      source: 'external',
      reason: 'outside the monitor: h3 moved B -> A',
      map: 'A:0,1,3;B:2',
    });
    ex.onChange!({ at: Date.now(), description: 'nothing really' }); // no change: no epoch
    await sleep(50);
    expect(placements).toHaveLength(3);

    ex.failAfterFirstMove = true;
    const ev = await svc.relocate('X', 'B:0-3', 'all to B');
    expect(ev).toMatchObject({
      ok: false,
      error: 'host h1 refused to move',
      reachedTarget: false,
      epochBefore: 3,
      epochAfter: 4,
    });
    expect(ev.reached).toEqual({ sites: ['A', 'B'], siteOf: [1, 0, 1, 0] });
    await until(() => r.every((x) => x.placements().length === 4), 2000, 'epoch 4');
  });
});

describe('consolidation policy', () => {
  const policy = { evaluateEveryMs: 50, minObserveSeconds: 1, minIntervalMs: 60000 };
  const cost = { vmMemoryBytes: 8 * 1024 * 1024, dirtyBytesPerSecond: 1024 * 1024 };

  it('consolidates a network-intensive job spanning two sites exactly once, on the site with most ranks', async () => {
    const { rank, svc, relocations, decisions } = await setup({ sites: 'A:0,2;B:1,3,5;C:4', policy, cost });
    const r = [0, 1, 2, 3, 4, 5].map((i) => rank('N', i, 6));
    for (const x of r) await x.hello();
    await until(() => r.every((x) => x.placements().length === 1), 2000, 'first placement');
    // 2 s of a ring at 20 MB/s per rank, 80% of the time in MPI; then more of it, in several batches
    for (let k = 0; k < 4; k++) {
      for (const x of r) await x.records(traffic((x.rank + 1) % 6, 0.5, 20e6, 0.8, k * 0.5e9));
      await sleep(120);
    }
    await until(() => relocations.length === 1, 5000, 'a relocation');
    for (let k = 4; k < 8; k++) {
      for (const x of r) await x.records(traffic((x.rank + 1) % 6, 0.5, 20e6, 0.8, k * 0.5e9));
      await sleep(120);
    }
    await sleep(300);
    expect(relocations).toHaveLength(1);
    const ev = relocations[0];
    expect(ev).toMatchObject({ trigger: 'policy', ok: true, epochBefore: 1, epochAfter: 2, reachedTarget: true });
    expect(ev.reason).toMatch(
      /network-intensive \(rate.*\) across 3 sites: consolidate on B, the site with most of its ranks/,
    );
    expect(ev.target.siteOf.every((s) => ev.target.sites[s] === 'B')).toBe(true);
    expect(ev.numbers.classification?.verdict).toBe('network-intensive');
    expect(ev.numbers.crossBytesBefore).toBeGreaterThan(0);
    expect(ev.numbers.crossBytesAfter).toBe(0);
    expect(ev.numbers.worthIt).toBe(true);
    expect(ev.numbers.gain.gainSeconds).toBeGreaterThanOrEqual(ev.numbers.cost.costSeconds);
    for (const x of r) {
      expect(x.placements().map((p) => p.epoch)).toEqual([1, 2]);
      expect(x.placements()[1].siteOf).toEqual(Array(6).fill(1));
    }
    expect(decisions.filter((d) => d.action === 'relocate')).toHaveLength(1);
    expect(svc.history('N')!.relocations).toHaveLength(1);
  });

  it('picks the first site on a tie, and leaves compute-intensive jobs spanning sites alone', async () => {
    const { rank, relocations, decisions } = await setup({ sites: 'A:0,2;B:1,3', policy, cost });
    const net = [0, 1, 2, 3].map((i) => rank('T', i, 4));
    for (const x of net) await x.hello();
    for (const x of net) await x.records(traffic((x.rank + 1) % 4, 3, 20e6, 0.8));
    await until(() => relocations.length === 1, 5000, 'a relocation');
    expect(relocations[0].target).toEqual({ sites: ['A', 'B'], siteOf: [0, 0, 0, 0] });

    const cpu = [0, 1, 2, 3].map((i) => rank('C', i, 4));
    for (const x of cpu) await x.hello();
    for (let k = 0; k < 4; k++) {
      // 10 kB/s across sites, 5% of the time in MPI
      for (const x of cpu) await x.records(traffic((x.rank + 1) % 4, 1, 1e4, 0.05, k * 1e9));
      await sleep(100);
    }
    await until(() => decisions.some((d) => d.jobId === 'C'), 3000, 'a decision on C');
    await sleep(200);
    expect(relocations.filter((e) => e.jobId === 'C')).toHaveLength(0);
    const dc = decisions.filter((d) => d.jobId === 'C');
    expect(dc.every((d) => d.action === 'none' && d.verdict === 'compute-intensive')).toBe(true);
    expect(dc[0].summary).toMatch(/compute-intensive: may span sites/);
    for (const x of cpu) expect(x.placements().map((p) => p.epoch)).toEqual([1]);
  });

  it('does not relocate when the migration would cost more than it saves', async () => {
    const { rank, relocations, decisions } = await setup({
      sites: 'A:0,2;B:1,3',
      policy,
      cost: { vmMemoryBytes: 64 * 1024 ** 3 },
    });
    const r = [0, 1, 2, 3].map((i) => rank('S', i, 4));
    for (const x of r) await x.hello();
    for (const x of r) await x.records(traffic((x.rank + 1) % 4, 3, 20e6, 0.8));
    await until(() => decisions.some((d) => d.jobId === 'S'), 3000, 'a decision');
    await sleep(200);
    expect(relocations).toHaveLength(0);
    const d = decisions.find((x) => x.jobId === 'S')!;
    expect(d.action).toBe('skip');
    expect(d.summary).toMatch(/does not pay: expected gain .* vs (live|stop) migration cost/);
    expect(d.numbers!.cost.costSeconds).toBeGreaterThan(d.numbers!.gain.gainSeconds);
  });
});
