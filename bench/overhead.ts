// The shim's cost per intercepted call: the same loop of cheap MPI calls with and without the
// shim preloaded, in alternating runs of one process, medians side by side.
//   node dist/bench/overhead.js [--pairs N] [--calls N] [--json FILE]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileMpi, mpirun } from '../src/mpi/toolchain.js';

interface Sample { call: string; ns: number }

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function measureOverhead(pairs: number, calls: number): Promise<{ call: string; plain: number; shim: number; overhead: number }[]> {
  const program = compileMpi('bench/programs/call_loop.c');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-overhead-'));
  const byCall = new Map<string, { plain: number[]; shim: number[] }>();
  const once = async (shim: boolean) => {
    // One rank, no yielding when idle (it would put a sched_yield into every probe).
    const r = await mpirun({ np: 1, program, args: [String(calls), '5'], shim, baseArgs: ['--mca', 'btl', 'self'],
      env: shim ? { SITEMPI_OUTPUT_DIR: out } : {} });
    if (r.code !== 0) throw new Error(`call_loop failed (${r.code}): ${r.stderr}`);
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
      const s = JSON.parse(line) as Sample;
      const e = byCall.get(s.call) ?? { plain: [], shim: [] };
      (shim ? e.shim : e.plain).push(s.ns);
      byCall.set(s.call, e);
    }
  };
  for (let i = 0; i < pairs; i++) {
    // Alternate the order so that drifts in machine load hit both sides alike.
    if (i % 2) { await once(true); await once(false); } else { await once(false); await once(true); }
  }
  fs.rmSync(out, { recursive: true, force: true });
  return [...byCall].map(([call, e]) => {
    const plain = median(e.plain), shim = median(e.shim);
    return { call, plain, shim, overhead: shim - plain };
  });
}

async function main(): Promise<void> {
  const pairs = Number(arg('--pairs', '5'));
  const calls = Number(arg('--calls', '1000000'));
  const rows = await measureOverhead(pairs, calls);
  console.log(`shim cost per intercepted call (${pairs} alternating pairs of runs, ${calls} calls x 5 reps each, medians)`);
  console.log('| call | without shim (ns) | with shim (ns) | cost (ns) | goal <= 30 ns |');
  console.log('|---|---:|---:|---:|---|');
  for (const r of rows) {
    console.log(`| ${r.call} | ${r.plain.toFixed(1)} | ${r.shim.toFixed(1)} | ${r.overhead.toFixed(1)} | ${r.overhead <= 30 ? 'met' : 'missed'} |`);
  }
  const json = arg('--json', '');
  if (json) fs.writeFileSync(json, JSON.stringify({ pairs, calls, host: os.hostname(), rows }, null, 2) + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'overhead.js'))) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
