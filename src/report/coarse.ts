// A job's communication matrix in forms that stay small for any job size: coarsened into at most
// 256 x 256 blocks of ranks (by host, or by contiguous rank ranges) for reports and pictures.
// Everything here reads the matrix as its non-zero pairs (PairMatrix), never P x P cells.
import type { PairMatrix } from '../monitor/pairs.js';
import { runSteps, type Steps } from '../monitor/steps.js';
import { pairColumns, PAIRS_PER_STEP, type PairColumns } from './sparse.js';

/** Most blocks per side of a coarsened matrix (and the largest job whose matrices are written in full). */
export const MAX_BLOCKS = 256;

/** A group of ranks: one row and column of a coarsened matrix. */
export interface RankBlock {
  /** host name (by host) or "first-last" (by rank range) */
  label: string;
  /** ranks in the block */
  ranks: number;
  /** the block's ranks as inclusive [first, last] runs, ascending */
  ranges: Array<[number, number]>;
}

/** How the ranks of a job are grouped into blocks. */
export interface BlockPlan {
  by: 'host' | 'ranks';
  blocks: RankBlock[];
  /** block of each world rank */
  blockOf: Int32Array;
}

/** A matrix of blocks: bytes[i][j] = everything the ranks of block i sent to those of block j. */
export interface CoarseMatrix {
  by: 'host' | 'ranks';
  blocks: RankBlock[];
  bytes: number[][];
  messages: number[][];
}

/** First rank of block b when `size` ranks are cut into `n` contiguous blocks (sizes differ by at most 1). */
export const rangeStart = (b: number, size: number, n: number): number => Math.floor((b * size) / n);

/** `size` ranks in min(size, maxBlocks) contiguous blocks of (nearly) equal size. */
export function rangeBlocks(size: number, maxBlocks = MAX_BLOCKS): BlockPlan {
  const n = Math.max(0, Math.min(size, Math.floor(maxBlocks)));
  const blockOf = new Int32Array(size);
  const blocks: RankBlock[] = [];
  for (let b = 0; b < n; b++) {
    const first = rangeStart(b, size, n),
      last = rangeStart(b + 1, size, n) - 1;
    blockOf.fill(b, first, last + 1);
    blocks.push({
      label: first === last ? String(first) : `${first}-${last}`,
      ranks: last - first + 1,
      ranges: [[first, last]],
    });
  }
  return { by: 'ranks', blocks, blockOf };
}

/**
 * Ranks grouped by host, blocks in the order of their hosts' first rank; null unless every rank
 * has a host and there are 2..maxBlocks hosts (one host says nothing a picture could show).
 */
export function hostBlocks(hosts: readonly string[], maxBlocks = MAX_BLOCKS): BlockPlan | null {
  const index = new Map<string, number>();
  const blockOf = new Int32Array(hosts.length);
  const blocks: RankBlock[] = [];
  for (let r = 0; r < hosts.length; r++) {
    const h = hosts[r];
    if (!h) return null;
    let b = index.get(h);
    if (b === undefined) {
      if (blocks.length >= maxBlocks) return null;
      index.set(h, (b = blocks.length));
      blocks.push({ label: h, ranks: 0, ranges: [] });
    }
    blockOf[r] = b;
    const k = blocks[b];
    k.ranks++;
    const last = k.ranges[k.ranges.length - 1];
    if (last && last[1] === r - 1) last[1] = r;
    else k.ranges.push([r, r]);
  }
  return blocks.length >= 2 ? { by: 'host', blocks, blockOf } : null;
}

/** The blocks of a job: by host when hostBlocks allows it, else by rank range. */
export function planBlocks(size: number, hosts?: readonly string[], maxBlocks = MAX_BLOCKS): BlockPlan {
  return (hosts && hosts.length === size ? hostBlocks(hosts, maxBlocks) : null) ?? rangeBlocks(size, maxBlocks);
}

/** The matrix summed over the blocks of `plan` (exact while the block sums stay below 2^53). */
export function coarsen(m: PairMatrix, plan: BlockPlan): CoarseMatrix {
  return runSteps(coarsenSteps(pairColumns(m), plan));
}

/** coarsen of columns, in steps of PAIRS_PER_STEP pairs. */
export function* coarsenSteps(c: PairColumns, plan: BlockPlan): Steps<CoarseMatrix> {
  const n = plan.blocks.length;
  const bytes = new Float64Array(n * n),
    messages = new Float64Array(n * n);
  const of = plan.blockOf;
  for (let p = 0; p < c.n; p++) {
    const i = of[c.src[p]] * n + of[c.dst[p]];
    bytes[i] += c.bytes[p];
    messages[i] += c.messages[p];
    if ((p + 1) % PAIRS_PER_STEP === 0) yield;
  }
  const rows = (a: Float64Array) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
  return { by: plan.by, blocks: plan.blocks, bytes: rows(bytes), messages: rows(messages) };
}
