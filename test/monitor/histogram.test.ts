// The sparse per-pair message-size histograms, against a plain dense reference.
import { describe, expect, it } from 'vitest';
import { Role } from '../../src/generated/functions.js';
import { HISTOGRAM_BUCKETS, HistogramStore, sizeBucket } from '../../src/monitor/histogram.js';
import { JobTable } from '../../src/monitor/ingest.js';
import { batchFrame, fnCode, helloFrame, worldCommFrame, type Rec } from './helpers.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Dense reference: pair -> HISTOGRAM_BUCKETS counts. */
class Dense {
  readonly rows = new Map<number, Float64Array>();
  add(pair: number, bucket: number, n: number): void {
    let row = this.rows.get(pair);
    if (!row) this.rows.set(pair, (row = new Float64Array(HISTOGRAM_BUCKETS)));
    row[bucket] += n;
  }
}

describe('HistogramStore', () => {
  it('keeps the buckets at both ends', () => {
    expect(sizeBucket(0)).toBe(0);
    expect(sizeBucket(2 ** 63)).toBe(64);
    expect(sizeBucket(2 ** 64 - 2048)).toBe(64); // largest double below 2^64
  });

  it('matches a dense reference over many pairs, buckets and growths', () => {
    const rnd = rng(11);
    const store = new HistogramStore();
    const ref = new Dense();
    // Pair indices as a 65536-rank job makes them (keys past 2^32), and small ones.
    const pairs = Array.from({ length: 3000 }, (_, i) => (i < 1500 ? i : Math.floor(rnd() * 65536 * 65536)));
    const sizes = [0, 1, 3, 1000, 2 ** 31, 2 ** 52, 2 ** 63, 2 ** 64 - 2048];
    // cells whose (pair, bucket) keys agree in their low 32 bits: 65 * 66076419 + 61 = 2^32
    for (const p of [5, 5 + 66076419]) pairs.push(p);
    for (let b = 0; b < 4; b++) {
      store.add(5, b, 1 + b);
      ref.add(5, b, 1 + b);
      store.add(5 + 66076419, b + 61, 10 + b);
      ref.add(5 + 66076419, b + 61, 10 + b);
    }
    for (let i = 0; i < 200_000; i++) {
      const pair = pairs[Math.floor(rnd() * pairs.length)];
      // a few buckets per pair, different pairs different ones
      const bucket = sizeBucket(sizes[(pair + Math.floor(rnd() * 3)) % sizes.length]);
      const n = rnd() < 0.01 ? 2 ** 40 : 1; // some counts far past 32 bits
      store.add(pair, bucket, n);
      ref.add(pair, bucket, n);
    }
    let cells = 0;
    for (const [pair, row] of ref.rows) {
      const got = new Float64Array(HISTOGRAM_BUCKETS);
      store.addPairTo(pair, got);
      expect(got).toEqual(row);
      for (let b = 0; b < HISTOGRAM_BUCKETS; b++) if (row[b]) cells++;
    }
    expect(store.cells).toBe(cells);
    // the ends were exercised, and nothing leaked into pairs that never had traffic
    expect([...ref.rows.values()].some((r) => r[0] > 0 && r[64] > 0)).toBe(true);
    const absent = new Float64Array(HISTOGRAM_BUCKETS);
    store.addPairTo(7_777_777, absent);
    expect(absent.every((c) => c === 0)).toBe(true);
    // one pass over everything gives the same rows
    const rows = new Map<number, Float64Array>();
    store.addAllTo(rows);
    expect(rows).toEqual(ref.rows);
  });

  it('counts stay exact past 2^53 steps of 2^52', () => {
    const store = new HistogramStore();
    store.add(5, 64, 2 ** 52);
    store.add(5, 64, 2 ** 52);
    store.add(5, 64, 2 ** 53);
    expect(store.get(5, 64)).toBe(2 ** 54);
    expect(store.get(5, 63)).toBe(0);
  });
});

describe('JobProfile histograms', () => {
  it('per-pair histograms of many pairs equal a dense reference, and sum to the message counts', () => {
    const P = 48;
    const SEND = fnCode('MPI_Send', Role.Send);
    const ALLREDUCE = fnCode('MPI_Allreduce', Role.Coll);
    const sizes = [0, 1, 100, 65536, 2 ** 40, 2 ** 63];
    const rnd = rng(5);
    const ref = new Dense();
    // 'h' has point-to-point and collective traffic, 'c' only the same collectives: the
    // histograms of 'h' must be the reference plus those of 'c' (expanded collectives and
    // point-to-point share pairs and buckets).
    const table = new JobTable();
    for (let r = 0; r < P; r++) {
      const recs: Rec[] = [],
        colls: Rec[] = [];
      for (let i = 0; i < 2000; i++) {
        const peer = (r + 1 + Math.floor(rnd() * 12)) % P; // 12 peers per rank
        const bytes = sizes[(peer + Math.floor(rnd() * 3)) % sizes.length]; // 3 sizes per pair
        recs.push({ fn: SEND, peer, bytes });
        ref.add(r * P + peer, sizeBucket(bytes), 1);
        if (i % 500 === 0) {
          recs.push({ fn: ALLREDUCE, bytes: 2 ** (i / 100) });
          colls.push({ fn: ALLREDUCE, bytes: 2 ** (i / 100) });
        }
      }
      for (const [id, frames] of [
        ['h', [batchFrame(0, recs.slice(0, 1000)), batchFrame(1, recs.slice(1000))]],
        ['c', [batchFrame(0, colls)]],
      ] as const) {
        const s = table.session();
        for (const f of [helloFrame(id, r, P), worldCommFrame(P), ...frames]) s.frame(f.subarray(4));
      }
    }
    const job = table.jobs.get('h')!,
      coll = table.jobs.get('c')!;
    expect(job.unexpandedCollectives).toBe(0);
    const m = job.matrix();
    const listed = job.histogramPairs();
    const byPair = new Map(listed.map((h) => [h.src * P + h.dst, h.counts]));
    expect(listed.map((h) => h.src * P + h.dst)).toEqual([...byPair.keys()].sort((a, b) => a - b));
    let mixed = 0;
    for (let src = 0; src < P; src++) {
      for (let dst = 0; dst < P; dst++) {
        const pair = src * P + dst;
        const h = job.histogram(src, dst);
        expect(h.length).toBe(HISTOGRAM_BUCKETS);
        const want = coll.histogram(src, dst);
        const p2p = ref.rows.get(pair);
        if (p2p) {
          for (let k = 0; k < HISTOGRAM_BUCKETS; k++) want[k] += p2p[k];
          if (want.some((c, k) => c !== p2p[k])) mixed++;
        }
        expect(h).toEqual(want);
        // every message is in exactly one bucket
        expect(h.reduce((a, c) => a + c, 0)).toBe(m.messages.num(pair));
        if (m.messages.num(pair) > 0) expect(byPair.get(pair)).toEqual(h);
        else expect(byPair.has(pair)).toBe(false);
      }
    }
    expect(mixed).toBeGreaterThan(0);
    expect([...ref.rows.values()].some((r) => r[0] > 0 && r[64] > 0)).toBe(true);
  });
});
