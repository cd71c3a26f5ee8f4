// sitempi report --plot FILE, --plot-values, --full-matrix: the heatmap and the sparse matrix from
// the command line (in process, on per-rank files of synthetic jobs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { expectedPairs, writeSyntheticJob } from '../report/synthetic.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'smplot-'));
let out = '',
  err = '';
function capture(): void {
  out = err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
}
afterEach(() => vi.restoreAllMocks());

const readPng = (f: string) => PNG.sync.read(fs.readFileSync(f));
const distinct = (png: PNG) => {
  const seen = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4) seen.add(png.data.readUInt32BE(i));
  return seen.size;
};

describe('sitempi report --plot', () => {
  it('writes a PNG heatmap of the job, one square per rank, and says its scale', async () => {
    const dir = tmp();
    writeSyntheticJob(dir, 'small', { size: 8, width: 4 });
    const file = path.join(tmp(), 'heat.png');
    capture();
    expect(await main(['report', '--plot', file, dir])).toBe(0);
    expect(out).toMatch(/job small/);
    expect(err).toMatch(/heatmap of job small in .*heat\.png: 536x512 px, 8x8 ranks, bytes on a log scale from 200 B/);
    const png = readPng(file);
    expect([png.width, png.height]).toEqual([8 * 64 + 24, 512]);
    expect(distinct(png)).toBeGreaterThan(3);
    // rank 0 sends to 1 (right) and 4 (down) only: row 0 is white elsewhere
    const px = (x: number, y: number) => png.data.readUInt32BE((y * png.width + x) * 4);
    const white = 0xffffffff;
    expect(px(1 * 64 + 32, 32)).not.toBe(white);
    expect(px(4 * 64 + 32, 32)).not.toBe(white);
    expect(px(2 * 64 + 32, 32)).toBe(white);
  });

  it('several jobs: one file each; --plot-values messages; bad values refused', async () => {
    const dir = tmp();
    writeSyntheticJob(dir, 'a', { size: 4, width: 2 });
    writeSyntheticJob(dir, 'b', { size: 6, width: 3 });
    const base = path.join(tmp(), 'm.png');
    capture();
    expect(await main(['report', '--plot', base, '--plot-values', 'messages', dir])).toBe(0);
    expect(readPng(base.replace('.png', '-a.png')).width).toBe(4 * 128 + 24);
    expect(readPng(base.replace('.png', '-b.png')).width).toBe(6 * 85 + 24);
    expect(err).toMatch(/messages on a log scale from 2 messages .* to 2 messages/);
    expect(fs.existsSync(base)).toBe(false);
    capture();
    expect(await main(['report', '--plot', base, '--plot-values', 'time', dir])).toBe(2);
    expect(err).toMatch(/--plot-values takes bytes or messages/);
  });

  it('--json --full-matrix: the sparse matrix next to the dense one of a small job', async () => {
    const dir = tmp();
    const spec = { size: 12, width: 4 };
    writeSyntheticJob(dir, 'sp', spec);
    capture();
    expect(await main(['report', '--json', '--full-matrix', dir])).toBe(0);
    const j = (
      JSON.parse(out) as {
        schema: number;
        jobs: Array<{ matrix: { bytes: number[][] }; sparseMatrix: Record<string, number[]> }>;
      }
    ).jobs[0];
    const want = expectedPairs(spec);
    expect(j.sparseMatrix.src).toEqual(want.map((p) => p[0]));
    expect(j.sparseMatrix.dst).toEqual(want.map((p) => p[1]));
    expect(j.sparseMatrix.bytes).toEqual(want.map((p) => p[2]));
    expect(j.matrix.bytes[0][1]).toBe(want[0][2]);
    capture();
    expect(await main(['report', '--json', dir])).toBe(0);
    expect(out).not.toMatch(/sparseMatrix/);
  });
});
