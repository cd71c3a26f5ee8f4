// From the planner's ranks per site to node migrations in an order that keeps every site within
// its slots (src/manager/relocate-moves.ts), on a cluster model without MPI.
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/manager/cluster.js';
import { freeNodeMigrations, heldPerSite, jobMigrations, orderSteps } from '../../src/manager/relocate-moves.js';

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

/** Applies the steps one migration at a time; the worst over-use of a site's slots after a step. */
function replay(c: Cluster, steps: ReturnType<typeof orderSteps>): number {
  const cap = capacity(c);
  let worst = -Infinity;
  for (const st of steps) {
    for (const m of st.migrations) c.moveNode(m.node, m.to);
    for (const [s, used] of heldPerSite(c)) worst = Math.max(worst, used - cap.get(s)!);
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
    expect(steps[0]).toMatchObject({ swap: false });
    expect(steps[0].migrations.map((m) => m.job)).toEqual(['lu', 'lu']);
    expect(replay(c, steps)).toBeLessThanOrEqual(0);
    // each site holds as many nodes as it started with
    expect(c.nodesOf('A')).toHaveLength(6);
    expect(c.nodesOf('B')).toHaveLength(2);
  });

  it('runs a cycle between two full sites as one step', () => {
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
    const steps = orderSteps(c, capacity(c), ms);
    expect(steps).toHaveLength(1);
    expect(steps[0].swap).toBe(true);
    expect(replay(c, steps)).toBeLessThanOrEqual(0);
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
    expect(steps.every((s) => !s.swap)).toBe(true);
    expect(replay(c, steps)).toBeLessThanOrEqual(0);
  });
});
