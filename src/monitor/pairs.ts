// A communication matrix as its non-zero pairs: the form every consumer of a job's matrix
// (report, heatmap, dashboard, history, partitioner) reads, so that none of them needs P x P cells.
import { U64Array } from './counters.js';

/** A matrix's non-zero (source, destination) pairs; row = source world rank. */
export interface PairMatrix {
  readonly size: number;
  /** Number of non-zero pairs. */
  readonly pairCount: number;
  /** Calls fn for every non-zero pair in (src, dst) order; values exact below 2^53. */
  forEach(fn: (src: number, dst: number, bytes: number, messages: number) => void): void;
  /** Exact totals over all pairs. */
  totalBytes(): bigint;
  totalMessages(): bigint;
}

/** A dense size x size matrix, row = source (JobProfile.matrix, for small jobs). */
export interface Matrix {
  size: number;
  /** bytes[src * size + dst] */
  bytes: U64Array;
  messages: U64Array;
}

/**
 * The PairMatrix that JobProfile.pairMatrix returns: pairs sorted by (src, dst) in columns, with
 * exact 64-bit counters (bytes.big(i), messages.big(i)) for callers that need more than 2^53.
 */
export class SparseMatrix implements PairMatrix {
  constructor(
    readonly size: number,
    readonly src: Uint32Array,
    readonly dst: Uint32Array,
    readonly bytes: U64Array,
    readonly messages: U64Array,
  ) {}

  get pairCount(): number {
    return this.src.length;
  }

  forEach(fn: (src: number, dst: number, bytes: number, messages: number) => void): void {
    const { src, dst, bytes, messages } = this;
    for (let i = 0; i < src.length; i++) fn(src[i], dst[i], bytes.num(i), messages.num(i));
  }

  totalBytes(): bigint {
    return this.bytes.sum();
  }

  totalMessages(): bigint {
    return this.messages.sum();
  }

  /** Index of the pair (src, dst), -1 when it has no traffic. */
  indexOf(src: number, dst: number): number {
    let lo = 0,
      hi = this.src.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.src[mid] - src || this.dst[mid] - dst;
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Exact bytes and messages of a pair (0n without traffic). */
  bytesOf(src: number, dst: number): bigint {
    const i = this.indexOf(src, dst);
    return i < 0 ? 0n : this.bytes.big(i);
  }

  messagesOf(src: number, dst: number): bigint {
    const i = this.indexOf(src, dst);
    return i < 0 ? 0n : this.messages.big(i);
  }
}

/** The non-zero pairs of a dense size x size matrix. */
export function pairsFromDense(m: Matrix): SparseMatrix {
  const n = m.size * m.size;
  const nonZero: number[] = [];
  for (let i = 0; i < n; i++) if (m.bytes.num(i) !== 0 || m.messages.num(i) !== 0) nonZero.push(i);
  const src = new Uint32Array(nonZero.length),
    dst = new Uint32Array(nonZero.length);
  const bytes = new U64Array(nonZero.length),
    messages = new U64Array(nonZero.length);
  nonZero.forEach((p, i) => {
    src[i] = Math.floor(p / m.size);
    dst[i] = p % m.size;
    bytes.addBig(i, m.bytes.big(p));
    messages.addBig(i, m.messages.big(p));
  });
  return new SparseMatrix(m.size, src, dst, bytes, messages);
}

/** A PairMatrix as a dense matrix (for small jobs and tests). */
export function denseFromPairs(p: PairMatrix): Matrix {
  const n = p.size * p.size;
  const out: Matrix = { size: p.size, bytes: new U64Array(n), messages: new U64Array(n) };
  if (p instanceof SparseMatrix) {
    for (let i = 0; i < p.pairCount; i++) {
      const at = p.src[i] * p.size + p.dst[i];
      out.bytes.addBig(at, p.bytes.big(i));
      out.messages.addBig(at, p.messages.big(i));
    }
  } else
    p.forEach((s, d, b, m) => {
      out.bytes.add(s * p.size + d, b);
      out.messages.add(s * p.size + d, m);
    });
  return out;
}
