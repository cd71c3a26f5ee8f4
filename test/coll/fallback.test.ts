// Fallback to PMPI is decided for a whole communicator, never by one rank alone: a rank whose site
// setup fails (injected with the test-only SITEMPI_TEST_FAIL_COLL=RANK:N, "world rank RANK fails
// its N-th site setup") takes its communicator's every rank to PMPI, and ranks started with
// different site settings turn site-aware collectives off for the whole job. Either way the job
// ends (a timeout catches a hang) with results equal to PMPI's (coll_check compares every call).
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Alg } from '../../src/generated/facts.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { collRecords, readJob } from './records.js';

const program = compileMpi('test/coll/programs/coll_check.c');

// coll_check runs on MPI_COMM_WORLD, then on a split by parity. With 6 ranks on two sites of three,
// world and both halves ({0,2,4}, {1,3,5}) span both sites with fewer sites than ranks: all three
// run site-aware unless something turns them off.
const np = 6;
const sites = 'A:0-2;B:3-5';

/** Per rank: the algorithms its world calls ran and those its split calls ran. */
type Algs = { world: Set<number>; split: Set<number> };

async function run(env: Record<string, string>, wrap?: string): Promise<{ algs: Map<number, Algs>; stderr: string }> {
  const dir = tempDir('coll-fallback');
  const args = [dir, 'quick'];
  const r = await mpirun({
    np,
    program: wrap ? 'sh' : program,
    args: wrap ? ['-c', wrap, 'sh', program, ...args] : args,
    env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_SITES: sites, ...env },
    timeoutMs: 120_000,
  });
  expect(r.stderr).not.toMatch(/MISMATCH/);
  expect(r.code, r.stderr).toBe(0);
  const m = /coll_check rank 0: (\d+) calls, (\d+) errors/.exec(r.stdout);
  expect(m, r.stdout + r.stderr).not.toBeNull();
  expect(Number(m![2])).toBe(0);
  expect(Number(m![1])).toBeGreaterThan(500);
  const job = readJob(dir);
  expect(job.size).toBe(np);
  const algs = new Map<number, Algs>();
  for (const [rank, f] of job) {
    // World's calls come first, then the split's: the communicators in order of first use.
    const comms: number[] = [];
    const a: Algs = { world: new Set(), split: new Set() };
    for (const rec of collRecords(f)) {
      if (!comms.includes(rec.comm)) comms.push(rec.comm);
      (comms.indexOf(rec.comm) === 0 ? a.world : a.split).add(rec.alg);
    }
    expect(comms.length, `rank ${rank}: communicators`).toBe(2);
    algs.set(rank, a);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { algs, stderr: r.stderr };
}

const pmpiOnly = (s: Set<number>) => [...s].every((alg) => alg === Alg.Library);
const siteAware = (s: Set<number>) => [...s].some((alg) => alg !== Alg.Library);

describe('fallback decided per communicator', () => {
  it('no failure: every communicator runs site-aware on every rank (the baseline the others differ from)', async () => {
    const { algs } = await run({});
    for (const [rank, a] of algs) {
      expect(siteAware(a.world), `rank ${rank} world`).toBe(true);
      expect(siteAware(a.split), `rank ${rank} split`).toBe(true);
    }
  }, 180_000);

  it("one rank's failed setup of MPI_COMM_WORLD: world runs PMPI on all ranks, the splits stay site-aware", async () => {
    const { algs } = await run({ SITEMPI_TEST_FAIL_COLL: '1:0' });
    for (const [rank, a] of algs) {
      expect(pmpiOnly(a.world), `rank ${rank} world: ${[...a.world]}`).toBe(true);
      expect(siteAware(a.split), `rank ${rank} split`).toBe(true);
    }
  }, 180_000);

  it("one rank's failed setup of its half: that half runs PMPI on its ranks only", async () => {
    const { algs } = await run({ SITEMPI_TEST_FAIL_COLL: '4:1' }); // rank 4's half is {0, 2, 4}
    for (const [rank, a] of algs) {
      expect(siteAware(a.world), `rank ${rank} world`).toBe(true);
      if (rank % 2 === 0) expect(pmpiOnly(a.split), `rank ${rank} split: ${[...a.split]}`).toBe(true);
      else expect(siteAware(a.split), `rank ${rank} split`).toBe(true);
    }
  }, 180_000);

  // Rank 2 alone: with SITEMPI_COLL=off; with a sites file it cannot read (a file on one node only).
  const cases: [string, string, (dir: string) => Record<string, string>][] = [
    ['SITEMPI_COLL=off on one rank', 'export SITEMPI_COLL=off', () => ({})],
    [
      'a sites file one rank cannot read',
      'export SITEMPI_SITES_FILE=/nonexistent/sites',
      (dir) => {
        fs.writeFileSync(`${dir}/sites`, sites);
        return { SITEMPI_SITES: '', SITEMPI_SITES_FILE: `${dir}/sites` };
      },
    ],
  ];
  for (const [name, change, env] of cases) {
    it(`site settings that differ between ranks (${name}): site-aware collectives off for the whole job, said once`, async () => {
      const dir = tempDir('coll-fallback-sites');
      const wrap = `if [ "$OMPI_COMM_WORLD_RANK" = 2 ]; then ${change}; fi; exec "$@"`;
      const { algs, stderr } = await run(env(dir), wrap);
      fs.rmSync(dir, { recursive: true, force: true });
      for (const [rank, a] of algs) {
        expect(pmpiOnly(a.world), `rank ${rank} world`).toBe(true);
        expect(pmpiOnly(a.split), `rank ${rank} split`).toBe(true);
      }
      expect(stderr.match(/site settings .* differ between ranks/g)?.length).toBe(1);
    }, 180_000);
  }
});
