// The partitioner against METIS: for every pattern, size and site configuration, sitempi's cut
// and time, gpmetis's cut, own partitioning time and wall time, their ratio, and the cut of the
// contiguous split of ranks (the placement without a partitioner).
//
//   npx tsc -p tsconfig.json && node dist/bench/partition/run.js [--sizes 1024,10000,100000]
//     [--sites 2,4,8,4u] [--patterns stencil3d,wavefront2d,cg,random] [--reps 3] [--paired-reps 11]
//     [--out DIR]
//   node dist/bench/partition/run.js --from-json RUN1/partition.json,RUN2/...,RUN3/... --out DIR
//     (no measuring: several full runs as one, each time and ratio the median of the runs')
//
// Sites "k": k sites of equal capacity ceil(1.03 x ranks / k); "4u": four unequal sites with
// 40/30/20/10 % of the ranks, each with the same 3 % room. Times are medians of --reps runs.
// Writes DIR/partition.json and DIR/partition.md (default: print only).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { edgeCut, partLoads } from '../../src/partition/graph.js';
import { contiguousPlacement, partition } from '../../src/partition/partition.js';
import { quantiles } from '../../src/report/ranks.js';
import { arg } from '../args.js';
import { combineRuns, type RunFile } from './combine.js';
import { capsFor, PATTERNS } from './graphs.js';
import { gpmetisAvailable, metisGraphText, runGpmetis } from './metis.js';
import { pairedRatios, runPaired } from './paired.js';
import { markdown, summary, type Row } from './table.js';

const sizes = arg('--sizes', '1024,10000,100000').split(',').map(Number);
const siteSets = arg('--sites', '2,4,8,4u').split(',');
const patterns = arg('--patterns', Object.keys(PATTERNS).join(',')).split(',');
const reps = Math.max(1, Number(arg('--reps', '3')) || 3);
// Rounds of the paired timing (bench/partition/paired.cpp): its median ratio settles with more.
const pairedReps = Math.max(1, Number(arg('--paired-reps', '11')) || 11);
const out = arg('--out', '');

const median = (xs: number[]): number => quantiles(xs).median;

function measure(n: number, pattern: string, sites: string): Row {
  const gen = PATTERNS[pattern];
  if (!gen) throw new Error(`--patterns: unknown pattern ${pattern}`);
  const g = gen(n);
  const caps = capsFor(n, sites);
  const wall: number[] = [];
  const cpu: number[] = [];
  let p = partition(g, caps);
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    p = partition(g, caps);
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  const loads = partLoads(g, p.part, caps.length);
  loads.forEach((l, s) => {
    if (l > caps[s]) throw new Error(`${pattern} ${n} ${sites}: site ${s} holds ${l} ranks, capacity ${caps[s]}`);
  });
  if (edgeCut(g, p.part) !== p.cut) throw new Error(`${pattern} ${n} ${sites}: reported cut ${p.cut} is not the cut`);
  const text = metisGraphText(g);
  const ms = Array.from({ length: reps }, () => runGpmetis(g, caps, 1, text));
  const m = ms[0];
  if (edgeCut(g, m.part) !== m.cut)
    throw new Error(`${pattern} ${n} ${sites}: gpmetis's cut ${m.cut} is not its partition's`);
  const mLoads = partLoads(g, m.part, caps.length);
  // The time comparison that decides the goal: both partitioners in one process, alternating.
  const pr = runPaired(text, caps, pairedReps);
  if (pr.cut !== p.cut)
    throw new Error(`${pattern} ${n} ${sites}: the paired harness cut ${pr.cut}, partition() ${p.cut}`);
  if (pr.metisCut !== m.cut)
    throw new Error(`${pattern} ${n} ${sites}: METIS's library cut ${pr.metisCut}, gpmetis ${m.cut}: options differ`);
  const q = pairedRatios(pr);
  return {
    pattern,
    ranks: n,
    sites,
    caps,
    edges: g.xadj[g.n] / 2,
    cut: p.cut,
    seconds: median(wall),
    cpuSeconds: median(cpu),
    metisCut: m.cut,
    metisSeconds: median(ms.map((x) => x.metisSeconds)),
    metisWallSeconds: median(ms.map((x) => x.wallSeconds)),
    metisOverCap: Array.from(mLoads).filter((l, s) => l > caps[s]).length,
    ufactor: m.ufactor,
    pairedSeconds: median(pr.sitempi),
    pairedMetisSeconds: median(pr.metis),
    pairedRatio: q.median,
    pairedLow: q.low,
    pairedHigh: q.high,
    contiguousCut: edgeCut(g, contiguousPlacement(n, caps)),
  };
}

/** DIR/partition.json and DIR/partition.md. */
function write(dir: string, meta: Record<string, unknown>, rows: Row[], lines: string[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'partition.json'), `${JSON.stringify({ meta, rows, summary: lines }, null, 1)}\n`);
  writeFileSync(path.join(dir, 'partition.md'), markdown(rows, lines, meta));
}

function main(): void {
  const from = arg('--from-json', '');
  if (from) {
    const runs = from.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')) as RunFile);
    const { meta, rows } = combineRuns(runs);
    const lines = summary(rows);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (out) write(out, meta, rows, lines);
    return;
  }
  if (!gpmetisAvailable()) throw new Error('gpmetis is not installed (Debian: apt-get install metis)');
  const rows: Row[] = [];
  process.stdout.write(
    `${'pattern'.padEnd(12)} ${'ranks'.padStart(6)} sites ${'cut'.padStart(9)} ${'s (cpu)'.padStart(15)} ` +
      `${'METIS cut'.padStart(9)} ${'METIS s (wall)'.padStart(15)} ratio  cpu/METIS  contiguous\n`,
  );
  for (const n of sizes) {
    for (const pattern of patterns) {
      for (const sites of siteSets) {
        const r = measure(n, pattern, sites);
        rows.push(r);
        process.stdout.write(
          `${pattern.padEnd(12)} ${String(n).padStart(6)} ${sites.padStart(5)} ${String(r.cut).padStart(9)} ` +
            `${`${r.seconds.toFixed(3)} (${r.cpuSeconds.toFixed(3)})`.padStart(15)} ${String(r.metisCut).padStart(9)} ` +
            `${`${r.metisSeconds.toFixed(3)} (${r.metisWallSeconds.toFixed(3)})`.padStart(15)} ${(r.cut / r.metisCut).toFixed(3)}  ${r.pairedRatio.toFixed(3).padStart(9)}  ${r.contiguousCut}` +
            `${r.metisOverCap ? `  (METIS over capacity on ${r.metisOverCap} sites)` : ''}\n`,
        );
      }
    }
  }
  const lines = summary(rows);
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (out) {
    const meta = {
      reps,
      pairedReps,
      cpus: os.cpus().length,
      loadavg: os.loadavg(),
      node: process.version,
      date: new Date().toISOString(),
    };
    write(out, meta, rows, lines);
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
}
