// `npm run bench` end to end with the shortest settings (--smoke): every benchmark under bench/
// runs from the compiled dist/ (npm run build), each prints its ratios, and the documented
// results in bench/results stay as they are. The testbed benchmarks need root; without it the
// suite must skip them with the reason, and this test checks that instead. (Their testbeds are
// the benchmarks' own, prefixes smbench and sme2e: the relocation one is shared with
// test/relocation/e2e.test.ts, which vitest never runs at the same time.)
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { parseSuiteArgs, SUITE } from '../../bench/run.js';
import { packageRoot } from '../../src/native/paths.js';
import { isRoot } from '../helpers/root.js';

const OUT = path.join(os.tmpdir(), 'sitempi-bench-suite-vitest');
const RESULTS = path.join(packageRoot, 'bench', 'results');
// The suite kills a benchmark at its limit, so the whole run is bounded by the sum of the limits.
const SMOKE_LIMIT_MS = SUITE.reduce((a, b) => a + b.timeoutS.smoke, 0) * 1000 + 60_000;

function resultsDigest(): string {
  const h = crypto.createHash('sha1');
  for (const f of readdirSync(RESULTS).sort()) h.update(f).update(readFileSync(path.join(RESULTS, f)));
  return h.digest('hex');
}

describe('benchmark suite options', () => {
  it('is quick by default, writes bench/results only with --full, and refuses unknown names', () => {
    const q = parseSuiteArgs([]);
    expect(q.level).toBe('quick');
    expect(q.out).not.toBe(RESULTS);
    expect(parseSuiteArgs(['--full']).out).toBe(RESULTS);
    expect(parseSuiteArgs(['--smoke', '--only', 'ingest,overhead'])).toMatchObject({
      level: 'smoke',
      only: ['ingest', 'overhead'],
    });
    expect(() => parseSuiteArgs(['--only', 'nosuchbench'])).toThrow(/unknown benchmark nosuchbench/);
    expect(() => parseSuiteArgs(['--fast'])).toThrow(/unknown argument --fast/);
  });
});

describe('npm run bench -- --smoke (every benchmark, real mpirun)', () => {
  let code: number | null = null;
  let stdout = '';
  let before = '';

  beforeAll(async () => {
    expect(
      existsSync(path.join(packageRoot, 'dist', 'bench', 'run.js')),
      'dist/bench/run.js is missing: npm run build',
    ).toBe(true);
    rmSync(OUT, { recursive: true, force: true });
    before = resultsDigest();
    await new Promise<void>((resolve) => {
      const child = spawn('npm', ['run', 'bench', '--', '--smoke', '--out', OUT], {
        cwd: packageRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', () => undefined);
      child.on('close', (c) => {
        code = c;
        resolve();
      });
    });
  }, SMOKE_LIMIT_MS);

  it('finishes with status 0', () => {
    expect(code, stdout.slice(-4000)).toBe(0);
  });

  it('prints the ratios of every benchmark (or why a testbed one was skipped)', () => {
    const summary = stdout.slice(stdout.lastIndexOf('== ratios (smoke settings'));
    expect(summary).toContain(`files in ${OUT}`);
    for (const b of SUITE) {
      if (b.testbed && !isRoot) {
        expect(summary).toMatch(new RegExp(`^${b.name}: skipped \\(it runs on the testbed: .*root`, 'm'));
        continue;
      }
      // "name (N s):" then indented ratio lines, each with a number.
      const m = new RegExp(`^${b.name} \\(\\d+ s\\):\\n((?:  .*\\n?)+)`, 'm').exec(summary);
      expect(m, `${b.name} in:\n${summary}`).not.toBeNull();
      expect((m?.[1] as string).trim()).toMatch(/[0-9]+\.[0-9]+/);
    }
    expect(summary).not.toContain('FAILED');
  });

  it("writes each benchmark's results to --out, and leaves bench/results alone", () => {
    for (const f of ['overhead.json', 'coll-overhead.json', 'agreement.json', 'ingest.json']) {
      expect(existsSync(path.join(OUT, f)), f).toBe(true);
    }
    const overhead = JSON.parse(readFileSync(path.join(OUT, 'overhead.json'), 'utf8')) as {
      rows: { plain: number; shim: number }[];
    };
    expect(overhead.rows.length).toBeGreaterThan(0);
    for (const r of overhead.rows) expect(r.shim).toBeGreaterThan(0);
    // Each collective's row carries the shim's added ns and what the two TSC reads alone add.
    // Ranks yield their core while polling only where they outnumber the CPUs.
    const collOverhead = JSON.parse(readFileSync(path.join(OUT, 'coll-overhead.json'), 'utf8')) as {
      machine: { kernel: string; syscall: { getppidNs: number } };
      rows: {
        np: number;
        pmpi_ns: number;
        added_ns: number;
        floor_ns: number;
        one_rank_ns: number;
        yield_when_idle: boolean;
      }[];
    };
    expect(collOverhead.machine.kernel).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(collOverhead.machine.syscall.getppidNs).toBeGreaterThan(0);
    expect(collOverhead.rows.length).toBeGreaterThan(0);
    for (const r of collOverhead.rows) {
      expect(r.yield_when_idle, JSON.stringify(r)).toBe(r.np > os.availableParallelism());
      expect(r.pmpi_ns).toBeGreaterThan(0);
      expect([r.added_ns, r.floor_ns, r.one_rank_ns].every(Number.isFinite), JSON.stringify(r)).toBe(true);
    }
    if (isRoot) {
      const coll = JSON.parse(readFileSync(path.join(OUT, 'collectives.json'), 'utf8')) as {
        meta: { quick: boolean };
        rows: unknown[];
      };
      expect(coll.meta.quick).toBe(true);
      expect(coll.rows.length).toBeGreaterThan(0);
      expect(existsSync(path.join(OUT, 'relocation.json'))).toBe(true);
    }
    expect(resultsDigest()).toBe(before);
  });
});
