// One benchmark run: osu_coll under mpirun on the testbed in one mode (Open MPI default, HAN or
// sitempi), its results and counted phases, and the evidence that the mode really ran.
import { spawn } from 'node:child_process';
import { promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { mpirunArgsFor, mpirunEnv, type TestbedState } from '../../src/testbed/index.js';
import { netnsFile } from '../../src/testbed/namespaces.js';
import { processesIn, tcpSample, tcpSpan, type TcpCounters } from '../../src/testbed/node-tcp.js';
import { cpuSample, cpuSpan } from '../../src/testbed/wanemu-cpu.js';
import { ALLTOALL_CALIBRATION_CALLS, ALLTOALL_CALIBRATION_WARMUP } from '../../src/generated/facts.js';
import { pointAlgs } from './algs.js';
import { planLaunch, sitesEnv } from './launch.js';
import { serveCountedPhases } from './phases.js';
import type { BenchOptions, Config, HanEvidence, Mode, OsuResult, RunRecord } from './types.js';

const MiB = 1 << 20;

/** The Alltoall's warm-up per size: the shim's calls stay untimed until its calibration is over
 *  (ALLTOALL_CALIBRATION_CALLS), and two more run the algorithm it settled on, so that the calls
 *  that size the time slot (osu_coll: a variant's last two) are the timed loop's, not the
 *  calibration's last (which also agrees on the choice: one more Allreduce across sites). The
 *  library's own (the default and HAN modes, and the library's half of a paired loop) calibrate
 *  nothing and get as many untimed calls as the shim makes before it times one, enough to warm
 *  TCP to the size (bench/results/alltoall-calibration-hand-jobs.md). */
export const SETTLED_WARMUP = 2;
export function alltoallWarmup(mode: Mode): string[] {
  const library = String(2 * ALLTOALL_CALIBRATION_WARMUP);
  if (mode !== 'sitempi') return ['--alltoall-warmup', library];
  return [
    '--alltoall-warmup',
    String(ALLTOALL_CALIBRATION_CALLS + SETTLED_WARMUP),
    '--library-alltoall-warmup',
    library,
  ];
}

/** HAN's own messages are compiled out of release builds of Open MPI (OPAL_OUTPUT_VERBOSE), so
 *  HAN is judged by its footprint in coll_base_verbose: it is selected for MPI_COMM_WORLD, and at
 *  its first collective it either splits the communicator (node-local "low" and leaders "up"
 *  communicators, with their own coll selection) or, with one process per node, disables itself
 *  for good without creating any. `outputs`: each process's own stderr (mpirun's merged stream
 *  can cut one process's line with another's and so hide a process's selection). */
export function hanEvidence(outputs: readonly string[], np: number): HanEvidence {
  let selectedBy = 0;
  const subcomms: number[] = [];
  for (const out of outputs) {
    if (/coll:base:comm_select: selecting\s+han, priority \d+, Enabled/.test(out)) selectedBy++;
    let n = 0;
    for (const m of out.matchAll(/coll:base:comm_select: new communicator: (.*)\(cid (\d+)\)/g))
      if (Number(m[2]) >= 2 && !/MPI_COMM_(WORLD|SELF)/.test(m[1] as string)) n++;
    subcomms.push(n);
  }
  const withSub = subcomms.filter((x) => x >= 2).length;
  return {
    selected: selectedBy >= np,
    processesWithSubcomms: withSub,
    active: selectedBy >= np && withSub >= np,
    subcommsPerProcess: Math.max(0, ...subcomms),
  };
}

/** Each process's stderr, as mpirun's --output-filename DIR wrote it (DIR/<job>/rank.N/stderr). */
export async function rankOutputs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const job of await fs.readdir(dir).catch(() => [] as string[]))
    for (const rank of await fs.readdir(path.join(dir, job)).catch(() => [] as string[]))
      if (rank.startsWith('rank.'))
        out.push(await fs.readFile(path.join(dir, job, rank, 'stderr'), 'utf8').catch(() => ''));
  return out;
}

export async function runOnce(
  o: BenchOptions,
  st: TestbedState,
  program: string,
  cfg: Config,
  mode: Mode,
  rep: number,
  paired = false,
): Promise<RunRecord> {
  const launch = planLaunch(st, cfg.placement);
  const np = launch.hosts.length;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `sitempi-bench-coll-${mode}-`));
  const syncDir = path.join(work, 'sync');
  const shimOut = path.join(work, 'shim');
  await fs.mkdir(syncDir);
  await fs.mkdir(shimOut);
  const sitesMap = sitesEnv(launch.rankSites);
  const args = [
    ...mpirunArgsFor(st, { nodes: launch.nodes, btl: o.btl }),
    '--map-by',
    launch.mapBy,
    '--bind-to',
    'none',
    '-np',
    String(np),
  ];
  const rankOut = path.join(work, 'ranks');
  if (mode === 'han')
    args.push('--mca', 'coll_han_priority', '100', '--mca', 'coll_base_verbose', '30', '--output-filename', rankOut);
  if (mode === 'sitempi') {
    args.push(
      '-x',
      `LD_PRELOAD=${o.shimPath}`,
      '-x',
      `SITEMPI_SITES=${sitesMap}`,
      '-x',
      'SITEMPI_COLL=on',
      '-x',
      `SITEMPI_OUTPUT_DIR=${shimOut}`,
      ...o.shimEnv.flatMap((kv) => ['-x', kv]),
    );
  }
  const progArgs = [
    '--colls',
    o.colls.join(','),
    '--sizes',
    o.sizes.join(','),
    '--warmup',
    String(o.warmup),
    ...alltoallWarmup(mode),
    '--iters',
    String(o.iters),
    '--min-iters',
    String(o.minIters),
    '--budget-ms',
    String(o.budgetMs),
    '--max-point-ms',
    String(o.maxPointMs),
    '--timeout-s',
    String(o.runTimeoutS),
  ];
  if (o.count > 0 && !paired) {
    // The bytes goal is sitempi's; the library's bytes are shown for scale: one counted call does.
    const count = mode === 'sitempi' ? o.count : 1;
    progArgs.push('--sync-dir', syncDir, '--count', String(count), '--count-budget-ms', String(o.countBudgetMs));
  }
  if (paired) progArgs.push('--paired');
  if (o.printIters) progArgs.push('--print-iters');
  args.push(program, ...progArgs);

  const rec: RunRecord = {
    layout: cfg.layout,
    placement: cfg.placement,
    mode,
    ...(paired ? { paired: true } : {}),
    rep,
    np,
    rankSites: launch.rankSites,
    sitesEnv: sitesMap,
    hosts: [],
    mpirun: ['mpirun', ...args],
    startedAt: new Date().toISOString(),
    wallS: 0,
    loadavgBefore: os.loadavg(),
    loadavgAfter: [],
    info: null,
    results: [],
    phases: [],
    wanemuCpu: [],
    nodeTcp: [],
    exitCode: null,
    stderrTail: '',
  };
  const t0 = Date.now();
  // wanemu's CPU per point: from the program's start line (or the end of the previous point's
  // counted phase) to the point's result line.
  let cpuMark = cpuSample(st.wanemu.pid);
  // The nodes' TCP counters per point, over the same spans, read through one rank of each node
  // (found once the program's start line shows every rank running).
  let tcpPids: number[] = [];
  let tcpMark: TcpCounters | null = null;
  const markBoth = (): void => {
    cpuMark = cpuSample(st.wanemu.pid);
    tcpMark = tcpSample(tcpPids);
  };
  let stderr = '';
  let ended = false;
  const child = spawn('mpirun', args, { env: mpirunEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => {
    o.log(`${cfg.layout}/${cfg.placement}/${mode}: timed out after ${o.runTimeoutS} s, killing mpirun`);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  }, o.runTimeoutS * 1000);
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      let j: Record<string, unknown>;
      try {
        j = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (j['type'] === 'info') rec.info = j;
      else if (j['type'] === 'placement') rec.hosts = j['hosts'] as string[];
      if (j['type'] === 'info') {
        tcpPids = [...processesIn(st.nodes.map((n) => netnsFile(n.netns))).values()];
      }
      if (j['type'] === 'info' || j['type'] === 'placement') markBoth();
      else if (j['type'] === 'result') {
        const r = j as unknown as OsuResult;
        rec.results.push(r);
        const now = cpuSample(st.wanemu.pid);
        const span = cpuSpan(cpuMark, now);
        if (span) rec.wanemuCpu?.push({ coll: r.coll, bytes: r.bytes, ...span });
        cpuMark = now;
        const tcpNow = tcpSample(tcpPids);
        const tcp = tcpSpan(tcpMark, tcpNow);
        if (tcp) rec.nodeTcp?.push({ coll: r.coll, bytes: r.bytes, ...tcp });
        tcpMark = tcpNow;
        const rto = tcp?.timeouts ? `, ${tcp.timeouts} TCP timeout${tcp.timeouts === 1 ? '' : 's'}` : '';
        o.log(
          `${cfg.layout}/${cfg.placement}/${mode}: ${r.coll} ${r.bytes} B: ${(r.median_us / 1000).toFixed(2)} ms ` +
            `(${r.iters} it, wake ${(r.wake_median_us / 1000).toFixed(2)} ms, wanemu ${span ? (span.share * 100).toFixed(0) : '?'}% of a core${rto}${r.ok ? '' : ', WRONG RESULT'})`,
        );
      }
    }
  });
  child.stderr.on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 8 * MiB) stderr = stderr.slice(-4 * MiB);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      ended = true;
      resolve(code);
    });
    child.on('error', (e) => {
      ended = true;
      stderr += `\nspawn error: ${e.message}`;
      resolve(null);
    });
  });
  const sites = st.sites;
  const served =
    o.count > 0
      ? serveCountedPhases(
          syncDir,
          np,
          st.stateDir,
          sites,
          () => ended,
          (p) => {
            rec.phases.push(p);
            markBoth();
          },
        ).catch((e: Error) => {
          stderr += `\ncounter harness: ${e.message}`;
          child.kill('SIGTERM');
        })
      : Promise.resolve();
  rec.exitCode = await exited;
  clearTimeout(timer);
  await served;
  rec.wallS = (Date.now() - t0) / 1000;
  rec.loadavgAfter = os.loadavg();
  rec.stderrTail = stderr
    .split('\n')
    .filter(
      (l) =>
        !/coll:base:|coll:han:|coll:sm:|coll:adapt:|mca: base:|coll:find_available|\(0\/MPI_COMM_WORLD\)|\(1\/MPI_COMM_SELF\)/.test(
          l,
        ),
    )
    .slice(-30)
    .join('\n');
  if (mode === 'han') rec.han = hanEvidence(await rankOutputs(rankOut), np);
  if (mode === 'sitempi') {
    const files = readdirSync(shimOut).filter((f) => f.endsWith('.smpi')).length;
    rec.shim = { library: o.shimPath, recordFiles: files, loaded: files >= np };
    try {
      rec.shim.algs = await pointAlgs(shimOut);
    } catch (e) {
      o.log(`${cfg.layout}/${cfg.placement}/sitempi: the records did not read: ${(e as Error).message}`);
    }
  }
  // Placement as the program saw it must be the one we meant (and told sitempi).
  // A run on the wrong placement measures something else: its numbers are dropped. A run that
  // failed later (exit code) keeps what it measured, flagged in the report.
  if (rec.hosts.join(',') !== launch.hosts.join(',')) {
    rec.error = `placement mismatch: expected ${launch.hosts.join(',')}, got ${rec.hosts.join(',') || 'nothing'}`;
    rec.results = [];
    rec.phases = [];
    rec.wanemuCpu = [];
  }
  await fs.rm(work, { recursive: true, force: true });
  if (rec.exitCode !== 0) rec.error = `${rec.error ? `${rec.error}; ` : ''}mpirun exited with ${rec.exitCode}`;
  if (rec.error) o.log(`${cfg.layout}/${cfg.placement}/${mode}: ${rec.error}\n${rec.stderrTail}`);
  return rec;
}

/** HAN's probe: one short HAN job (one small Allreduce, HAN's first collective) whose evidence says
 *  whether HAN keeps itself on this configuration; its figures are not kept. */
export async function probeHan(o: BenchOptions, st: TestbedState, program: string, cfg: Config): Promise<RunRecord> {
  const short = { ...o, colls: ['allreduce' as const], sizes: [8], warmup: 1, iters: 1, minIters: 1, count: 0 };
  const rec = await runOnce(short, st, program, cfg, 'han', 0);
  return { ...rec, probe: true, results: [], phases: [], wanemuCpu: [] };
}
