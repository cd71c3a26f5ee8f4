// The cluster model: description files and their errors, the command line, the testbed's state;
// initial placement on the fewest sites; the queue's backfill and its starvation rule.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/manager/cluster.js';
import {
  clusterFromArgs,
  clusterFromJson,
  clusterFromTestbed,
  loadClusterFile,
} from '../../src/manager/cluster-source.js';
import { choosePlacement } from '../../src/manager/placement.js';
import { schedule, type Waiting } from '../../src/manager/queue.js';
import type { TestbedState } from '../../src/testbed/state.js';

const twoSites = {
  sites: [{ name: 'A', nodes: 2, slots: 2, host: 'localhost' }, { name: 'B' }],
  nodes: [{ name: 'b0', site: 'B', slots: 4, host: 'localhost' }],
  links: [{ between: ['A', 'B'], rtt: '20ms', bandwidth: '100mbit' }],
};

describe('cluster description', () => {
  it('reads sites, nodes and links', () => {
    const c = clusterFromJson(twoSites);
    expect(c.nodes.map((n) => `${n.name}@${n.site}:${n.slots}`)).toEqual(['a0@A:2', 'a1@A:2', 'b0@B:4']);
    expect(c.capacity('A')).toBe(4);
    expect(c.link('A', 'B')).toMatchObject({ latencyMs: 10, bandwidthBps: 1e8 });
    expect(c.link('B', 'A')).toMatchObject({ latencyMs: 10, bandwidthBps: 1e8 });
  });

  it.each([
    [{ ...twoSites, nodes: [{ name: 'b0', site: 'C' }] }, /unknown site C/],
    [{ ...twoSites, nodes: [{ name: 'a0', site: 'B' }] }, /node a0 given twice/],
    [{ ...twoSites, sites: [{ name: 'A', nodes: 2, slots: -1 }, { name: 'B' }] }, /slots must be an integer ≥ 1/],
    [{ ...twoSites, sites: [{ name: 'A', nodes: -2 }, { name: 'B' }] }, /nodes must be an integer ≥ 0/],
    [{ ...twoSites, links: [] }, /no link between sites A and B/],
    [{ ...twoSites, links: [{ between: ['A', 'C'] }] }, /unknown site C/],
    [{ ...twoSites, links: [{ between: ['A', 'B'], rtt: 'soon' }] }, /links\[0\]: bad duration/],
    [{ ...twoSites, colour: 'red' }, /unknown key "colour"/],
    [{ sites: [{ name: 'A' }] }, /site A has no nodes/],
  ])('refuses a bad description (%#)', (doc, err) => {
    expect(() => clusterFromJson(doc)).toThrow(err);
  });

  it('names the file in its errors, and reads a good one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpi-cluster-'));
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"sites": [');
    expect(() => loadClusterFile(path.join(dir, 'bad.json'))).toThrow(/bad\.json: not JSON/);
    fs.writeFileSync(path.join(dir, 'good.json'), JSON.stringify({ ...twoSites, links: undefined, defaultLink: {} }));
    expect(loadClusterFile(path.join(dir, 'good.json')).link('A', 'B')).toMatchObject({ latencyMs: 5 });
    fs.rmSync(dir, { recursive: true });
  });

  it('comes from the command line with the testbed syntax', () => {
    const c = clusterFromArgs({ sites: 'A=4x2,B=2x2', rtt: '10ms', bandwidth: '1gbit', links: ['A-B:rtt=40ms'] });
    expect(c.capacity()).toBe(12);
    expect(c.nodesOf('B').map((n) => n.name)).toEqual(['b0', 'b1']);
    expect(c.link('A', 'B')!.latencyMs).toBe(20);
    expect(() => clusterFromArgs({ sites: 'A=4x', rtt: '10ms' })).toThrow(/--sites.*bad site/);
  });

  it('comes from a testbed state: nodes where they are now', () => {
    const node = (name: string, site: string, homeSite = site) => ({
      name,
      site,
      homeSite,
      host: `smpi-${name}`,
      slots: 2,
    });
    const st = {
      sites: ['A', 'B'],
      nodes: [node('a0', 'A'), node('a1', 'B', 'A'), node('b0', 'B')],
      links: [
        { from: 'A', to: 'B', latencyMs: 5, bandwidthBps: 1e9, queueBytes: 0 },
        { from: 'B', to: 'A', latencyMs: 7, bandwidthBps: 1e9, queueBytes: 0 },
      ],
    } as unknown as TestbedState;
    const c = clusterFromTestbed(st);
    expect(c.nodesOf('B').map((n) => n.host)).toEqual(['smpi-a1', 'smpi-b0']);
    expect(c.link('B', 'A')!.latencyMs).toBe(7);
  });

  it('never lets a node go over its slots', () => {
    const c = clusterFromJson(twoSites);
    c.allocate('1', [{ node: 'a0', slots: 2 }]);
    expect(() =>
      c.allocate('2', [
        { node: 'a1', slots: 1 },
        { node: 'a0', slots: 1 },
      ]),
    ).toThrow(/a0 has 0 free/);
    expect(c.used('a1')).toBe(0); // nothing of the refused allocation stays
    c.release('1');
    expect(c.free('a0')).toBe(2);
  });
});

describe('initial placement', () => {
  const cluster = () =>
    new Cluster({
      sites: ['A', 'B', 'C'],
      nodes: [
        ...['a0', 'a1', 'a2'].map((name) => ({ name, site: 'A', host: 'h', slots: 2 })),
        { name: 'b0', site: 'B', host: 'h', slots: 2 },
        ...['c0', 'c1'].map((name) => ({ name, site: 'C', host: 'h', slots: 2 })),
      ],
      links: ['A>B', 'B>A', 'A>C', 'C>A', 'B>C', 'C>B'].map((p) => ({
        from: p[0],
        to: p[2],
        latencyMs: 5,
        bandwidthBps: 0,
      })),
    });
  const sites = (c: Cluster, s: { node: string }[] | null) => [...new Set((s ?? []).map((x) => c.node(x.node).site))];

  it('puts a job on the one site that fits most tightly, on the fewest nodes', () => {
    const c = cluster();
    expect(choosePlacement(c, 2, null)).toEqual([{ node: 'b0', slots: 2 }]);
    expect(sites(c, choosePlacement(c, 4, null))).toEqual(['C']);
    expect(choosePlacement(c, 5, null)!.map((s) => s.slots)).toEqual([2, 2, 1]);
  });

  it('spans the fewest sites when none holds the job, and skips unusable nodes', () => {
    const c = cluster();
    expect(sites(c, choosePlacement(c, 11, null)).sort()).toEqual(['A', 'B', 'C']);
    expect(sites(c, choosePlacement(c, 8, null)).sort()).toEqual(['A', 'C']);
    expect(choosePlacement(c, 13, null)).toBeNull();
    expect(
      sites(
        c,
        choosePlacement(c, 2, null, (n) => n !== 'b0'),
      ),
    ).toEqual(['C']);
  });

  it('keeps a network-intensive job waiting for one site rather than spanning', () => {
    const c = cluster();
    c.allocate('x', [{ node: 'a0', slots: 2 }]);
    expect(sites(c, choosePlacement(c, 6, 'compute')).length).toBe(2);
    expect(choosePlacement(c, 6, 'network')).toBeNull();
  });
});

describe('queue', () => {
  const job = (id: string, np: number): Waiting & { np: number } => ({ id, np, submittedAt: 0, bypassed: 0 });

  it('backfills a later job that fits, until the one bypassed starves', () => {
    let free = 2;
    const fits = (j: { np: number }) => (j.np <= free ? ((free -= j.np), true) : false);
    const big = job('big', 4);
    const q = [big, job('s1', 1), job('s2', 1)];
    expect(schedule(q, fits, 0, { maxBypass: 2, maxWaitMs: 1e9 })).toEqual(['s1', 's2']);
    expect(big.bypassed).toBe(2);
    free = 1;
    // big has been bypassed twice: s3 fits, but waits behind it
    expect(schedule([big, job('s3', 1)], fits, 0, { maxBypass: 2, maxWaitMs: 1e9 })).toEqual([]);
    free = 4;
    expect(schedule([big, job('s3', 1)], fits, 0, { maxBypass: 2, maxWaitMs: 1e9 })).toEqual(['big']);
  });

  it('stops backfill behind a job that waited too long', () => {
    const q = [job('big', 4), job('s', 1)];
    expect(schedule(q, (j) => j.np === 1, 5000, { maxBypass: 10, maxWaitMs: 1000 })).toEqual([]);
    expect(schedule(q, (j) => j.np === 1, 500, { maxBypass: 10, maxWaitMs: 1000 })).toEqual(['s']);
  });
});
