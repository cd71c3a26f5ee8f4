// One validation job on the testbed: a program on given nodes under the shim (file mode), its rank
// files read back as a replay trace. mpirun runs at nice -10 so that the host's other load delays
// the ranks' wake-ups (the emulated compute) less.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/mpi/toolchain.js';
import { shimLibraryPath } from '../../src/native/paths.js';
import { buildTrace, readRankRecords, type RankRecords } from '../../src/replay/records.js';
import type { Trace } from '../../src/replay/trace.js';
import { mpirunArgsFor, mpirunEnv, type TestbedState } from '../../src/testbed/index.js';

/** Runs `program` with one rank per node of `nodes` and returns its ranks' records. */
export async function runRecords(
  st: TestbedState,
  nodes: string[],
  program: string,
  args: string[],
  tag: string,
): Promise<RankRecords[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sitempi-validation-${tag}-`));
  try {
    const a = [
      '-n',
      '-10',
      'mpirun',
      ...mpirunArgsFor(st, { nodes }),
      '--map-by',
      'node',
      '--bind-to',
      'none',
      '-np',
      String(nodes.length),
      '-x',
      `LD_PRELOAD=${shimLibraryPath}`,
      '-x',
      `SITEMPI_OUTPUT_DIR=${dir}`,
      '-x',
      `SITEMPI_JOB=${tag}`,
      program,
      ...args,
    ];
    const r = await run('nice', a, 300_000, mpirunEnv());
    if (r.code !== 0) throw new Error(`${tag}: mpirun exited ${r.code}\n${r.stderr.slice(-2000)}`);
    return await readRankRecords([dir]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `program` and returns its trace (recordedNs: MPI_Init to MPI_Finalize). */
export async function runTrace(
  st: TestbedState,
  nodes: string[],
  program: string,
  args: string[],
  tag: string,
): Promise<Trace> {
  return buildTrace(await runRecords(st, nodes, program, args, tag));
}
