// The connectivity table the refinements keep move by move (conn.ts): after greedy and FM
// refinement have moved vertices (and FM rolled some back), every vertex's weight and parts per
// site are those recomputed from the adjacency, and the boundary is the recomputed boundary.
import { describe, expect, it } from 'vitest';

import { capsFor, cgLike, randomSparse } from '../../bench/partition/graphs.js';
import type { WeightedGraph } from '../../src/partition/coarsen.js';
import { Conn, ConnTable } from '../../src/partition/conn.js';
import { fmRefine } from '../../src/partition/fm.js';
import { edgeCut, partLoads, type Graph } from '../../src/partition/graph.js';
import { contiguousPlacement } from '../../src/partition/partition.js';
import { Rng } from '../../src/partition/random.js';
import { refine } from '../../src/partition/refine.js';

function weighted(g: Graph): WeightedGraph {
  return { ...g, vwgt: new Int32Array(g.n).fill(1) };
}

/** v's parts and weights as Conn lists them, sorted by part. */
function row(c: Conn, g: WeightedGraph, part: Int32Array, v: number): [number, number][] {
  c.of(g, part, v);
  const r: [number, number][] = [];
  for (let i = 0; i < c.count; i++) r.push([c.parts[i], c.w[c.parts[i]]]);
  return r.sort((a, b) => a[0] - b[0]);
}

describe('ConnTable', () => {
  it.each([
    ['random', randomSparse(3000), '4u'],
    ['CG-like', cgLike(3000), '8'],
  ] as const)('%s: stays equal to the connectivity recomputed after refinement moved vertices', (_, g0, sites) => {
    const g = weighted(g0);
    const caps = Float64Array.from(capsFor(g.n, sites));
    // A start far from the optimum (rank order), so that both refinements move many vertices.
    const part = contiguousPlacement(g.n, caps);
    const before = edgeCut(g, part);
    const loads = partLoads(g, part, caps.length);
    const table = new ConnTable(g, part, caps.length);
    refine(g, part, loads, caps, 4, new Rng(3), table);
    fmRefine(g, part, loads, caps, 2, 100, 1, table);
    expect(edgeCut(g, part)).toBeLessThan(before);
    const fresh = new Conn(caps.length);
    let moved = 0;
    const start = contiguousPlacement(g.n, caps);
    for (let v = 0; v < g.n; v++) {
      if (part[v] !== start[v]) moved++;
      expect(row(table, g, part, v), `vertex ${v}`).toEqual(row(fresh, g, part, v));
      expect(table.boundary(g, part, v), `vertex ${v}`).toBe(fresh.boundary(g, part, v));
    }
    expect(moved).toBeGreaterThan(10);
    expect(Array.from(loads)).toEqual(Array.from(partLoads(g, part, caps.length)));
  });
});
