// A heatmap of a job's communication matrix as a PNG image, like the pictures mpiP and IPM users
// look at: one square per block of ranks (the full matrix up to 256 ranks, the coarsened one above),
// row = source (top to bottom), column = destination (left to right), a log colour scale from the
// smallest non-zero cell (dark purple) to the largest (yellow), empty cells white, and a colour bar on
// the right with the largest value at the top.
import fs from 'node:fs/promises';
import { PNG } from 'pngjs';
import type { JobProfile } from '../monitor/job.js';
import { coarsen, MAX_BLOCKS, planBlocks } from './coarse.js';
import type { JobReport } from './types.js';

export interface HeatmapOptions {
  /** what the colours show (default bytes) */
  values?: 'bytes' | 'messages';
  /** side of the matrix in pixels, at least one pixel per block (default 512) */
  pixels?: number;
}

/** A heatmap's image and the scale its colours stand for (for a legend in words). */
export interface Heatmap {
  png: Buffer;
  width: number;
  height: number;
  /** blocks per side */
  blocks: number;
  by: 'rank' | 'host' | 'ranks';
  /** smallest non-zero and largest cell (0 and 0 when the matrix is empty) */
  min: number;
  max: number;
}

const COLOURBAR_GAP = 8;
const COLOURBAR_WIDTH = 16;

// viridis at 9 evenly spaced points (a perceptually uniform map that stays readable in grey)
const VIRIDIS: Array<[number, number, number]> = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** The colour of t in [0, 1]. */
function colour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x)),
    f = x - i;
  const a = VIRIDIS[i],
    b = VIRIDIS[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + f * (b[c] - a[c]))) as [number, number, number];
}

/** The PNG heatmap of a square matrix of non-negative values (rows = sources). */
export function heatmapPng(cells: readonly (readonly number[])[], opts: HeatmapOptions = {}): Omit<Heatmap, 'by'> {
  const n = cells.length;
  if (n === 0) throw new Error('heatmap: the matrix is empty (a job of no ranks)');
  if (cells.some((row) => row.length !== n)) throw new Error('heatmap: the matrix is not square');
  const cell = Math.max(1, Math.floor((opts.pixels ?? 512) / n));
  const side = n * cell;
  const width = side + COLOURBAR_GAP + COLOURBAR_WIDTH,
    height = side;
  let min = Infinity,
    max = 0;
  for (const row of cells)
    for (const v of row)
      if (v > 0) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
  if (max === 0) min = 0;
  const span = max > min ? Math.log(max) - Math.log(min) : 0;
  const scale = (v: number) => (span > 0 ? (Math.log(v) - Math.log(min)) / span : 1);
  const png = new PNG({ width, height, colorType: 2 });
  png.data.fill(255);
  const put = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    const o = (y * width + x) * 4;
    png.data[o] = r;
    png.data[o + 1] = g;
    png.data[o + 2] = b;
    png.data[o + 3] = 255;
  };
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = cells[i][j];
      if (!(v > 0)) continue;
      const c = colour(scale(v));
      for (let y = i * cell; y < (i + 1) * cell; y++) for (let x = j * cell; x < (j + 1) * cell; x++) put(x, y, c);
    }
  // colour bar: the largest value at the top, the smallest at the bottom
  for (let y = 0; y < height; y++) {
    const c = colour(height > 1 ? 1 - y / (height - 1) : 1);
    for (let x = side + COLOURBAR_GAP; x < width; x++) put(x, y, c);
  }
  return { png: PNG.sync.write(png, { colorType: 2 }), width, height, blocks: n, min, max };
}

const isProfile = (j: JobReport | JobProfile): j is JobProfile => typeof (j as JobProfile).pairMatrix === 'function';

/**
 * The heatmap of a job: of its full matrix up to MAX_BLOCKS ranks, of its matrix coarsened into at
 * most MAX_BLOCKS x MAX_BLOCKS blocks above (by host or rank range, as in the JSON report).
 */
export function jobHeatmap(job: JobReport | JobProfile, opts: HeatmapOptions = {}): Heatmap {
  const which = opts.values ?? 'bytes';
  if (isProfile(job)) {
    const hosts = Array.from({ length: job.size }, (_, r) => job.rank(r)?.host ?? '');
    const plan = planBlocks(job.size, job.size <= MAX_BLOCKS ? undefined : hosts);
    const c = coarsen(job.pairMatrix(), plan);
    return { ...heatmapPng(c[which], opts), by: job.size <= MAX_BLOCKS ? 'rank' : c.by };
  }
  if (job.matrix) return { ...heatmapPng(job.matrix[which], opts), by: 'rank' };
  if (job.coarseMatrix) return { ...heatmapPng(job.coarseMatrix[which], opts), by: job.coarseMatrix.by };
  throw new Error(`heatmap: the report of job ${job.id} holds no matrix`);
}

/** Writes the heatmap of a job to `file` (PNG, mode 0600 unless `mode`, like the reports); returns what it drew. */
export async function writeHeatmap(
  file: string,
  job: JobReport | JobProfile,
  opts: HeatmapOptions & { mode?: number } = {},
): Promise<Heatmap> {
  const h = jobHeatmap(job, opts);
  await fs.writeFile(file, h.png, { mode: opts.mode ?? 0o600 });
  return h;
}
