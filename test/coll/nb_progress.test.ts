// The site-aware Iallreduce and Ibcast (on by default) under valid programs in which the rank whose
// chain must advance blocks in another MPI call while its partner first waits for the collective:
// blocking point-to-point, a probe, a Waitall on another request, blocking collectives (covered,
// the library's only, a communicator split), collectives and a window fence over another
// communicator; and a collective whose communicator is freed before the wait. Each scenario must
// finish (a timeout far below a stall: the chains advance inside those calls, in the library's
// progress engine, coll/progress_hook.h) with exact results, and the non-blocking calls must have
// run site-aware. Program: test/coll/programs/nb_progress.c.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Role } from '../../src/generated/facts.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { readJob } from './records.js';

const program = compileMpi('test/coll/programs/nb_progress.c');
const threads = compileMpi('test/coll/programs/nb_threads.c', ['-pthread']);
const SCENARIOS = [
  ...['recv', 'ssend', 'probe', 'sendrecv', 'waitall', 'barrier', 'bcast', 'allreduce', 'scan', 'split'],
  ...['barrier-other', 'bcast-other', 'allreduce-other', 'allgather-other', 'dup-other', 'fence-other'],
  'orphan',
];

/** The algorithms `fn`'s calls of the job in `dir` recorded (0: the library's). */
function algsOf(dir: string, fn: string): number[] {
  const algs = new Set<number>();
  for (const f of readJob(dir).values())
    for (const x of f.records) if (x.fn === fn && x.role === Role.Coll) algs.add(x.alg);
  return [...algs];
}

describe('non-blocking site-aware collectives progress inside blocking calls', () => {
  for (const [coll, fn] of [
    ['iallreduce', 'Iallreduce'],
    ['ibcast', 'Ibcast'],
  ] as const) {
    it(`${fn}: every scenario finishes with exact results`, async () => {
      const dir = tempDir('nb-progress');
      // 4 ranks on two sites of two: leaders 0 and 2 block, members 1 and 3 wait first. 4096
      // doubles: the chains' messages are eager or rendezvous depending on nothing here.
      const r = await mpirun({
        np: 4,
        program,
        args: [coll, '4096'],
        env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_SITES: 'A:0-1;B:2-3' },
        timeoutMs: 60_000,
      }).catch((e: Error) => ({ code: -1, stdout: '', stderr: String(e) }));
      const done = [...r.stdout.matchAll(/nb_progress ok ([\w-]+)/g)].map((m) => m[1]);
      expect(done, `stalled after ${done.at(-1) ?? 'none'}: ${r.stderr}`).toEqual(SCENARIOS);
      expect(r.stdout).toMatch(/nb_progress done errors=0/);
      expect(r.code, r.stderr).toBe(0);
      const algs = algsOf(dir, fn);
      expect(algs).not.toContain(0); // every call ran site-aware (no library fallback)
      expect(algs.length).toBeGreaterThan(0);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 90_000);
  }

  it('MPI_THREAD_MULTIPLE: three threads per rank complete their own Iallreduces and Ibcasts, by Wait and by Test', async () => {
    const dir = tempDir('nb-threads');
    // The progress engine may run the shim's callback on any thread; each thread's results are
    // checked exactly (test/coll/programs/nb_threads.c).
    const r = await mpirun({
      np: 4,
      program: threads,
      args: ['100', '4096'],
      env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_SITES: 'A:0-1;B:2-3' },
      timeoutMs: 60_000,
    });
    expect(r.stdout, r.stderr).toMatch(/nb_threads ok/);
    expect(r.code, r.stderr).toBe(0);
    for (const fn of ['Iallreduce', 'Ibcast']) {
      const algs = algsOf(dir, fn);
      expect(algs, fn).not.toContain(0); // site-aware, every call
      expect(algs.length, fn).toBeGreaterThan(0);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 90_000);
});
