// The bounded forms of a matrix: blocks of ranks (coarse.ts), the sparse full format (sparse.ts),
// the quantiles of the per-rank summary (ranks.ts).
import { describe, expect, it } from 'vitest';
import type { PairMatrix } from '../../src/monitor/pairs.js';
import {
  coarsen,
  fromSparse,
  hostBlocks,
  planBlocks,
  quantiles,
  rangeBlocks,
  toDense,
  toSparse,
  type BlockPlan,
} from '../../src/report/report.js';

/** A random sparse matrix of `size` ranks with about `pairs` non-zero pairs (seeded, repeatable). */
function randomMatrix(size: number, pairs: number, seed = 1): PairMatrix {
  let x = seed >>> 0; // mulberry32
  const rnd = () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const cells = new Map<number, [number, number]>();
  while (cells.size < pairs) {
    const s = Math.floor(rnd() * size),
      d = Math.floor(rnd() * size);
    if (s !== d) cells.set(s * size + d, [1 + Math.floor(rnd() * 1e9), 1 + Math.floor(rnd() * 1000)]);
  }
  const keys = [...cells.keys()].sort((a, b) => a - b);
  return fromSparse({
    size,
    pairs: keys.length,
    src: keys.map((k) => Math.floor(k / size)),
    dst: keys.map((k) => k % size),
    bytes: keys.map((k) => cells.get(k)![0]),
    messages: keys.map((k) => cells.get(k)![1]),
  });
}

const list = (m: PairMatrix) => {
  const out: number[][] = [];
  m.forEach((s, d, b, k) => out.push([s, d, b, k]));
  return out;
};

/** The block sums computed cell by cell from the plan's ranges (independently of blockOf). */
function bruteForce(m: PairMatrix, plan: BlockPlan) {
  const owner = new Map<number, number>();
  plan.blocks.forEach((b, i) =>
    b.ranges.forEach(([f, l]) => {
      for (let r = f; r <= l; r++) owner.set(r, i);
    }),
  );
  const n = plan.blocks.length;
  const bytes = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const messages = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  m.forEach((s, d, b, k) => {
    bytes[owner.get(s)!][owner.get(d)!] += b;
    messages[owner.get(s)!][owner.get(d)!] += k;
  });
  return { bytes, messages };
}

const total = (a: number[][]) => a.reduce((t, row) => row.reduce((u, v) => u + BigInt(v), t), 0n);

describe('blocks of ranks', () => {
  it('1000 ranks in 256 contiguous blocks of 3 or 4, boundaries at floor(b * 1000 / 256)', () => {
    const p = rangeBlocks(1000, 256);
    expect(p.by).toBe('ranks');
    expect(p.blocks).toHaveLength(256);
    expect(p.blocks.map((b) => b.ranges[0][0])).toEqual(
      Array.from({ length: 256 }, (_, b) => Math.floor((b * 1000) / 256)),
    );
    expect(p.blocks[0]).toEqual({ label: '0-2', ranks: 3, ranges: [[0, 2]] });
    expect(p.blocks[1].ranges).toEqual([[3, 6]]);
    expect(p.blocks[255]).toEqual({ label: '996-999', ranks: 4, ranges: [[996, 999]] });
    // consecutive, no gap, no overlap, every rank once
    for (let b = 1; b < 256; b++) expect(p.blocks[b].ranges[0][0]).toBe(p.blocks[b - 1].ranges[0][1] + 1);
    expect(p.blocks.filter((b) => b.ranks === 4)).toHaveLength(1000 - 3 * 256);
    expect(p.blocks.every((b) => b.ranks === 3 || b.ranks === 4)).toBe(true);
    for (let r = 0; r < 1000; r++) {
      const [f, l] = p.blocks[p.blockOf[r]].ranges[0];
      expect(r >= f && r <= l).toBe(true);
    }
  });

  it('up to 256 ranks one block per rank; 257 ranks: one block of two', () => {
    const p = rangeBlocks(200);
    expect(p.blocks).toHaveLength(200);
    expect(p.blocks.every((b, i) => b.ranks === 1 && b.label === String(i))).toBe(true);
    const q = rangeBlocks(257);
    expect(q.blocks).toHaveLength(256);
    expect(q.blocks.filter((b) => b.ranks === 2)).toHaveLength(1);
    expect(rangeBlocks(0).blocks).toEqual([]);
  });

  it('by host: blocks in order of first rank, round-robin ranks as runs; falls back to ranges', () => {
    const hosts = Array.from({ length: 12 }, (_, r) => ['b', 'a', 'c'][r % 3]);
    hosts[4] = 'a'; // ranks 3 ('a' by r % 3) and 4 make one run
    const p = hostBlocks(hosts)!;
    expect(p.by).toBe('host');
    expect(p.blocks.map((b) => b.label)).toEqual(['b', 'a', 'c']);
    expect(p.blocks[1].ranges).toEqual([
      [1, 1],
      [4, 4],
      [7, 7],
      [10, 10],
    ]);
    expect(p.blocks[0].ranges).toEqual([
      [0, 0],
      [3, 3],
      [6, 6],
      [9, 9],
    ]);
    expect(p.blocks.reduce((n, b) => n + b.ranks, 0)).toBe(12);
    expect(hostBlocks(new Array(8).fill('one'))).toBeNull(); // one host: nothing to see
    expect(hostBlocks(['a', '', 'b'])).toBeNull(); // a rank without host
    expect(hostBlocks(Array.from({ length: 600 }, (_, r) => `n${r >> 1}`))).toBeNull(); // 300 hosts
    expect(
      planBlocks(
        600,
        Array.from({ length: 600 }, (_, r) => `n${r >> 1}`),
      ).by,
    ).toBe('ranks');
    expect(
      planBlocks(
        600,
        Array.from({ length: 600 }, (_, r) => `n${r >> 3}`),
      ).blocks,
    ).toHaveLength(75);
  });
});

describe('coarsened matrices', () => {
  it('sum exactly to the full matrix, block by block (ranges and hosts, uneven sizes)', () => {
    const m = randomMatrix(1000, 20_000);
    const hosts = Array.from({ length: 1000 }, (_, r) => `n${(r * 7) % 13}`); // 13 hosts, cyclic
    for (const plan of [rangeBlocks(1000), rangeBlocks(1000, 7), hostBlocks(hosts)!]) {
      const c = coarsen(m, plan);
      expect(c.bytes).toHaveLength(plan.blocks.length);
      expect(c.bytes.every((row) => row.length === plan.blocks.length)).toBe(true);
      expect(total(c.bytes)).toBe(m.totalBytes());
      expect(total(c.messages)).toBe(m.totalMessages());
      const want = bruteForce(m, plan);
      expect(c.bytes).toEqual(want.bytes);
      expect(c.messages).toEqual(want.messages);
    }
  });

  it('of a job up to 256 ranks: the dense matrix itself', () => {
    const m = randomMatrix(100, 500, 7);
    const c = coarsen(m, rangeBlocks(100));
    expect(c).toMatchObject(toDense(m));
  });
});

describe('the sparse full format', () => {
  it('round-trips through JSON in (src, dst) order with exact totals', () => {
    const m = randomMatrix(5000, 30_000, 3);
    const s = toSparse(m);
    expect(s.pairs).toBe(30_000);
    expect(s.src).toHaveLength(30_000);
    const back = fromSparse(JSON.parse(JSON.stringify(s)) as typeof s);
    expect(back.size).toBe(5000);
    expect(back.pairCount).toBe(m.pairCount);
    expect(list(back)).toEqual(list(m));
    expect(back.totalBytes()).toBe(m.totalBytes());
    expect(back.totalMessages()).toBe(m.totalMessages());
  });

  it('refuses arrays that do not fit together', () => {
    const ok = { size: 3, pairs: 2, src: [0, 1], dst: [1, 2], bytes: [5, 6], messages: [1, 1] };
    expect(() => fromSparse(ok)).not.toThrow();
    expect(() => fromSparse({ ...ok, bytes: [5] })).toThrow(/must all hold 2 pairs/);
    expect(() => fromSparse({ ...ok, pairs: 3 })).toThrow(/must all hold/);
    expect(() => fromSparse({ ...ok, dst: [1, 3] })).toThrow(/outside 0..2/);
    expect(() => fromSparse({ ...ok, src: [1, 0], dst: [2, 1] })).toThrow(/out of \(src, dst\) order/);
    expect(() => fromSparse({ ...ok, src: [0, 0], dst: [1, 1] })).toThrow(/order/);
  });
});

describe('quantiles', () => {
  it('interpolate between order statistics', () => {
    const q = quantiles([10, 0, 5, 2, 9, 1, 3, 8, 4, 7, 6]); // 0..10 shuffled
    expect(q).toEqual({ min: 0, p10: 1, p25: 2.5, median: 5, p75: 7.5, p90: 9, max: 10, mean: 5 });
    expect(quantiles([4])).toMatchObject({ min: 4, median: 4, max: 4, mean: 4 });
    expect(quantiles([])).toMatchObject({ min: 0, max: 0, mean: 0 });
  });
});
