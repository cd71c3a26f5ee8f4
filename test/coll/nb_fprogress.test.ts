// Fortran blocking calls advance the site-aware non-blocking collectives as the C ones do (in the
// library's progress engine, coll/progress_hook.h): a rank blocks in MPI_RECV, MPI_WAIT,
// MPI_SSEND, MPI_PROBE, MPI_SENDRECV or MPI_MPROBE/MPI_MRECV while its partner first waits for an Iallreduce (started through the C
// binding) that needs the blocked rank's chain. Without that, the first scenario stalls: the
// timeout, far below a stall, makes it a failure. Program: test/coll/programs/nb_fprogress.F90.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Role } from '../../src/generated/facts.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { readJob } from './records.js';

const SCENARIOS = ['recv', 'wait', 'ssend', 'probe', 'sendrecv', 'mprobe', 'barrier', 'bcast', 'allreduce'];
const bindings: Record<string, string[]> = {
  'mpif.h': ['-fallow-argument-mismatch'],
  'use mpi': ['-DUSE_MPI'],
  'use mpi_f08': ['-DF08', '-J', tempDir('nbf-mod')],
};

describe('Fortran blocking calls advance pending non-blocking collectives', () => {
  for (const [binding, flags] of Object.entries(bindings)) {
    it(`${binding}: every scenario finishes with exact results`, async () => {
      const program = compileMpi('test/coll/programs/nb_fprogress.F90', flags);
      const dir = tempDir('nb-fprogress');
      // Two sites of two: leaders 0 and 2 block, members 1 and 3 wait first.
      const r = await mpirun({
        np: 4,
        program,
        args: ['4096'],
        env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_SITES: 'A:0-1;B:2-3' },
        timeoutMs: 30_000,
      }).catch((e: Error) => ({ code: -1, stdout: '', stderr: String(e) }));
      const done = [...r.stdout.matchAll(/nb_fprogress ok (\w+)/g)].map((m) => m[1]);
      expect(done, `stalled after ${done.at(-1) ?? 'none'}: ${r.stderr}`).toEqual(SCENARIOS);
      expect(r.stdout).toMatch(/nb_fprogress done errors=0/);
      expect(r.code, r.stderr).toBe(0);
      const algs = new Set<number>();
      let recvs = 0;
      for (const f of readJob(dir).values())
        for (const x of f.records) {
          if (x.fn === 'Iallreduce' && x.role === Role.Coll) algs.add(x.alg);
          if (x.fn === 'Recv') recvs++;
        }
      expect([...algs]).not.toContain(0); // site-aware, so the chains were there to advance
      expect(algs.size).toBeGreaterThan(0);
      expect(recvs).toBeGreaterThan(0); // the Fortran calls still recorded
      fs.rmSync(dir, { recursive: true, force: true });
    }, 90_000);
  }
});
