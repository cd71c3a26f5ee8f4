// What the manager hands to sbatch: the options that carry sitempi's placement (the nodes it chose,
// or the sites a job may wait for) and the batch script that runs mpirun under the shim inside
// Slurm's allocation. mpirun takes its hosts and slots from the allocation and starts its daemons
// with srun, so the ranks run where Slurm put them, under Slurm's process tracking.
import { mpirunArgsFor } from '../testbed/launch.js';
import type { TestbedState } from '../testbed/state.js';
import type { JobRecord } from './job-record.js';
import { siteFeature } from './slurm-cli.js';

/** Where sitempi wants a job: these Slurm nodes now, or any one of these sites, or anywhere. */
export type SlurmPlacement =
  { kind: 'nodes'; nodes: string[]; sites: string[] } | { kind: 'one-site'; sites: string[] } | { kind: 'anywhere' };

/** sbatch's options for a job (the script goes last). */
export function sbatchArgs(
  rec: Pick<JobRecord, 'id' | 'name' | 'np' | 'cwd' | 'files' | 'timeLimitSeconds'>,
  where: SlurmPlacement,
  o: { partition?: string; script: string },
): string[] {
  const args = [
    `--job-name=sitempi-${rec.id}-${rec.name}`,
    `--ntasks=${rec.np}`,
    `--output=${rec.files.stdout}`,
    `--error=${rec.files.stderr}`,
    `--chdir=${rec.cwd}`,
    '--export=ALL',
  ];
  // Slurm keeps limits in whole minutes (its backfill plans with them); the manager stops the job
  // at the second itself
  if (rec.timeLimitSeconds !== undefined) args.push(`--time=${Math.ceil(rec.timeLimitSeconds / 60)}`);
  if (o.partition) args.push(`--partition=${o.partition}`);
  if (where.kind === 'nodes') {
    args.push(`--nodes=${where.nodes.length}`, `--nodelist=${where.nodes.join(',')}`);
    // One site: the constraint says so to Slurm too (an operator's `scontrol update` keeps it).
    if (where.sites.length === 1) args.push(`--constraint=${siteFeature(where.sites[0])}`);
  } else if (where.kind === 'one-site') {
    // Slurm's "matching OR": every node of the job has the same one of these features.
    args.push(`--constraint=[${where.sites.map(siteFeature).join('|')}]`);
  }
  args.push(o.script);
  return args;
}

export interface ScriptContext {
  mpirun: string;
  shim: string;
  /** The embedded monitor's address (a Unix socket: every node namespace sees the file). */
  monitor: string;
  withToken: boolean;
  /** On the testbed: MPI traffic on its data network, runtime traffic on its management network. */
  testbed: TestbedState | null;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The testbed's mpirun options without its own launch (hosts, rsh agent): Slurm launches here. */
export function testbedMpiOptions(st: TestbedState): string[] {
  const a = mpirunArgsFor(st, { nodes: [st.nodes[0].name] });
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--host' || a[i] === '--hostfile') i++;
    else if (a[i] === '--mca' && /^plm_rsh_/.test(a[i + 1])) i += 2;
    else if (a[i] !== '--allow-run-as-root') out.push(a[i]);
  }
  return out;
}

/**
 * The batch script: mpirun with the shim preloaded and the ranks pointed at the manager's monitor.
 * The job key and token come by environment (sbatch --export=ALL), never written in the script.
 */
export function batchScript(
  rec: Pick<JobRecord, 'id' | 'name' | 'np' | 'app' | 'mpirunArgs' | 'monitorJob'>,
  c: ScriptContext,
): string {
  const args = [
    c.mpirun,
    ...(c.testbed ? testbedMpiOptions(c.testbed) : []),
    '-x',
    `LD_PRELOAD=${c.shim}`,
    '-x',
    `SITEMPI_MONITOR=${c.monitor}`,
    '-x',
    `SITEMPI_JOB=${rec.monitorJob}`,
    '-x',
    'SITEMPI_JOB_KEY',
    ...(c.withToken ? ['-x', 'SITEMPI_TOKEN'] : []),
    ...rec.mpirunArgs,
    '-np',
    String(rec.np),
    ...rec.app,
  ];
  return `#!/bin/sh
# sitempi manager, job ${rec.id} (${rec.name}): mpirun under the shim in Slurm's allocation.
exec ${args.map(shQuote).join(' ')}
`;
}
