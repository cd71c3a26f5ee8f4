// The collective benchmark of sitempi (issue 5): collective latency vs message size on the
// testbed, Open MPI's default (tuned) vs Open MPI coll/han vs sitempi, with the bytes that cross
// sites (wanemu counters) and the lower bounds of DESIGN.md.
//
//   node dist/bench/collectives/run.js [--quick] [--out bench/results]
//
// writes OUT/collectives.json (raw), OUT/collectives.md (tables and ratios) and
// OUT/collectives.svg (latency vs size). See docs/benchmarks.md for how to read them.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, promises as fs, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import {
  counters,
  defaultWanemuPath,
  down,
  mpirunArgsFor,
  mpirunEnv,
  parseBandwidth,
  repoRoot,
  up,
  type CountersSnapshot,
  type TestbedState,
} from '../../src/testbed/index.js';
import { COLLS, lowerBound, type CollName, type Net } from './bounds.js';
import { renderMarkdown } from './report.js';
import { renderSvg } from './svg.js';

// ------------------------------------------------------------------ options

export type Mode = 'default' | 'han' | 'sitempi';
export const MODES: Mode[] = ['default', 'han', 'sitempi'];
export type Placement = 'contiguous' | 'interleaved';

/** A testbed layout "NxK": N nodes (half at site A, half at site B), K slots per node. */
export interface Config {
  layout: string;
  placement: Placement;
}

export interface BenchOptions {
  /** Output directory (collectives.json, .md, .svg). */
  out: string;
  quick: boolean;
  configs: Config[];
  modes: Mode[];
  colls: CollName[];
  /** Message sizes in bytes (Barrier runs once, without size). */
  sizes: number[];
  /** Repetitions of every (config, mode) run; modes alternate within a repetition. */
  reps: number;
  warmup: number;
  iters: number;
  minIters: number;
  /** Time budget of the timed loop of one (collective, size), ms. */
  budgetMs: number;
  /** Hard cap of that loop for very slow calls (fewer than minIters iterations, at least 1), ms. */
  maxPointMs: number;
  /** Calls in a counted phase (at most; fewer for slow calls, at least one); 0 = no counters. */
  count: number;
  countBudgetMs: number;
  rttMs: number;
  bandwidth: string;
  /** Testbed of the benchmark: its own state dir, prefix and subnets. */
  stateDir: string;
  prefix: string;
  mgmtSubnet: string;
  dataSubnet: string;
  wanemuPath: string;
  /** Shim library for the sitempi mode. */
  shimPath: string;
  /** More environment for the sitempi mode's ranks, e.g. SITEMPI_COLL_SEGMENT_BYTES=0. */
  shimEnv: string[];
  /** Leave the last testbed up at the end. */
  keepUp: boolean;
  /** Time limit of one mpirun, seconds. */
  runTimeoutS: number;
  log: (line: string) => void;
}

const MiB = 1 << 20;
export const FULL_SIZES = [8, 64, 512, 4096, 16384, 65536, 262144, MiB, 4 * MiB];
export const QUICK_SIZES = [8, 65536, MiB];
export const ALL_CONFIGS: Config[] = [
  { layout: '8x1', placement: 'contiguous' },
  { layout: '8x1', placement: 'interleaved' },
  { layout: '2x4', placement: 'contiguous' },
  { layout: '2x4', placement: 'interleaved' },
];

export function defaultOptions(quick = false): BenchOptions {
  const root = repoRoot();
  // Native outputs: $SITEMPI_BUILD_DIR (the project's convention), else build/Release.
  const buildDir = process.env['SITEMPI_BUILD_DIR'] ?? path.join(root, 'build', 'Release');
  return {
    out: path.join(root, 'bench', 'results'),
    quick,
    configs: ALL_CONFIGS,
    modes: MODES,
    colls: COLLS,
    sizes: quick ? QUICK_SIZES : FULL_SIZES,
    reps: 1,
    warmup: 2,
    iters: quick ? 5 : 12,
    minIters: 3,
    budgetMs: quick ? 250 : 600,
    maxPointMs: quick ? 3000 : 6000,
    count: quick ? 2 : 4,
    countBudgetMs: quick ? 200 : 400,
    rttMs: 10,
    bandwidth: '1gbit',
    stateDir: path.join(os.tmpdir(), 'sitempi-bench-coll-testbed'),
    prefix: 'smbench',
    mgmtSubnet: '198.19.240.0/24',
    dataSubnet: '198.19.241.0/24',
    wanemuPath: process.env['SITEMPI_WANEMU'] ?? (process.env['SITEMPI_BUILD_DIR'] ? path.join(buildDir, 'wanemu') : defaultWanemuPath()),
    shimPath: path.join(buildDir, 'libsitempi.so'),
    shimEnv: [],
    keepUp: false,
    runTimeoutS: quick ? 180 : 540,
    log: (l) => process.stderr.write(`[bench] ${l}\n`),
  };
}

// ------------------------------------------------------------------ results

/** One JSON line "type":"result" of osu_coll. */
export interface OsuResult {
  type: 'result';
  coll: CollName;
  bytes: number;
  iters: number;
  warmup: number;
  sync: 'global' | 'barrier';
  median_us: number;
  min_us: number;
  p25_us: number;
  p75_us: number;
  max_us: number;
  last_entry_median_us: number;
  local_median_us: number;
  wake_median_us: number;
  wake_max_us: number;
  warmup_worst_us: number;
  slot_us: number;
  overruns: number;
  ok: boolean;
}

/** Counter delta of one counted phase: exactly `calls` back-to-back calls. */
export interface PhaseCount {
  phase: number;
  coll: CollName;
  bytes: number;
  calls: number;
  /** Per directed site pair, bytes / packets / drops during the phase (IP packets). */
  links: { from: string; to: string; bytes: number; packets: number; dropPackets: number }[];
  /** Both directions together, per call. */
  crossBytesPerCall: number;
  crossPacketsPerCall: number;
  /** ms the harness waited for the network to fall silent before / after. */
  quietBeforeMs: number;
  quietAfterMs: number;
  /** The network never fell silent within the limit (the count may include stray traffic). */
  noisy: boolean;
}

export interface HanEvidence {
  /** HAN was selected for MPI_COMM_WORLD (coll_base_verbose: "selecting han ... Enabled"). */
  selected: boolean;
  /** Processes that created HAN's sub-communicators (low = node, up = leaders). */
  processesWithSubcomms: number;
  /** HAN kept itself: it created its sub-communicators in every process. */
  active: boolean;
  /** New communicators per process beyond MPI_COMM_WORLD and MPI_COMM_SELF (max). */
  subcommsPerProcess: number;
}

export interface RunRecord {
  layout: string;
  placement: Placement;
  mode: Mode;
  rep: number;
  np: number;
  rankSites: string[];
  sitesEnv: string;
  hosts: string[];
  mpirun: string[];
  startedAt: string;
  wallS: number;
  loadavgBefore: number[];
  loadavgAfter: number[];
  info: Record<string, unknown> | null;
  results: OsuResult[];
  phases: PhaseCount[];
  han?: HanEvidence;
  shim?: { library: string; recordFiles: number; loaded: boolean };
  exitCode: number | null;
  /** What went wrong with this run, if anything (its numbers are then not used). */
  error?: string;
  stderrTail: string;
}

export interface ModeCell {
  medianUs: number | null;
  p25Us: number | null;
  p75Us: number | null;
  wakeMedianUs: number | null;
  crossBytesPerCall: number | null;
  ok: boolean | null;
  reps: number;
}

export interface Row {
  layout: string;
  placement: Placement;
  coll: CollName;
  bytes: number;
  modes: Partial<Record<Mode, ModeCell>>;
  bound: { bytes: number; bytesWithHeaders: number; maxLinkBytes: number; timeUs: number };
}

export interface BenchResults {
  meta: {
    program: 'sitempi collective benchmark';
    version: 1;
    startedAt: string;
    durationS: number;
    quick: boolean;
    command: string;
    host: string;
    cpus: number;
    openmpi: string;
    gitCommit: string | null;
    testbed: { rttMs: number; alphaMs: number; bandwidthBps: number; mtu: number; sites: string[] };
    options: Omit<BenchOptions, 'log'>;
    sitempiColl: string;
    /** The shim library the sitempi mode preloaded (a copy of `source` taken at the start). */
    shim: { source: string; sha1: string; mtime: string } | null;
    notes: string[];
  };
  runs: RunRecord[];
  rows: Row[];
}

// ------------------------------------------------------------------ helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
}

/** Compiles osu_coll.c with mpicc (cached by content); returns the binary. */
export function buildOsuColl(): string {
  const src = path.join(repoRoot(), 'bench', 'collectives', 'osu_coll.c');
  const text = readFileSync(src);
  const hash = crypto.createHash('sha1').update(text).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'sitempi-bench-coll-bin');
  const bin = path.join(dir, `osu_coll-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('mpicc', ['-O2', '-Wall', '-o', tmp, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mpicc failed for ${src}:\n${r.stderr ?? ''}${r.error?.message ?? ''}`);
  renameSync(tmp, bin);
  return bin;
}

/** Copies the shim library to a private place (by content); returns the copy. */
export function snapshotShim(lib: string): { path: string; sha1: string; mtime: string } {
  const data = readFileSync(lib);
  const sha1 = crypto.createHash('sha1').update(data).digest('hex');
  const dir = path.join(os.tmpdir(), 'sitempi-bench-coll-bin');
  mkdirSync(dir, { recursive: true });
  const copy = path.join(dir, `libsitempi-${sha1.slice(0, 12)}.so`);
  if (!existsSync(copy)) {
    const tmp = `${copy}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o755 });
    renameSync(tmp, copy);
  }
  return { path: copy, sha1, mtime: statSync(lib).mtime.toISOString() };
}

function parseLayout(layout: string): { nodes: number; slots: number } {
  const m = /^(\d+)x(\d+)$/.exec(layout);
  if (!m) throw new Error(`bad layout "${layout}" (NxK: N nodes, half per site, K slots each; e.g. 8x1, 2x4)`);
  const nodes = Number(m[1]);
  const slots = Number(m[2]);
  if (nodes < 2 || nodes % 2 !== 0 || slots < 1) throw new Error(`bad layout "${layout}": N must be even and ≥ 2`);
  return { nodes, slots };
}

/** "A:0-3;B:4-7" or "A:0,2,4,6;B:1,3,5,7" from the site of each rank. */
export function sitesEnv(rankSites: string[]): string {
  const sites = [...new Set(rankSites)];
  return sites
    .map((s) => {
      const ranks = rankSites.flatMap((x, r) => (x === s ? [r] : []));
      const parts: string[] = [];
      for (let i = 0; i < ranks.length; ) {
        let j = i;
        while (j + 1 < ranks.length && (ranks[j + 1] as number) === (ranks[j] as number) + 1) j++;
        parts.push(j > i + 1 ? `${ranks[i]}-${ranks[j]}` : j === i + 1 ? `${ranks[i]},${ranks[j]}` : `${ranks[i]}`);
        i = j + 1;
      }
      return `${s}:${parts.join(',')}`;
    })
    .join(';');
}

interface Launch {
  nodes: string[];
  mapBy: 'slot' | 'node';
  hosts: string[];
  rankSites: string[];
}

/**
 * Node order and mapping for a placement, and the host and site of every rank as Open MPI will
 * map them (checked against what the program reports).
 * contiguous: nodes of A then B, by slot (ranks 0..P/2−1 at A);
 * interleaved: nodes alternate A, B, …; one slot per node → by slot, else by node (round robin),
 * so that even ranks are at A and odd ranks at B.
 */
export function planLaunch(st: TestbedState, placement: Placement): Launch {
  const bySite = st.sites.map((s) => st.nodes.filter((n) => n.site === s));
  let order = bySite.flat();
  if (placement === 'interleaved') {
    order = [];
    const most = Math.max(...bySite.map((l) => l.length));
    for (let i = 0; i < most; i++) for (const l of bySite) if (l[i]) order.push(l[i] as (typeof order)[number]);
  }
  const slotsEach = order.map((n) => n.slots);
  const oneSlot = slotsEach.every((s) => s === 1);
  const mapBy: 'slot' | 'node' = placement === 'interleaved' && !oneSlot ? 'node' : 'slot';
  const hosts: string[] = [];
  const rankSites: string[] = [];
  if (mapBy === 'slot') {
    for (const n of order) for (let k = 0; k < n.slots; k++) { hosts.push(n.host); rankSites.push(n.site); }
  } else {
    const left = [...slotsEach];
    while (left.some((x) => x > 0)) {
      order.forEach((n, i) => {
        if ((left[i] as number) > 0) { hosts.push(n.host); rankSites.push(n.site); left[i] = (left[i] as number) - 1; }
      });
    }
  }
  return { nodes: order.map((n) => n.name), mapBy, hosts, rankSites };
}

/** HAN's own messages are compiled out of release builds of Open MPI (OPAL_OUTPUT_VERBOSE), so
 *  HAN is judged by its footprint in coll_base_verbose: it is selected for MPI_COMM_WORLD, and at
 *  its first collective it either splits the communicator (node-local "low" and leaders "up"
 *  communicators, with their own coll selection) or, with one process per node, disables itself
 *  for good without creating any. */
export function hanEvidence(stderr: string, np: number): HanEvidence {
  const selectedBy = new Set<string>();
  const subcomms = new Map<string, number>();
  for (const line of stderr.split('\n')) {
    const who = /^\[([^\]]+)\]/.exec(line)?.[1];
    if (!who) continue;
    if (/coll:base:comm_select: selecting\s+han, priority \d+, Enabled/.test(line)) selectedBy.add(who);
    const m = /coll:base:comm_select: new communicator: (.*)\(cid (\d+)\)/.exec(line);
    if (m && Number(m[2]) >= 2 && !/MPI_COMM_(WORLD|SELF)/.test(m[1] as string)) subcomms.set(who, (subcomms.get(who) ?? 0) + 1);
  }
  const withSub = [...subcomms.values()].filter((x) => x >= 2).length;
  return {
    selected: selectedBy.size >= np,
    processesWithSubcomms: withSub,
    active: selectedBy.size >= np && withSub >= np,
    subcommsPerProcess: Math.max(0, ...subcomms.values()),
  };
}

// ------------------------------------------------------------------ counters around phases

function crossTotals(c: CountersSnapshot, sites: string[]): { bytes: number; packets: number } {
  let bytes = 0;
  let packets = 0;
  for (const l of c.links) {
    if (l.from === l.to || !sites.includes(l.from) || !sites.includes(l.to)) continue;
    bytes += l.bytes;
    packets += l.packets;
  }
  return { bytes, packets };
}

/**
 * Waits until no packet has crossed between sites for `silentMs` (polling every 10 ms), at most
 * `limitMs`; returns the last snapshot, the wait, and whether it fell silent.
 */
async function quiet(stateDir: string, sites: string[], silentMs = 40, limitMs = 1500): Promise<{ snap: CountersSnapshot; waitedMs: number; silent: boolean }> {
  const t0 = Date.now();
  let snap = await counters({ stateDir });
  let last = crossTotals(snap, sites);
  let since = Date.now();
  for (;;) {
    await sleep(10);
    const s = await counters({ stateDir });
    const tot = crossTotals(s, sites);
    snap = s;
    if (tot.bytes !== last.bytes || tot.packets !== last.packets) {
      last = tot;
      since = Date.now();
    } else if (Date.now() - since >= silentMs) {
      return { snap, waitedMs: Date.now() - t0, silent: true };
    }
    if (Date.now() - t0 > limitMs) return { snap, waitedMs: Date.now() - t0, silent: false };
  }
}

/**
 * The harness side of osu_coll's counted phases (see osu_coll.c): for phase k, wait for
 * ready.k.* of every rank, let the network fall silent, snapshot, create go.k; wait for done.k.*,
 * let it fall silent, snapshot, create next.k. Runs until `stop()` says the job has ended.
 */
async function serveCountedPhases(
  dir: string,
  np: number,
  stateDir: string,
  sites: string[],
  stop: () => boolean,
  onPhase: (p: PhaseCount) => void,
): Promise<void> {
  const countFiles = (prefix: string): number => {
    let n = 0;
    for (const f of readdirSync(dir)) if (f.startsWith(prefix)) n++;
    return n;
  };
  const waitAll = async (prefix: string): Promise<boolean> => {
    while (countFiles(prefix) < np) {
      if (stop()) return false;
      await sleep(2);
    }
    return true;
  };
  for (let k = 0; ; k++) {
    if (!(await waitAll(`ready.${k}.`))) return;
    const phase = JSON.parse(readFileSync(path.join(dir, `ready.${k}.0`), 'utf8')) as { phase: number; coll: CollName; bytes: number; calls: number };
    const before = await quiet(stateDir, sites);
    writeFileSync(path.join(dir, `go.${k}`), '');
    if (!(await waitAll(`done.${k}.`))) return;
    const after = await quiet(stateDir, sites);
    writeFileSync(path.join(dir, `next.${k}`), '');
    const links = after.snap.links
      .filter((l) => l.from !== l.to && sites.includes(l.from) && sites.includes(l.to))
      .map((l) => {
        const b = before.snap.links.find((x) => x.from === l.from && x.to === l.to);
        return {
          from: l.from,
          to: l.to,
          bytes: l.bytes - (b?.bytes ?? 0),
          packets: l.packets - (b?.packets ?? 0),
          dropPackets: l.dropPackets - (b?.dropPackets ?? 0),
        };
      });
    const bytes = links.reduce((a, l) => a + l.bytes, 0);
    const packets = links.reduce((a, l) => a + l.packets, 0);
    onPhase({
      phase: k,
      coll: phase.coll,
      bytes: phase.bytes,
      calls: phase.calls,
      links,
      crossBytesPerCall: bytes / phase.calls,
      crossPacketsPerCall: packets / phase.calls,
      quietBeforeMs: before.waitedMs,
      quietAfterMs: after.waitedMs,
      noisy: !before.silent || !after.silent,
    });
  }
}

// ------------------------------------------------------------------ one run

async function runOnce(
  o: BenchOptions,
  st: TestbedState,
  program: string,
  cfg: Config,
  mode: Mode,
  rep: number,
): Promise<RunRecord> {
  const launch = planLaunch(st, cfg.placement);
  const np = launch.hosts.length;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `sitempi-bench-coll-${mode}-`));
  const syncDir = path.join(work, 'sync');
  const shimOut = path.join(work, 'shim');
  await fs.mkdir(syncDir);
  await fs.mkdir(shimOut);
  const sitesMap = sitesEnv(launch.rankSites);
  const args = [...mpirunArgsFor(st, { nodes: launch.nodes }), '--map-by', launch.mapBy, '--bind-to', 'none', '-np', String(np)];
  if (mode === 'han') args.push('--mca', 'coll_han_priority', '100', '--mca', 'coll_base_verbose', '30');
  if (mode === 'sitempi') {
    args.push(
      '-x', `LD_PRELOAD=${o.shimPath}`,
      '-x', `SITEMPI_SITES=${sitesMap}`,
      '-x', 'SITEMPI_COLL=on',
      '-x', `SITEMPI_OUTPUT_DIR=${shimOut}`,
      ...o.shimEnv.flatMap((kv) => ['-x', kv]),
    );
  }
  const progArgs = [
    '--colls', o.colls.join(','),
    '--sizes', o.sizes.join(','),
    '--warmup', String(o.warmup),
    '--iters', String(o.iters),
    '--min-iters', String(o.minIters),
    '--budget-ms', String(o.budgetMs),
    '--max-point-ms', String(o.maxPointMs),
    '--timeout-s', String(o.runTimeoutS),
  ];
  if (o.count > 0) progArgs.push('--sync-dir', syncDir, '--count', String(o.count), '--count-budget-ms', String(o.countBudgetMs));
  args.push(program, ...progArgs);

  const rec: RunRecord = {
    layout: cfg.layout,
    placement: cfg.placement,
    mode,
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
    exitCode: null,
    stderrTail: '',
  };
  const t0 = Date.now();
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
      else if (j['type'] === 'result') {
        const r = j as unknown as OsuResult;
        rec.results.push(r);
        o.log(
          `${cfg.layout}/${cfg.placement}/${mode}: ${r.coll} ${r.bytes} B: ${(r.median_us / 1000).toFixed(2)} ms ` +
            `(${r.iters} it, wake ${(r.wake_median_us / 1000).toFixed(2)} ms${r.ok ? '' : ', WRONG RESULT'})`,
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
  const served = o.count > 0
    ? serveCountedPhases(syncDir, np, st.stateDir, sites, () => ended, (p) => rec.phases.push(p)).catch((e: Error) => {
        stderr += `\ncounter harness: ${e.message}`;
        child.kill('SIGTERM');
      })
    : Promise.resolve();
  rec.exitCode = await exited;
  clearTimeout(timer);
  await served;
  rec.wallS = (Date.now() - t0) / 1000;
  rec.loadavgAfter = os.loadavg();
  rec.stderrTail = stderr.split('\n').filter((l) => !/coll:base:|coll:han:|coll:sm:|coll:adapt:|mca: base:|coll:find_available|\(0\/MPI_COMM_WORLD\)|\(1\/MPI_COMM_SELF\)/.test(l)).slice(-30).join('\n');
  if (mode === 'han') rec.han = hanEvidence(stderr, np);
  if (mode === 'sitempi') {
    const files = readdirSync(shimOut).filter((f) => f.endsWith('.smpi')).length;
    rec.shim = { library: o.shimPath, recordFiles: files, loaded: files >= np };
  }
  // Placement as the program saw it must be the one we meant (and told sitempi).
  // A run on the wrong placement measures something else: its numbers are dropped. A run that
  // failed later (exit code) keeps what it measured, flagged in the report.
  if (rec.hosts.join(',') !== launch.hosts.join(',')) {
    rec.error = `placement mismatch: expected ${launch.hosts.join(',')}, got ${rec.hosts.join(',') || 'nothing'}`;
    rec.results = [];
    rec.phases = [];
  }
  await fs.rm(work, { recursive: true, force: true });
  if (rec.exitCode !== 0) rec.error = `${rec.error ? `${rec.error}; ` : ''}mpirun exited with ${rec.exitCode}`;
  if (rec.error) o.log(`${cfg.layout}/${cfg.placement}/${mode}: ${rec.error}\n${rec.stderrTail}`);
  return rec;
}

// ------------------------------------------------------------------ aggregation

export function aggregate(runs: RunRecord[], o: BenchOptions, net: Net): Row[] {
  const rows: Row[] = [];
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
          bound: { bytes: b.bytes, bytesWithHeaders: b.bytesWithHeaders, maxLinkBytes: b.maxLinkBytes, timeUs: b.timeS * 1e6 },
        };
        for (const mode of o.modes) {
          const rs = mine.filter((r) => r.mode === mode);
          const res = rs.flatMap((r) => r.results.filter((x) => x.coll === coll && x.bytes === bytes));
          const ph = rs.flatMap((r) => r.phases.filter((x) => x.coll === coll && (coll === 'barrier' || x.bytes === bytes)));
          row.modes[mode] = {
            medianUs: median(res.map((x) => x.median_us)),
            p25Us: median(res.map((x) => x.p25_us)),
            p75Us: median(res.map((x) => x.p75_us)),
            wakeMedianUs: median(res.map((x) => x.wake_median_us)),
            crossBytesPerCall: median(ph.map((x) => x.crossBytesPerCall)),
            ok: res.length ? res.every((x) => x.ok) : null,
            reps: res.length,
          };
        }
        rows.push(row);
      }
    }
  }
  return rows;
}

// ------------------------------------------------------------------ the whole benchmark

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot(), encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
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
  const opts = { stateDir: o.stateDir, prefix: o.prefix };
  const runs: RunRecord[] = [];
  let mtu = 65000;
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
        { ...opts, wanemuPath: o.wanemuPath, mgmtSubnet: o.mgmtSubnet, dataSubnet: o.dataSubnet },
      );
      mtu = st.mtu;
      for (const cfg of o.configs.filter((c) => c.layout === layout)) {
        for (let rep = 0; rep < o.reps; rep++) {
          // Rotate the order of the modes so that none always runs first (or last).
          const order = o.modes.map((_, i) => o.modes[(i + rep) % o.modes.length] as Mode);
          for (const mode of order) {
            if (interrupted) throw new Error('interrupted');
            o.log(`run ${layout}/${cfg.placement}/${mode} (rep ${rep + 1}/${o.reps})`);
            const rec = await runOnce({ ...o, shimPath: shim?.path ?? o.shimPath }, st, program, cfg, mode, rep);
            runs.push(rec);
            if (rec.han) o.log(`HAN: ${JSON.stringify(rec.han)}`);
            if (rec.shim) o.log(`shim: ${JSON.stringify(rec.shim)}`);
            o.log(`run ${layout}/${cfg.placement}/${mode}: ${rec.wallS.toFixed(1)} s, exit ${rec.exitCode}`);
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
  const rows = aggregate(runs, o, net);
  const { log: _log, ...optsOut } = o;
  const results: BenchResults = {
    meta: {
      program: 'sitempi collective benchmark',
      version: 1,
      startedAt: started.toISOString(),
      durationS: (Date.now() - t0) / 1000,
      quick: o.quick,
      command: ['node', ...process.argv.slice(1).map((a) => (path.isAbsolute(a) && a.startsWith(repoRoot()) ? path.relative(repoRoot(), a) : a))].join(' '),
      host: os.hostname(),
      cpus: os.cpus().length,
      openmpi: ompiVersion(),
      gitCommit: gitCommit(),
      testbed: { rttMs: o.rttMs, alphaMs: o.rttMs / 2, bandwidthBps: net.bandwidthBps, mtu, sites: ['A', 'B'] },
      options: optsOut,
      sitempiColl: ['SITEMPI_COLL=on', ...o.shimEnv].join(' '),
      shim: shim ? { source: o.shimPath, sha1: shim.sha1, mtime: shim.mtime } : null,
      notes: [
        'Latency: median over iterations of max over ranks of (end - common scheduled start); all virtual nodes share one kernel clock (see osu_coll.c).',
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

// ------------------------------------------------------------------ CLI

const USAGE = `usage: node dist/bench/collectives/run.js [--quick] [--out DIR]
  [--configs 8x1/contiguous,8x1/interleaved,2x4/contiguous,2x4/interleaved]
  [--modes default,han,sitempi] [--colls barrier,bcast,reduce,allreduce,gather,allgather,alltoall]
  [--sizes 8,64,512,4k,16k,64k,256k,1m,4m] [--reps N] [--iters N] [--min-iters N] [--warmup N]
  [--budget-ms MS] [--max-point-ms MS] [--count N] [--count-budget-ms MS] [--rtt-ms MS] [--bandwidth 1gbit]
  [--state-dir DIR] [--prefix P] [--mgmt-subnet CIDR] [--data-subnet CIDR] [--keep-up]
  [--shim LIB] [--shim-env K=V,...] [--wanemu BIN] [--timeout-s S]   (default: $SITEMPI_BUILD_DIR or build/Release)
  [--from-json FILE]   (only re-render the .md and .svg from a results file)`;

function parseSizeArg(s: string): number {
  const m = /^([0-9]+)([kmg]?)(i?b)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}`);
  const scale: Record<string, number> = { '': 1, k: 1024, m: MiB, g: 1024 * MiB };
  return Number(m[1]) * (scale[(m[2] ?? '').toLowerCase()] as number);
}

export function parseArgs(argv: string[]): BenchOptions | { fromJson: string; out: string } {
  const quick = argv.includes('--quick');
  const o = defaultOptions(quick);
  let fromJson: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return x;
    };
    switch (a) {
      case '--quick': break;
      case '--out': o.out = path.resolve(v()); break;
      case '--configs':
        o.configs = v().split(',').map((c) => {
          const [layout, placement] = c.split('/');
          if (!layout || (placement !== 'contiguous' && placement !== 'interleaved')) throw new Error(`bad config ${c} (e.g. 8x1/interleaved)`);
          parseLayout(layout);
          return { layout, placement };
        });
        break;
      case '--modes':
        o.modes = v().split(',').map((m) => {
          if (!MODES.includes(m as Mode)) throw new Error(`bad mode ${m}`);
          return m as Mode;
        });
        break;
      case '--colls':
        o.colls = v().split(',').map((c) => {
          if (!COLLS.includes(c as CollName)) throw new Error(`bad collective ${c}`);
          return c as CollName;
        });
        break;
      case '--sizes': o.sizes = v().split(',').map(parseSizeArg); break;
      case '--reps': o.reps = Number(v()); break;
      case '--iters': o.iters = Number(v()); break;
      case '--min-iters': o.minIters = Number(v()); break;
      case '--warmup': o.warmup = Number(v()); break;
      case '--budget-ms': o.budgetMs = Number(v()); break;
      case '--max-point-ms': o.maxPointMs = Number(v()); break;
      case '--count': o.count = Number(v()); break;
      case '--count-budget-ms': o.countBudgetMs = Number(v()); break;
      case '--rtt-ms': o.rttMs = Number(v()); break;
      case '--bandwidth': o.bandwidth = v(); break;
      case '--state-dir': o.stateDir = path.resolve(v()); break;
      case '--prefix': o.prefix = v(); break;
      case '--mgmt-subnet': o.mgmtSubnet = v(); break;
      case '--data-subnet': o.dataSubnet = v(); break;
      case '--keep-up': o.keepUp = true; break;
      case '--shim': o.shimPath = path.resolve(v()); break;
      case '--shim-env':
        o.shimEnv = v().split(',').map((kv) => {
          if (!/^SITEMPI_[A-Z_]+=\S*$/.test(kv)) throw new Error(`bad --shim-env entry ${kv} (e.g. SITEMPI_COLL_SEGMENT_BYTES=0)`);
          return kv;
        });
        break;
      case '--wanemu': o.wanemuPath = path.resolve(v()); break;
      case '--timeout-s': o.runTimeoutS = Number(v()); break;
      case '--from-json': fromJson = path.resolve(v()); break;
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (fromJson) return { fromJson, out: o.out };
  return o;
}

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  if ('fromJson' in parsed) {
    const res = JSON.parse(readFileSync(parsed.fromJson, 'utf8')) as BenchResults;
    await writeOutputs(parsed.out, res);
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
