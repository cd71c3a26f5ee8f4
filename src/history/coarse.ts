// The communication matrix as the history keeps it: the report's coarsening (src/report/coarse.ts,
// contiguous rank ranges) at most DEFAULT_MAX_BLOCKS a side, as its non-zero blocks, so that a
// job's row stays small whatever its size.
import type { PairMatrix } from '../monitor/pairs.js';
import { coarsen as coarsenBlocks, rangeBlocks } from '../report/coarse.js';

export interface CoarseMatrix {
  /** most ranks in one block (1: the matrix itself); block b holds ranks floor(b * size / blocks)
   * to floor((b + 1) * size / blocks) - 1 */
  blockRanks: number;
  /** blocks per side */
  blocks: number;
  /** non-zero blocks, (src, dst) order */
  cells: Array<{ src: number; dst: number; bytes: number; messages: number }>;
}

export const DEFAULT_MAX_BLOCKS = 64;

export function coarsen(m: PairMatrix, maxBlocks = DEFAULT_MAX_BLOCKS): CoarseMatrix {
  const plan = rangeBlocks(m.size, maxBlocks);
  const c = coarsenBlocks(m, plan);
  const cells: CoarseMatrix['cells'] = [];
  c.bytes.forEach((row, src) =>
    row.forEach((bytes, dst) => {
      const messages = c.messages[src][dst];
      if (bytes || messages) cells.push({ src, dst, bytes, messages });
    }),
  );
  return { blockRanks: Math.max(1, ...plan.blocks.map((b) => b.ranks)), blocks: plan.blocks.length, cells };
}
