// Replay validation on the testbed: each program of bench/validation runs under the shim (file
// mode) on one site and split over two (10 ms RTT by default); the replay of the one-site run's
// records predicts the two-site slowdown, which is compared with the measured one (the ratio of
// the two runs' recorded times, MPI_Init to MPI_Finalize). The local LogGP parameters come from
// a ping-pong between two nodes of one site, calibrated first. Needs root (network namespaces).
//
// Each placement runs --reps times, alternating; the measured times are the medians, the
// prediction is the median of the predictions from each one-site run.
//
//   npx tsc -p tsconfig.json && node dist/bench/validation/run.js [--rtt 10] [--iterations 40] [--reps 3] [--out DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileMpi, run } from '../../src/mpi/toolchain.js';
import { shimLibraryPath, wanemuPath } from '../../src/native/paths.js';
import { calibrate } from '../../src/replay/calibrate.js';
import { makeCluster, perByte, type Cluster } from '../../src/replay/cluster.js';
import { predict } from '../../src/replay/index.js';
import { buildTrace, readRankRecords } from '../../src/replay/records.js';
import { down, mpirunArgsFor, mpirunEnv, up, type TestbedState } from '../../src/testbed/index.js';
import { arg } from '../args.js';

const rttMs = Number(arg('--rtt', '10'));
const iterations = arg('--iterations', '40');
const reps = Math.max(1, Math.floor(Number(arg('--reps', '3')) || 3));
const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const outDir = arg('--out', path.join(os.tmpdir(), 'sitempi-replay-validation'));
const opts = {
  prefix: 'smrep',
  stateDir: '/run/sitempi-testbed-smrep',
  mgmtSubnet: '10.224.0.0/16',
  dataSubnet: '10.225.0.0/16',
  wanemuPath,
};

const src = (name: string): string => path.join('bench', 'validation', name);
const programs: { name: string; file: string; args: string[] }[] = [
  { name: 'embarrassingly parallel', file: 'ep.c', args: [iterations, '20000'] },
  { name: '2-D halo stencil', file: 'halo2d.c', args: [iterations, '10000', '32768'] },
  { name: 'LU-like wavefront', file: 'wavefront.c', args: [iterations, '5000', '4096'] },
];

async function runJob(
  st: TestbedState,
  nodes: string[],
  program: string,
  args: string[],
  tag: string,
): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sitempi-replay-${tag}-`));
  const a = [
    ...mpirunArgsFor(st, { nodes }),
    '--map-by',
    'node',
    '--bind-to',
    'none',
    '-np',
    String(nodes.length),
    '-x',
    `LD_PRELOAD=${shimLibraryPath}`,
    '-x',
    `SITEMPI_OUTPUT_DIR=${dir}`,
    '-x',
    `SITEMPI_JOB=${tag}`,
    program,
    ...args,
  ];
  const r = await run('mpirun', a, 300_000, mpirunEnv());
  if (r.code !== 0) throw new Error(`${tag}: mpirun exited ${r.code}\n${r.stderr.slice(-2000)}`);
  return dir;
}

async function main(): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  await down(opts);
  const st = await up({ sites: { A: 4, B: 4 }, slots: 1, rttMs, bandwidth: '1gbit' }, opts);
  try {
    const oneSite = ['a0', 'a1', 'a2', 'a3'],
      twoSites = ['a0', 'a1', 'b0', 'b1'];
    const pp = await runJob(st, ['a0', 'a1'], compileMpi('test/replay/programs/pingpong.c'), ['50'], 'pingpong');
    const local = calibrate(await readRankRecords([pp]));
    console.log(`calibrated intra-site LogGP: ${JSON.stringify(local)}`);
    // the WAN path: the same emulated network plus the WAN delay; the link's line rate 1 Gbit/s
    // (the hosts' per-byte cost, local.G, applies at the sender)
    const wan = { L: (rttMs * 1e6) / 2 + local.L, G: perByte(1e9 / 8) };
    const cluster = (siteOf: number[]): Cluster =>
      makeCluster(siteOf, wan, { nodeOf: [0, 1, 2, 3], intraSite: local, intraNode: local });
    const rows = [];
    for (const p of programs) {
      const bin = compileMpi(src(p.file));
      const oneNs: number[] = [],
        twoNs: number[] = [],
        preds: number[] = [],
        baseline: number[] = [];
      for (let k = 0; k < reps; k++) {
        const one = buildTrace(await readRankRecords([await runJob(st, oneSite, bin, p.args, 'one')]));
        const two = buildTrace(await readRankRecords([await runJob(st, twoSites, bin, p.args, 'two')]));
        const pred = predict(one, cluster([0, 0, 0, 0]), cluster([0, 0, 1, 1]));
        oneNs.push(one.recordedNs);
        twoNs.push(two.recordedNs);
        preds.push(pred.slowdown);
        baseline.push(pred.baseline.wallNs / one.recordedNs);
      }
      const one = { recordedNs: median(oneNs) },
        two = { recordedNs: median(twoNs) },
        pred = { slowdown: median(preds) };
      const measured = two.recordedNs / one.recordedNs;
      const row = {
        program: p.name,
        oneSiteS: one.recordedNs / 1e9,
        twoSitesS: two.recordedNs / 1e9,
        measured,
        predicted: pred.slowdown,
        error: pred.slowdown / measured - 1,
        replayOneSiteVsRecorded: median(baseline),
        runs: { oneSiteS: oneNs.map((x) => x / 1e9), twoSitesS: twoNs.map((x) => x / 1e9), predicted: preds },
      };
      console.log(JSON.stringify(row));
      rows.push(row);
    }
    const md = [
      `Replay validation: 4 ranks, one site vs two sites (contiguous halves), RTT ${rttMs} ms, 1 Gbit/s, medians of ${reps} runs`,
      '',
      '| program | one site (s) | two sites (s) | measured slowdown | predicted | error |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows.map(
        (r) =>
          `| ${r.program} | ${r.oneSiteS.toFixed(3)} | ${r.twoSitesS.toFixed(3)} | ${r.measured.toFixed(2)} | ${r.predicted.toFixed(2)} | ${(r.error * 100).toFixed(1)}% |`,
      ),
    ].join('\n');
    fs.writeFileSync(path.join(outDir, 'replay-validation.json'), JSON.stringify({ rttMs, local, rows }, null, 2));
    fs.writeFileSync(path.join(outDir, 'replay-validation.md'), `${md}\n`);
    console.log(md);
  } finally {
    await down(opts);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
