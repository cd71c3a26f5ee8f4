// One run of the correctness program (programs/coll_check.c) under real mpirun with a site map and
// settings, held to PMPI's results and to the cost model's prediction of every record.
import fs from 'node:fs';
import { expect } from 'vitest';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { addon, checkJob } from './predict.js';
import { readJob } from './records.js';

const program = compileMpi('test/coll/programs/coll_check.c');

export interface Scenario {
  name: string;
  np: number;
  sites: string;
  env?: Record<string, string>;
  alphaUs?: number;
  /** sites of the world (null: the shim must not use any) */
  expectSites: number;
  /** SITEMPI_COLL_ALLTOALL forced (core::AlltoallForce: 1 grouped, 2 pairwise, 3 library) */
  alltoall?: number;
  /** SITEMPI_COLL_SMALL: 0 unless given (the grids hold the site-aware algorithms at every size) */
  small?: number;
  /** SITEMPI_COLL_SPREAD=0: false */
  spread?: boolean;
  /** every rank counted as a node of its own (SITEMPI_TEST_ONE_RANK_PER_NODE=1), as on a testbed of
   *  one rank per virtual node; else every site lies within this one host's node */
  oneRankPerNode?: boolean;
  mode?: 'quick' | 'full';
  enabled?: (family: string, fn: string) => boolean;
}

export async function runScenario(s: Scenario) {
  const dir = tempDir('coll');
  const env: Record<string, string> = {
    SITEMPI_OUTPUT_DIR: dir,
    ...(s.sites ? { SITEMPI_SITES: s.sites } : {}),
    SITEMPI_COLL_SMALL: String(s.small ?? 0),
    ...(s.env ?? {}),
  };
  if (s.alphaUs !== undefined) env.SITEMPI_COLL_ALPHA_US = String(s.alphaUs);
  if (s.spread === false) env.SITEMPI_COLL_SPREAD = '0';
  if (s.oneRankPerNode) env.SITEMPI_TEST_ONE_RANK_PER_NODE = '1';
  if (s.alltoall) env.SITEMPI_COLL_ALLTOALL = ['auto', 'grouped', 'pairwise', 'library'][s.alltoall]!;
  const r = await mpirun({
    np: s.np,
    program,
    args: [dir, ...(s.mode === 'quick' ? ['quick'] : [])],
    env,
    timeoutMs: 240_000,
  });
  expect(r.stderr).not.toMatch(/MISMATCH|rejected/);
  expect(r.code).toBe(0);
  const m = /coll_check rank 0: (\d+) calls, (\d+) errors/.exec(r.stdout);
  expect(m, r.stdout + r.stderr).not.toBeNull();
  expect(Number(m![2])).toBe(0);
  expect(Number(m![1])).toBeGreaterThan(1000);
  const job = readJob(dir);
  expect(job.size).toBe(s.np);
  const worldSiteOf = s.sites ? addon.parseSites(s.sites, s.np).siteOf : null;
  const res = checkJob(job, dir, worldSiteOf, {
    alphaUs: s.alphaUs,
    enabled: s.enabled,
    alltoall: s.alltoall,
    smallBytes: s.small ?? 0,
    spread: s.spread,
    nodeSites: !s.oneRankPerNode,
  });
  fs.rmSync(dir, { recursive: true, force: true });
  return { res, calls: Number(m![1]) };
}
