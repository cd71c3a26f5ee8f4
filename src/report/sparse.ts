// The full communication matrix of a report in its sparse form (docs/report-json.md#sparse-matrices):
// parallel arrays of the non-zero pairs in (src, dst) order, and back to a PairMatrix, so that a
// consumer of the JSON reads it with the same interface as the monitor's own matrices.
import { SparseMatrix, type PairMatrix } from '../monitor/pairs.js';
import { runSteps, type Steps } from '../monitor/steps.js';

/** Pairs handled between two checkpoints of the stepwise walks over a matrix's pairs. */
export const PAIRS_PER_STEP = 1 << 16;

/** A matrix's non-zero pairs in typed columns, (src, dst) order: read once, walked in steps. */
export interface PairColumns {
  size: number;
  n: number;
  src: Uint32Array;
  dst: Uint32Array;
  bytes: Float64Array;
  messages: Float64Array;
}

/** The pairs of `m` in columns: the monitor's own columns when every counter fits a double (no
 * copy), else one pass of forEach (the only part that cannot yield). */
export function pairColumns(m: PairMatrix): PairColumns {
  if (m instanceof SparseMatrix && !m.bytes.hi && !m.messages.hi)
    return { size: m.size, n: m.pairCount, src: m.src, dst: m.dst, bytes: m.bytes.lo, messages: m.messages.lo };
  const n = m.pairCount;
  const c = {
    size: m.size,
    n: 0,
    src: new Uint32Array(n),
    dst: new Uint32Array(n),
    bytes: new Float64Array(n),
    messages: new Float64Array(n),
  };
  m.forEach((s, d, b, k) => {
    if (c.n >= n) return; // more pairs than pairCount said: not ours to mend, the count rules
    c.src[c.n] = s;
    c.dst[c.n] = d;
    c.bytes[c.n] = b;
    c.messages[c.n] = k;
    c.n++;
  });
  return c;
}

export interface SparseMatrixJson {
  size: number;
  /** number of non-zero pairs: the length of each array below */
  pairs: number;
  src: number[];
  dst: number[];
  bytes: number[];
  messages: number[];
}

/** The non-zero pairs of `m` as parallel arrays, in (src, dst) order. */
export function toSparse(m: PairMatrix): SparseMatrixJson {
  return runSteps(sparseSteps(pairColumns(m)));
}

/** toSparse of columns, in steps of PAIRS_PER_STEP pairs. */
export function* sparseSteps(c: PairColumns): Steps<SparseMatrixJson> {
  const src: number[] = [],
    dst: number[] = [],
    bytes: number[] = [],
    messages: number[] = [];
  for (let i = 0; i < c.n; i++) {
    src.push(c.src[i]);
    dst.push(c.dst[i]);
    bytes.push(c.bytes[i]);
    messages.push(c.messages[i]);
    if ((i + 1) % PAIRS_PER_STEP === 0) yield;
  }
  return { size: c.size, pairs: c.n, src, dst, bytes, messages };
}

/** A PairMatrix reading a sparse matrix (of a report's JSON); throws on arrays that do not fit together. */
export function fromSparse(s: SparseMatrixJson): PairMatrix {
  const n = s.src.length;
  if (s.dst.length !== n || s.bytes.length !== n || s.messages.length !== n || s.pairs !== n)
    throw new Error(`sparse matrix: src, dst, bytes and messages must all hold ${s.pairs} pairs`);
  for (let i = 0; i < n; i++) {
    const a = s.src[i],
      b = s.dst[i];
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= 0 && a < s.size && b < s.size))
      throw new Error(`sparse matrix: pair ${i} (${a}, ${b}) is outside 0..${s.size - 1}`);
    if (i > 0 && (s.src[i - 1] > a || (s.src[i - 1] === a && s.dst[i - 1] >= b)))
      throw new Error(`sparse matrix: pair ${i} (${a}, ${b}) is out of (src, dst) order`);
  }
  const sum = (a: number[]) => a.reduce((t, v) => t + BigInt(v), 0n);
  return {
    size: s.size,
    pairCount: n,
    forEach(fn) {
      for (let i = 0; i < n; i++) fn(s.src[i], s.dst[i], s.bytes[i], s.messages[i]);
    },
    totalBytes: () => sum(s.bytes),
    totalMessages: () => sum(s.messages),
  };
}

/** The dense size x size form (row = source) of a matrix: only for small jobs. */
export function toDense(m: PairMatrix): { bytes: number[][]; messages: number[][] } {
  const P = m.size;
  const bytes = Array.from({ length: P }, () => new Array<number>(P).fill(0));
  const messages = Array.from({ length: P }, () => new Array<number>(P).fill(0));
  m.forEach((s, d, b, k) => {
    bytes[s][d] = b;
    messages[s][d] = k;
  });
  return { bytes, messages };
}
