// A job's matrix for a picture: summed in square blocks so that a heatmap of any job has at most
// MAX_BLOCKS x MAX_BLOCKS cells (blocks of ceil(size / MAX_BLOCKS) ranks a side). Reads the matrix
// as its non-zero pairs only.
import type { PairMatrix } from '../monitor/pairs.js';

export const MAX_BLOCKS = 256;

export interface CoarseMatrix {
  /** ranks of the job */
  size: number;
  /** ranks per block, a side (1: the matrix itself) */
  blockSize: number;
  /** blocks a side */
  blocks: number;
  /** bytes per block, row-major (row = source block) */
  bytes: number[];
}

export function coarsen(m: PairMatrix, maxBlocks = MAX_BLOCKS): CoarseMatrix {
  const blockSize = Math.max(1, Math.ceil(m.size / maxBlocks));
  const blocks = Math.ceil(m.size / blockSize);
  const bytes = new Float64Array(blocks * blocks);
  m.forEach((src, dst, b) => {
    bytes[Math.floor(src / blockSize) * blocks + Math.floor(dst / blockSize)] += b;
  });
  return { size: m.size, blockSize, blocks, bytes: Array.from(bytes) };
}
