// The shim's cost on collectives when the site-aware algorithms do not run (one site, or
// SITEMPI_COLL=off): bench/coll-overhead.c times MPI_X (through the shim) against PMPI_X in
// alternating blocks of one run; this runs it in each configuration and prints the ratios and the
// time added per call (goal: at most 30 ns per call below 1 us, at most 5% above).
//   node dist/bench/coll-overhead.js [--calls N] [--reps N] [--sizes 8,4096] [--json FILE]
//   node dist/bench/coll-overhead.js --instructions [--calls N]: instructions the shim adds to each
//     8-byte call (Allreduce, Bcast, Barrier, and the Send and Recv of a ping-pong) on the
//     application's thread, per call and rank (callgrind, 2 ranks): a figure that the host's load
//     does not move.
//     --np N: N ranks (even; default 2), the Bcast's root and the others apart.
//   --lib PATH: the shim to preload (default: this tree's build), e.g. another build's, to compare.
//   --against PATH [--runs N]: timing mode, this tree's shim and the one at PATH in alternating
//     runs (N each, default 3): the added ns of each run, side by side.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileMpi, mpirun, mpirunBaseArgs } from '../src/mpi/toolchain.js';
import { arg } from './args.js';
import { machine, measureSyscallCost, syscallText } from './machine.js';

export interface OverheadRow {
  config: string;
  np: number;
  coll: string;
  bytes: number;
  pmpi_ns: number;
  shim_ns: number;
  /** median over repetitions of (shim block / adjacent PMPI block) */
  ratio: number;
  /** fastest shim block / fastest PMPI block */
  ratio_min: number;
  /** median of (PMPI block with two TSC reads per call / adjacent PMPI block): what timing each
   * call costs at the least, so the best ratio any per-call recorder can reach */
  floor_ratio: number;
  /** median over repetitions of (shim block - adjacent PMPI block) per intercepted call, ns */
  added_ns: number;
  /** the same for the blocks with only the two TSC reads: what timing each call adds at the least */
  floor_ns: number;
  /** the same for blocks where one rank calls through the shim and the others call PMPI, the
   * largest over the ranks: the shim's cost per call and rank (with a rank per core, added_ns is
   * about the sum of the ranks' figures; oversubscribed, the scheduling scatters both). */
  one_rank_ns: number;
  /** one_rank_ns of each rank carrying the shim in turn (the ping-pong: ranks 0 and 1) */
  one_rank_by_rank_ns: number[];
  /** whether the ranks gave up their core while polling (more ranks than cores) */
  yield_when_idle: boolean;
}

/** The goal of issue 17: at most 30 ns added per call below 1 us, at most 5% from 1 us up. */
export const OVERHEAD_GOAL = { maxAddedNs: 30, maxRatio: 1.05 };
/** A call the goal judges by ns added rather than by ratio: under 1 us through PMPI. */
export const subMicrosecond = (r: Pick<OverheadRow, 'pmpi_ns'>): boolean => r.pmpi_ns < 1000;
export function goalMet(r: Pick<OverheadRow, 'pmpi_ns' | 'ratio' | 'added_ns'>): boolean {
  return subMicrosecond(r) ? r.added_ns <= OVERHEAD_GOAL.maxAddedNs : r.ratio <= OVERHEAD_GOAL.maxRatio;
}
/** The sub-microsecond goal read per call and rank: the shim on one rank at a time. */
export const perRankMet = (r: Pick<OverheadRow, 'one_rank_ns'>): boolean => r.one_rank_ns <= OVERHEAD_GOAL.maxAddedNs;

interface Config {
  name: string;
  np: number;
  env: Record<string, string>;
}

export const CONFIGS: Config[] = [
  { name: 'one site (4 ranks)', np: 4, env: { SITEMPI_SITES: 'A:0-3' } },
  { name: 'SITEMPI_COLL=off, two sites (4 ranks)', np: 4, env: { SITEMPI_SITES: 'A:0-1;B:2-3', SITEMPI_COLL: 'off' } },
  { name: 'one site (2 ranks)', np: 2, env: { SITEMPI_SITES: 'A:0-1' } },
];

/** Whether ranks give up their core while they poll: only where they outnumber the cores, as Open
 * MPI decides by itself. Forced on one rank per core, every poll is a sched_yield system call,
 * which stretches a 0.5 us exchange to 1.5-2.5 us and adds its own jitter to the shim's cost. */
export const yieldsWhenIdle = (np: number): boolean => np > os.availableParallelism();

/** mpirun's options that preload `lib` (default: this tree's build). */
function preload(lib: string | undefined): { shim?: boolean; env: Record<string, string> } {
  return lib ? { shim: false, env: { LD_PRELOAD: path.resolve(lib) } } : { env: {} };
}

export async function measureCollOverhead(
  calls: number,
  reps: number,
  sizes: number[],
  lib?: string,
): Promise<OverheadRow[]> {
  const shim = preload(lib);
  const program = compileMpi('bench/coll-overhead.c');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-coll-overhead-'));
  const rows: OverheadRow[] = [];
  try {
    for (const cfg of CONFIGS) {
      for (const bytes of sizes) {
        const r = await mpirun({
          np: cfg.np,
          program,
          args: [String(calls), String(reps), String(bytes)],
          baseArgs: mpirunBaseArgs(yieldsWhenIdle(cfg.np)),
          shim: shim.shim,
          env: { SITEMPI_OUTPUT_DIR: out, ...cfg.env, ...shim.env },
          timeoutMs: 600_000,
        });
        if (r.code !== 0) throw new Error(`coll-overhead failed (${r.code}): ${r.stderr}`);
        for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
          const o = JSON.parse(line) as Omit<OverheadRow, 'config' | 'np'>;
          if (o.coll === 'Barrier' && bytes !== sizes[0]) continue; // once per configuration
          rows.push({
            config: cfg.name,
            np: cfg.np,
            coll: o.coll,
            bytes: o.bytes,
            pmpi_ns: o.pmpi_ns,
            shim_ns: o.shim_ns,
            ratio: o.ratio,
            ratio_min: o.ratio_min,
            floor_ratio: o.floor_ratio,
            added_ns: o.added_ns,
            floor_ns: o.floor_ns,
            one_rank_ns: o.one_rank_ns,
            one_rank_by_rank_ns: o.one_rank_by_rank_ns,
            yield_when_idle: yieldsWhenIdle(cfg.np),
          });
        }
      }
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  return rows;
}

export interface InstructionRow {
  config: string;
  /** the MPI function (8 bytes; Send and Recv: the ping-pong's) */
  fn: string;
  /** the shim's instructions per call on the application's thread, rank 0 (the root) and rank 1:
   * inclusive cost of the MPI_X wrapper minus that of the PMPI_X it calls */
  perRank: number[];
}

/** The functions the count mode calls (bench/coll-overhead.c), each `calls` times per rank. */
export const COUNTED = ['Allreduce', 'Bcast', 'Barrier', 'Send', 'Recv'];

/** Inclusive instructions of MPI_X minus PMPI_X in one callgrind file (a main thread), per X
 * (NaN where the rank does not call it). */
function shimInstructions(file: string): Map<string, number> {
  const r = spawnSync('callgrind_annotate', ['--inclusive=yes', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`callgrind_annotate failed: ${r.stderr}`);
  const cost = (fn: string) => {
    const line = r.stdout.split('\n').find((l) => l.includes(`???:${fn} `));
    if (!line) return NaN; // not called on this rank (the ping-pong's are ranks 0 and 1)
    return Number(line.trim().split(/\s+/)[0].replace(/,/g, ''));
  };
  return new Map(COUNTED.map((fn) => [fn, cost(`MPI_${fn}`) - cost(`PMPI_${fn}`)]));
}

/** Instructions the shim adds per 8-byte call (`np` ranks under callgrind: one site, and two sites
 * of half the ranks each with SITEMPI_COLL=off). */
export async function measureInstructions(calls: number, lib?: string, np = 2): Promise<InstructionRow[]> {
  const shim = preload(lib);
  const program = compileMpi('bench/coll-overhead.c');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-coll-icount-'));
  const rows: InstructionRow[] = [];
  try {
    const span = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`);
    const half = np / 2 - 1;
    const configs: Config[] = [
      { name: `one site (${np} ranks)`, np, env: { SITEMPI_SITES: `A:${span(0, np - 1)}` } },
      {
        name: `SITEMPI_COLL=off, two sites (${np} ranks)`,
        np,
        env: { SITEMPI_SITES: `A:${span(0, half)};B:${span(half + 1, np - 1)}`, SITEMPI_COLL: 'off' },
      },
    ];
    for (const [k, cfg] of configs.entries()) {
      // %q{OMPI_COMM_WORLD_RANK} names each rank's files; --separate-threads: -01 is the main thread.
      const r = await mpirun({
        np: cfg.np,
        program: 'valgrind',
        args: [
          '-q',
          '--tool=callgrind',
          '--separate-threads=yes',
          // Only inside the counted wrappers: PMPI_X's own total also holds the shim's calls of it
          // at MPI_Init (an Allreduce that agrees on the settings), which is not a wrapper's cost.
          ...COUNTED.map((fn) => `--toggle-collect=MPI_${fn}`),
          `--callgrind-out-file=${out}/cg${k}.%q{OMPI_COMM_WORLD_RANK}`,
          program,
          String(calls),
          'count',
          'shim',
        ],
        env: { SITEMPI_OUTPUT_DIR: out, ...cfg.env, ...shim.env },
        shim: shim.shim,
        timeoutMs: 600_000,
      });
      if (r.code !== 0) throw new Error(`coll-overhead under callgrind failed (${r.code}): ${r.stderr}`);
      const ranks = Array.from({ length: cfg.np }, (_, rank) => shimInstructions(`${out}/cg${k}.${rank}-01`));
      for (const fn of COUNTED) rows.push({ config: cfg.name, fn, perRank: ranks.map((m) => m.get(fn)! / calls) });
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  return rows;
}

const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** This tree's shim against another build, in alternating runs: each run's added ns per call, and
 * what the two TSC reads of the floor blocks add per call. */
async function compareLibraries(calls: number, reps: number, sizes: number[], other: string, runs: number) {
  const libs = [undefined, other];
  const added = new Map<string, number[][]>(); // config, call, bytes -> per library, per run
  const tsc = new Map<string, number[]>();
  for (let run = 0; run < runs; ++run) {
    for (const k of run % 2 ? [1, 0] : [0, 1]) {
      console.log(`run ${run + 1}/${runs}, ${libs[k] ?? 'this tree'}: load average ${loadavg()}`);
      for (const r of await measureCollOverhead(calls, reps, sizes, libs[k])) {
        const key = `${r.config.padEnd(40)} ${r.coll.padEnd(10)} ${String(r.bytes).padStart(6)}`;
        const e = added.get(key) ?? [[], []];
        e[k].push(r.added_ns);
        added.set(key, e);
        tsc.set(key, [...(tsc.get(key) ?? []), r.floor_ns]);
      }
    }
  }
  console.log(
    `added ns per call, each run (${calls} calls x ${reps} paired blocks): this tree | ${other} | two TSC reads`,
  );
  for (const [key, [mine, theirs]] of added) {
    const f = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');
    console.log(`${key}  ${f(mine)} | ${f(theirs)} | ${f(tsc.get(key) ?? [])}`);
  }
}

async function main(): Promise<void> {
  const lib = arg('--lib', '') || undefined;
  if (process.argv.includes('--instructions')) {
    const calls = Number(arg('--calls', '100000'));
    const np = Number(arg('--np', '2'));
    if (!(np >= 2 && np % 2 === 0)) throw new Error(`--np ${np}: an even number of ranks, at least 2`);
    const rows = await measureInstructions(calls, lib, np);
    console.log(`the shim's instructions per 8-byte call, application thread (callgrind, ${calls} calls)`);
    console.log(`shim: ${lib ?? 'this tree'}`);
    for (const r of rows)
      console.log(
        `${r.config.padEnd(40)} ${r.fn.padEnd(10)} rank ${r.perRank.map((_, k) => k).join(' / ')}: ${r.perRank.map((x) => x.toFixed(1)).join(' / ')}`,
      );
    return;
  }
  const calls = Number(arg('--calls', '200'));
  const reps = Number(arg('--reps', '201'));
  const sizes = arg('--sizes', '8,4096').split(',').map(Number);
  const against = arg('--against', '');
  if (against) return compareLibraries(calls, reps, sizes, against, Number(arg('--runs', '3')));
  const syscall = measureSyscallCost(); // the host's state, which moves the yielding rows most
  const rows = await measureCollOverhead(calls, reps, sizes, lib);
  console.log(`collective through the shim vs PMPI, same run, alternating blocks of ${calls} calls x ${reps}`);
  console.log('(floor: PMPI with only the two TSC reads that timing a call takes; added: ns per intercepted call,');
  console.log(' median of paired differences; TSC ns: the same for the floor blocks; per rank: the same with');
  console.log(' the shim on one rank at a time, the largest over the ranks; goal: added <=');
  console.log(` ${OVERHEAD_GOAL.maxAddedNs} ns below 1 us of PMPI, ratio <= ${OVERHEAD_GOAL.maxRatio} from 1 us up;`);
  console.log(` goal/rank: per rank <= ${OVERHEAD_GOAL.maxAddedNs} ns below 1 us)`);
  console.log(`host load average: ${loadavg()}; ${syscallText(syscall)} before the runs`);
  console.log(`ranks yield their core while polling only where they outnumber its ${os.availableParallelism()} CPUs`);
  console.log(
    'config                                   coll        bytes   PMPI ns   shim ns   ratio  ratio(min)  floor  added ns  TSC ns  per rank  goal    goal/rank',
  );
  for (const r of rows) {
    console.log(
      `${r.config.padEnd(40)} ${r.coll.padEnd(10)} ${String(r.bytes).padStart(6)} ${r.pmpi_ns.toFixed(0).padStart(9)} ${r.shim_ns.toFixed(0).padStart(9)}  ${r.ratio.toFixed(3)}  ${r.ratio_min.toFixed(3)}      ${r.floor_ratio.toFixed(3)}  ${r.added_ns.toFixed(1).padStart(8)} ${r.floor_ns.toFixed(1).padStart(7)}  ${r.one_rank_ns.toFixed(1).padStart(8)}  ${(goalMet(r) ? 'met' : 'missed').padEnd(6)}  ${subMicrosecond(r) ? (perRankMet(r) ? 'met' : 'missed') : '-'}`,
    );
  }
  const json = arg('--json', '');
  if (json) fs.writeFileSync(json, JSON.stringify({ calls, reps, machine: { ...machine(), syscall }, rows }, null, 2));
}

if (process.argv[1] && /coll-overhead\.(js|ts)$/.test(process.argv[1])) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
