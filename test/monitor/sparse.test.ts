// The sparse pair store and the job's sparse matrices, against plain references: a Map of
// bigints per pair for the store, records summed by hand (and collectives expanded one record at
// a time through the cost model) for a job; the dense matrix, histograms and verdicts must agree.
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, Role } from '../../src/generated/functions.js';
import { classify } from '../../src/monitor/classify.js';
import { crossingSums } from '../../src/monitor/crossing.js';
import { sizeBucket } from '../../src/monitor/histogram.js';
import { JobTable } from '../../src/monitor/ingest.js';
import { DENSE_MAX_RANKS } from '../../src/monitor/limits.js';
import { denseFromPairs, SparseMatrix } from '../../src/monitor/pairs.js';
import { PairStore } from '../../src/monitor/pairstore.js';
import { expandCollective } from '../../src/native/addon.js';
import { batchFrame, fnCode, fnId, helloFrame, worldCommFrame, type Rec } from './helpers.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Reference: pair -> [bytes, messages] as bigints. */
class Ref {
  readonly pairs = new Map<number, [bigint, bigint]>();
  add(pair: number, bytes: number | bigint, messages: number | bigint): void {
    const v = this.pairs.get(pair) ?? [0n, 0n];
    this.pairs.set(pair, [v[0] + BigInt(bytes), v[1] + BigInt(messages)]);
  }
  sorted(): number[] {
    return [...this.pairs.keys()].sort((a, b) => a - b);
  }
}

/** Asserts that `m` holds exactly the pairs of `ref` (pair = src * size + dst). */
function expectSame(m: SparseMatrix, ref: Ref): void {
  const keys = ref.sorted();
  expect(m.pairCount).toBe(keys.length);
  // one comparison of two lists (an expect per pair is slow)
  const got = Array.from(m.src, (s, i) => `${s * m.size + m.dst[i]}:${m.bytes.big(i)}:${m.messages.big(i)}`);
  expect(got).toEqual(keys.map((p) => `${p}:${ref.pairs.get(p)!.join(':')}`));
  let tb = 0n,
    tm = 0n;
  for (const [b, k] of ref.pairs.values()) {
    tb += b;
    tm += k;
  }
  expect([m.totalBytes(), m.totalMessages()]).toEqual([tb, tm]);
}

describe('PairStore', () => {
  it('matches a Map of bigints over random pairs, growths, pairs past 2^32 and counters past 2^53', () => {
    const rnd = rng(11);
    const store = new PairStore(),
      ref = new Ref();
    const size = 100_000; // pair indices up to 10^10
    const hot = Array.from({ length: 3000 }, () => Math.floor(rnd() * size * size));
    for (let i = 0; i < 100_000; i++) {
      const pair = rnd() < 0.9 ? hot[Math.floor(rnd() * hot.length)] : Math.floor(rnd() * size * size);
      const bytes = rnd() < 0.001 ? 2 ** 52 + Math.floor(rnd() * 1000) : Math.floor(rnd() * 1e6);
      const messages = rnd() < 0.001 ? 2n ** 60n : 1;
      store.addAt(store.slot(pair), bytes, messages);
      ref.add(pair, bytes, messages);
    }
    for (let i = 0; i < 3; i++) {
      store.addAt(store.slot(hot[0]), 2 ** 52, 1); // past 2^53: spills
      ref.add(hot[0], 2 ** 52, 1);
    }
    expect(store.count).toBe(ref.pairs.size);
    expect(store.bytesHi?.size).toBeGreaterThan(0); // the spill path was taken
    const wrong = [...ref.pairs].filter(([p, [b, k]]) => {
      const at = store.find(p);
      return store.bytesAt(at) !== b || store.messagesAt(at) !== k;
    });
    expect(wrong).toEqual([]);
    expect(store.find(size * size + 1)).toBe(-1);
    expectSame(runAll(store.sortedSteps(size)), ref);
    // merged into another store: the same sums
    const merged = new PairStore();
    runAll(merged.addStoreSteps(store));
    runAll(merged.addStoreSteps(store));
    const twice = new Ref();
    for (const [p, [b, k]] of ref.pairs) twice.add(p, 2n * b, 2n * k);
    expectSame(runAll(merged.sortedSteps(size)), twice);
  });

  it('refuses new pairs when told, and keeps adding to those it has', () => {
    const store = new PairStore();
    store.addAt(store.slot(5), 10, 1);
    expect(store.slot(6, false)).toBe(-1);
    store.addAt(store.slot(5, false), 10, 1);
    expect([store.count, store.bytesAt(store.find(5))]).toEqual([1, 20n]);
  });
});

function runAll<T>(g: Generator<void, T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

const SEND = fnCode('MPI_Send', Role.Send);
const GET = fnCode('MPI_Get', Role.Pull);
const PART = fnCode('MPI_Alltoallv', Role.PartSend);
const ALLREDUCE = fnCode('MPI_Allreduce', Role.Coll);
const BCAST = fnCode('MPI_Bcast', Role.Coll);

describe('a job held sparsely', () => {
  it('gives the matrices, histograms and verdicts of its records, per epoch and in all', () => {
    const P = 48;
    const rnd = rng(3);
    const table = new JobTable();
    const p2p = [new Ref(), new Ref()]; // per epoch
    const coll = [new Ref(), new Ref()];
    const histRef = new Map<number, number>(); // pair * 65 + bucket -> count (p2p only)
    for (let r = 0; r < P; r++) {
      const s = table.session();
      s.frame(helloFrame('j', r, P).subarray(4));
      s.frame(worldCommFrame(P).subarray(4));
      for (let seq = 0; seq < 4; seq++) {
        const epoch = seq < 2 ? 0 : 1;
        const recs: Rec[] = [];
        for (let i = 0; i < 600; i++) {
          const x = rnd();
          const peer = Math.floor(rnd() * (P + 2)) - 1; // some out of range, some self
          const bytes = rnd() < 0.002 ? 2 ** 52 : Math.floor(2 ** (rnd() * 20));
          if (x < 0.92) {
            const fn = x < 0.6 ? SEND : x < 0.8 ? GET : PART;
            recs.push({ fn, peer, bytes });
            const [src, dst] = fn === GET ? [peer, r] : [r, peer];
            if (src < 0 || dst < 0 || src >= P || dst >= P || src === dst) continue;
            p2p[epoch].add(src * P + dst, bytes, 1);
            const key = (src * P + dst) * 65 + sizeBucket(bytes);
            histRef.set(key, (histRef.get(key) ?? 0) + 1);
          } else {
            const bcast = x > 0.97;
            const rec = { fn: bcast ? BCAST : ALLREDUCE, peer: bcast ? 0 : -1, bytes: bcast ? 4096 : 8 << (i % 3) };
            recs.push(rec);
            const kind = FUNCTIONS[fnId(bcast ? 'MPI_Bcast' : 'MPI_Allreduce')].coll;
            const f = expandCollective(kind, 0, r, bcast ? 0 : -1, P, rec.bytes);
            for (let k = 0; k < f.src.length; k++)
              if (f.src[k] !== f.dst[k]) coll[epoch].add(f.src[k] * P + f.dst[k], f.bytes[k], f.msgs[k]);
          }
        }
        s.frame(batchFrame(seq, recs, { epoch }).subarray(4));
      }
    }
    const job = table.jobs.get('j')!;
    expect(job.unexpandedCollectives).toBe(0);
    const all = new Ref();
    for (const e of [0, 1]) {
      const ref = new Ref();
      for (const src of [p2p[e], coll[e]]) for (const [p, [b, k]] of src.pairs) ref.add(p, b, k);
      for (const [p, [b, k]] of ref.pairs) all.add(p, b, k);
      expectSame(job.pairMatrix(e), ref);
      // the dense form holds the same cells
      const dense = job.matrix(e);
      expect(dense).toEqual(denseFromPairs(job.pairMatrix(e)));
    }
    expectSame(job.pairMatrix(), all);
    expect(job.epochs()).toEqual([0, 1]);
    expect(job.pairCells).toBe(p2p[0].pairs.size + p2p[1].pairs.size);

    // histograms: point-to-point buckets as counted by hand, plus the expanded collectives'
    const cells = job.histogramCells();
    const seen = new Map<number, number>();
    for (let i = 0; i < cells.count; i++) {
      const key = (cells.src[i] * P + cells.dst[i]) * 65 + cells.bucket[i];
      if (i > 0) expect(key).toBeGreaterThan((cells.src[i - 1] * P + cells.dst[i - 1]) * 65 + cells.bucket[i - 1]);
      seen.set(key, cells.counts[i]);
    }
    expect([...histRef].filter(([key, n]) => !((seen.get(key) ?? 0) >= n))).toEqual([]);
    let messages = 0;
    for (const n of seen.values()) messages += n;
    expect(BigInt(messages)).toBe(job.pairMatrix().totalMessages());
    const pairs = job.histogramPairs();
    expect(pairs.length).toBe(job.pairMatrix().pairCount);
    expect(pairs.filter((h) => `${h.counts}` !== `${job.histogram(h.src, h.dst)}`)).toEqual([]);

    // verdicts and crossing sums: the dense and the sparse matrix, and the reference, agree
    let cross = 0n;
    for (const [p, [b]] of all.pairs) if (Math.floor(p / P) < P / 2 !== p % P < P / 2) cross += b;
    const sparse = crossingSums(
      job.pairMatrix(),
      Array.from({ length: P }, (_, i) => (i < P / 2 ? 0 : 1)),
    );
    const dense = crossingSums(
      job.matrix(),
      Array.from({ length: P }, (_, i) => (i < P / 2 ? 0 : 1)),
    );
    expect(sparse).toEqual(dense);
    expect(sparse.bytes).toBe(Number(cross));
    const c = classify(job);
    expect(c.numbers.crossBytes).toBe(Number(cross));
    expect(c.numbers.totalBytes).toBe(Number(job.pairMatrix().totalBytes()));
  });

  it('keeps at most maxMatrixCells pairs, counts what it refused, and says so', () => {
    const P = 16;
    const table = new JobTable({ limits: { maxMatrixCells: 10 } });
    const s = table.session();
    s.frame(helloFrame('j', 0, P).subarray(4));
    const recs: Rec[] = [];
    for (let d = 1; d < P; d++) recs.push({ fn: SEND, peer: d, bytes: 100 }, { fn: SEND, peer: d, bytes: 1 });
    s.frame(batchFrame(0, recs).subarray(4));
    s.frame(batchFrame(1, recs, { epoch: 1 }).subarray(4));
    const job = table.jobs.get('j')!;
    expect(job.pairCells).toBe(10);
    const m = job.pairMatrix();
    expect(m.pairCount).toBe(10);
    // the first ten pairs have everything, both epochs; the other pairs nothing
    expect(m.totalBytes()).toBe(10n * 101n);
    expect(job.pairMatrix(1).pairCount).toBe(0);
    expect(job.overLimit.pairsOverLimit).toBe(2 * 2 * (P - 1) - 2 * 10);
    expect(job.limitNotes.join('\n')).toMatch(/point-to-point records are missing from the matrix.*maxMatrixCells/);
  });

  it('gives no dense matrix above DENSE_MAX_RANKS ranks, and points to pairMatrix', () => {
    const P = DENSE_MAX_RANKS + 1;
    const table = new JobTable();
    const s = table.session();
    s.frame(helloFrame('big', P - 1, P).subarray(4));
    s.frame(batchFrame(0, [{ fn: SEND, peer: 0, bytes: 7 }]).subarray(4));
    const job = table.jobs.get('big')!;
    expect(() => job.matrix()).toThrow(/pairMatrix/);
    const m = job.pairMatrix();
    expect([m.pairCount, m.src[0], m.dst[0], m.bytesOf(P - 1, 0), m.bytesOf(0, P - 1)]).toEqual([1, P - 1, 0, 7n, 0n]);
  });
});
