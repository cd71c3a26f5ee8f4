// The shim's cost on collectives when the site-aware algorithms do not run (one site, or
// SITEMPI_COLL=off): bench/coll-overhead.c times MPI_X (through the shim) against PMPI_X in
// alternating blocks of one run; this runs it in each configuration and prints the ratios.
//   node dist/bench/coll-overhead.js [--calls N] [--reps N] [--sizes 8,4096] [--json FILE]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileMpi, mpirun } from '../src/mpi/toolchain.js';
import { arg } from './args.js';

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
}

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

export async function measureCollOverhead(calls: number, reps: number, sizes: number[]): Promise<OverheadRow[]> {
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
          env: { SITEMPI_OUTPUT_DIR: out, ...cfg.env },
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
          });
        }
      }
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const calls = Number(arg('--calls', '200'));
  const reps = Number(arg('--reps', '201'));
  const sizes = arg('--sizes', '8,4096').split(',').map(Number);
  const rows = await measureCollOverhead(calls, reps, sizes);
  console.log(`collective through the shim vs PMPI, same run, alternating blocks of ${calls} calls x ${reps}`);
  console.log('(floor: PMPI with only the two TSC reads that timing a call takes; goal: ratio <= 1.05)');
  console.log(
    'config                                   coll        bytes   PMPI ns   shim ns   ratio  ratio(min)  floor  goal',
  );
  for (const r of rows) {
    const verdict = r.ratio <= 1.05 ? 'met' : r.floor_ratio > 1.05 ? 'below floor' : 'missed';
    console.log(
      `${r.config.padEnd(40)} ${r.coll.padEnd(10)} ${String(r.bytes).padStart(6)} ${r.pmpi_ns.toFixed(0).padStart(9)} ${r.shim_ns.toFixed(0).padStart(9)}  ${r.ratio.toFixed(3)}  ${r.ratio_min.toFixed(3)}      ${r.floor_ratio.toFixed(3)}  ${verdict}`,
    );
  }
  const json = arg('--json', '');
  if (json) fs.writeFileSync(json, JSON.stringify({ calls, reps, rows }, null, 2));
}

if (process.argv[1] && /coll-overhead\.(js|ts)$/.test(process.argv[1])) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
