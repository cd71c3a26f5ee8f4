// Which algorithm sitempi ran at each point of a run, from the record files the shim wrote
// (SITEMPI_OUTPUT_DIR): rank 0's collective records in call order. The last call of a point is one
// of its timed iterations (osu_coll runs the warm-up first), so its algorithm is the one the point
// measured, calibrated or not; the counts keep what ran in the warm-up too (the calibration's calls).
import { Alg, Role } from '../../src/generated/facts.js';
import { FUNCTIONS, ROLE_SHIFT } from '../../src/generated/functions.js';
import { expandRankFilePaths } from '../../src/monitor/files.js';
import { FN_MASK, visitRecords } from '../../src/trace/read.js';
import type { CollName } from './bounds.js';

export interface PointAlgs {
  /** the algorithm of the point's last call (core::Alg name) */
  last: string;
  /** calls of each algorithm, warm-up included */
  calls: Record<string, number>;
}

/** osu_coll's collectives by the MPI function it calls. */
const OSU_FN: Record<string, CollName> = {
  MPI_Barrier: 'barrier',
  MPI_Bcast: 'bcast',
  MPI_Reduce: 'reduce',
  MPI_Allreduce: 'allreduce',
  MPI_Gather: 'gather',
  MPI_Allgather: 'allgather',
  MPI_Alltoall: 'alltoall',
  MPI_Reduce_scatter_block: 'reduce_scatter',
};
const ALG_NAME = new Map<number, string>(Object.entries(Alg).map(([name, value]) => [value, name]));

/** Key of a point: `${coll}:${bytes}` (bytes as osu_coll's size; 0 for the Barrier). */
export const pointKey = (coll: CollName, bytes: number): string => `${coll}:${coll === 'barrier' ? 0 : bytes}`;

/** The algorithms of each point on rank 0 of the run whose records are in `dir`. */
export async function pointAlgs(dir: string): Promise<Record<string, PointAlgs>> {
  const out: Record<string, PointAlgs> = {};
  await visitRecords(await expandRankFilePaths([dir]), {
    batch(_job, _profile, rank, b) {
      if (rank.rank !== 0) return;
      for (let i = 0; i < b.n; i++) {
        const code = b.fn[i] ?? 0;
        if (code >>> ROLE_SHIFT !== Role.Coll) continue;
        const coll = OSU_FN[FUNCTIONS[code & FN_MASK]?.name ?? ''];
        if (!coll) continue;
        const alg = ALG_NAME.get(b.alg[i] ?? 0) ?? `alg${b.alg[i]}`;
        const p = (out[pointKey(coll, b.bytes[i] ?? 0)] ??= { last: alg, calls: {} });
        p.last = alg;
        p.calls[alg] = (p.calls[alg] ?? 0) + 1;
      }
    },
  });
  return out;
}
