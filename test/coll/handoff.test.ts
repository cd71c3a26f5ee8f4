// The hand-off after the crossings of the spread Allgather and Reduce_scatter and the pairwise
// Alltoall (native/shim/coll/handoff.h): in force only where the library yields when idle (ranks
// share cores), at most a quarter of the one-way WAN latency the choices assume, off with
// SITEMPI_COLL_HANDOFF_US=0. The correctness grids run under it (their mpirun yields when idle;
// the alternatives' grid forces each spread and pairwise form).
import fs from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { baseMpirunArgs, compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const tiny = compileMpi('test/coll/programs/coll_tiny.c');

/** The hand-off each rank reports at MPI_Init (SITEMPI_VERBOSE), in µs; none: not in force. */
async function handoffs(env: Record<string, string>, baseArgs = baseMpirunArgs, np = 4): Promise<number[]> {
  const dir = tempDir('handoff');
  const r = await mpirun({
    np,
    program: tiny,
    baseArgs,
    env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_SITES: `A:0;B:1-${np - 1}`, SITEMPI_VERBOSE: '1', ...env },
  });
  fs.rmSync(dir, { recursive: true, force: true });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('coll_tiny ok');
  return [...r.stderr.matchAll(/hand them over for (\d+) us after posting what crosses/g)].map((m) => Number(m[1]));
}

describe('the hand-off after the spread and pairwise forms cross', () => {
  it('is in force on every rank where the library yields when idle, capped by the assumed latency', async () => {
    expect(await handoffs({})).toEqual([300, 300, 300, 300]);
    expect(await handoffs({ SITEMPI_COLL_HANDOFF_US: '1000' })).toEqual([1000, 1000, 1000, 1000]);
    // a quarter of a 400 µs one-way latency
    expect(await handoffs({ SITEMPI_COLL_ALPHA_US: '400' })).toEqual([100, 100, 100, 100]);
    expect(await handoffs({ SITEMPI_COLL_HANDOFF_US: '0' })).toEqual([]);
  }, 60_000);

  it('is off where the library does not yield when idle, and on for a node with more ranks than CPUs', async () => {
    const noYield = baseMpirunArgs.map((a, i) => (baseMpirunArgs[i - 1] === 'mpi_yield_when_idle' ? '0' : a));
    expect(noYield).toContain('0');
    expect(await handoffs({}, noYield)).toEqual([]);
    // mpi_yield_when_idle not given: Open MPI's own rule, more of the job's ranks than CPUs on the node
    const unset = ['--oversubscribe', '--mca', 'btl', 'self,vader'];
    const np = os.cpus().length + 1;
    expect(await handoffs({}, unset, np)).toEqual(Array<number>(np).fill(300));
  }, 60_000);
});
