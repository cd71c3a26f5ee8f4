// The shim's cost per intercepted call: the same loop of cheap MPI calls with and without the
// shim preloaded, in alternating runs of one process, medians side by side.
//   node dist/bench/overhead.js [--pairs N] [--calls N] [--json FILE]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileMpi, mpirun } from '../src/mpi/toolchain.js';
import { arg } from './args.js';

interface Sample {
  call: string;
  ns: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Shim variants measured against the plain program: where the sender thread runs. */
const VARIANTS = [
  { name: 'shim', env: {} },
  // The rank's own core: what the application pays when no other CPU is free for the sender.
  { name: "shim, sender on the rank's core", env: { SITEMPI_SENDER_CPUS: 'inherit' } },
] as const;

export interface OverheadRow {
  call: string;
  plain: number;
  shim: number;
  overhead: number;
  inherit: number;
  overheadInherit: number;
}

export async function measureOverhead(pairs: number, calls: number): Promise<OverheadRow[]> {
  const program = compileMpi('bench/programs/call_loop.c');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-overhead-'));
  // Per call kind: samples of the plain run and of each shim variant.
  const byCall = new Map<string, number[][]>();
  const once = async (variant: number) => {
    const shim = variant >= 0;
    // One rank bound to a core (mpirun's default for np <= 2), no yielding when idle (it would
    // put a sched_yield into every probe).
    const r = await mpirun({
      np: 1,
      program,
      args: [String(calls), '5'],
      shim,
      baseArgs: ['--mca', 'btl', 'self', '--bind-to', 'core'],
      env: shim ? { SITEMPI_OUTPUT_DIR: out, ...VARIANTS[variant].env } : {},
    });
    if (r.code !== 0) throw new Error(`call_loop failed (${r.code}): ${r.stderr}`);
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
      const s = JSON.parse(line) as Sample;
      const e = byCall.get(s.call) ?? [[], ...VARIANTS.map(() => [])];
      e[variant + 1].push(s.ns);
      byCall.set(s.call, e);
    }
  };
  const order = [-1, ...VARIANTS.keys()];
  for (let i = 0; i < pairs; i++) {
    // Rotate the order so that drifts in machine load hit every side alike.
    for (let j = 0; j < order.length; j++) await once(order[(i + j) % order.length]);
  }
  fs.rmSync(out, { recursive: true, force: true });
  return [...byCall].map(([call, e]) => {
    const [plain, shim, inherit] = e.map(median);
    return { call, plain, shim, overhead: shim - plain, inherit, overheadInherit: inherit - plain };
  });
}

async function main(): Promise<void> {
  const pairs = Number(arg('--pairs', '5'));
  const calls = Number(arg('--calls', '1000000'));
  const rows = await measureOverhead(pairs, calls);
  console.log(
    `shim cost per intercepted call (${pairs} rounds of runs, ${calls} calls x 5 reps each, medians; one rank bound to a core)`,
  );
  console.log(
    "| call | without shim (ns) | with shim (ns) | cost (ns) | goal <= 30 ns | sender on the rank's core: cost (ns) |",
  );
  console.log('|---|---:|---:|---:|---|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.call} | ${r.plain.toFixed(1)} | ${r.shim.toFixed(1)} | ${r.overhead.toFixed(1)} | ${r.overhead <= 30 ? 'met' : 'missed'} | ${r.overheadInherit.toFixed(1)} |`,
    );
  }
  const json = arg('--json', '');
  if (json) fs.writeFileSync(json, JSON.stringify({ pairs, calls, host: os.hostname(), rows }, null, 2) + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'overhead.js'))) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
