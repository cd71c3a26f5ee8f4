// The collective benchmark of sitempi (issue 5): collective latency vs message size on the
// testbed, Open MPI's default (tuned) vs Open MPI coll/han vs sitempi, with the bytes that cross
// sites (wanemu counters) and the lower bounds of docs/architecture.md.
//
//   node dist/bench/collectives/run.js [--quick] [--out bench/results]
//
// writes OUT/collectives.json (raw), OUT/collectives.md (tables and ratios) and
// OUT/collectives.svg (latency vs size). See docs/benchmarks.md for how to read them.
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { packageRoot } from '../../src/native/paths.js';
import { down, mpirunEnv, parseBandwidth, up, type TestbedState } from '../../src/testbed/index.js';
import { machine, measureSyscallCost, measureWakeLateness, syscallText, wakeLateText } from '../machine.js';
import { pointKey } from './algs.js';
import { lowerBound, type Net } from './bounds.js';
import { hanTimedColls, hanUntimedColls } from './han.js';
import { probeHan, runOnce } from './job.js';
import { buildOsuColl, snapshotShim } from './launch.js';
import { combineRuns, median, splitCombined } from './combine.js';
import { parseArgs, parseLayout } from './options.js';
import { jobOrder } from './order.js';
import { renderMarkdown } from './report.js';
import { renderSvg } from './svg.js';
import type { BenchOptions, BenchResults, ModeCell, Row, RunRecord } from './types.js';

// ------------------------------------------------------------------ aggregation

/** The rows of one run: each point's medians per mode. `openmpi` (the `mpirun --version` line)
 *  names the collectives HAN has (./han.ts): its cells of the others stay empty. */
export function aggregate(runs: RunRecord[], o: BenchOptions, net: Net, openmpi: string): Row[] {
  const rows: Row[] = [];
  const hanColls = new Set(hanTimedColls(o.colls, openmpi, o.hanProbe));
  for (const cfg of o.configs) {
    const mine = runs.filter((r) => r.layout === cfg.layout && r.placement === cfg.placement);
    if (mine.length === 0) continue;
    const rankSites = (mine[0] as RunRecord).rankSites;
    for (const coll of o.colls) {
      const sizes = coll === 'barrier' ? [0] : o.sizes;
      for (const bytes of sizes) {
        const b = lowerBound(coll, bytes, rankSites, net);
        const row: Row = {
          layout: cfg.layout,
          placement: cfg.placement,
          coll,
          bytes,
          modes: {},
          bound: {
            bytes: b.bytes,
            bytesWithHeaders: b.bytesWithHeaders,
            maxLinkBytes: b.maxLinkBytes,
            timeUs: b.timeS * 1e6,
          },
        };
        for (const mode of o.modes) {
          if (mode === 'han' && !hanColls.has(coll)) continue; // HAN leaves it to tuned
          const jobs = mine.filter((r) => r.mode === mode && !r.probe);
          // The figures are those of the jobs that ran one algorithm; a paired job gives its ratios.
          const rs = jobs.filter((r) => !r.paired);
          if (rs.length === 0) continue; // e.g. HAN where its probe found it gives up
          const point = (r: RunRecord): RunRecord['results'] =>
            r.results.filter((x) => x.coll === coll && x.bytes === bytes);
          const res = rs.flatMap(point);
          const ph = rs.flatMap((r) =>
            r.phases.filter((x) => x.coll === coll && (coll === 'barrier' || x.bytes === bytes)),
          );
          const cpu = rs.flatMap((r) =>
            (r.wanemuCpu ?? []).filter((x) => x.coll === coll && (coll === 'barrier' || x.bytes === bytes)),
          );
          const tcp = rs.flatMap((r) =>
            (r.nodeTcp ?? []).filter((x) => x.coll === coll && (coll === 'barrier' || x.bytes === bytes)),
          );
          const paired = jobs.flatMap(point).filter((x) => x.paired);
          const cell: ModeCell = {
            medianUs: median(res.map((x) => x.median_us)),
            p25Us: median(res.map((x) => x.p25_us)),
            p75Us: median(res.map((x) => x.p75_us)),
            wakeMedianUs: median(res.map((x) => x.wake_median_us)),
            crossBytesPerCall: median(ph.map((x) => x.crossBytesPerCall)),
            wanemuCpuShare: median(cpu.map((x) => x.share)),
            ...(tcp.length
              ? {
                  tcpTimeouts: median(tcp.map((x) => x.timeouts)),
                  tcpRetransShare: median(tcp.filter((x) => x.outSegs > 0).map((x) => x.retransSegs / x.outSegs)),
                }
              : {}),
            ok: res.length ? [...res, ...paired].every((x) => x.ok) : null,
            reps: res.length,
          };
          const algs = rs.flatMap((r) => r.shim?.algs?.[pointKey(coll, bytes)]?.last ?? []);
          if (algs.length) cell.algs = algs;
          if (paired.length) {
            cell.pairedLibraryUs = median(paired.map((x) => x.pmpi_median_us ?? NaN).filter(Number.isFinite));
            cell.pairedRatio = median(paired.map((x) => x.paired_ratio_median ?? NaN).filter(Number.isFinite));
            if (jobs.some((r) => r.paired)) cell.pairedShimUs = median(paired.map((x) => x.median_us));
          }
          row.modes[mode] = cell;
        }
        rows.push(row);
      }
    }
  }
  return rows;
}

// ------------------------------------------------------------------ the whole benchmark

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** A TCP setting of a node, read in its namespace (a namespace has its own; the congestion
 * control is the host's default, and not every algorithm may be set in one). */
function nodeSysctl(netns: string | undefined, name: string): string | undefined {
  if (!netns) return undefined;
  const file = `/proc/sys/net/ipv4/${name}`;
  const r = spawnSync('ip', ['netns', 'exec', netns, 'cat', file], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

/** `--no-tcp-idle-restart`: the nodes keep a connection's congestion window across idle gaps
 * (net.ipv4.tcp_slow_start_after_idle=0, as on hosts tuned for long fat networks); the kernel's
 * default shrinks it after an idle RTO (about 210 ms here), so a transfer's time could depend on
 * how long its connection had been idle. */
function setIdleRestart(st: TestbedState, on: boolean): void {
  setNodeSysctl(st, `net.ipv4.tcp_slow_start_after_idle=${on ? 1 : 0}`);
}

function setNodeSysctl(st: TestbedState, setting: string): void {
  for (const n of st.nodes) {
    const r = spawnSync('ip', ['netns', 'exec', n.netns, 'sysctl', '-qw', setting], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`setting ${setting} in ${n.netns}: ${r.stderr.trim()}`);
  }
}

function ompiVersion(): string {
  const r = spawnSync('mpirun', ['--version'], { encoding: 'utf8', env: mpirunEnv() });
  return (r.stdout ?? '').split('\n')[0]?.trim() ?? 'unknown';
}

export async function runBenchmark(o: BenchOptions): Promise<BenchResults> {
  const started = new Date();
  const t0 = Date.now();
  if (o.modes.includes('sitempi') && !existsSync(o.shimPath)) {
    throw new Error(`the shim library ${o.shimPath} is missing: build it first (npm run build:native)`);
  }
  const program = buildOsuColl();
  // A private copy of the shim: a rebuild of build/ during the benchmark must not pull it away
  // (LD_PRELOAD of a missing file only warns, and the run would silently go without it).
  const shim = o.modes.includes('sitempi') ? snapshotShim(o.shimPath) : null;
  const openmpi = ompiVersion();
  // Inside every figure is how late the ranks wake at their common start: this machine's, measured
  // before the testbed is up, alone and as many as the most ranks a job runs.
  const ranks = Math.max(...o.configs.map((c) => parseLayout(c.layout)).map((l) => l.nodes * l.slots));
  const wakeLate = measureWakeLateness([1, ranks]);
  o.log(`processes sleeping to one instant wake ${wakeLateText(wakeLate)} late (the last of them, median)`);
  const syscall = measureSyscallCost();
  o.log(`${syscallText(syscall)}: the host's state, which moves every site step`);
  const hanColls = hanTimedColls(o.colls, openmpi, o.hanProbe);
  const hanLacks = hanUntimedColls(o.colls, openmpi, o.hanProbe);
  if (o.modes.includes('han') && hanLacks.length)
    o.log(`HAN of ${openmpi} has no ${hanLacks.join(', ')}: its job does not time them`);
  const opts = { stateDir: o.stateDir, prefix: o.prefix };
  const runs: RunRecord[] = [];
  let mtu = 65000;
  let tcp: string | undefined;
  let idleRestart: string | undefined;
  const layouts = [...new Set(o.configs.map((c) => c.layout))];
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const layout of layouts) {
      const { nodes, slots } = parseLayout(layout);
      o.log(`testbed ${layout}: 2 sites × ${nodes / 2} nodes × ${slots} slots, RTT ${o.rttMs} ms, ${o.bandwidth}`);
      await down(opts);
      const st = await up(
        { sites: { A: nodes / 2, B: nodes / 2 }, slots, rttMs: o.rttMs, bandwidth: o.bandwidth },
        {
          ...opts,
          wanemuPath: o.wanemuPath,
          mgmtSubnet: o.mgmtSubnet,
          dataSubnet: o.dataSubnet,
          lan: o.lan,
          ...(o.mtu !== null ? { mtu: o.mtu } : {}),
        },
      );
      mtu = st.mtu;
      setIdleRestart(st, o.tcpIdleRestart);
      // --tcp-cc: the kernel refuses an algorithm it does not have (tcp_available_congestion_control).
      if (o.tcpCongestion) setNodeSysctl(st, `net.ipv4.tcp_congestion_control=${o.tcpCongestion}`);
      tcp ??= nodeSysctl(st.nodes[0]?.netns, 'tcp_congestion_control');
      idleRestart ??= nodeSysctl(st.nodes[0]?.netns, 'tcp_slow_start_after_idle');
      for (const cfg of o.configs.filter((c) => c.layout === layout)) {
        let modes = hanColls.length ? o.modes : o.modes.filter((m) => m !== 'han');
        if (o.hanProbe && modes.includes('han')) {
          if (interrupted) throw new Error('interrupted');
          const probe = await probeHan({ ...o, shimPath: shim?.path ?? o.shimPath }, st, program, cfg);
          runs.push(probe);
          o.log(`HAN probe ${layout}/${cfg.placement}: ${JSON.stringify(probe.han)}`);
          // Given up (one process per node), HAN runs Open MPI's default: a timed HAN job would be a
          // second sample of it, and the best of two samples of one algorithm is not a baseline.
          if (probe.exitCode === 0 && probe.han?.selected && !probe.han.active) {
            modes = modes.filter((m) => m !== 'han');
            o.log(`HAN gives up on ${layout}/${cfg.placement} and runs the default: its timed job is skipped`);
          }
        }
        // One job per mode, and the paired sitempi job (its calls alternate with the library's).
        const jobs = modes.map((mode) => ({ mode, paired: false }));
        if (o.paired && modes.includes('sitempi')) jobs.push({ mode: 'sitempi', paired: true });
        for (let rep = 0; rep < o.reps; rep++) {
          // None always first (or last), and none always after the same job (order.ts).
          const order = jobOrder(jobs, rep + o.orderOffset);
          for (const { mode, paired } of order) {
            if (interrupted) throw new Error('interrupted');
            const name = `${layout}/${cfg.placement}/${mode}${paired ? ' paired' : ''}`;
            o.log(`run ${name} (rep ${rep + 1}/${o.reps})`);
            const colls = mode === 'han' ? hanColls : o.colls;
            const jobOpts = { ...o, colls, shimPath: shim?.path ?? o.shimPath };
            const rec = await runOnce(jobOpts, st, program, cfg, mode, rep, paired);
            runs.push(rec);
            if (rec.han) o.log(`HAN: ${JSON.stringify(rec.han)}`);
            if (rec.shim) o.log(`shim: ${JSON.stringify(rec.shim)}`);
            o.log(`run ${name}: ${rec.wallS.toFixed(1)} s, exit ${rec.exitCode}`);
          }
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!o.keepUp) await down(opts).catch((e: Error) => o.log(`down failed: ${e.message}`));
  }
  const net: Net = { alphaS: o.rttMs / 2 / 1000, bandwidthBps: parseBandwidth(o.bandwidth), mtu };
  const rows = aggregate(runs, o, net, openmpi);
  const { log: _log, ...optsOut } = o;
  const results: BenchResults = {
    meta: {
      program: 'sitempi collective benchmark',
      version: 1,
      startedAt: started.toISOString(),
      durationS: (Date.now() - t0) / 1000,
      quick: o.quick,
      command: [
        'node',
        ...process.argv
          .slice(1)
          .map((a) => (path.isAbsolute(a) && a.startsWith(packageRoot) ? path.relative(packageRoot, a) : a)),
      ].join(' '),
      host: os.hostname(),
      cpus: os.cpus().length,
      ...machine(),
      wakeLate,
      syscall,
      openmpi,
      gitCommit: gitCommit(),
      testbed: {
        rttMs: o.rttMs,
        alphaMs: o.rttMs / 2,
        bandwidthBps: net.bandwidthBps,
        mtu,
        sites: ['A', 'B'],
        lan: o.lan,
        btl: o.btl,
        ...(tcp ? { tcp, tcpSet: o.tcpCongestion !== null } : {}),
        ...(idleRestart ? { tcpSlowStartAfterIdle: idleRestart === '1' } : {}),
      },
      options: optsOut,
      sitempiColl: ['SITEMPI_COLL=on', ...o.shimEnv].join(' '),
      shim: shim ? { source: o.shimPath, sha1: shim.sha1, mtime: shim.mtime } : null,
      notes: [
        'Latency: median over iterations of max over ranks of (end - common scheduled start); all virtual nodes share one kernel clock (see osu_coll.c).',
        "wanemu CPU: the emulator's user + system time (/proc/PID/stat) over each point's warm-up, timed loop and check, as a share of one core (wanemuCpu in each run; wanemuCpuShare in the rows, median over repetitions).",
        "Nodes' TCP: Tcp OutSegs and RetransSegs and TcpExt TCPTimeouts of every node's namespace (/proc/PID/net of one rank per node) over the same spans (nodeTcp in each run; tcpTimeouts and tcpRetransShare in the rows, median over repetitions).",
        'Bytes crossing sites: wanemu counters (IP packets, headers included, both directions, ACKs included) around a phase of exactly `calls` back-to-back calls, divided by `calls`.',
        'The machine has few cores shared by all ranks (and other work): timings are noisy; compare modes side by side, as medians.',
      ],
    },
    runs,
    rows,
  };
  await writeOutputs(o.out, results);
  return results;
}

export async function writeOutputs(out: string, results: BenchResults): Promise<void> {
  await fs.mkdir(out, { recursive: true });
  await fs.writeFile(path.join(out, 'collectives.json'), `${JSON.stringify(results, null, 1)}\n`);
  await fs.writeFile(path.join(out, 'collectives.md'), renderMarkdown(results));
  await fs.writeFile(path.join(out, 'collectives.svg'), renderSvg(results));
}

/** A results file's rows derived again from its runs (one run's file), so that a report of older
 *  runs applies today's rules (HAN's cells of the collectives it leaves to tuned, ./han.ts). */
export function rederive(res: BenchResults): BenchResults {
  if (res.meta.combined) return res; // its rows are medians of runs' rows, not of its pooled runs
  const t = res.meta.testbed;
  const net: Net = { alphaS: t.alphaMs / 1000, bandwidthBps: t.bandwidthBps, mtu: t.mtu };
  const o = { ...res.meta.options, log: () => {} };
  return { ...res, rows: aggregate(res.runs, o, net, res.meta.openmpi) };
}

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  if ('fromJson' in parsed) {
    const all = parsed.fromJson
      .flatMap((f) => splitCombined(JSON.parse(readFileSync(f, 'utf8')) as BenchResults))
      .map(rederive);
    if (all.length === 1) await writeOutputs(parsed.out, all[0] as BenchResults);
    else {
      const res = combineRuns(all);
      res.meta.command = ['node', 'dist/bench/collectives/run.js', ...process.argv.slice(2)].join(' ');
      await writeOutputs(parsed.out, res);
    }
    return;
  }
  const res = await runBenchmark(parsed);
  parsed.log(`done in ${res.meta.durationS.toFixed(0)} s: ${path.join(parsed.out, 'collectives.{json,md,svg}')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
