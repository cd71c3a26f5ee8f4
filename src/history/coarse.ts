// The communication matrix reduced to at most `maxBlocks` x `maxBlocks` blocks of contiguous ranks
// (block sums), so that a job's row in the history stays small whatever its size.
import type { PairMatrix } from '../monitor/pairs.js';

export interface CoarseMatrix {
  /** ranks per block (1: the matrix itself) */
  blockRanks: number;
  /** blocks per side */
  blocks: number;
  /** non-zero blocks, (src, dst) order */
  cells: Array<{ src: number; dst: number; bytes: number; messages: number }>;
}

export const DEFAULT_MAX_BLOCKS = 64;

export function coarsen(m: PairMatrix, maxBlocks = DEFAULT_MAX_BLOCKS): CoarseMatrix {
  const blockRanks = Math.max(1, Math.ceil(m.size / maxBlocks));
  const blocks = Math.ceil(m.size / blockRanks);
  const bytes = new Float64Array(blocks * blocks);
  const messages = new Float64Array(blocks * blocks);
  m.forEach((src, dst, b, n) => {
    const i = Math.floor(src / blockRanks) * blocks + Math.floor(dst / blockRanks);
    bytes[i] += b;
    messages[i] += n;
  });
  const cells: CoarseMatrix['cells'] = [];
  for (let i = 0; i < bytes.length; i++)
    if (bytes[i] || messages[i])
      cells.push({ src: Math.floor(i / blocks), dst: i % blocks, bytes: bytes[i], messages: messages[i] });
  return { blockRanks, blocks, cells };
}
