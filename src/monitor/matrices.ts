// A job's matrices assembled from its sparse stores (pairstore.ts, histogram.ts): the pairs of
// some epochs merged and sorted, the dense form for small jobs, the histogram cells in order.
import { U64Array } from './counters.js';
import { HISTOGRAM_BUCKETS, HistogramStore } from './histogram.js';
import { SparseMatrix, type Matrix } from './pairs.js';
import { PairStore, SLOT } from './pairstore.js';
import type { Steps } from './steps.js';

const STEP = 1 << 16;

/** The pairs of `stores` added up, in (src, dst) order. */
export function* mergedSteps(stores: readonly PairStore[], size: number): Steps<SparseMatrix> {
  if (stores.length === 1) return yield* stores[0].sortedSteps(size);
  const all = new PairStore(stores.reduce((n, s) => n + s.count, 0));
  for (const s of stores) yield* all.addStoreSteps(s);
  return yield* all.sortedSteps(size);
}

/** The pairs of `stores` added up into a dense size x size matrix. */
export function* denseSteps(stores: readonly PairStore[], size: number): Steps<Matrix> {
  const n = size * size;
  const out: Matrix = { size, bytes: new U64Array(n), messages: new U64Array(n) };
  for (const s of stores) {
    const d = s.data;
    const big = s.bytesHi !== null || s.messagesHi !== null;
    for (let at = 0; at < d.length; at += SLOT) {
      if (at % (STEP * SLOT) === 0) yield;
      if (d[at] === 0) continue;
      const pair = d[at] - 1;
      if (big) {
        out.bytes.addBig(pair, s.bytesAt(at));
        out.messages.addBig(pair, s.messagesAt(at));
      } else {
        out.bytes.add(pair, d[at + 1]);
        out.messages.add(pair, d[at + 2]);
      }
    }
  }
  return out;
}

/** Non-empty histogram cells in (src, dst, bucket) order, as columns. */
export interface HistogramCells {
  size: number;
  count: number;
  src: Uint32Array;
  dst: Uint32Array;
  bucket: Uint8Array;
  counts: Float64Array;
}

/** The cells of `stores` added up (same pair index src * size + dst in each). */
export function histogramCells(stores: readonly HistogramStore[], size: number): HistogramCells {
  let all = stores[0];
  if (stores.length > 1) {
    all = new HistogramStore(stores.reduce((n, s) => n + s.cells, 0));
    for (const s of stores) s.forEachCell((pair, bucket, n) => all.add(pair, bucket, n));
  }
  const keys = new Float64Array(all.cells);
  let k = 0;
  all.forEachCell((pair, bucket) => (keys[k++] = pair * HISTOGRAM_BUCKETS + bucket));
  keys.sort();
  const out: HistogramCells = {
    size,
    count: k,
    src: new Uint32Array(k),
    dst: new Uint32Array(k),
    bucket: new Uint8Array(k),
    counts: new Float64Array(k),
  };
  for (let i = 0; i < k; i++) {
    const pair = Math.floor(keys[i] / HISTOGRAM_BUCKETS),
      bucket = keys[i] - pair * HISTOGRAM_BUCKETS;
    const src = Math.floor(pair / size);
    out.src[i] = src;
    out.dst[i] = pair - src * size;
    out.bucket[i] = bucket;
    out.counts[i] = all.get(pair, bucket);
  }
  return out;
}
