// bench/results/validation.{json,md,svg}: the table of measured against predicted slowdowns and
// the summary the goals are stated in (median and max absolute error, Spearman's rho).
import fs from 'node:fs';
import path from 'node:path';
import type { LogGP } from '../../src/replay/cluster.js';
import { scatterSvg } from './plot.js';
import { summarize, type Summary } from './stats.js';

export interface Row {
  program: string;
  name: string;
  rttMs: number;
  placement: string;
  oneSiteS: number;
  twoSitesS: number;
  /** median over repetitions of two-site / one-site time */
  measured: number;
  /** median of the predictions from each repetition's one-site records */
  predicted: number;
  /** predicted / measured - 1 */
  error: number;
  /** the prediction with the other choice of WAN latency (meta.wanLatency: the one used) */
  otherLatency: number;
  /** the replay of the one-site placement against the one-site run's recorded time */
  replayOneSiteVsRecorded: number;
  runs: { oneSiteS: number; twoSitesS: number; predicted: number; otherLatency: number }[];
}

/** The WAN path (a0 to b0) at one RTT: bulk ns per byte, one-way latency from a ping-pong. */
export interface WanCalibration {
  rttMs: number;
  bulkG: number;
  L: number;
}

export interface Results {
  meta: {
    started: string;
    finished: string;
    loadBefore: number[];
    loadAfter: number[];
    quick: boolean;
    reps: number;
    ranks: number;
    wanMbps: number;
    calibrated: LogGP[];
    /** the WAN path per repetition and RTT */
    wanCalibrated: WanCalibration[];
    wanLatency: string;
    args: Record<string, string[]>;
  };
  rows: Row[];
}

export interface Summaries {
  all: Summary;
  /** per "RTT ms placement": the programs ranked within one configuration */
  byConfig: Record<string, Summary>;
  /** all points, predicted with the other choice of WAN latency */
  otherLatency: Summary;
}

export const configOf = (r: Row): string => `${r.rttMs} ms ${r.placement}`;

export function summaries(res: Results): Summaries {
  const byConfig: Record<string, Summary> = {};
  for (const c of [...new Set(res.rows.map(configOf))])
    byConfig[c] = summarize(res.rows.filter((r) => configOf(r) === c));
  const other = summarize(res.rows.map((r) => ({ measured: r.measured, predicted: r.otherLatency })));
  return { all: summarize(res.rows), byConfig, otherLatency: other };
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export function renderMarkdown(res: Results, s: Summaries): string {
  const m = res.meta;
  const goal = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  return [
    `Replay validation: ${m.ranks} ranks, one site vs two sites, WAN ${m.wanMbps} Mbit/s, medians of ${m.reps} repetition(s)${m.quick ? ' (quick sizes)' : ''}.`,
    `Measured ${m.started} to ${m.finished}; load average before ${m.loadBefore.join(' ')}, after ${m.loadAfter.join(' ')}.`,
    '',
    '| program | RTT | placement | one site (s) | two sites (s) | measured slowdown | predicted | error |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...res.rows.map(
      (r) =>
        `| ${r.name} | ${r.rttMs} ms | ${r.placement} | ${f(r.oneSiteS, 3)} | ${f(r.twoSitesS, 3)} | ${f(r.measured)} | ${f(r.predicted)} | ${pct(r.error)} |`,
    ),
    '',
    '| points | median abs error | max abs error | Spearman ρ |',
    '| --- | --- | --- | --- |',
    `| all ${s.all.points} | ${pct(s.all.medianAbsError)} | ${pct(s.all.maxAbsError)} | ${f(s.all.spearman)} |`,
    ...Object.entries(s.byConfig).map(
      ([c, x]) => `| ${c} (${x.points}) | ${pct(x.medianAbsError)} | ${pct(x.maxAbsError)} | ${f(x.spearman)} |`,
    ),
    `| all, WAN latency ${m.wanLatency === 'measured' ? 'nominal' : 'measured'} instead of ${m.wanLatency} | ${pct(
      s.otherLatency.medianAbsError,
    )} | ${pct(s.otherLatency.maxAbsError)} | ${f(s.otherLatency.spearman)} |`,
    '',
    `Goals (issue 13): median abs error ≤ 15% (${goal(s.all.medianAbsError <= 0.15)}), none > 30% (${goal(
      s.all.maxAbsError <= 0.3,
    )}), Spearman ≥ 0.9 (${goal(s.all.spearman >= 0.9)}).`,
    '',
  ].join('\n');
}

export function writeResults(res: Results, out: string): void {
  fs.mkdirSync(out, { recursive: true });
  const s = summaries(res);
  const points = res.rows.map((r) => ({
    program: r.program,
    series: configOf(r),
    measured: r.measured,
    predicted: r.predicted,
  }));
  fs.writeFileSync(path.join(out, 'validation.json'), `${JSON.stringify({ ...res, summary: s }, null, 2)}\n`);
  fs.writeFileSync(path.join(out, 'validation.md'), renderMarkdown(res, s));
  fs.writeFileSync(
    path.join(out, 'validation.svg'),
    scatterSvg(points, `Replay validation: predicted vs measured slowdown (${res.meta.ranks} ranks)`),
  );
}
