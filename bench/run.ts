// The benchmark suite: every benchmark under bench/, one after another, each in a process of its
// own, and at the end the ratios each one measured, side by side.
//
//   npm run bench [-- --full | --smoke] [--only NAME,...] [--skip NAME,...] [--out DIR]
//
// Quick by default (short settings, a few minutes in all; the files go to a temporary directory,
// never over bench/results). --full runs the long runs the README documents and writes
// bench/results; --smoke the shortest settings that still measure (what the test suite runs).
// The testbed benchmarks (collectives, relocation) need root: without it they are skipped, with
// the reason.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { packageRoot } from '../src/native/paths.js';
import { down } from '../src/testbed/index.js';
import { preflight } from '../src/testbed/sys.js';
import { goalMet, OVERHEAD_GOAL, perRankMet, subMicrosecond, type OverheadRow } from './coll-overhead.js';
import { bestOmpi, goals } from './collectives/report.js';
import type { BenchResults } from './collectives/types.js';
import { managerSimBench } from './manager/suite.js';
import { partitionBench } from './partition/suite.js';
import type { ScaleResult } from './scale/run.js';

export type Level = 'smoke' | 'quick' | 'full';

interface Bench {
  name: string;
  what: string;
  /** The benchmark's own command, next to this file (dist/bench/...). */
  script: string;
  nodeArgs?: string[];
  /** Runs on the testbed: needs root; its testbed is taken down if the run has to be killed. */
  testbed?: { stateDir: string; prefix: string };
  args: (level: Level, out: string) => string[];
  timeoutS: Record<Level, number>;
  /** Ratio lines from what the run wrote to `out` (and printed). */
  ratios: (out: string, stdout: string) => string[];
}

const by = <T>(level: Level, smoke: T, quick: T, full: T): T =>
  level === 'smoke' ? smoke : level === 'quick' ? quick : full;
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const x = (r: number | null | undefined, digits = 3): string =>
  r === null || r === undefined || !Number.isFinite(r) ? 'n/a' : r.toFixed(digits);

export const SUITE: Bench[] = [
  {
    name: 'overhead',
    what: 'shim cost per intercepted call (with / without the shim)',
    script: 'overhead.js',
    args: (l, out) => [
      ...by(l, ['--pairs', '1', '--calls', '20000'], ['--pairs', '2', '--calls', '200000'], ['--pairs', '7']),
      '--json',
      path.join(out, 'overhead.json'),
    ],
    timeoutS: { smoke: 120, quick: 300, full: 1800 },
    ratios: (out) =>
      readJson<{ rows: { call: string; plain: number; shim: number; overhead: number }[] }>(
        path.join(out, 'overhead.json'),
      ).rows.map(
        (r) => `${r.call}: with/without shim ${x(r.shim / r.plain)} (+${r.overhead.toFixed(1)} ns; goal <= 30 ns)`,
      ),
  },
  {
    name: 'coll-overhead',
    what: 'collectives through the shim vs PMPI, site-aware algorithms off',
    script: 'coll-overhead.js',
    args: (l, out) => [
      ...by(
        l,
        ['--calls', '20', '--reps', '11', '--sizes', '8'],
        ['--calls', '100', '--reps', '51', '--sizes', '8,4096'],
        [],
      ),
      '--json',
      path.join(out, 'coll-overhead.json'),
    ],
    timeoutS: { smoke: 180, quick: 600, full: 3600 },
    ratios: (out) => {
      const rows = readJson<{ rows: OverheadRow[] }>(path.join(out, 'coll-overhead.json')).rows;
      const met = rows.filter(goalMet).length;
      const worst = (xs: OverheadRow[], by: (r: OverheadRow) => number) =>
        xs.reduce((a, b) => (by(b) > by(a) ? b : a), xs[0] as OverheadRow);
      const name = (r: OverheadRow) => `${r.config}, ${r.coll} ${r.bytes} B`;
      const lines = [`goal met at ${met} of ${rows.length} (config, call, size)`];
      const below = rows.filter(subMicrosecond);
      if (below.length) {
        const w = worst(below, (r) => r.added_ns);
        lines.push(
          `below 1 us of PMPI: largest +${w.added_ns.toFixed(1)} ns per call (${name(w)}; the two TSC reads alone ` +
            `+${w.floor_ns.toFixed(1)} ns); goal <= ${OVERHEAD_GOAL.maxAddedNs} ns`,
        );
        const r = worst(below, (x) => x.one_rank_ns);
        lines.push(
          `below 1 us, per call and rank (the shim on one rank at a time): largest +${r.one_rank_ns.toFixed(1)} ns ` +
            `(${name(r)}); met at ${below.filter(perRankMet).length} of ${below.length}`,
        );
      }
      const above = rows.filter((r) => !subMicrosecond(r));
      if (above.length) {
        const w = worst(above, (r) => r.ratio);
        lines.push(
          `from 1 us of PMPI: largest shim/PMPI ${x(w.ratio)} (${name(w)}); goal <= ${OVERHEAD_GOAL.maxRatio}`,
        );
      }
      return lines;
    },
  },
  {
    name: 'agreement',
    what: 'relocation agreement when nothing changes (checkpoints on / off)',
    script: 'agreement.js',
    args: (l, out) => [
      ...by(l, ['--calls', '320', '--reps', '11'], ['--reps', '51'], []),
      '--json',
      path.join(out, 'agreement.json'),
    ],
    timeoutS: { smoke: 120, quick: 300, full: 900 },
    ratios: (out) => {
      const r = readJson<{ every: number; ratio: number; ratio_min: number }>(path.join(out, 'agreement.json'));
      return [
        `checkpoints every ${r.every} / off: ${x(r.ratio, 4)} (fastest blocks ${x(r.ratio_min, 4)}); goal <= 1.02`,
      ];
    },
  },
  {
    name: 'ingest',
    what: 'monitor ingest, records per second on one core',
    script: 'ingest.js',
    nodeArgs: ['--expose-gc'],
    args: (l) => [
      '--json',
      ...by(l, ['--seconds', '0.1', '--batches', '2'], ['--seconds', '0.5', '--batches', '8'], ['--seconds', '2']),
    ],
    timeoutS: { smoke: 180, quick: 300, full: 600 },
    ratios: (out, stdout) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) throw new Error('ingest printed no JSON line');
      writeFileSync(path.join(out, 'ingest.json'), `${line}\n`);
      const r = JSON.parse(line) as {
        ingestRecordsPerSecond: number;
        decodeOnlyRecordsPerSecond: number;
        reflectionDecodeRecordsPerSecond: number;
        goalRecordsPerSecond: number;
      };
      return [
        `ingest ${(r.ingestRecordsPerSecond / 1e6).toFixed(2)} M records/s = ${x(r.ingestRecordsPerSecond / r.goalRecordsPerSecond, 2)} x the goal of ${r.goalRecordsPerSecond / 1e6} M/s`,
        `decode only / protobufjs reflection: ${x(r.decodeOnlyRecordsPerSecond / r.reflectionDecodeRecordsPerSecond, 1)} x`,
      ];
    },
  },
  partitionBench,
  managerSimBench,
  {
    name: 'replay',
    what: 'replay model, replayed events per second on one core',
    script: 'replay.js',
    args: (l) => ['--json', ...by(l, ['--iterations', '50'], ['--iterations', '500'], ['--iterations', '2000'])],
    timeoutS: { smoke: 120, quick: 300, full: 900 },
    ratios: (_out, stdout) => {
      const r = JSON.parse(stdout.split('\n').find((l) => l.startsWith('{')) ?? 'null') as {
        eventsPerSecond: number;
        goalEventsPerSecond: number;
        loopNs: number;
      };
      return [
        `replay ${(r.eventsPerSecond / 1e6).toFixed(2)} M events/s = ${x(r.eventsPerSecond / r.goalEventsPerSecond, 2)} x the goal of 10 M/s (host: ${x(r.loopNs, 2)} ns per loop iteration)`,
      ];
    },
  },
  {
    name: 'scale',
    what: 'monitor ingest of one large job: simulated ranks over real sockets (bench/scale)',
    script: path.join('scale', 'run.js'),
    args: (l, out) => [
      ...by(
        l,
        ['--ranks', '256', '--batches', '1', '--records', '1000'],
        ['--ranks', '2048', '--batches', '2', '--split'],
        ['--ranks', '16384', '--batches', '2', '--split'],
      ),
      '--json',
      path.join(out, 'scale.json'),
    ],
    timeoutS: { smoke: 120, quick: 600, full: 1800 },
    ratios: (out) => {
      const r = readJson<ScaleResult>(path.join(out, 'scale.json'));
      return [
        `${r.options.ranks} ranks: ${(r.recordsPerCpuSecond / 1e6).toFixed(2)} M records per monitor CPU second = ` +
          `${x(r.recordsPerCpuSecond / 5e6, 2)} x the goal of 5 M/s; totals ${r.exact ? 'exact' : 'DIFFER'}`,
        `monitor RSS ${r.memory.rssMiB.toFixed(0)} MiB for the job; generator / monitor CPU ${x(r.generatorToMonitorCpu, 2)}`,
      ];
    },
  },
  {
    name: 'collectives',
    what: 'collective latency on the testbed: Open MPI default and HAN vs sitempi',
    script: path.join('collectives', 'run.js'),
    testbed: { stateDir: path.join(os.tmpdir(), 'sitempi-bench-coll-testbed'), prefix: 'smbench' },
    args: (l, out) => [
      ...by(
        l,
        [
          '--quick',
          '--configs',
          '8x1/interleaved',
          '--modes',
          'default,sitempi',
          '--colls',
          'barrier,bcast,allreduce',
          '--sizes',
          '8,64k',
          '--iters',
          '3',
          '--budget-ms',
          '100',
          '--timeout-s',
          '120',
        ],
        ['--quick', '--configs', '8x1/interleaved,2x4/contiguous'],
        [],
      ),
      '--out',
      out,
    ],
    timeoutS: { smoke: 400, quick: 1200, full: 3600 },
    ratios: (out) => {
      const res = readJson<BenchResults>(path.join(out, 'collectives.json'));
      const largest = Math.max(...res.rows.map((r) => r.bytes));
      const lines = res.rows
        .filter((r) => r.bytes === largest && r.modes.sitempi?.medianUs != null)
        .map(
          (r) =>
            `${r.layout}/${r.placement} ${r.coll} ${largest} B: sitempi / best Open MPI ${x((r.modes.sitempi?.medianUs ?? NaN) / (bestOmpi(r) ?? NaN), 2)}`,
        );
      for (const g of goals(res.rows)) if (g.checked > 0) lines.push(`goal "${g.name}": met ${g.met} of ${g.checked}`);
      return lines;
    },
  },
  {
    name: 'relocation',
    what: 'live relocation end to end on the testbed',
    script: path.join('relocation', 'run.js'),
    testbed: { stateDir: path.join(os.tmpdir(), 'sitempi-relocation-e2e'), prefix: 'sme2e' },
    args: (l, out) => ['--seconds', by(l, '12', '14', '25'), '--out', out],
    timeoutS: { smoke: 300, quick: 400, full: 600 },
    ratios: (out) => {
      const r = readJson<{
        phases: { name: string; latencyMs: number | null; crossMBps: number | null }[];
        summary: { switchSeconds: number | null };
      }>(path.join(out, 'relocation.json'));
      const [library, siteAware, consolidated] = r.phases;
      const lat = (p: (typeof r.phases)[number] | undefined): number => p?.latencyMs ?? NaN;
      const mbps = (p: (typeof r.phases)[number] | undefined): string => x(p?.crossMBps, 2);
      return [
        `relocated at ${x(r.summary.switchSeconds, 1)} s; Allreduce latency consolidated / interleaved: ` +
          `${x(lat(consolidated) / lat(library), 2)} (library algorithms), ${x(lat(consolidated) / lat(siteAware), 2)} (site-aware)`,
        `MB/s crossing sites: ${mbps(library)} (library algorithms), ${mbps(siteAware)} (site-aware), ${mbps(consolidated)} (consolidated)`,
      ];
    },
  },
];

export interface SuiteOptions {
  level: Level;
  out: string;
  only: string[] | null;
  skip: string[];
}

const USAGE = `usage: npm run bench [-- --full | --smoke] [--only NAME,...] [--skip NAME,...] [--out DIR]
benchmarks: ${SUITE.map((b) => b.name).join(', ')}
default: quick settings, files in a temporary directory; --full: the documented runs, files in bench/results`;

export function parseSuiteArgs(argv: string[]): SuiteOptions {
  let level: Level = 'quick';
  let out: string | null = null;
  let only: string[] | null = null;
  let skip: string[] = [];
  const names = (v: string | undefined, flag: string): string[] => {
    if (!v) throw new Error(`${flag} needs a value\n${USAGE}`);
    const list = v.split(',').filter(Boolean);
    for (const n of list) if (!SUITE.some((b) => b.name === n)) throw new Error(`unknown benchmark ${n}\n${USAGE}`);
    return list;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--full') level = 'full';
    else if (a === '--smoke') level = 'smoke';
    else if (a === '--quick') level = 'quick';
    else if (a === '--only') only = names(argv[++i], a);
    else if (a === '--skip') skip = names(argv[++i], a);
    else if (a === '--out') {
      const v = argv[++i];
      if (!v) throw new Error(`--out needs a value\n${USAGE}`);
      out = path.resolve(v);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  out ??=
    level === 'full' ? path.join(packageRoot, 'bench', 'results') : path.join(os.tmpdir(), `sitempi-bench-${level}`);
  return { level, out, only, skip };
}

/** Why a benchmark cannot run here, or null. */
function cannotRun(b: Bench, dir: string): string | null {
  if (!existsSync(path.join(dir, b.script))) return `${path.join(dir, b.script)} is missing (npm run build:ts)`;
  if (b.testbed) {
    try {
      preflight({ needUnshare: true });
    } catch (e) {
      return `it runs on the testbed: ${(e as Error).message}`;
    }
  }
  return null;
}

/** Runs one benchmark's command, its output passed through; kills its process group at the limit. */
function runOne(
  b: Bench,
  dir: string,
  o: SuiteOptions,
): Promise<{ code: number | null; stdout: string; timedOut: boolean }> {
  const args = [...(b.nodeArgs ?? []), path.join(dir, b.script), ...b.args(o.level, o.out)];
  const shown = args.map((a) => (a.startsWith(packageRoot + path.sep) ? path.relative(packageRoot, a) : a));
  process.stdout.write(`\n== ${b.name}: ${b.what}\n$ node ${shown.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    let stdout = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      process.stdout.write(d);
    });
    const kill = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        /* gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 10_000).unref();
    }, b.timeoutS[o.level] * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: `${stdout}\n${e.message}`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, timedOut });
    });
  });
}

/** Runs the suite; returns the exit status (1 when a benchmark that could run failed). */
export async function runSuite(o: SuiteOptions): Promise<number> {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  mkdirSync(o.out, { recursive: true });
  const summary: string[] = [];
  let failed = 0;
  for (const b of SUITE) {
    if ((o.only && !o.only.includes(b.name)) || o.skip.includes(b.name)) continue;
    const why = cannotRun(b, dir);
    if (why) {
      summary.push(`${b.name}: skipped (${why})`);
      continue;
    }
    const t0 = Date.now();
    const r = await runOne(b, dir, o);
    const took = `${((Date.now() - t0) / 1000).toFixed(0)} s`;
    if (r.timedOut && b.testbed) await down(b.testbed).catch(() => undefined);
    if (r.code !== 0) {
      failed++;
      summary.push(
        `${b.name}: FAILED (${r.timedOut ? `killed after ${b.timeoutS[o.level]} s` : `exit ${r.code}`}, ${took})`,
      );
      continue;
    }
    try {
      summary.push(`${b.name} (${took}):`, ...b.ratios(o.out, r.stdout).map((l) => `  ${l}`));
    } catch (e) {
      failed++;
      summary.push(`${b.name}: FAILED (its results are unreadable: ${(e as Error).message})`);
    }
  }
  process.stdout.write(`\n== ratios (${o.level} settings; files in ${o.out})\n${summary.join('\n')}\n`);
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  let opts: SuiteOptions;
  try {
    opts = parseSuiteArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  runSuite(opts).then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
