// A rank whose crossings are paced at a rate and whose released sends have all left yields its
// core while it waits for its next piece, where ranks share cores (coll/handoff.h, yield_core).
// Before, it spun on MPI_Testall of completed requests, which makes no progress call and so never
// yields: the ranks sharing its core did not run (in the testbed's jobs, the last rank entered a
// paced Gather 8-12 ms late). Four ranks bound to one core, two sites of a node per rank; a spread
// Gather of 32 KiB per rank paced on a 10 Mbit/s link (5.2 round trips of site B's share): ranks 2
// and 3 send across for ~45 ms a call, while the root waits in MPI's own (yielding) poll.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { baseMpirunArgs, compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const program = compileMpi('test/coll/programs/paced_idle.c');

/** Each rank's CPU time over the calls as a share of their wall time. */
async function cpuShares(env: Record<string, string>): Promise<number[]> {
  const dir = tempDir('paced-idle');
  const r = await mpirun({
    np: 4,
    program,
    args: ['32768', '6'],
    baseArgs: [...baseMpirunArgs, '--cpu-set', '0', '--bind-to', 'core:overload-allowed'],
    env: {
      SITEMPI_OUTPUT_DIR: dir,
      SITEMPI_SITES: 'A:0-1;B:2-3',
      SITEMPI_TEST_ONE_RANK_PER_NODE: '1',
      SITEMPI_COLL_ALPHA_US: '5000',
      SITEMPI_COLL_BANDWIDTH_MBPS: '10',
      SITEMPI_COLL_CHUNK_BYTES: '2048',
      ...env,
    },
  });
  fs.rmSync(dir, { recursive: true, force: true });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('paced_idle ok');
  const rows = [...r.stdout.matchAll(/paced_idle (\d+) ([\d.]+) ([\d.]+)/g)].map((m) => Number(m[2]) / Number(m[3]));
  expect(rows).toHaveLength(4);
  return rows;
}

describe('paced sends waiting for their time', () => {
  it('leave the core to the ranks sharing it where ranks share cores, and hold it without the hand-off', async () => {
    // Every rank polls, yielding: about a quarter of the core each (26% measured).
    const yielding = await cpuShares({});
    expect(yielding[0], `root's share: ${yielding.join(', ')}`).toBeGreaterThan(0.15);
    // The senders across spin without yielding: the root got 1% of the core.
    const spinning = await cpuShares({ SITEMPI_COLL_HANDOFF_US: '0' });
    expect(spinning[0], `root's share: ${spinning.join(', ')}`).toBeLessThan(0.08);
  }, 60_000);
});
