// A test program's traffic two ways: the monitor's matrix under `sitempi run`, and what Open MPI
// itself sent, counted by its pml monitoring component in a run without the shim (the tests that
// hold the expansion of library-run collectives to Open MPI: tuned-vector, nbc-flows).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { packageRoot } from '../../src/native/paths.js';
import { baseMpirunArgs, mpirun, run, tempDir } from '../helpers/mpi.js';
import { Expected } from '../shim/expect.js';

const cli = path.join(packageRoot, 'bin', 'sitempi.js');

export interface JsonJob {
  matrix: { bytes: number[][]; messages: number[][] };
  unexpandedCollectives: number;
}

/**
 * `pml_monitoring_enable 2`: per-rank files that count every message each rank sent to each peer,
 * collectives' internal ones included ("I" lines; "E" the others).
 */
export async function openMpiCounts(program: string, np: number, args: string[]): Promise<Expected> {
  const dir = tempDir('pmlmon');
  const mca = (k: string, v: string) => ['--mca', k, v];
  const r = await mpirun({
    np,
    program,
    args,
    shim: false,
    mpirunArgs: [
      ...mca('pml_monitoring_enable', '2'),
      ...mca('pml_monitoring_enable_output', '3'),
      ...mca('pml_monitoring_filename', path.join(dir, 'prof')),
    ],
  });
  expect(r.code, r.stderr).toBe(0);
  const e = new Expected(np);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.prof'));
  expect(files).toHaveLength(np);
  for (const f of files)
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const m = /^[IE]\t(\d+)\t(\d+)\t(\d+) bytes\t(\d+) msgs sent/.exec(line);
      if (m) e.add(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
    }
  return e;
}

/** The monitor's report of the program under the shim; the program must print `ok`. */
export async function observed(program: string, np: number, args: string[], ok: string): Promise<JsonJob> {
  const r = await run(
    'node',
    [cli, 'run', '--json', '-np', String(np), ...baseMpirunArgs, '--', program, ...args],
    120_000,
  );
  const lines = r.stdout.trimEnd().split('\n');
  const last = lines.pop() ?? '';
  if (r.code !== 0 || !last.startsWith('{'))
    throw new Error(`sitempi run failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  expect(lines.join('\n')).toContain(ok);
  const report = JSON.parse(last) as { jobs: JsonJob[] };
  expect(report.jobs).toHaveLength(1);
  return report.jobs[0];
}
