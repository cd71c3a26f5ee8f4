// A job's matrix for the heatmap: the report's coarsening (src/report/coarse.ts: at most 256 x 256
// blocks of contiguous ranks), flattened row-major with the blocks' labels for the page.
import type { PairMatrix } from '../monitor/pairs.js';
import { coarsen, MAX_BLOCKS, rangeBlocks } from '../report/coarse.js';

export { MAX_BLOCKS };

export interface HeatmapMatrix {
  /** ranks of the job */
  size: number;
  /** blocks a side */
  blocks: number;
  /** each block's ranks ("12" or "12-15") */
  labels: string[];
  /** bytes per block, row-major (row = source block) */
  bytes: number[];
}

export function heatmapMatrix(m: PairMatrix, maxBlocks = MAX_BLOCKS): HeatmapMatrix {
  const plan = rangeBlocks(m.size, maxBlocks);
  const c = coarsen(m, plan);
  return { size: m.size, blocks: plan.blocks.length, labels: plan.blocks.map((b) => b.label), bytes: c.bytes.flat() };
}
