// The relocation agreement's cost when nothing changes (issue 4: at most 2%): bench/agreement.c
// times a small MPI_Allreduce loop with checkpoints every K calls against the same loop with
// checkpoints off, in alternating blocks of one run, under a real Monitor that hands the ranks one
// placement at Hello (two sites, so the site-aware allreduce runs) and then never changes it.
//   node dist/bench/agreement.js [--np 4] [--calls 640] [--reps 201] [--bytes 8] [--every K] [--json FILE]
// (--every: SITEMPI_CHECKPOINT_EVERY for the run; default: the shim's default)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Monitor } from '../src/monitor/index.js';
import { compileMpi, mpirun } from '../src/mpi/toolchain.js';
import { arg } from './args.js';

export interface AgreementRow {
  np: number;
  every: number;
  bytes: number;
  calls: number;
  reps: number;
  /** medians, ns per call (slowest rank of each block) */
  on_ns: number;
  off_ns: number;
  /** median over repetitions of (block with checkpoints / adjacent block without) */
  ratio: number;
  /** fastest block with / fastest block without */
  ratio_min: number;
}

export async function measureAgreement(o: {
  np: number;
  calls: number;
  reps: number;
  bytes: number;
  every?: number;
}): Promise<AgreementRow> {
  const program = compileMpi('bench/agreement.c');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-agreement-'));
  const monitor = new Monitor({ lingerMs: 1000 });
  try {
    const [addr] = await monitor.listen(`unix:${path.join(dir, 'monitor.sock')}`);
    const half = Math.ceil(o.np / 2);
    const placement = {
      epoch: 1,
      sites: ['A', 'B'],
      siteOf: Array.from({ length: o.np }, (_, r) => (r < half ? 0 : 1)),
    };
    monitor.on('rankHello', (job, rank) => {
      monitor.sendPlacement(job.id, placement, { rank });
    });
    const r = await mpirun({
      np: o.np,
      program,
      args: [String(o.calls), String(o.reps), String(o.bytes)],
      env: { SITEMPI_MONITOR: addr, ...(o.every ? { SITEMPI_CHECKPOINT_EVERY: String(o.every) } : {}) },
      timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(`agreement failed (${r.code}): ${r.stderr}`);
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`agreement printed nothing: ${r.stdout}${r.stderr}`);
    const j = JSON.parse(line) as Omit<AgreementRow, 'np'>;
    return { np: o.np, ...j };
  } finally {
    await monitor.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = {
    np: Number(arg('--np', '4')),
    calls: Number(arg('--calls', '640')),
    reps: Number(arg('--reps', '201')),
    bytes: Number(arg('--bytes', '8')),
    every: Number(arg('--every', '0')) || undefined,
  };
  const row = await measureAgreement(o);
  console.log(
    `relocation agreement, nothing changing: MPI_Allreduce of ${row.bytes} bytes on ${row.np} ranks (two sites), ` +
      `alternating blocks of ${row.calls} calls x ${row.reps}`,
  );
  console.log(
    `checkpoints every ${row.every}: ${row.on_ns.toFixed(0)} ns/call; off: ${row.off_ns.toFixed(0)} ns/call; ` +
      `ratio ${row.ratio.toFixed(4)} (median of pairs), ${row.ratio_min.toFixed(4)} (fastest blocks)`,
  );
  const json = arg('--json', '');
  if (json) fs.writeFileSync(json, JSON.stringify(row, null, 2));
}

if (process.argv[1] && /agreement\.(js|ts)$/.test(process.argv[1])) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
