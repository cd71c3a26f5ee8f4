// A job's matrices assembled from its sparse stores (pairstore.ts, histogram.ts): the pairs of
// some epochs merged and sorted, the dense form for small jobs, the histogram cells in order.
import { MAX_EXACT, U64Array } from './counters.js';
import { HISTOGRAM_BUCKETS, HistogramStore } from './histogram.js';
import { SparseMatrix, type Matrix } from './pairs.js';
import { PairStore, SLOT } from './pairstore.js';
import type { Steps } from './steps.js';

const STEP = 1 << 16;

/** The pairs of `stores` added up, in (src, dst) order. */
export function* mergedSteps(stores: readonly PairStore[], size: number): Steps<SparseMatrix> {
  if (stores.length <= 1) return yield* (stores[0] ?? new PairStore()).sortedSteps(size);
  // Sized for the largest: a store at least as large as each source takes its pairs (which come
  // in hash order) without piling them up; it grows past that as usual.
  const all = new PairStore(Math.max(...stores.map((s) => s.count)));
  for (const s of stores) yield* all.addStoreSteps(s);
  return yield* all.sortedSteps(size);
}

/** The pairs of `stores` added up into a dense size x size matrix. */
export function* denseSteps(stores: readonly PairStore[], size: number): Steps<Matrix> {
  const n = size * size;
  const out: Matrix = { size, bytes: new U64Array(n), messages: new U64Array(n) };
  for (const s of stores)
    for (let at = 0; at < s.data.length; at += STEP * SLOT) {
      addSlots(out, s, at, Math.min(s.data.length, at + STEP * SLOT));
      yield;
    }
  return out;
}

/** Adds the slots of `s` from offset `from` to `to` into `out` (a plain loop: generators are
 * optimised less well). */
function addSlots(out: Matrix, s: PairStore, from: number, to: number): void {
  const d = s.data;
  const big = s.bytesHi !== null || s.messagesHi !== null;
  const b = out.bytes.lo,
    m = out.messages.lo;
  for (let at = from; at < to; at += SLOT) {
    if (d[at] === 0) continue;
    const pair = d[at] - 1;
    if (big || b[pair] + d[at + 1] >= MAX_EXACT || m[pair] + d[at + 2] >= MAX_EXACT) {
      out.bytes.addBig(pair, s.bytesAt(at));
      out.messages.addBig(pair, s.messagesAt(at));
    } else {
      b[pair] += d[at + 1];
      m[pair] += d[at + 2];
    }
  }
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
  // Every store's cell keys in one sorted list (a cell in several stores appears repeatedly),
  // then each distinct key once with its counts summed over the stores.
  const keys = new Float64Array(stores.reduce((n, s) => n + s.cells, 0));
  let k = 0;
  for (const s of stores) s.forEachCell((pair, bucket) => (keys[k++] = pair * HISTOGRAM_BUCKETS + bucket));
  keys.sort();
  let distinct = 0;
  for (let i = 0; i < k; i++) if (i === 0 || keys[i] !== keys[i - 1]) keys[distinct++] = keys[i];
  const out: HistogramCells = {
    size,
    count: distinct,
    src: new Uint32Array(distinct),
    dst: new Uint32Array(distinct),
    bucket: new Uint8Array(distinct),
    counts: new Float64Array(distinct),
  };
  for (let i = 0; i < distinct; i++) {
    const pair = Math.floor(keys[i] / HISTOGRAM_BUCKETS),
      bucket = keys[i] - pair * HISTOGRAM_BUCKETS;
    const src = Math.floor(pair / size);
    out.src[i] = src;
    out.dst[i] = pair - src * size;
    out.bucket[i] = bucket;
    for (const s of stores) out.counts[i] += s.get(pair, bucket);
  }
  return out;
}

/** One pair's histogram (HISTOGRAM_BUCKETS counts). */
export interface HistogramPair {
  src: number;
  dst: number;
  counts: Float64Array;
}

/** The cells grouped into one array per pair, in (src, dst) order (small jobs). */
export function histogramPairs(c: HistogramCells): HistogramPair[] {
  const out: HistogramPair[] = [];
  for (let i = 0; i < c.count; i++) {
    let row = out[out.length - 1];
    if (!row || row.src !== c.src[i] || row.dst !== c.dst[i])
      out.push((row = { src: c.src[i], dst: c.dst[i], counts: new Float64Array(HISTOGRAM_BUCKETS) }));
    row.counts[c.bucket[i]] += c.counts[i];
  }
  return out;
}
