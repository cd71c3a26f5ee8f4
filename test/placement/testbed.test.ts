// The testbed executor on a real testbed (root: namespaces, wanemu), with fake ranks whose Hello
// names testbed nodes as their hosts.
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { describeAsRoot } from '../helpers/root.js';
import { Monitor } from '../../src/monitor/monitor.js';
import { PlacementService, type PlacementEvent, type RelocationEvent } from '../../src/placement/service.js';
import { TestbedExecutor } from '../../src/placement/testbed-executor.js';
import { testbedCli } from '../../src/testbed/cli.js';
import { wanemuPath } from '../../src/native/paths.js';
import { down, migrate, status } from '../../src/testbed/testbed.js';
import { freshTestbed, suiteTestbed } from '../helpers/testbed.js';
import { FakeRank, sleep, traffic, until } from './helpers.js';

// Distinct from a developer's testbed, the testbed suite's and the benchmark's.
const PREFIX = 'smreloc';
const suite = suiteTestbed(PREFIX, '198.19.232.0/24', '198.19.233.0/24');
const STATE_DIR = suite.stateDir;
const opts = { stateDir: STATE_DIR };
const host = (n: string) => `${PREFIX}-${n}`;

async function sitesNow(): Promise<Record<string, string>> {
  const s = await status(opts);
  return Object.fromEntries(s.nodes.map((n) => [n.name, n.site]));
}

async function home(): Promise<void> {
  for (const [n, site] of Object.entries(await sitesNow())) {
    const want = n.startsWith('a') ? 'A' : 'B';
    if (site !== want) await migrate(n, want, opts);
  }
}

describeAsRoot('testbed executor (root, real namespaces and wanemu)', () => {
  beforeAll(async () => {
    if (!existsSync(wanemuPath)) throw new Error(`${wanemuPath} is missing: run npm run build`);
    await freshTestbed({ sites: { A: 2, B: 2 }, slots: 2, rttMs: 10, bandwidth: '1gbit' }, suite);
  }, 180_000);

  afterAll(async () => {
    await down(suite);
  }, 60_000);

  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
    await home();
  });

  it('reads where ranks are, checks capacity, moves nodes and reports the placement reached', async () => {
    const ex = new TestbedExecutor({ ...opts });
    cleanup.push(() => ex.close());
    await ex.start();
    // 4 ranks: 0,1 on a0 and 2,3 on b0
    const job = { id: 'tb1', size: 4, hosts: [host('a0'), host('a0'), host('b0'), `${host('b0')}.local`] };
    expect(await ex.placementOf(job)).toEqual({ sites: ['A', 'B'], siteOf: [0, 0, 1, 1] });
    expect(await ex.placementOf({ ...job, hosts: [host('a0'), 'elsewhere', host('b0'), host('b0')] })).toBeNull();
    expect(ex.link('A', 'B')).toEqual({ latencySeconds: 0.005, bandwidthBps: 1e9 });
    // All on A needs 3 nodes there; A started with 2
    const allA = { sites: ['A', 'B'], siteOf: [0, 0, 0, 0] };
    expect(await ex.checkTarget(job, allA)).toBe('site A would hold 3 nodes, its capacity is 2');
    await expect(ex.relocate({ job, current: null, target: allA, reason: 't' })).rejects.toThrow(/capacity is 2/);
    expect(await ex.checkTarget(job, { sites: ['Z'], siteOf: [0, 0, 0, 0] })).toMatch(
      /site Z is not a site of the testbed/,
    );

    const roomy = new TestbedExecutor({ ...opts, maxNodesPerSite: { A: 3 }, downtimeMs: 0 });
    cleanup.push(() => roomy.close());
    await roomy.start();
    expect(await roomy.checkTarget(job, allA)).toBeNull();
    expect(roomy.vmsToMove(job, null, allA)).toBe(1);
    const reached = await roomy.relocate({
      job,
      current: { sites: ['A', 'B'], siteOf: [0, 0, 1, 1] },
      target: allA,
      reason: 'consolidate',
    });
    expect(reached).toEqual(allA);
    expect(await sitesNow()).toEqual({ a0: 'A', a1: 'A', b0: 'A', b1: 'B' });

    // ranks sharing a node move together: rank 2 wants B, rank 3 wants A -> b0 follows rank 2 (tie: the first)
    const split = await roomy.relocate({
      job,
      current: reached,
      target: { sites: ['A', 'B'], siteOf: [0, 0, 1, 0] },
      reason: 'split b0',
    });
    expect(split).toEqual({ sites: ['A', 'B'], siteOf: [0, 0, 1, 1] });
    expect((await sitesNow()).b0).toBe('B');
  });

  it('consolidates a network-intensive job through the testbed, and passes moves made outside to the ranks within a second', async () => {
    const m = new Monitor({ updateIntervalMs: 50 });
    m.on('jobStart', (j) => {
      j.registered = true;
    }); // as an operator's registration: this job may move
    const ex = new TestbedExecutor({ ...opts, maxNodesPerSite: { A: 3, B: 3 }, pollMs: 200 });
    const svc = new PlacementService(m, {
      executor: ex,
      policy: { evaluateEveryMs: 50, minObserveSeconds: 1 },
      cost: { vmMemoryBytes: 8 * 1024 * 1024, dirtyBytesPerSecond: 1024 * 1024 },
    });
    await svc.start();
    const [addr] = await m.listen('tcp://127.0.0.1:0');
    const placements: PlacementEvent[] = [];
    const relocations: RelocationEvent[] = [];
    svc.on('placement', (e) => placements.push(e));
    svc.on('relocation', (e) => relocations.push(e));
    const ranks = [host('a0'), host('b0'), host('a0'), host('b0')].map((h, r) => new FakeRank(addr, 'tb2', r, 4, h));
    cleanup.push(async () => {
      for (const f of ranks) f.socket.destroy();
      await m.close();
      await svc.close();
    });

    for (const x of ranks) await x.hello();
    await until(() => ranks.every((x) => x.placements().length === 1), 3000, 'the testbed placement at every rank');
    expect(ranks[0].placements()[0]).toMatchObject({ epoch: 1, sites: ['A', 'B'], siteOf: [0, 1, 0, 1] });
    expect(placements[0]).toMatchObject({ source: 'executor', map: 'A:0,2;B:1,3' });

    // a ring across the sites at 20 MB/s per rank: network-intensive -> consolidate on A (tie: first)
    for (const x of ranks) await x.records(traffic((x.rank + 1) % 4, 2, 20e6, 0.8));
    await until(() => relocations.length === 1, 10000, 'a relocation');
    const ev = relocations[0];
    expect(ev).toMatchObject({
      trigger: 'policy',
      ok: true,
      executor: 'testbed',
      epochBefore: 1,
      epochAfter: 2,
      reachedTarget: true,
    });
    expect(ev.reached).toEqual({ sites: ['A', 'B'], siteOf: [0, 0, 0, 0] });
    expect(ev.numbers.movedVms).toBe(1);
    expect(ev.numbers.cost.bandwidthBps).toBe(1e9);
    expect(await sitesNow()).toMatchObject({ a0: 'A', b0: 'A' });
    await until(() => ranks.every((x) => x.placements().length === 2), 2000, 'epoch 2 at every rank');
    expect(ranks.every((x) => x.placements()[1].siteOf!.every((s) => s === 0))).toBe(true);

    // a move by the testbed library (what `sitempi testbed migrate b0 B` does) reaches the ranks
    const t0 = Date.now();
    await migrate('b0', 'B', opts);
    await until(() => ranks.every((x) => x.placements().length === 3), 1000, 'the outside move at every rank');
    const lag = Math.max(...ranks.map((x) => x.placements()[2].at)) - t0;
    expect(lag).toBeLessThan(1000);
    expect(ranks[3].placements()[2]).toMatchObject({ epoch: 3, sites: ['A', 'B'], siteOf: [0, 1, 0, 1] });
    expect(placements[2]).toMatchObject({ epoch: 3, source: 'external' });
    expect(placements[2].reason).toMatch(/outside the monitor: node b0 moved A -> B/);

    // and through the CLI code path, in process
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const t1 = Date.now();
    try {
      expect(await testbedCli(['migrate', 'a0', 'B', '--state-dir', STATE_DIR])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    await until(() => ranks.every((x) => x.placements().length === 4), 1000, 'the CLI move at every rank');
    expect(Math.max(...ranks.map((x) => x.placements()[3].at)) - t1).toBeLessThan(1000);
    expect(ranks[0].placements()[3]).toMatchObject({ epoch: 4, siteOf: [1, 1, 1, 1] });
    await sleep(300);
    expect(relocations).toHaveLength(1); // the policy does not fight the operator (min interval)
    expect(svc.history('tb2')!.timeline.map((t) => [t.epoch, t.source, t.map])).toEqual([
      [1, 'executor', 'A:0,2;B:1,3'],
      [2, 'relocation', 'A:0-3'],
      [3, 'external', 'A:0,2;B:1,3'],
      [4, 'external', 'B:0-3'],
    ]);
  });
});
