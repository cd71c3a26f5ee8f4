// The paired timing of sitempi's partitioner against METIS's library (bench/partition/paired.cpp):
// built once per process with g++ against Debian's libmetis-dev, run on a graph file in METIS's
// format. Its cuts are checked against partition()'s and gpmetis's by the caller.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { packageRoot } from '../../src/native/paths.js';
import { quantiles } from '../../src/report/ranks.js';

export interface PairedResult {
  /** sitempi's cut and METIS's, as the harness computed them. */
  cut: number;
  metisCut: number;
  /** Thread CPU seconds of each round, sitempi and METIS alternating. */
  sitempi: number[];
  metis: number[];
}

let binary: string | undefined;

/** Compiles the harness (once); throws with the compiler's message when g++ or metis.h is missing. */
export function buildPaired(): string {
  if (binary) return binary;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sitempi-paired-'));
  const out = path.join(dir, 'paired');
  const native = path.join(packageRoot, 'native/core');
  // The partitioner's sources, as bench/partition/callgrind.sh globs them.
  const sources = readdirSync(native).filter((f) => /^partition.*\.cpp$/.test(f));
  const r = spawnSync(
    'g++',
    [
      '-O2',
      '-std=c++17',
      '-DNDEBUG',
      '-o',
      out,
      path.join(packageRoot, 'bench/partition/paired.cpp'),
      ...sources.map((s) => path.join(native, s)),
      '-lmetis',
    ],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0)
    throw new Error(
      `paired: building the harness failed (Debian: apt-get install g++ libmetis-dev): ${r.error?.message ?? r.stderr}`,
    );
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  binary = out;
  return out;
}

/** Runs `reps` alternating rounds of both partitioners on the graph (METIS text) over caps. */
export function runPaired(graphText: string, caps: number[], reps: number): PairedResult {
  const exe = buildPaired();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sitempi-paired-graph-'));
  try {
    const file = path.join(dir, 'g.graph');
    writeFileSync(file, graphText);
    const r = spawnSync(exe, [file, caps.join(','), String(reps)], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`paired: ${r.error?.message ?? r.stderr}`);
    return JSON.parse(r.stdout) as PairedResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The per-round ratios sitempi / METIS (rounds are paired: same machine state): quartiles and median. */
export function pairedRatios(p: PairedResult): { low: number; median: number; high: number } {
  const q = quantiles(p.sitempi.map((s, i) => s / p.metis[i]));
  return { low: q.p25, median: q.median, high: q.p75 };
}
