// The full communication matrix of a report in its sparse form (docs/report-json.md#sparse-matrices):
// parallel arrays of the non-zero pairs in (src, dst) order, and back to a PairMatrix, so that a
// consumer of the JSON reads it with the same interface as the monitor's own matrices.
import type { PairMatrix } from '../monitor/pairs.js';

export interface SparseMatrix {
  size: number;
  /** number of non-zero pairs: the length of each array below */
  pairs: number;
  src: number[];
  dst: number[];
  bytes: number[];
  messages: number[];
}

/** The non-zero pairs of `m` as parallel arrays, in (src, dst) order. */
export function toSparse(m: PairMatrix): SparseMatrix {
  const src: number[] = [],
    dst: number[] = [],
    bytes: number[] = [],
    messages: number[] = [];
  m.forEach((s, d, b, k) => {
    src.push(s);
    dst.push(d);
    bytes.push(b);
    messages.push(k);
  });
  return { size: m.size, pairs: src.length, src, dst, bytes, messages };
}

/** A PairMatrix reading a sparse matrix (of a report's JSON); throws on arrays that do not fit together. */
export function fromSparse(s: SparseMatrix): PairMatrix {
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
