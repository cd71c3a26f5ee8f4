// Issue 15: the report of a job above 256 ranks stays bounded and exact. A 1024-rank job (a 2-D
// torus exchange in two placement epochs, 16 hosts of 64 ranks) is read from the per-rank files the
// shim writes; what its report holds is checked against the traffic the job was built with.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRankFiles } from '../../src/monitor/files.js';
import type { JobProfile } from '../../src/monitor/job.js';
import {
  buildReport,
  formatJson,
  formatText,
  fromSparse,
  jobReport,
  writeHeatmap,
  type JobReport,
} from '../../src/report/report.js';
import { expectedPairs, mpiNs, writeSyntheticJob, type SyntheticJob } from './synthetic.js';

const P = 1024;
const spec: SyntheticJob = { size: P, width: 32, host: (r) => `node${Math.floor(r / 64)}` };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'smbig-'));
let job: JobProfile;
let rep: JobReport;

beforeAll(async () => {
  [job] = await loadRankFiles(writeSyntheticJob(tmp(), 'big', spec));
  rep = jobReport(job);
}, 120_000);

/** Block sums of the expected pairs with 64 ranks per host. */
function expectedBlocks(epoch?: 0 | 1) {
  const bytes = Array.from({ length: 16 }, () => new Array<number>(16).fill(0));
  const messages = Array.from({ length: 16 }, () => new Array<number>(16).fill(0));
  for (const [s, d, b, k] of expectedPairs(spec, epoch)) {
    bytes[s >> 6][d >> 6] += b;
    messages[s >> 6][d >> 6] += k;
  }
  return { bytes, messages };
}

describe('the report of a 1024-rank job', () => {
  it('holds the matrix in blocks by host that sum to the job traffic, per epoch too', () => {
    expect(rep.size).toBe(P);
    expect(rep.matrix).toBeUndefined();
    expect(rep.sparseMatrix).toBeUndefined();
    expect(rep.pairCount).toBe(2 * P);
    const c = rep.coarseMatrix!;
    expect(c.by).toBe('host');
    expect(c.blocks.map((b) => b.label)).toEqual(Array.from({ length: 16 }, (_, i) => `node${i}`));
    expect(c.blocks[3]).toEqual({ label: 'node3', ranks: 64, ranges: [[192, 255]] });
    expect({ bytes: c.bytes, messages: c.messages }).toEqual(expectedBlocks());
    expect(rep.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(rep.epochs[0].coarse).toEqual(expectedBlocks(0));
    expect(rep.epochs[1].coarse).toEqual(expectedBlocks(1));
    expect(rep.epochs[0].bytes).toBeUndefined();
  });

  it('lists the extreme ranks and quantiles, not every rank; histograms of the top pairs only', () => {
    const s = rep.rankSummary;
    expect(s.listed).toBe('extremes');
    const byMpi = Array.from({ length: P }, (_, r) => r).sort((a, b) => mpiNs(b, P) - mpiNs(a, P));
    expect(s.mostMpi).toEqual(byMpi.slice(0, 10));
    expect(s.leastMpi).toEqual(byMpi.slice(-10).reverse());
    expect(s.problems).toEqual([]);
    expect(rep.ranks.map((k) => k.rank)).toEqual([...s.mostMpi, ...s.leastMpi].sort((a, b) => a - b));
    expect(s.ranksListed).toBe(20);
    // mpiNs is 1 ms + a permutation of 0..1023 us: quantiles of 0..1023 us
    expect(s.quantiles.mpiSeconds.min).toBeCloseTo(1e-3, 12);
    expect(s.quantiles.mpiSeconds.max).toBeCloseTo(1e-3 + 1023e-6, 12);
    expect(s.quantiles.mpiSeconds.median).toBeCloseTo(1e-3 + 511.5e-6, 12);
    expect(s.quantiles.calls.median).toBe(4);
    expect(s.calls).toBe(4 * P);
    expect(rep.histograms!.scope).toBe('topPairs');
    expect(rep.histograms!.pairs.map((h) => [h.src, h.dst])).toEqual(
      rep.topPairs.map((p) => [p.src, p.dst]).sort((a, b) => a[0] - b[0] || a[1] - b[1]),
    );
    // the heaviest pairs: downward sends of ranks r % 3 == 2 (6000 B)
    expect(rep.topPairs[0]).toEqual({ src: 2, dst: 34, bytes: 6000, messages: 2 });
  });

  it('is bounded: small JSON and text, every pair only with fullMatrix, in the sparse format', () => {
    const json = formatJson([job]);
    const full = formatJson([job], { fullMatrix: true });
    console.log(`1024 ranks: JSON ${json.length} B, with --full-matrix ${full.length} B`);
    expect(json.length).toBeLessThan(100_000);
    const text = formatText([job]);
    expect(text.split('\n').length).toBeLessThan(100);
    expect(text).toMatch(/20 of 1024 ranks/);
    expect(text).toMatch(/^ {2}median/m);
    expect(text).toMatch(/2048 pairs of ranks exchanged data.*16 x 16 blocks by host/);
    const r = (JSON.parse(full) as ReturnType<typeof buildReport>).jobs[0];
    expect(r.histograms!.scope).toBe('all');
    const seen: number[][] = [];
    fromSparse(r.sparseMatrix!).forEach((s, d, b, k) => seen.push([s, d, b, k]));
    expect(seen).toEqual(expectedPairs(spec));
    for (const e of [0, 1] as const) {
      const back: number[][] = [];
      fromSparse(r.epochs[e].sparse!).forEach((s, d, b, k) => back.push([s, d, b, k]));
      expect(back).toEqual(expectedPairs(spec, e));
    }
  });

  it('one host: blocks by rank range, 520 ranks in 256 blocks of 2 or 3', async () => {
    const one = { size: 520, width: 20, host: () => 'single' };
    const [j] = await loadRankFiles(writeSyntheticJob(tmp(), 'one', one));
    const c = jobReport(j).coarseMatrix!;
    expect(c.by).toBe('ranks');
    expect(c.blocks).toHaveLength(256);
    expect(c.blocks.every((b, i) => b.ranges[0][0] === Math.floor((i * 520) / 256))).toBe(true);
    expect(c.blocks.filter((b) => b.ranks === 3)).toHaveLength(520 - 2 * 256);
    const sum = (a: number[][]) => a.flat().reduce((x, y) => x + y, 0);
    expect(sum(c.bytes)).toBe(expectedPairs(one).reduce((t, p) => t + p[2], 0));
    expect(sum(c.messages)).toBe(4 * 520);
  }, 60_000);

  it('heatmap: one square per host, colour bar, log colours', async () => {
    const file = path.join(tmp(), 'big.png');
    const h = await writeHeatmap(file, job);
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
    const png = PNG.sync.read(fs.readFileSync(file));
    // 512 px / 16 blocks = 32 px per block, then an 8 px gap and a 16 px colour bar
    expect([png.width, png.height]).toEqual([16 * 32 + 24, 512]);
    expect([h.width, h.height, h.blocks, h.by]).toEqual([png.width, png.height, 16, 'host']);
    const px = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
    const colours = new Set<string>();
    for (let y = 0; y < 512; y += 32) for (let x = 0; x < 512; x += 32) colours.add(px(x + 16, y + 16).join());
    expect(colours.size).toBeGreaterThan(2);
    // node0 -> node5 exchange nothing: white; the diagonal (most traffic within a host) is not
    expect(px(5 * 32 + 16, 16)).toEqual([255, 255, 255]);
    expect(px(16, 16)).not.toEqual([255, 255, 255]);
    // the colour bar runs from the largest value (top) to the smallest non-zero one (bottom)
    const c = rep.coarseMatrix!.bytes;
    const cells = c.flat().filter((v) => v > 0);
    expect([h.min, h.max]).toEqual([Math.min(...cells), Math.max(...cells)]);
    const diag = c.flat().indexOf(h.max);
    const [i, j] = [Math.floor(diag / 16), diag % 16];
    expect(px(j * 32 + 16, i * 32 + 16)).toEqual(px(512 + 8 + 8, 0));
  });
});
