// The observe path end to end: real programs under real mpirun with the shim preloaded, streaming
// to the monitor (embedded by `sitempi run`, over a Unix socket) or to per-rank files read back
// by `sitempi report`. The monitor's matrices must equal the traffic the programs were written
// to send (test/shim/expect.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/native/paths.js';
import { baseMpirunArgs, compileMpi, mpirun, run, tempDir } from '../helpers/mpi.js';
import { fortran, patterns, type Expected } from './expect.js';

const cli = path.join(packageRoot, 'bin', 'sitempi.js');
const patternsBin = compileMpi('test/shim/programs/patterns.c');
const P = 4;

interface JsonReport {
  jobs: {
    size: number;
    matrix: { bytes: number[][]; messages: number[][] };
    functions: { name: string; count: number; bytes: number }[];
    classification: { verdict: string };
    unexpandedCollectives: number;
  }[];
}

/**
 * `sitempi run --json` around mpirun: the JSON report is the last line of stdout. `sites`: a site
 * map for the shim (SITEMPI_SITES), which then runs its site-aware collectives.
 */
async function sitempiRun(
  program: string,
  args: string[],
  np = P,
  sites?: string,
): Promise<{ report: JsonReport; stdout: string; code: number }> {
  // with sites: every collective site-aware, the small ones too (SITEMPI_COLL_SMALL=0; the rule that
  // hands small ones to the library is tested in test/coll)
  const siteArgs = sites ? ['-x', `SITEMPI_SITES=${sites}`, '-x', 'SITEMPI_COLL_SMALL=0'] : [];
  const r = await run(
    'node',
    [cli, 'run', '--json', '-np', String(np), ...baseMpirunArgs, ...siteArgs, '--', program, ...args],
    120_000,
  );
  const lines = r.stdout.trimEnd().split('\n');
  const last = lines.pop() ?? '';
  if (r.code !== 0 || !last.startsWith('{'))
    throw new Error(`sitempi run failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return { report: JSON.parse(last) as JsonReport, stdout: lines.join('\n'), code: r.code };
}

function expectMatrix(report: JsonReport, want: Expected): void {
  expect(report.jobs).toHaveLength(1);
  expect(report.jobs[0].matrix.bytes).toEqual(want.bytes);
  expect(report.jobs[0].matrix.messages).toEqual(want.messages);
}

const fn = (report: JsonReport, name: string) => report.jobs[0].functions.find((f) => f.name === name);

describe('observe path under mpirun -np 4 (C)', () => {
  for (const mode of ['ring', 'allpairs', 'anysource', 'persistent', 'collectives', 'split', 'rma']) {
    it(`${mode}: the monitor's matrix is exactly the program's traffic`, async () => {
      const { report, stdout } = await sitempiRun(patternsBin, [mode]);
      expect(stdout).toContain(`patterns ${mode}: ok`);
      expectMatrix(report, patterns(mode, P));
    });
  }

  it('ring: per-function counts and bytes', async () => {
    const { report } = await sitempiRun(patternsBin, ['ring']);
    expect(fn(report, 'MPI_Send')).toMatchObject({ count: 40, bytes: 40 * 4000 });
    expect(fn(report, 'MPI_Recv')).toMatchObject({ count: 40 });
    expect(fn(report, 'MPI_Finalize')).toMatchObject({ count: 4 });
  });

  it('a call of 2 s keeps its whole duration (beyond 32 bits of clock ticks)', async () => {
    const { report } = await sitempiRun(patternsBin, ['wait2s'], 2);
    const recv = fn(report, 'MPI_Recv') as unknown as { count: number; seconds: number };
    expect(recv.count).toBe(1);
    expect(recv.seconds).toBeGreaterThan(1.9);
    expect(recv.seconds).toBeLessThan(30);
  });

  it('anysource: receives from MPI_ANY_SOURCE are counted once each, with their bytes', async () => {
    const { report } = await sitempiRun(patternsBin, ['anysource']);
    expect(fn(report, 'MPI_Recv')).toMatchObject({ count: 3, bytes: 300 });
    expect(fn(report, 'MPI_Irecv')).toMatchObject({ count: 6 });
    expect(fn(report, 'MPI_Send')).toMatchObject({ count: 9, bytes: 900 });
  });

  it('per-rank files read back by `sitempi report` give the same matrices', async () => {
    const dir = tempDir('files');
    for (const mode of ['collectives', 'split']) {
      const r = await mpirun({
        np: P,
        program: patternsBin,
        args: [mode],
        env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: mode },
      });
      expect(r.code).toBe(0);
      const files = fs
        .readdirSync(dir)
        .filter((f) => f.startsWith(`sitempi-${mode}-`))
        .map((f) => path.join(dir, f));
      expect(files).toHaveLength(P);
      const rep = await run('node', [cli, 'report', '--json', ...files]);
      expect(rep.code).toBe(0);
      expectMatrix(JSON.parse(rep.stdout) as JsonReport, patterns(mode, P));
    }
  });
});

/** The `use mpi` variant of the mpif.h program: the same source with the module instead. */
function useMpiVariant(): string {
  const src = fs.readFileSync(path.join(packageRoot, 'test/shim/programs/fortran_mpif.f90'), 'utf8');
  const out = path.join(tempDir('usempi'), 'fortran_usempi.f90');
  fs.writeFileSync(out, src.replace("  implicit none\n  include 'mpif.h'\n", '  use mpi\n  implicit none\n'));
  expect(fs.readFileSync(out, 'utf8')).toContain('use mpi\n');
  return out;
}

describe('observe path with site-aware collectives', () => {
  it('records of site-aware algorithms are expanded with the grouping the shim used', async () => {
    // The stencil demo: halo exchange with neighbours, Allreduce every 10 steps, a final Reduce.
    const demo = path.join(packageRoot, 'build', 'Release', 'sitempi-demo');
    const { report } = await sitempiRun(demo, ['1000', '50'], P, 'A:0,1;B:2,3');
    const job = report.jobs[0];
    expect(job.unexpandedCollectives).toBe(0);
    const b = job.matrix.bytes,
      m = job.matrix.messages;
    // Site B's leader (rank 2) carries its site's reductions to A's leader (rank 0): 5 Allreduce
    // swaps and the Reduce, 8 bytes each; rank 3 reaches site A only through its leader (the flat
    // model of the library's algorithms would have rank 3 send to rank 0).
    expect(b[3][0] + b[3][1]).toBe(0);
    expect(b[2][0]).toBe(6 * 8);
    expect(m[2][0]).toBe(6);
    expect(b[0][2]).toBe(5 * 8);
  });
});

describe('observe path with MPI_THREAD_MULTIPLE', () => {
  // 4 threads per rank call MPI at once (test/shim/programs/threads_multiple.c): thread t sends
  // K messages of (t+1)*100 bytes around a ring on a communicator all threads share, and runs K
  // Allreduces of t+1 ints on its own duplicate; a last Allreduce of one int on the world.
  const threads = compileMpi('test/shim/programs/threads_multiple.c', ['-pthread']);
  const K = 200,
    T = 4;
  const ringBytes = K * Array.from({ length: T }, (_, t) => (t + 1) * 100).reduce((a, b) => a + b);
  const allreduceBytes = K * Array.from({ length: T }, (_, t) => 4 * (t + 1)).reduce((a, b) => a + b) + 4;

  function expectCounts(report: JsonReport): void {
    expect(fn(report, 'MPI_Sendrecv')).toMatchObject({ count: (P * T * K) / 2, bytes: (P * ringBytes) / 2 });
    expect(fn(report, 'MPI_Isend')).toMatchObject({ count: (P * T * K) / 2, bytes: (P * ringBytes) / 2 });
    expect(fn(report, 'MPI_Irecv')).toMatchObject({ count: (P * T * K) / 2 });
    expect(fn(report, 'MPI_Allreduce')).toMatchObject({ count: P * (T * K + 1) });
  }

  it("every thread's calls are recorded: exact matrix and counts", async () => {
    const { report, stdout } = await sitempiRun(threads, [String(K)]);
    expect(stdout).toContain('threads ok');
    expectCounts(report);
    // The ring, plus the library's Allreduces (4 to 16 B on 4 ranks) as coll/tuned runs them:
    // recursive doubling, each rank sending to rank^1 and rank^2.
    const partner = (s: number, d: number) => d === (s ^ 1) || d === (s ^ 2);
    const bytes = Array.from({ length: P }, (_, s) =>
      Array.from({ length: P }, (_, d) => (d === (s + 1) % P ? ringBytes : 0) + (partner(s, d) ? allreduceBytes : 0)),
    );
    const msgs = Array.from({ length: P }, (_, s) =>
      Array.from({ length: P }, (_, d) => (d === (s + 1) % P ? T * K : 0) + (partner(s, d) ? T * K + 1 : 0)),
    );
    expect(report.jobs[0].matrix.bytes).toEqual(bytes);
    expect(report.jobs[0].matrix.messages).toEqual(msgs);
  });

  it('with site-aware collectives running on four communicators at once', async () => {
    const { report, stdout } = await sitempiRun(threads, [String(K)], P, 'A:0,2;B:1,3');
    expect(stdout).toContain('threads ok');
    expectCounts(report);
    // The ring, plus site-aware Allreduces: 2 and 3 reduce to their leaders 0 and 1, the leaders
    // swap, and broadcast back; nothing else.
    const A = allreduceBytes;
    const want = [
      [0, ringBytes + A, A, 0],
      [A, 0, ringBytes, A],
      [A, 0, 0, ringBytes],
      [ringBytes, A, 0, 0],
    ];
    expect(report.jobs[0].matrix.bytes).toEqual(want);
  });
});

describe('observe path: Fortran bindings', () => {
  const sources: Record<string, () => string> = {
    'mpif.h': () => 'test/shim/programs/fortran_mpif.f90',
    'use mpi': useMpiVariant,
    'use mpi_f08': () => 'test/shim/programs/fortran_f08.f90',
  };
  for (const [binding, source] of Object.entries(sources)) {
    it(`${binding}: recorded through the Fortran entry points`, async () => {
      const bin = compileMpi(source());
      const { report, stdout } = await sitempiRun(bin, []);
      expect(stdout).toContain('fortran ok');
      expectMatrix(report, fortran(P));
      expect(fn(report, 'MPI_Send')).toMatchObject({ count: 5 * P + (P - 1) });
      expect(fn(report, 'MPI_Comm_split')).toMatchObject({ count: P });
    });
  }
});
