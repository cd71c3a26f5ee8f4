// The partitioner: capacities never exceeded, the reported cut is the assignment's, known optima
// found, never worse than the contiguous split of a stencil, the same result for the same seed,
// bad input refused; graphs built from a job's pair matrix symmetrised.
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { capsFor, cgLike, randomSparse, stencil3d, wavefront2d } from '../../bench/partition/graphs.js';
import { U64Array } from '../../src/monitor/counters.js';
import { pairsFromDense } from '../../src/monitor/pairs.js';
import { addon, type NativeAddon } from '../../src/native/addon.js';
import { packageRoot } from '../../src/native/paths.js';
import {
  contiguousPlacement,
  graphFromEdges,
  graphFromPairs,
  partition,
  validateGraph,
  type Graph,
} from '../../src/partition/index.js';

/** Cut and loads recomputed from scratch: every stored edge (both directions) counted, halved. */
function recount(g: Graph, part: Int32Array, k: number): { cut: number; loads: number[] } {
  let twice = 0;
  for (let v = 0; v < g.n; v++) {
    for (let j = g.xadj[v]; j < g.xadj[v + 1]; j++) if (part[v] !== part[g.adjncy[j]]) twice += g.adjwgt[j];
  }
  const loads = new Array<number>(k).fill(0);
  for (let v = 0; v < g.n; v++) loads[part[v]] += g.vwgt ? g.vwgt[v] : 1;
  return { cut: twice / 2, loads };
}

function edges(n: number, list: [number, number, number][]): Graph {
  return graphFromEdges(
    n,
    Int32Array.from(list, (e) => e[0]),
    Int32Array.from(list, (e) => e[1]),
    Float64Array.from(list, (e) => e[2]),
  );
}

describe('partition', () => {
  const cases: [string, Graph, number[]][] = [
    ['stencil, 4 equal sites', stencil3d(1024), capsFor(1024, '4')],
    ['random, 4 unequal sites', randomSparse(1024), capsFor(1024, '4u')],
    ['CG-like, 8 sites, no room to spare', cgLike(1024), new Array<number>(8).fill(128)],
    ['wavefront, a site of capacity 0', wavefront2d(1000), [400, 0, 300, 300]],
    ['stencil, 3 sites, uneven and tight', stencil3d(1000), [500, 333, 167]],
  ];
  it.each(cases)('%s: no site above its capacity, every rank placed, the cut is the assignment’s', (_, g, caps) => {
    const p = partition(g, caps);
    expect(p.part.length).toBe(g.n);
    for (const s of p.part) expect(s >= 0 && s < caps.length).toBe(true);
    const r = recount(g, p.part, caps.length);
    r.loads.forEach((l, s) => expect(l, `site ${s}`).toBeLessThanOrEqual(caps[s]));
    expect(Array.from(p.loads)).toEqual(r.loads);
    expect(p.cut).toBe(r.cut);
    // Not trivially zero: every one of these graphs is connected across the sites.
    expect(p.cut).toBeGreaterThan(0);
  });

  it('finds the optimum of two cliques joined by one edge, a ring, and a grid split in two', () => {
    const cliques: [number, number, number][] = [];
    for (let a = 0; a < 16; a++) for (let b = a + 1; b < 16; b++) if (a < 8 === b < 8) cliques.push([a, b, 10]);
    cliques.push([3, 12, 1]);
    const two = partition(edges(16, cliques), [8, 8]);
    expect(two.cut).toBe(1);
    expect(new Set(two.part.subarray(0, 8)).size).toBe(1);

    const ring = partition(
      edges(
        30,
        Array.from({ length: 30 }, (_, i): [number, number, number] => [(i * 7) % 30, ((i + 1) * 7) % 30, 1]),
      ),
      [15, 15],
    );
    expect(ring.cut).toBe(2);

    // 12 x 12 grid, ranks row-major, numbered in a scrambled order so that rank order does not help.
    const perm = Array.from({ length: 144 }, (_, i) => (i * 89) % 144);
    const grid: [number, number, number][] = [];
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 12; j++) {
        if (j + 1 < 12) grid.push([perm[i * 12 + j], perm[i * 12 + j + 1], 1]);
        if (i + 1 < 12) grid.push([perm[i * 12 + j], perm[(i + 1) * 12 + j], 1]);
      }
    }
    expect(partition(edges(144, grid), [72, 72], { start: null }).cut).toBe(12);
  });

  it('is never worse than the contiguous split on stencils', () => {
    for (const [name, g] of [
      ['3-D stencil', stencil3d(1024)],
      ['wavefront', wavefront2d(1024)],
    ] as const) {
      for (const sites of ['2', '4', '8', '4u']) {
        const caps = capsFor(g.n, sites);
        const base = recount(g, contiguousPlacement(g.n, caps), caps.length).cut;
        expect(partition(g, caps).cut, `${name}, ${sites} sites`).toBeLessThanOrEqual(base);
      }
    }
  });

  it('gives the same placement for the same seed', () => {
    const g = cgLike(2000);
    const caps = capsFor(2000, '4');
    const a = partition(g, caps, { seed: 5 });
    const b = partition(g, caps, { seed: 5 });
    expect(Buffer.from(a.part.buffer).equals(Buffer.from(b.part.buffer))).toBe(true);
    expect(a.cut).toBe(b.cut);
  });

  it('refuses capacities that cannot hold the ranks, and malformed graphs', () => {
    const g = stencil3d(64);
    expect(() => partition(g, [30, 30])).toThrow(/hold 60 ranks in all, 64 to place/);
    expect(() => partition(g, [70, -6])).toThrow(/capacity -6/);
    expect(() => partition(g, [])).toThrow(/at least one site/);
    expect(() => partition(g, [64, 64], { start: new Int32Array(64).fill(2) })).toThrow(/site 2/);
    const bad: Graph = { n: 2, xadj: Int32Array.of(0, 1, 1), adjncy: Int32Array.of(1), adjwgt: Float64Array.of(1) };
    expect(() => validateGraph(bad)).toThrow(/no way back/);
    expect(() => validateGraph(stencil3d(64))).not.toThrow();
  });

  it('handles degenerate jobs: no traffic, one rank a site, sites of capacity 0', () => {
    const quiet = partition(edges(10, []), [5, 5]);
    expect([quiet.cut, ...quiet.loads]).toEqual([0, 5, 5]);
    // Every rank alone on a site: each of the 3 edges is cut.
    const alone = partition(
      edges(5, [
        [0, 1, 1],
        [1, 2, 1],
        [3, 4, 1],
      ]),
      [1, 1, 1, 1, 1, 1, 1],
    );
    expect(alone.cut).toBe(3);
    expect(Math.max(...alone.loads)).toBe(1);
    const g = randomSparse(3000);
    const one = partition(g, [0, 3000, 0]);
    expect([one.cut, ...one.loads]).toEqual([0, 0, 3000, 0]);
  });

  it('places vertex weights within the capacities', () => {
    const g0 = stencil3d(512);
    const vwgt = Int32Array.from({ length: 512 }, (_, v) => 1 + (v % 3));
    const g = { ...g0, vwgt };
    const caps = [360, 360, 330];
    const p = partition(g, caps);
    const r = recount(g, p.part, 3);
    r.loads.forEach((l, s) => expect(l).toBeLessThanOrEqual(caps[s]));
    expect(r.loads.reduce((a, b) => a + b)).toBe(vwgt.reduce((a, b) => a + b));
    expect(p.cut).toBe(r.cut);
  });
});

describe('graphFromPairs', () => {
  it('sums bytes both ways into one undirected edge, drops self traffic, keeps zero-byte pairs', () => {
    const size = 4;
    const bytes = new U64Array(16);
    const messages = new U64Array(16);
    const put = (s: number, d: number, b: number, m: number): void => {
      bytes.add(s * size + d, b);
      messages.add(s * size + d, m);
    };
    put(0, 1, 100, 1);
    put(1, 0, 50, 2);
    put(2, 2, 999, 9);
    put(2, 3, 0, 4);
    put(3, 0, 7, 1);
    const g = graphFromPairs(pairsFromDense({ size, bytes, messages }));
    validateGraph(g);
    const weight = (a: number, b: number): number | undefined => {
      for (let j = g.xadj[a]; j < g.xadj[a + 1]; j++) if (g.adjncy[j] === b) return g.adjwgt[j];
      return undefined;
    };
    expect(g.n).toBe(4);
    expect(weight(0, 1)).toBe(150);
    expect(weight(1, 0)).toBe(150);
    expect(weight(2, 3)).toBe(0);
    expect(weight(0, 3)).toBe(7);
    expect(weight(2, 2)).toBeUndefined();
    expect(g.xadj[4]).toBe(6);
    const byMessages = graphFromPairs(pairsFromDense({ size, bytes, messages }), { weight: 'messages' });
    expect(byMessages.adjwgt[byMessages.xadj[0]]).toBe(3);
  });
});

describe('the native partitioner', () => {
  it('partitions the same way in the node-gyp build of the addon', () => {
    const gypPath = path.join(packageRoot, 'build-gyp', 'sitempi.node');
    const gyp = createRequire(import.meta.url)(gypPath) as NativeAddon;
    const g = cgLike(3000);
    const caps = Float64Array.from(capsFor(g.n, '4u'));
    const args = [g.n, g.xadj, g.adjncy, g.adjwgt, null, caps, { seed: 3 }, null] as const;
    const a = addon.partition(...args);
    const b = gyp.partition(...args);
    expect(b.cut).toBe(a.cut);
    expect(Buffer.from(b.part.buffer).equals(Buffer.from(a.part.buffer))).toBe(true);
  });

  it('refuses arrays that would lead it outside the graph, with the reason', () => {
    const caps = Float64Array.of(2, 2);
    const xadj = Int32Array.of(0, 1, 2);
    expect(() => addon.partition(2, xadj, Int32Array.of(1, 7), Float64Array.of(1, 1), null, caps, {}, null)).toThrow(
      /neighbour outside the graph/,
    );
    expect(() => addon.partition(2, xadj, Int32Array.of(1), Float64Array.of(1, 1), null, caps, {}, null)).toThrow(
      /too short/,
    );
    expect(() =>
      addon.partition(2, Int32Array.of(0, 2, 1), Int32Array.of(1, 0), Float64Array.of(1, 1), null, caps, {}, null),
    ).toThrow(/xadj decreases/);
  });
});
