// Measurement fixes of issue #13 under real mpirun: receive bytes as received, MPI_Init/Finalize
// apart from the application's MPI time, and library-run Allreduces expanded as coll/tuned runs
// them, checked against Open MPI's own count of what its PML sent (pml_monitoring).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/native/paths.js';
import { baseMpirunArgs, compileMpi, run } from '../helpers/mpi.js';
import { openMpiCounts } from '../monitor/pml-counts.js';

const cli = path.join(packageRoot, 'bin', 'sitempi.js');
const program = compileMpi('test/shim/programs/measure.c');
const P = 4;

interface Report {
  jobs: {
    matrix: { bytes: number[][]; messages: number[][] };
    functions: { name: string; count: number; bytes: number; seconds: number }[];
    mpiSeconds: number;
    initFinalizeSeconds: number;
    ranks: { mpiSeconds: number; initFinalizeSeconds: number }[];
  }[];
}

describe('measurement under mpirun -np 4', () => {
  it('records received bytes, sets Init/Finalize apart, and expands Allreduce as Open MPI ran it', async () => {
    const [r, ompi] = await Promise.all([
      run('node', [cli, 'run', '--json', '-np', String(P), ...baseMpirunArgs, '--', program], 120_000),
      // the same program without the shim, Open MPI counting what its PML sends per peer (a file
      // per rank at MPI_Finalize): the shim's own messages at MPI_Init would be counted too otherwise
      openMpiCounts(program, P, []),
    ]);
    const last = r.stdout.trimEnd().split('\n').pop() ?? '';
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('measure ok');
    const job = (JSON.parse(last) as Report).jobs[0];
    const fn = (name: string) => job.functions.find((f) => f.name === name);

    // 40 + 100 bytes arrived in receives posted for 4000 bytes each
    expect(fn('MPI_Send')).toMatchObject({ count: 2, bytes: 140 });
    expect(fn('MPI_Recv')).toMatchObject({ count: 2, bytes: 140 });

    // one Init and one Finalize per rank, their time apart from mpiSeconds
    expect(fn('MPI_Init')).toMatchObject({ count: P });
    expect(fn('MPI_Finalize')).toMatchObject({ count: P });
    const lifecycle = fn('MPI_Init')!.seconds + fn('MPI_Finalize')!.seconds;
    expect(job.initFinalizeSeconds).toBeGreaterThan(0);
    expect(job.initFinalizeSeconds).toBeCloseTo(lifecycle, 6);
    for (const k of job.ranks) expect(k.initFinalizeSeconds).toBeGreaterThan(0);
    const appMpi = job.functions
      .filter((f) => !/^MPI_(Init|Init_thread|Finalize)$/.test(f.name))
      .reduce((s, f) => s + f.seconds, 0);
    expect(job.mpiSeconds).toBeLessThan(appMpi * 1.01 + 1e-3);

    // Recursive doubling for 1 double, Rabenseifner for 2^17: the matrix is what Open MPI's PML
    // sent, pair by pair (point-to-point and the collectives' internal messages together).
    expect(ompi.bytes[0][1]).toBe(8 + (1 << 20)); // the output was there and is what tuned.cpp models
    expect(job.matrix.bytes).toEqual(ompi.bytes);
    expect(job.matrix.messages).toEqual(ompi.messages);
  });
});
