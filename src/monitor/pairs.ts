// A communication matrix as its non-zero pairs: the form every consumer of a job's matrix
// (report, heatmap, dashboard, history, partitioner) reads, so that none of them needs P x P cells.
import type { U64Array } from './counters.js';

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

/** The non-zero pairs of a dense size x size matrix. */
export function pairsFromDense(m: { size: number; bytes: U64Array; messages: U64Array }): PairMatrix {
  const n = m.size * m.size;
  const nonZero: number[] = [];
  for (let i = 0; i < n; i++) if (m.bytes.num(i) !== 0 || m.messages.num(i) !== 0) nonZero.push(i);
  return {
    size: m.size,
    pairCount: nonZero.length,
    forEach(fn) {
      for (const i of nonZero) fn(Math.floor(i / m.size), i % m.size, m.bytes.num(i), m.messages.num(i));
    },
    totalBytes: () => m.bytes.sum(),
    totalMessages: () => m.messages.sum(),
  };
}
