// What the manager reads from Slurm's JSON (squeue, sinfo of 22.05) and what it asks sbatch for.
import { describe, expect, it } from 'vitest';
import {
  decodeExitStatus,
  parseSinfoJson,
  parseSqueueJson,
  SlurmError,
  withSite,
} from '../../src/manager/slurm-cli.js';
import { batchScript, sbatchArgs } from '../../src/manager/slurm-script.js';

// Shapes as squeue --json / sinfo --json of Slurm 22.05 print them (fields the manager reads).
const squeue = {
  meta: {},
  errors: [],
  jobs: [
    {
      job_id: 7,
      job_state: 'FAILED',
      state_reason: 'NonZeroExitCode',
      exit_code: 768,
      job_resources: {
        nodes: 'x-n[0-1]',
        allocated_cpus: 3,
        allocated_nodes: [
          { nodename: 'x-n0', sockets: { '0': { cores: { '0': 'allocated' } }, '1': { cores: { '0': 'allocated' } } } },
          { nodename: 'x-n1', sockets: { '0': { cores: { '0': 'allocated', '1': 'unallocated' } } } },
        ],
      },
    },
    { job_id: 8, job_state: 'PENDING', state_reason: 'Resources', exit_code: 0, job_resources: {} },
    {
      job_id: 9,
      job_state: 'RUNNING',
      exit_code: 0,
      job_resources: { allocated_cpus: 2, allocated_nodes: [{ nodename: 'x-n1' }] },
    },
  ],
};

describe('Slurm JSON and sbatch', () => {
  it('reads jobs: state, allocation per node, exit status only once ended', () => {
    const j = parseSqueueJson(JSON.stringify(squeue));
    expect(j.get('7')).toEqual({
      id: '7',
      state: 'FAILED',
      reason: 'NonZeroExitCode',
      exitStatus: 768,
      nodes: [
        { node: 'x-n0', cpus: 2 },
        { node: 'x-n1', cpus: 1 },
      ],
    });
    expect(j.get('8')).toMatchObject({ state: 'PENDING', exitStatus: null, nodes: [] });
    // No core map: the job's CPUs shared out over its nodes.
    expect(j.get('9')).toMatchObject({ exitStatus: null, nodes: [{ node: 'x-n1', cpus: 2 }] });
    expect(decodeExitStatus(768)).toEqual({ exitCode: 3, signal: null });
    // Later Slurm versions: states as arrays, the exit code as an object.
    const later = { job_id: 10, job_state: ['FAILED'], exit_code: { return_code: { number: 2 }, signal: { id: {} } } };
    expect(parseSqueueJson(JSON.stringify({ jobs: [later] })).get('10')).toMatchObject({
      state: 'FAILED',
      exitStatus: 512,
    });
    expect(decodeExitStatus(9)).toEqual({ exitCode: 137, signal: 'SIGKILL' });
  });

  it('reads nodes once each, and refuses what is not Slurm JSON', () => {
    const node = { name: 'x-n0', cpus: 2, alloc_cpus: 1, features: 'site_A,ib', active_features: 'site_A' };
    const nodes = parseSinfoJson(
      JSON.stringify({ nodes: [{ ...node, state: 'MIXED', state_flags: ['drain'] }, node] }),
    );
    expect(nodes).toEqual([
      {
        name: 'x-n0',
        cpus: 2,
        allocCpus: 1,
        features: ['site_A', 'ib'],
        activeFeatures: ['site_A'],
        state: 'mixed',
        flags: ['DRAIN'],
      },
    ]);
    expect(() => parseSinfoJson('sinfo: error')).toThrow(SlurmError);
    expect(() => parseSqueueJson(JSON.stringify({ errors: [{ description: 'no controller' }] }))).toThrow(
      /no controller/,
    );
    expect(withSite(['site_A', 'ib'], 'B')).toEqual(['ib', 'site_B']);
  });

  it('asks sbatch for the chosen nodes, or for one site of several, and keeps secrets out of the script', () => {
    const rec = {
      id: '3',
      name: 'lu',
      np: 4,
      cwd: '/w',
      app: ['./lu', "it's"],
      mpirunArgs: ['--mca', 'btl', 'tcp,self'],
      monitorJob: 'mgr-1-3-abc',
      files: { stdout: '/d/3.out', stderr: '/d/3.err', exit: '/d/3.exit', report: '/d/3.report.json' },
    };
    const nodes = sbatchArgs(rec, { kind: 'nodes', nodes: ['x-a0', 'x-a1'], sites: ['A'] }, { script: '/d/3.sbatch' });
    expect(nodes).toContain('--nodelist=x-a0,x-a1');
    expect(nodes).toContain('--nodes=2');
    expect(nodes).toContain('--constraint=site_A');
    expect(nodes).toContain('--ntasks=4');
    expect(nodes.at(-1)).toBe('/d/3.sbatch');
    const wait = sbatchArgs(rec, { kind: 'one-site', sites: ['A', 'B'] }, { partition: 'p', script: 's' });
    expect(wait).toContain('--constraint=[site_A|site_B]');
    expect(wait).toContain('--partition=p');
    expect(wait.some((a) => a.startsWith('--nodelist'))).toBe(false);
    expect(wait.some((a) => a.startsWith('--time'))).toBe(false);
    // submit --time: Slurm's limit in whole minutes, rounded up (the manager stops it at the second)
    expect(sbatchArgs({ ...rec, timeLimitSeconds: 61 }, { kind: 'anywhere' }, { script: 's' })).toContain('--time=2');
    expect(sbatchArgs({ ...rec, timeLimitSeconds: 60 }, { kind: 'anywhere' }, { script: 's' })).toContain('--time=1');
    const s = batchScript(rec, {
      mpirun: 'mpirun',
      shim: '/lib/s.so',
      monitor: 'unix:/m',
      withToken: true,
      testbed: null,
    });
    expect(s).toContain(`'-x' 'SITEMPI_JOB_KEY' '-x' 'SITEMPI_TOKEN'`);
    expect(s).toContain(`'-np' '4' './lu' 'it'\\''s'`);
    expect(s).not.toMatch(/SITEMPI_JOB_KEY=/);
  });
});
