// A rank whose crossings are paced at a rate and whose released sends have all left sleeps until
// its next send is due where ranks share cores (coll/handoff.h, hand_off_until), instead of
// spinning on MPI_Testall of completed requests, which never yields: that spin kept the ranks
// sharing its core from entering the call. Four ranks on this host's cores, two sites of a node
// per rank; a spread Gather of 32 KiB per rank paced on a 10 Mbit/s link (5.2 round trips of
// site B's share): the senders across take ~45 ms a call.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const program = compileMpi('test/coll/programs/paced_idle.c');

/** Each rank's CPU time over the calls as a share of their wall time. */
async function cpuShares(env: Record<string, string>): Promise<number[]> {
  const dir = tempDir('paced-idle');
  const r = await mpirun({
    np: 4,
    program,
    args: ['32768', '6'],
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
  it('leave the core to the other ranks where ranks share cores, and spin without the hand-off', async () => {
    const sleeping = await cpuShares({});
    const spinning = await cpuShares({ SITEMPI_COLL_HANDOFF_US: '0' });
    // Ranks 2 and 3 send across, paced; the calls last ~270 ms.
    for (const rank of [2, 3]) {
      expect(sleeping[rank], `rank ${rank} sleeping: ${sleeping.join(', ')}`).toBeLessThan(0.2);
      expect(spinning[rank], `rank ${rank} spinning: ${spinning.join(', ')}`).toBeGreaterThan(0.3);
    }
  }, 60_000);
});
