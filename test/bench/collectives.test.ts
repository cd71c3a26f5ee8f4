// The collective benchmark end to end, as root: a real testbed, real mpirun, the three modes, a
// tiny size list. Checks the outputs, one physical fact about the counters, and that HAN really
// ran where it can (and gave up where it cannot).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeAsRoot } from '../helpers/root.js';

import { COLLS, lowerBound } from '../../bench/collectives/bounds.js';
import { SETTLED_WARMUP } from '../../bench/collectives/job.js';
import { defaultOptions } from '../../bench/collectives/options.js';
import { runBenchmark } from '../../bench/collectives/run.js';
import type { BenchResults, Row } from '../../bench/collectives/types.js';
import {
  ALLTOALL_CALIBRATION_CALLS,
  ALLTOALL_CALIBRATION_ROUNDS,
  ALLTOALL_CALIBRATION_WARMUP,
} from '../../src/generated/facts.js';
import { packageRoot } from '../../src/native/paths.js';
import { down, listNetns } from '../../src/testbed/testbed.js';

// Distinct from a developer's testbed, the benchmark's own default and the testbed tests.
const PREFIX = 'smbtest';
const STATE_DIR = path.join(os.tmpdir(), 'sitempi-bench-vitest-testbed');
const OUT = path.join(os.tmpdir(), 'sitempi-bench-vitest-out');
const SIZES = [8, 65536];
/** What coll/han of Debian 12's Open MPI (4.1.4) implements, of the benchmark's collectives. */
// A congestion control other than the host's (which new namespaces inherit), so that --tcp-cc shows.
const HOST_CC = existsSync('/proc/sys/net/ipv4/tcp_congestion_control')
  ? readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim()
  : '';
const OTHER_CC = HOST_CC === 'reno' ? 'cubic' : 'reno';
const HAN_COLLS: string[] = ['barrier', 'bcast', 'reduce', 'allreduce', 'gather', 'allgather'];
const ROOT = packageRoot;

let res: BenchResults;
const logs: string[] = [];

function wanemuBinary(): string {
  const built = defaultOptions(true).wanemuPath;
  if (existsSync(built)) return built;
  const dir = path.join(os.tmpdir(), 'sitempi-bench-vitest-wanemu');
  mkdirSync(dir, { recursive: true });
  execFileSync('cmake', ['-S', path.join(ROOT, 'native', 'wanemu'), '-B', dir, '-DCMAKE_BUILD_TYPE=Release'], {
    stdio: 'pipe',
  });
  execFileSync('cmake', ['--build', dir, '-j', '2'], { stdio: 'pipe' });
  return path.join(dir, 'wanemu');
}

function row(layout: string, placement: string, coll: string, bytes: number): Row {
  const r = res.rows.find(
    (x) => x.layout === layout && x.placement === placement && x.coll === coll && x.bytes === bytes,
  );
  if (!r) throw new Error(`no row ${layout}/${placement} ${coll} ${bytes}`);
  return r;
}

/** Tags open and close in order (enough to catch a broken SVG writer). */
function wellFormedXml(text: string): boolean {
  const stack: string[] = [];
  for (const m of text.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name as string);
  }
  return stack.length === 0;
}

describeAsRoot('collective benchmark (root, testbed, mpirun; --quick with two sizes)', () => {
  beforeAll(async () => {
    rmSync(OUT, { recursive: true, force: true });
    const o = defaultOptions(true);
    res = await runBenchmark({
      ...o,
      out: OUT,
      configs: [
        { layout: '8x1', placement: 'interleaved' },
        { layout: '2x4', placement: 'contiguous' },
      ],
      sizes: SIZES,
      iters: 4,
      budgetMs: 150,
      stateDir: STATE_DIR,
      prefix: PREFIX,
      mgmtSubnet: '198.19.246.0/24',
      dataSubnet: '198.19.247.0/24',
      wanemuPath: wanemuBinary(),
      runTimeoutS: 90,
      tcpIdleRestart: false,
      tcpCongestion: OTHER_CC,
      log: (l) => logs.push(l),
    });
  }, 240_000);

  afterAll(async () => {
    await down({ stateDir: STATE_DIR, prefix: PREFIX });
  }, 60_000);

  it('writes well-formed JSON, markdown and SVG', () => {
    const json = JSON.parse(readFileSync(path.join(OUT, 'collectives.json'), 'utf8')) as BenchResults;
    expect(json.meta.quick).toBe(true);
    expect(json.meta.openmpi).toMatch(/Open MPI\) 4\.1\.[1-9]/); // HAN_COLLS is this release's
    // the machine, as the kernel tells it
    expect(json.meta.kernel).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(json.meta.bootId).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(json.meta.cpuModel).toMatch(/\S/);
    // how late its sleepers woke, alone and as many as the ranks (bench/wake-lateness.c)
    expect(json.meta.wakeLate?.map((w) => w.procs)).toEqual([1, 8]);
    for (const w of json.meta.wakeLate ?? []) expect(w.p75Us).toBeGreaterThanOrEqual(w.medianUs);
    // and what a system call cost, the host's state (bench/syscall-cost.c)
    expect(json.meta.syscall?.getppidNs).toBeGreaterThan(0);
    // per configuration HAN's probe job, then the default, sitempi, sitempi paired and (2x4, where
    // it keeps itself) HAN jobs, in the order's row (order.ts)
    const name = (r: BenchResults['runs'][0]): string =>
      `${r.layout} ${r.mode}${r.probe ? ' probe' : ''}${r.paired ? ' paired' : ''}`;
    expect(json.runs.map(name).sort()).toEqual([
      '2x4 default',
      '2x4 han',
      '2x4 han probe',
      '2x4 sitempi',
      '2x4 sitempi paired',
      '8x1 default',
      '8x1 han probe',
      '8x1 sitempi',
      '8x1 sitempi paired',
    ]);
    for (const r of json.runs) {
      expect(r.error, `${r.layout}/${r.placement}/${r.mode}: ${r.stderrTail}`).toBeUndefined();
      expect(r.exitCode).toBe(0);
      if (r.probe) {
        expect(r.results).toEqual([]);
        expect(r.han?.selected).toBe(true);
        continue;
      }
      // Every collective and size measured, and counted once; HAN's job only at the collectives it has
      // (this Open MPI's HAN: the Barrier and five more; no Alltoall, no Reduce_scatter_block).
      const colls = r.mode === 'han' ? HAN_COLLS : COLLS;
      expect(r.results.map((x) => x.coll)).toEqual(colls.flatMap((c) => (c === 'barrier' ? [c] : SIZES.map(() => c))));
      // counted once, in the job whose figures are kept (not in the paired one)
      expect(r.phases).toHaveLength(r.paired ? 0 : r.results.length);
      expect(r.results.every((x) => x.paired === r.paired)).toBe(true);
      for (const x of r.results) {
        expect(x.median_us).toBeGreaterThan(0);
        expect(x.iters).toBeGreaterThanOrEqual(3);
        // on the common clock unless its slowest warm-up call took the program's limit or more
        const unclocked = Number(r.info?.['unclocked_us']);
        expect(unclocked).toBeGreaterThan(0);
        expect(x.clocked, `${x.coll} ${x.bytes}`).toBe(x.warmup_worst_us < unclocked);
      }
      // the bytes goal is sitempi's: the library's modes count one call per point
      for (const p of r.phases) {
        if (r.mode === 'sitempi') expect(p.calls).toBeGreaterThanOrEqual(1);
        else expect(p.calls, `${r.mode} ${p.coll} ${p.bytes}`).toBe(1);
      }
      if (r.mode === 'sitempi' && !r.paired) expect(Math.max(...r.phases.map((p) => p.calls))).toBeGreaterThan(1);
      // the nodes' TCP counters, point by point; on 8x1 every message between ranks is a TCP
      // segment of some node's namespace, at least one per timed call
      expect(r.nodeTcp?.map((x) => `${x.coll} ${x.bytes}`)).toEqual(r.results.map((x) => `${x.coll} ${x.bytes}`));
      for (const [i, t] of (r.nodeTcp ?? []).entries()) {
        expect(t.timeouts).toBeGreaterThanOrEqual(0);
        if (r.layout === '8x1')
          expect(t.outSegs, `${t.coll} ${t.bytes}`).toBeGreaterThanOrEqual(r.results[i]?.iters ?? 1);
      }
    }
    expect(json.rows).toHaveLength(2 * (1 + (COLLS.length - 1) * SIZES.length));
    for (const r of json.rows) {
      // HAN gives up with one process per node: not timed there, nor where it leaves the call to tuned
      const hanTimed = r.layout === '2x4' && HAN_COLLS.includes(r.coll);
      expect(r.modes.han === undefined, `${r.layout} ${r.coll} han`).toBe(!hanTimed);
      for (const m of hanTimed ? (['default', 'han', 'sitempi'] as const) : (['default', 'sitempi'] as const)) {
        expect(r.modes[m]?.medianUs, `${r.layout}/${r.placement} ${r.coll} ${r.bytes} ${m}`).toBeGreaterThan(0);
        expect(r.modes[m]?.crossBytesPerCall).toBeGreaterThan(0);
      }
    }
    const md = readFileSync(path.join(OUT, 'collectives.md'), 'utf8');
    expect(md).toMatch(/^# Collective benchmark/);
    expect(md).toContain('## 8x1 interleaved');
    expect(md).toContain('## 2x4 contiguous');
    expect(md).toContain('## Goals of issue 17 (sitempi)');
    expect(md).toMatch(/\| allreduce \| 64 KiB \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|/);
    expect(md).toContain('| TCP timeouts | retrans % |');
    // --tcp-cc (not the host's default), set in every node's namespace and read back from one
    expect(json.meta.testbed.tcp).toBe(OTHER_CC);
    expect(json.meta.testbed.tcpSet).toBe(true);
    expect(md).toContain(`TCP congestion control ${OTHER_CC} (set with --tcp-cc)`);
    // --no-tcp-idle-restart, set in every node's namespace and read back from one
    expect(json.meta.testbed.tcpSlowStartAfterIdle).toBe(false);
    expect(md).toContain('congestion window kept across idle gaps (tcp_slow_start_after_idle=0)');
    const svg = readFileSync(path.join(OUT, 'collectives.svg'), 'utf8');
    expect(svg.trimStart().startsWith('<svg')).toBe(true);
    expect(wellFormedXml(svg)).toBe(true);
    for (const c of COLLS) expect(svg).toContain(`>${c}</text>`);
    expect(svg).not.toContain('NaN');
  });

  it('gets correct results from Open MPI default and sitempi', () => {
    for (const r of res.rows) {
      expect(r.modes.default?.ok, `default ${r.layout}/${r.placement} ${r.coll} ${r.bytes}`).toBe(true);
      expect(r.modes.sitempi?.ok, `sitempi ${r.layout}/${r.placement} ${r.coll} ${r.bytes}`).toBe(true);
    }
  });

  it('counts at least the lower bound of bytes crossing sites (default Bcast, largest size), and not absurdly more', () => {
    const m = SIZES[SIZES.length - 1] as number;
    for (const [layout, placement] of [
      ['8x1', 'interleaved'],
      ['2x4', 'contiguous'],
    ] as const) {
      const r = row(layout, placement, 'bcast', m);
      const rankSites = res.runs.find((x) => x.layout === layout && x.placement === placement)?.rankSites as string[];
      const bound = lowerBound('bcast', m, rankSites, { alphaS: 0.005, bandwidthBps: 1e9, mtu: 65000 });
      expect(r.bound.bytes).toBe(bound.bytes);
      expect(bound.bytes).toBe(m); // two sites: one copy must cross
      const measured = r.modes.default?.crossBytesPerCall as number;
      expect(measured).toBeGreaterThanOrEqual(bound.bytes);
      // Each of the 7 receivers gets the message once: at most 7 copies cross (plus headers).
      expect(measured).toBeLessThanOrEqual(7 * m * 1.05 + 16384);
    }
    // Alltoall cannot do better than the bound, and Open MPI's pairwise exchange sends each block
    // once: the counters must land right on it (within headers and ACKs).
    const a = row('8x1', 'interleaved', 'alltoall', m);
    const xb = a.modes.default?.crossBytesPerCall as number;
    expect(xb).toBeGreaterThanOrEqual(a.bound.bytes);
    expect(xb).toBeLessThanOrEqual(a.bound.bytesWithHeaders * 1.1);
  });

  it('really used HAN with several ranks per node, and saw it give up with one (probe), not timing it there', () => {
    const han24 = res.runs.filter((r) => r.layout === '2x4' && r.mode === 'han');
    const han81 = res.runs.filter((r) => r.layout === '8x1' && r.mode === 'han');
    expect(han24.map((r) => Boolean(r.probe))).toEqual([true, false]);
    for (const r of han24) {
      expect(r.mpirun.join(' ')).toContain('coll_han_priority 100');
      expect(r.han?.selected).toBe(true);
      expect(r.han?.active, JSON.stringify(r.han)).toBe(true);
      expect(r.han?.processesWithSubcomms).toBe(8);
    }
    expect(han81.map((r) => Boolean(r.probe))).toEqual([true]);
    expect(han81[0]?.han?.selected).toBe(true);
    expect(han81[0]?.han?.active).toBe(false);
    const md = readFileSync(path.join(OUT, 'collectives.md'), 'utf8');
    expect(md).toMatch(/\| 2x4 contiguous \| yes, yes \| probe: yes \(\d+ per process\), yes/);
    expect(md).toContain('| 8x1 interleaved | yes | probe: no: gave up, runs tuned |');
    expect(md).toContain('HAN was not timed on 8x1 interleaved');
    expect(md).toContain(`HAN was not timed at alltoall, reduce_scatter: HAN of ${res.meta.openmpi} has none`);
    // s/HAN is empty there and the best is the default's
    expect(md).toMatch(/\n\| allreduce \| 64 KiB \| [0-9.]+ \| — \| [0-9.]+ \|/);
  });

  it('ran the sitempi mode under the shim with the matching site map', () => {
    for (const r of res.runs.filter((x) => x.mode === 'sitempi')) {
      expect(r.shim?.loaded, JSON.stringify(r.shim)).toBe(true);
      expect(r.mpirun.join(' ')).toContain(`SITEMPI_SITES=${r.sitesEnv}`);
    }
    const inter = res.runs.find((r) => r.layout === '8x1' && r.placement === 'interleaved');
    expect(inter?.sitesEnv).toBe('A:0,2,4,6;B:1,3,5,7');
    expect(inter?.hosts).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3'].map((n) => `${PREFIX}-${n}`));
    expect(res.runs.find((r) => r.layout === '2x4')?.sitesEnv).toBe('A:0-3;B:4-7');
  });

  it("reads from the shim's records which algorithm ran each point, the Alltoall's calibration included", () => {
    for (const r of res.runs.filter((x) => x.mode === 'sitempi')) {
      const algs = r.shim?.algs ?? {};
      const where = `${r.layout}/${r.placement}`;
      // 64 KiB: the Bcast through the leaders, the Alltoall pairwise, both sure in the model: untimed
      expect(algs['bcast:65536']?.last, where).toBe('SiteLeaders');
      expect(Object.keys(algs['alltoall:65536']?.calls ?? {}), where).toEqual(['SitePairwise']);
      // 8 B per pair: grouped (the model's choice) and the library untimed, then both timed in
      // each round of the warm-up, then the one kept
      const small = algs['alltoall:8'];
      const each = ALLTOALL_CALIBRATION_WARMUP + ALLTOALL_CALIBRATION_ROUNDS;
      expect(small?.calls.SiteLeaders, where).toBeGreaterThanOrEqual(each);
      expect(small?.calls.Library, where).toBeGreaterThanOrEqual(each);
      expect(['SiteLeaders', 'Library'], where).toContain(small?.last);
    }
    expect(row('2x4', 'contiguous', 'bcast', 65536).modes.sitempi?.algs).toEqual(['SiteLeaders']);
    const md = readFileSync(path.join(OUT, 'collectives.md'), 'utf8');
    expect(md).toMatch(/\| bcast \| 64 KiB \|.*\| leaders \|\n/);
  });

  it("pairs the shim's calls with the library's own in a second sitempi job, and keeps the first job's figures", () => {
    for (const r of res.runs) {
      expect(r.paired === true, `${r.layout} ${r.mode}`).toBe(r.mode === 'sitempi' && r.results.some((x) => x.paired));
      for (const x of r.results) {
        if (!r.paired) {
          expect(x.paired).toBeUndefined();
          continue;
        }
        expect(x.paired).toBe(true);
        expect(x.pmpi_median_us).toBeGreaterThan(0);
        expect(x.paired_ratio_median).toBeGreaterThan(0);
      }
    }
    // The table's sitempi figure is the unpaired job's; the paired job gives the ratio and its own
    // shim figure, for comparison.
    const job = (paired: boolean) =>
      res.runs
        .find((r) => r.layout === '8x1' && r.mode === 'sitempi' && Boolean(r.paired) === paired)
        ?.results.find((x) => x.coll === 'bcast' && x.bytes === 65536);
    const cell = row('8x1', 'interleaved', 'bcast', 65536).modes.sitempi;
    expect(cell?.medianUs).toBe(job(false)?.median_us);
    expect(cell?.pairedShimUs).toBe(job(true)?.median_us);
    expect(cell?.pairedRatio).toBe(job(true)?.paired_ratio_median);
    // One copy of a 64 KiB Bcast crosses instead of four: the shim's call beats the library's own
    // in adjacent iterations (0.4x on the testbed), which a broken alternation (the same call
    // twice) would put at 1.
    const b = row('8x1', 'interleaved', 'bcast', 65536).modes.sitempi;
    expect(b?.pairedRatio).toBeLessThan(0.8);
    expect(b?.pairedLibraryUs).toBeGreaterThan(b?.medianUs as number);
    const md = readFileSync(path.join(OUT, 'collectives.md'), 'utf8');
    expect(md).toContain('| s/lib paired |');
    expect(md).toContain("paired in one job: no slower than 1.1× the library's own algorithm");
    expect(md).toMatch(/The shim's calls in the paired job took [0-9.]+× the sitempi job's/);
  });

  it("keeps the shim's Alltoall calibration out of the timed loop, and warms the library's Alltoall less", () => {
    const library = 2 * ALLTOALL_CALIBRATION_WARMUP;
    for (const r of res.runs) {
      for (const x of r.results) {
        const where = `${r.layout}/${r.placement}/${r.mode} ${x.coll} ${x.bytes}`;
        if (x.coll !== 'alltoall') {
          if (r.paired) expect(x.pmpi_warmup, where).toBe(x.warmup);
          continue;
        }
        expect(x.warmup, where).toBe(r.mode === 'sitempi' ? ALLTOALL_CALIBRATION_CALLS + SETTLED_WARMUP : library);
        expect(x.pmpi_warmup, where).toBe(r.paired ? library : undefined);
      }
    }
  });

  it('leaves no testbed behind', async () => {
    expect((await listNetns()).filter((n) => n.startsWith(`${PREFIX}-`))).toEqual([]);
  });
});
