// The algorithms' temporary buffers are uninitialised and, from 64 KiB up, handed out again from a
// pool (coll/scratch.h, core/scratch_pool.h; its own rules: native/core/tests/scratch_pool_test.cpp).
// Under real mpirun, every site-aware collective whose temporaries come from the pool is called
// twice over three sizes with new data each time and checked against its closed form: stale
// contents of a reused buffer, or an algorithm that counted on zeroed memory, would be wrong
// elements. The site-aware algorithms must have run (the records' alg), with the pool and without.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Alg } from '../../src/generated/facts.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { collRecords, readJob } from './records.js';

const program = compileMpi('test/coll/programs/scratch_reuse.c');
const np = 4;
// 3 sizes x 2 passes x 10 calls, fewer on the ranks that are no root of Reduce or Gather.
const CALLS_AT_LEAST = 48;

async function run(sites: string, env: Record<string, string>) {
  const dir = tempDir('coll-scratch');
  const r = await mpirun({
    np,
    program,
    env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_SITES: sites, SITEMPI_COLL_SMALL: '0', ...env },
    timeoutMs: 120_000,
  });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  const lines = [...r.stdout.matchAll(/^scratch_reuse rank (\d+): (\d+) calls, (\d+) errors$/gm)];
  expect(lines, r.stdout).toHaveLength(np);
  for (const m of lines) {
    expect(Number(m[3]), `rank ${m[1]}`).toBe(0);
    expect(Number(m[2])).toBeGreaterThanOrEqual(CALLS_AT_LEAST);
  }
  const job = readJob(dir);
  expect(job.size).toBe(np);
  const algs = new Map<string, Set<number>>();
  for (const rec of collRecords(job.get(0)!)) {
    if (!algs.has(rec.fn)) algs.set(rec.fn, new Set());
    algs.get(rec.fn)!.add(rec.alg);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return algs;
}

describe('temporary buffers reused across calls', () => {
  const siteAware = (algs: Map<string, Set<number>>) => {
    for (const fn of [
      'Allreduce',
      'Reduce',
      'Reduce_scatter_block',
      'Allgather',
      'Alltoall',
      'Gather',
      'Scatter',
      'Bcast',
    ]) {
      expect(algs.get(fn), fn).toBeDefined();
      expect(
        [...algs.get(fn)!].every((a) => a !== Alg.Library),
        `${fn}: ${[...algs.get(fn)!]}`,
      ).toBe(true);
    }
  };

  it('contiguous sites, the pool on (default): exact results', async () => {
    siteAware(await run('A:0-1;B:2-3', {}));
  });

  it('interleaved sites, leaders and grouped Alltoall (their own temporaries): exact results', async () => {
    const algs = await run('A:0,2;B:1,3', { SITEMPI_COLL_SPREAD: '0', SITEMPI_COLL_ALLTOALL: 'grouped' });
    siteAware(algs);
    expect([...algs.get('Alltoall')!]).toEqual([Alg.SiteLeaders]);
  });

  it('a site of one rank, packed Allgather, nothing kept (SITEMPI_COLL_SCRATCH_BYTES=0): exact results', async () => {
    siteAware(await run('A:0;B:1-3', { SITEMPI_COLL_SCRATCH_BYTES: '0', SITEMPI_COLL_PACKED: '1' }));
  });
});
