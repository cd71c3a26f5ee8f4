// Message-size histograms per (source, destination) rank pair, stored sparsely.
//
// Most pairs use only 1-3 of the 65 size buckets, so a dense Float64Array(65) per pair (520
// bytes plus a typed-array object each) was most of a job's memory. Here every non-empty
// (pair, bucket) cell is one slot of an open-addressing hash table kept in two flat
// Float64Arrays: no object per pair, 16 bytes per slot, and an add is one short probe with no
// allocation, so ingest stays as fast as indexing a dense row.

/** Message-size histogram buckets: 0 = empty messages, k = [2^(k-1), 2^k) bytes, k = 1..64. */
export const HISTOGRAM_BUCKETS = 65;

/** Histogram bucket of a message of `b` bytes. */
export function sizeBucket(b: number): number {
  if (b < 4294967296) return 32 - Math.clz32(b);
  return 64 - Math.clz32(Math.floor(b / 4294967296));
}

/** Lower bound (bytes) of histogram bucket k. */
export function bucketLow(k: number): number {
  return k === 0 ? 0 : 2 ** (k - 1);
}

const MIN_CAPACITY = 64;

/**
 * Counts per (pair, bucket); a pair is any non-negative integer index (the job uses
 * src * size + dst). Counts are doubles, exact while they stay below 2^53.
 */
export class HistogramStore {
  // Cell key + 1 per slot, 0 = empty; key = pair * HISTOGRAM_BUCKETS + bucket. Doubles because
  // the key outgrows 32 bits past ~8000 ranks (pair < size^2).
  private keys: Float64Array;
  private counts: Float64Array;
  // Fibonacci hashing takes the top log2(capacity) bits of the product.
  private shift: number;
  /** Non-empty cells. */
  cells = 0;

  /** `expected`: cells it will hold. A store that receives the cells of others in their table
   * order (hash order) must be sized for all of them, or they pile up in long probe runs. */
  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity * 3 < expected * 4 + 4) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.counts = new Float64Array(capacity);
    this.shift = Math.clz32(capacity) + 1;
  }

  /** Adds n to the count of `bucket` of `pair`; a new cell only when mayGrow (false if refused). */
  add(pair: number, bucket: number, n: number, mayGrow = true): boolean {
    const key = pair * HISTOGRAM_BUCKETS + bucket + 1;
    const keys = this.keys,
      mask = keys.length - 1;
    // `key | 0` keeps the low 32 bits: enough to spread keys, the full key is compared.
    let i = Math.imul(key | 0, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const k = keys[i];
      if (k === key) {
        this.counts[i] += n;
        return true;
      }
      if (k === 0) break;
      i = (i + 1) & mask;
    }
    if (!mayGrow) return false;
    keys[i] = key;
    this.counts[i] = n;
    // Grow at 3/4 full: linear probing stays short, and slots stay 3/8..3/4 used.
    if (++this.cells * 4 > keys.length * 3) this.rehash(keys.length * 2);
    return true;
  }

  /** Count of `bucket` of `pair` (0 when absent). */
  get(pair: number, bucket: number): number {
    const key = pair * HISTOGRAM_BUCKETS + bucket + 1;
    const keys = this.keys,
      mask = keys.length - 1;
    for (let i = Math.imul(key | 0, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) return this.counts[i];
      if (k === 0) return 0;
    }
  }

  /** Adds the histogram of `pair` into out (HISTOGRAM_BUCKETS counts). */
  addPairTo(pair: number, out: Float64Array): void {
    for (let b = 0; b < HISTOGRAM_BUCKETS; b++) out[b] += this.get(pair, b);
  }

  /** Adds every pair's histogram into rows (pair -> counts), creating missing rows: one pass
   * over the table instead of a lookup per (pair, bucket). */
  addAllTo(rows: Map<number, Float64Array>): void {
    this.forEachCell((pair, bucket, n) => {
      let row = rows.get(pair);
      if (!row) rows.set(pair, (row = new Float64Array(HISTOGRAM_BUCKETS)));
      row[bucket] += n;
    });
  }

  /** Calls fn for every non-empty cell (table order). */
  forEachCell(fn: (pair: number, bucket: number, count: number) => void): void {
    const keys = this.keys,
      counts = this.counts;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const key = keys[i] - 1;
      const pair = Math.floor(key / HISTOGRAM_BUCKETS);
      fn(pair, key - pair * HISTOGRAM_BUCKETS, counts[i]);
    }
  }

  private rehash(capacity: number): void {
    const oldKeys = this.keys,
      oldCounts = this.counts;
    const keys = (this.keys = new Float64Array(capacity));
    const counts = (this.counts = new Float64Array(capacity));
    this.shift = Math.clz32(capacity) + 1;
    const mask = capacity - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const key = oldKeys[j];
      if (key === 0) continue;
      let i = Math.imul(key | 0, 0x9e3779b1) >>> this.shift;
      while (keys[i] !== 0) i = (i + 1) & mask;
      keys[i] = key;
      counts[i] = oldCounts[j];
    }
  }
}
