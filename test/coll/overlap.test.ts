// Iallreduce overlapped with computation on the testbed (root: namespaces, wanemu; 2 sites x 2
// nodes, 10 ms RTT, 1 Gbit/s): compute + MPI_Wait of the site-aware Iallreduce must take less than
// compute + the blocking MPI_Allreduce, measured side by side in the same job (test/coll/programs/
// overlap.c), and the Iallreduce calls must have run site-aware.
import fs from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Role } from '../../src/generated/facts.js';
import { shimLibraryPath, wanemuPath } from '../../src/native/paths.js';
import { run } from '../../src/mpi/toolchain.js';
import { down, mpirunArgsFor, mpirunEnv, type TestbedState } from '../../src/testbed/testbed.js';
import { compileMpi, tempDir } from '../helpers/mpi.js';
import { describeAsRoot } from '../helpers/root.js';
import { freshTestbed, suiteTestbed } from '../helpers/testbed.js';
import { readJob } from './records.js';

const opts = suiteTestbed('smcol', '198.19.246.0/24', '198.19.247.0/24');

describeAsRoot('Iallreduce overlaps computation on the testbed (root)', () => {
  let st: TestbedState;
  let program: string;

  beforeAll(async () => {
    if (!fs.existsSync(wanemuPath)) throw new Error(`${wanemuPath} is missing: run npm run build`);
    program = compileMpi('test/coll/programs/overlap.c');
    st = await freshTestbed({ sites: { A: 2, B: 2 }, slots: 1, rttMs: 10, bandwidth: 1e9 }, opts);
  }, 180_000);

  afterAll(async () => {
    await down(opts);
    fs.rmSync(opts.stateDir, { recursive: true, force: true });
  }, 60_000);

  /** One job of test/coll/programs/overlap.c: 1 MiB, 5 iterations of each way, 60 ms of computation. */
  async function measure(extra: Record<string, string>, dir: string) {
    const env = {
      LD_PRELOAD: shimLibraryPath,
      SITEMPI_SITES: `A:@${opts.prefix}-a*;B:@${opts.prefix}-b*`,
      SITEMPI_OUTPUT_DIR: dir,
      ...extra,
    };
    const args = [...mpirunArgsFor(st), '-np', '4', '--map-by', 'node'];
    for (const [k, v] of Object.entries(env)) args.push('-x', `${k}=${v}`);
    const r = await run('mpirun', [...args, program, '131072', '5', '60'], 120_000, mpirunEnv());
    expect(r.code, r.stderr).toBe(0);
    const m = /overlap: comm_ms=([\d.]+) blocking_ms=([\d.]+) overlap_ms=([\d.]+) icomm_ms=([\d.]+) errors=(\d+)/.exec(
      r.stdout,
    );
    expect(m, r.stdout + r.stderr).not.toBeNull();
    const [comm, blocking, overlapped, icomm, errors] = m!.slice(1).map(Number);
    expect(errors).toBe(0);
    return { comm, blocking, overlapped, icomm };
  }

  it('compute + Wait of a 1 MiB Iallreduce takes less than compute + the blocking Allreduce', async () => {
    const dir = tempDir('overlap');
    const site = await measure({}, dir); // site-aware Iallreduce: the default
    const library = await measure({ SITEMPI_COLL: 'off' }, tempDir('overlap-off'));
    for (const [name, x] of [
      ['sitempi', site],
      ["Open MPI's own (SITEMPI_COLL=off)", library],
    ] as const)
      console.log(
        `testbed 2 sites x 2 nodes, 10 ms RTT, 1 MiB, ${name}: Allreduce ${x.comm} ms, Iallreduce + Wait ${x.icomm} ms, ` +
          `60 ms compute + Allreduce ${x.blocking} ms, Iallreduce + 60 ms compute (MPI_Test) + Wait ${x.overlapped} ms`,
      );
    console.log(`load average ${os.loadavg()[0].toFixed(1)}`);
    expect(site.overlapped).toBeLessThan(site.blocking);
    // Some of the communication is hidden, not only noise: at least a quarter of it.
    expect(site.blocking - site.overlapped).toBeGreaterThan(0.25 * site.comm);
    const algs = [...readJob(dir).values()].flatMap((f) =>
      f.records.filter((x) => x.fn === 'Iallreduce' && x.role === Role.Coll).map((x) => x.alg),
    );
    expect(algs.length).toBe(4 * 10);
    expect(new Set(algs)).toEqual(new Set([1]));
    fs.rmSync(dir, { recursive: true, force: true });
  }, 240_000);
});
