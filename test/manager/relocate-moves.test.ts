// From the planner's ranks per site to node migrations in an order that keeps every site within
// its slots (src/manager/relocate-moves.ts), on a cluster model without MPI.
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/manager/cluster.js';
import {
  freeNodeMigrations,
  heldPerSite,
  jobMigrations,
  orderSteps,
  rankNodes,
} from '../../src/manager/relocate-moves.js';

function cluster(a: number, b: number): Cluster {
  const nodes = [
    ...Array.from({ length: a }, (_, i) => ({ name: `a${i}`, site: 'A', host: `a${i}`, slots: 1 })),
    ...Array.from({ length: b }, (_, i) => ({ name: `b${i}`, site: 'B', host: `b${i}`, slots: 1 })),
  ];
  return new Cluster({
    sites: ['A', 'B'],
    nodes,
    links: [
      { from: 'A', to: 'B', latencyMs: 5, bandwidthBps: 1e9 },
      { from: 'B', to: 'A', latencyMs: 5, bandwidthBps: 1e9 },
    ],
  });
}

const capacity = (c: Cluster) => new Map(c.sites.map((s) => [s, c.capacity(s)]));
const home = (c: Cluster) => new Map(c.sites.map((s) => [s, c.nodesOf(s).length]));

/**
 * Applies the steps one migration at a time (a stopped VM holds no site's slots until it resumes);
 * the worst over-use of a site's slots after any migration.
 */
function replay(c: Cluster, steps: ReturnType<typeof orderSteps>): number {
  const cap = capacity(c);
  const stopped = new Set<string>();
  let worst = -Infinity;
  for (const st of steps)
    for (const m of st.migrations) {
      if (st.stage === 'suspend') stopped.add(m.node);
      else {
        c.moveNode(m.node, m.to);
        stopped.delete(m.node);
      }
      const held = heldPerSite(c);
      for (const n of stopped) held.set(c.node(n).site, held.get(c.node(n).site)! - c.used(n));
      for (const [s, used] of held) worst = Math.max(worst, used - cap.get(s)!);
    }
  return worst;
}

describe('relocation moves', () => {
  it('moves a split job into free slots first, then free nodes back', () => {
    // A: EP ended (a0..a3 free), LU on a4, a5, b0, b1
    const c = cluster(6, 2);
    c.allocate(
      'lu',
      ['a4', 'a5', 'b0', 'b1'].map((node) => ({ node, slots: 1 })),
    );
    const ms = jobMigrations(c, 'lu', ['A', 'B'], [2, 2], [4, 0]);
    expect(ms.map((m) => [m.node, m.to]).sort()).toEqual([
      ['b0', 'A'],
      ['b1', 'A'],
    ]);
    const free = freeNodeMigrations(c, home(c), ms);
    expect(free).toHaveLength(2);
    expect(free.every((m) => m.job === null && m.from === 'A' && m.to === 'B')).toBe(true);
    const steps = orderSteps(c, capacity(c), [...ms, ...free]);
    expect(steps[0].stage).toBeUndefined();
    expect(steps[0].migrations.map((m) => m.job)).toEqual(['lu', 'lu']);
    expect(replay(c, steps)).toBeLessThanOrEqual(0);
    // each site holds as many nodes as it started with
    expect(c.nodesOf('A')).toHaveLength(6);
    expect(c.nodesOf('B')).toHaveLength(2);
  });

  it('breaks a cycle between two full sites by stopping the VM of the job that makes room', () => {
    const c = cluster(3, 3);
    c.allocate(
      'c1',
      ['a0', 'a1'].map((node) => ({ node, slots: 1 })),
    );
    c.allocate(
      'c2',
      ['b0', 'b1'].map((node) => ({ node, slots: 1 })),
    );
    c.allocate(
      'net',
      ['a2', 'b2'].map((node) => ({ node, slots: 1 })),
    );
    const ms = [
      ...jobMigrations(c, 'net', ['A', 'B'], [1, 1], [2, 0]),
      ...jobMigrations(c, 'c1', ['A', 'B'], [2, 0], [1, 1]),
    ];
    expect(freeNodeMigrations(c, home(c), ms)).toEqual([]);
    // c1 makes room for net: its VM stops first, net's b2 takes its slot, then it starts on B
    const steps = orderSteps(c, capacity(c), ms, new Set(['c1']));
    expect(steps.map((s) => [s.stage ?? 'move', s.migrations.map((m) => `${m.node}>${m.to}`).join()])).toEqual([
      ['suspend', 'a0>B'],
      ['move', 'b2>A'],
      ['resume', 'a0>B'],
    ]);
    expect(replay(c, steps)).toBe(0);
    expect(c.node('a0').site).toBe('B');
    expect(c.node('b2').site).toBe('A');
    // without a preference, the VM holding the fewest slots stops: still never over a site's slots
    const d = cluster(3, 3);
    d.allocate('c1', [
      { node: 'a0', slots: 1 },
      { node: 'a1', slots: 1 },
    ]);
    d.allocate('c2', [
      { node: 'b0', slots: 1 },
      { node: 'b1', slots: 1 },
    ]);
    d.allocate('net', [
      { node: 'a2', slots: 1 },
      { node: 'b2', slots: 1 },
    ]);
    const ds = orderSteps(d, capacity(d), [
      ...jobMigrations(d, 'net', ['A', 'B'], [1, 1], [2, 0]),
      ...jobMigrations(d, 'c1', ['A', 'B'], [2, 0], [1, 1]),
    ]);
    expect(ds.filter((s) => s.stage === 'suspend')).toHaveLength(1);
    expect(replay(d, ds)).toBe(0);
  });

  it('breaks a three-site cycle with one stopped VM', () => {
    const c = new Cluster({
      sites: ['A', 'B', 'C'],
      nodes: ['a0', 'b0', 'c0'].map((name) => ({ name, site: name[0].toUpperCase(), host: name, slots: 1 })),
      links: ['A', 'B', 'C'].flatMap((f) =>
        ['A', 'B', 'C'].filter((t) => t !== f).map((t) => ({ from: f, to: t, latencyMs: 5, bandwidthBps: 1e9 })),
      ),
    });
    for (const n of ['a0', 'b0', 'c0']) c.allocate(`j${n}`, [{ node: n, slots: 1 }]);
    const ms = [
      { node: 'a0', from: 'A', to: 'B', job: 'ja0' },
      { node: 'b0', from: 'B', to: 'C', job: 'jb0' },
      { node: 'c0', from: 'C', to: 'A', job: 'jc0' },
    ];
    const steps = orderSteps(c, new Map(c.sites.map((s) => [s, 1])), ms);
    expect(steps.map((s) => s.stage ?? 'move')).toEqual(['suspend', 'move', 'move', 'resume']);
    expect(replay(c, steps)).toBe(0);
    expect(['a0', 'b0', 'c0'].map((n) => c.node(n).site)).toEqual(['B', 'C', 'A']);
  });

  it('tells ranks on nodes that share a host apart by the order of the host list', () => {
    const c = new Cluster({
      sites: ['A', 'B'],
      nodes: [
        { name: 'a0', site: 'A', host: 'localhost', slots: 2 },
        { name: 'a1', site: 'A', host: 'localhost', slots: 1 },
        { name: 'b0', site: 'B', host: 'localhost', slots: 1 },
        { name: 'x0', site: 'B', host: 'x0', slots: 2 },
      ],
      links: [
        { from: 'A', to: 'B', latencyMs: 5, bandwidthBps: 1e9 },
        { from: 'B', to: 'A', latencyMs: 5, bandwidthBps: 1e9 },
      ],
    });
    const shares = [
      { node: 'b0', slots: 1 },
      { node: 'x0', slots: 2 },
      { node: 'a0', slots: 2 },
    ];
    // mpirun's list: localhost:3 (b0, then a0), x0:2; the ranks on this machine say its own name
    expect(rankNodes(c, shares, ['me', 'me', 'me', 'x0', 'x0.example.org'])).toEqual(['b0', 'a0', 'a0', 'x0', 'x0']);
    // a rank's host wins over its place in the list (an --map-by of the job's own)
    expect(rankNodes(c, shares, ['x0', 'localhost', 'x0', 'localhost', 'localhost'])).toEqual([
      'x0',
      'b0',
      'x0',
      'a0',
      'a0',
    ]);
  });

  it('lets the job that vacates a site go first', () => {
    // B is full (x on b0, net's b1), A has one free slot: net's b1 goes to A first; y's a0 can go
    // to B only once net has left room there.
    const c = cluster(3, 2);
    c.allocate('y', [{ node: 'a0', slots: 1 }]);
    c.allocate('net', [
      { node: 'a1', slots: 1 },
      { node: 'b1', slots: 1 },
    ]);
    c.allocate('x', [{ node: 'b0', slots: 1 }]);
    const ms = [
      ...jobMigrations(c, 'y', ['A', 'B'], [1, 0], [0, 1]),
      ...jobMigrations(c, 'net', ['A', 'B'], [1, 1], [2, 0]),
    ];
    const steps = orderSteps(c, capacity(c), ms);
    expect(steps.map((s) => s.migrations[0].job)).toEqual(['net', 'y']);
    expect(steps.every((s) => s.stage === undefined)).toBe(true);
    expect(replay(c, steps)).toBeLessThanOrEqual(0);
  });
});
