// The replay validation harness end to end, as root: a real testbed, real mpirun, one program
// (the CG-like solver: chains of small messages, so the WAN shows) on one site and on two, one
// repetition at quick size. Checks that measurement and prediction are there, bounded and both see
// the WAN; not the accuracy goals (timing on a loaded host).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeAsRoot } from '../helpers/root.js';

import type { Results } from '../../bench/validation/report.js';
import { defaultValidationOptions, runValidation } from '../../bench/validation/run.js';
import { spearman } from '../../bench/validation/stats.js';

const OUT = path.join(os.tmpdir(), 'sitempi-validation-vitest-out');
let res: Results;

describeAsRoot('replay validation harness (root, testbed, mpirun; one program, quick)', () => {
  beforeAll(async () => {
    fs.rmSync(OUT, { recursive: true, force: true });
    res = await runValidation({
      ...defaultValidationOptions(),
      quick: true,
      reps: 1,
      rttsMs: [10],
      placements: ['contiguous'],
      programs: ['cg'],
      out: OUT,
      // distinct from the benchmark's own testbed and the other tests'
      prefix: 'smval',
      stateDir: path.join(os.tmpdir(), 'sitempi-validation-vitest-testbed'),
      mgmtSubnet: '10.232.0.0/24',
      dataSubnet: '10.233.0.0/24',
      log: () => {},
    });
  }, 240_000);
  afterAll(() => fs.rmSync(OUT, { recursive: true, force: true }));

  it('measures and predicts a slowdown that both see the 10 ms WAN', () => {
    expect(res.rows).toHaveLength(1);
    const r = res.rows[0];
    expect(r.program).toBe('cg');
    expect(r.runs).toHaveLength(1);
    // each iteration of cg waits for at least one crossing exchange (5 ms one way): ~20 iterations
    // add 0.1 s or more to a run of about 0.15 s
    expect(r.measured).toBeGreaterThan(1.2);
    expect(r.predicted).toBeGreaterThan(1.2);
    expect(r.measured).toBeLessThan(50);
    expect(r.predicted).toBeLessThan(50);
    expect(r.error).toBeCloseTo(r.predicted / r.measured - 1, 9);
    // the replay of the recorded placement stays near the recorded run
    expect(r.replayOneSiteVsRecorded).toBeGreaterThan(0.3);
    expect(r.replayOneSiteVsRecorded).toBeLessThan(3);
    expect(res.meta.calibrated[0].L).toBeGreaterThan(0);
  });

  it('writes the table, the JSON with its summary and an SVG scatter plot', () => {
    const md = fs.readFileSync(path.join(OUT, 'validation.md'), 'utf8');
    expect(md).toContain('| CG-like sparse solver | 10 ms | contiguous |');
    const json = JSON.parse(fs.readFileSync(path.join(OUT, 'validation.json'), 'utf8'));
    expect(json.rows).toHaveLength(1);
    expect(json.summary.all.points).toBe(1);
    expect(json.summary.all.medianAbsError).toBeCloseTo(Math.abs(res.rows[0].error), 9);
    const svg = fs.readFileSync(path.join(OUT, 'validation.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('measured slowdown');
  });
});

it('Spearman: 1 for the same order, -1 reversed, ties at their mean rank', () => {
  expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
  expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  // ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): 4.5 / sqrt(4.5 * 5)
  expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
});
