// Rank-pair counters (bytes, messages) held sparsely: memory proportional to the pairs that talk,
// not to size^2. One open-addressing hash table in a single Float64Array of [pair + 1, bytes,
// messages] slots: no object per pair, and a probe reads one cache line. A pair index is
// src * size + dst, a double because it outgrows 32 bits past 65 536 ranks. Counters are exact:
// each slot is a double below 2^53 and spills the excess into a BigInt map by pair (counters.ts).
import { MAX_EXACT, U64Array } from './counters.js';
import { SparseMatrix } from './pairs.js';
import type { Steps } from './steps.js';

const MIN_CAPACITY = 64;
/** Doubles per slot: pair + 1 (0 = empty), bytes, messages. */
export const SLOT = 3;
/** Slots visited between two yields of the *Steps functions. */
const STEP = 1 << 16;

function hash(key: number, shift: number): number {
  // Low 32 bits mixed with the high ones (pairs past 2^32), then Fibonacci hashing: the top bits.
  const h = (key | 0) ^ Math.imul((key / 4294967296) | 0, 0x85ebca6b);
  return Math.imul(h, 0x9e3779b1) >>> shift;
}

export class PairStore {
  /** The slots; replaced when the table grows (re-read it after slot()). */
  data: Float64Array;
  private shift: number;
  /** Pairs held. */
  count = 0;
  /** What lies above 2^53 of a pair's counters (rare), by pair. */
  bytesHi: Map<number, bigint> | null = null;
  messagesHi: Map<number, bigint> | null = null;

  /**
   * `expected`: pairs it will hold, so that it need not grow. A store that receives the pairs of
   * others (addStoreSteps) must be sized for all of them: pairs arrive in the others' slot order,
   * which is hash order, and a smaller table would pile them up in long probe runs.
   */
  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity * 3 < expected * 4 + 4) capacity *= 2;
    this.data = new Float64Array(capacity * SLOT);
    this.shift = Math.clz32(capacity) + 1;
  }

  /** Slots the table has room for (a power of two). */
  get capacity(): number {
    return this.data.length / SLOT;
  }

  /**
   * Offset in `data` of the slot of `pair`, created (zero) when absent and mayGrow, else -1.
   * May grow the table: callers that keep `data` re-read it afterwards.
   */
  slot(pair: number, mayGrow = true): number {
    const key = pair + 1;
    let data = this.data;
    const mask = data.length / SLOT - 1;
    let i = hash(key, this.shift);
    for (;;) {
      const k = data[i * SLOT];
      if (k === key) return i * SLOT;
      if (k === 0) break;
      i = (i + 1) & mask;
    }
    if (!mayGrow) return -1;
    data[i * SLOT] = key;
    // Grow at 3/4 full: linear probing stays short, and slots stay 3/8..3/4 used.
    if (++this.count * 4 > (mask + 1) * 3) {
      this.rehash((mask + 1) * 2);
      data = this.data;
      return this.slot(pair, false);
    }
    return i * SLOT;
  }

  /** Offset of the slot of `pair`, -1 when it has none. */
  find(pair: number): number {
    return this.slot(pair, false);
  }

  /** The slow path of a bytes add at offset `at`: data[at + 1] + v went past 2^53. */
  spillBytes(at: number, v: number): void {
    this.bytesHi = spill(this.bytesHi, this.data, at, 1, v);
  }

  /** Adds exact bytes and messages (each < 2^53, or bigints) to the slot at `at`. */
  addAt(at: number, bytes: number | bigint, messages: number | bigint): void {
    const d = this.data;
    if (typeof bytes === 'number' && d[at + 1] + bytes < MAX_EXACT) d[at + 1] += bytes;
    else this.bytesHi = spill(this.bytesHi, d, at, 1, bytes);
    if (typeof messages === 'number' && d[at + 2] + messages < MAX_EXACT) d[at + 2] += messages;
    else this.messagesHi = spill(this.messagesHi, d, at, 2, messages);
  }

  /** Exact bytes of the pair whose slot is at `at`. */
  bytesAt(at: number): bigint {
    return exact(this.bytesHi, this.data, at, 1);
  }

  messagesAt(at: number): bigint {
    return exact(this.messagesHi, this.data, at, 2);
  }

  /** Adds every pair of `other` into this one, yielding every STEP slots. Pairs this store
   * would need a new cell for are refused when `room()` says no; returns the messages refused. */
  *addStoreSteps(other: PairStore, room: () => boolean = () => true): Steps<number> {
    const d = other.data;
    let refused = 0;
    for (let at = 0; at < d.length; at += SLOT) {
      if (at % (STEP * SLOT) === 0 && at > 0) yield;
      if (d[at] === 0) continue;
      const mine = this.slot(d[at] - 1, room());
      if (mine < 0) {
        refused += Number(other.messagesAt(at));
        continue;
      }
      const hiB = other.bytesHi?.get(d[at] - 1),
        hiM = other.messagesHi?.get(d[at] - 1);
      this.addAt(
        mine,
        hiB === undefined ? d[at + 1] : hiB + BigInt(d[at + 1]),
        hiM === undefined ? d[at + 2] : hiM + BigInt(d[at + 2]),
      );
    }
    return refused;
  }

  /** The pairs in (src, dst) order, as a matrix of `size` ranks: bucketed by source row, then
   * each row sorted, so that the work is linear, in slices, and no one sort holds the thread. */
  *sortedSteps(size: number): Steps<SparseMatrix> {
    const d = this.data;
    const n = this.count;
    const rowStart = new Uint32Array(size + 1);
    for (let at = 0; at < d.length; at += SLOT) {
      if (at % (STEP * SLOT) === 0 && at > 0) yield;
      if (d[at] !== 0) rowStart[Math.floor((d[at] - 1) / size) + 1]++;
    }
    for (let r = 0; r < size; r++) rowStart[r + 1] += rowStart[r];
    const fill = rowStart.slice(0, size);
    // slot offsets, bucketed by row, then sorted by pair within each row
    const offsets = new Uint32Array(n);
    for (let at = 0; at < d.length; at += SLOT) {
      if (at % (STEP * SLOT) === 0 && at > 0) yield;
      if (d[at] !== 0) offsets[fill[Math.floor((d[at] - 1) / size)]++] = at;
    }
    const byPair = (x: number, y: number) => d[x] - d[y];
    let work = 0;
    for (let r = 0; r < size; r++) {
      const a = rowStart[r],
        b = rowStart[r + 1];
      if (b - a > 1) offsets.subarray(a, b).sort(byPair);
      if ((work += b - a + 1) >= STEP) {
        work = 0;
        yield;
      }
    }
    const src = new Uint32Array(n),
      dst = new Uint32Array(n);
    const bytes = new U64Array(n),
      messages = new U64Array(n);
    const big = this.bytesHi !== null || this.messagesHi !== null;
    for (let i = 0; i < n; i++) {
      if (i % STEP === 0 && i > 0) yield;
      const at = offsets[i];
      const pair = d[at] - 1;
      const s = Math.floor(pair / size);
      src[i] = s;
      dst[i] = pair - s * size;
      if (big) {
        bytes.addBig(i, this.bytesAt(at));
        messages.addBig(i, this.messagesAt(at));
      } else {
        bytes.lo[i] = d[at + 1];
        messages.lo[i] = d[at + 2];
      }
    }
    return new SparseMatrix(size, src, dst, bytes, messages);
  }

  private rehash(capacity: number): void {
    const old = this.data;
    const data = (this.data = new Float64Array(capacity * SLOT));
    this.shift = Math.clz32(capacity) + 1;
    const mask = capacity - 1;
    for (let at = 0; at < old.length; at += SLOT) {
      const key = old[at];
      if (key === 0) continue;
      let i = hash(key, this.shift);
      while (data[i * SLOT] !== 0) i = (i + 1) & mask;
      data[i * SLOT] = key;
      data[i * SLOT + 1] = old[at + 1];
      data[i * SLOT + 2] = old[at + 2];
    }
  }
}

function spill(
  hi: Map<number, bigint> | null,
  d: Float64Array,
  at: number,
  field: number,
  v: number | bigint,
): Map<number, bigint> {
  const m = hi ?? new Map<number, bigint>();
  const pair = d[at] - 1;
  m.set(pair, (m.get(pair) ?? 0n) + BigInt(d[at + field]) + BigInt(v));
  d[at + field] = 0;
  return m;
}

function exact(hi: Map<number, bigint> | null, d: Float64Array, at: number, field: number): bigint {
  const h = hi?.get(d[at] - 1);
  return h === undefined ? BigInt(d[at + field]) : h + BigInt(d[at + field]);
}

/** Pairs held over several stores (a job's cell budget counts them all). */
export function pairsHeld(stores: Iterable<PairStore>): number {
  let n = 0;
  for (const s of stores) n += s.count;
  return n;
}
