// Site-aware collectives for Fortran callers (mpif.h, use mpi, use mpi_f08): the program checks
// its results against formulas; here every rank's records are held to the cost model's
// prediction, call by call, and every covered collective must have run a site-aware algorithm.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { addon, checkJob, type CallLine } from './predict.js';
import { readJob } from './records.js';

const source = 'test/coll/programs/fcoll.F90';
const bindings: Record<string, string[]> = {
  // gfortran >= 10 rejects mpif.h calls that pass different types to one routine, as MPI needs.
  'mpif.h': ['-fallow-argument-mismatch'],
  'use mpi': ['-DUSE_MPI'],
  'use mpi_f08': ['-DF08', '-J', tempDir('fcoll-mod')],
};

/** The collective calls fcoll.F90 makes on MPI_COMM_WORLD, in order (m and blocks in bytes). */
function fcollCalls(P: number): CallLine[] {
  const members = Array.from({ length: P }, (_, j) => j);
  const blocks = members.map((j) => (j + 1) * 4);
  const matrix = members.flatMap((i) => members.map((j) => (((i + j) % 3) + 1) * 4));
  const call = (coll: string, root: number, m: number, elems = 0, extra: Partial<CallLine> = {}): CallLine => ({
    comm: 1,
    coll,
    root,
    m,
    elems,
    commutative: true,
    what: coll,
    members,
    ...extra,
  });
  return [
    call('Barrier', -1, 0),
    call('Bcast', P - 1, 28),
    call('Reduce', 1, 20, 5),
    call('Allreduce', -1, 40, 5),
    call('Allreduce', -1, 12, 3), // the user-defined operation
    call('Gather', 0, 12),
    call('Gatherv', 2, 0, 0, { blocks }),
    call('Scatter', 1, 8),
    call('Scatterv', 0, 0, 0, { blocks }),
    call('Allgather', -1, 8),
    call('Allgatherv', -1, 0, 0, { blocks }),
    call('Alltoall', -1, 4),
    call('Alltoallv', -1, 0, 0, { matrix }),
    call('Allreduce', -1, 4, 1),
  ];
}

describe('site-aware collectives from Fortran', () => {
  for (const [binding, flags] of Object.entries(bindings)) {
    for (const [np, sites] of [
      [4, 'A:0,2;B:1,3'],
      [4, 'A:0;B:1-3'],
      [5, 'A:0-1;B:2-3;C:4'],
    ] as const) {
      it(`${binding}, ${sites}`, async () => {
        const program = compileMpi(source, flags);
        const dir = tempDir('fcoll');
        const alphaUs = 5000; // the shim's default, stated: the prediction must assume the same
        const r = await mpirun({
          np,
          program,
          // every call site-aware, the small ones too (the small-call rule has its own test)
          env: {
            SITEMPI_OUTPUT_DIR: dir,
            SITEMPI_SITES: sites,
            SITEMPI_COLL_ALPHA_US: String(alphaUs),
            SITEMPI_COLL_SMALL: '0',
          },
        });
        expect(r.stdout + r.stderr).not.toContain('MISMATCH');
        expect(r.stdout).toContain('fcoll ok');
        expect(r.code).toBe(0);
        const res = checkJob(readJob(dir), dir, addon.parseSites(sites, np).siteOf, {
          calls: () => fcollCalls(np),
          alphaUs,
          smallBytes: 0,
        });
        fs.rmSync(dir, { recursive: true, force: true });
        expect(res.mismatches).toEqual([]);
        expect(res.boundFailures).toEqual([]);
        for (const coll of new Set(fcollCalls(np).map((c) => c.coll)))
          expect([...res.algs.get(coll)!], coll).not.toContain(0);
      }, 120_000);
    }
  }
});
