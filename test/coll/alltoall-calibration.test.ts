// The Alltoall choice settled by timing where the cost model is unsure (coll/alltoall_calibration.h):
// real mpirun, 4 ranks on two sites of two, a WAN of 200 us one way at 1 Gbit/s as the model's
// setting (SITEMPI_COLL_ALPHA_US, _BANDWIDTH_MBPS): there 8 KiB per pair models the library at 1.4x
// pairwise (within the 1.5x margin: timed), 1 KiB pairwise at 1.8x the library (the model's), and
// 256 B (below 1 KiB, where bytes are not held to the bound) times grouped against the library.
// Checks the calls' algorithms in the records on every rank, and every block's contents. The choice
// itself (mean of the rounds' ratios, the model's choice kept unless beaten by 10%, the library
// against grouped) is core::calibrated_choice's, tested in native/core/tests/cost_model_test.cpp.
import { describe, expect, it } from 'vitest';
import {
  Alg,
  ALLTOALL_CALIBRATION_CALLS as CALIBRATION_CALLS,
  ALLTOALL_CALIBRATION_ROUNDS,
  ALLTOALL_CALIBRATION_WARMUP,
  Role,
} from '../../src/generated/facts.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { readJob } from './records.js';

const program = compileMpi('test/coll/programs/alltoall_sizes.c');
const { Library: LIBRARY, SiteLeaders: GROUPED, SitePairwise: PAIRWISE } = Alg;
const CALLS = CALIBRATION_CALLS + 3;

/** The calibration's calls: both untimed in turn, the model's choice first, then per round both, in
 * alternating order. */
function calibrationOrder(first: number, second: number): number[] {
  const order: number[] = [];
  for (let w = 0; w < ALLTOALL_CALIBRATION_WARMUP; w++) order.push(first, second);
  for (let r = 0; r < ALLTOALL_CALIBRATION_ROUNDS; r++) order.push(...(r % 2 ? [first, second] : [second, first]));
  return order;
}

/** Per rank, the algorithm of each Alltoall call, by size (bytes per pair) in call order. */
async function algsBySize(force?: string): Promise<Map<number, Map<number, number[]>>> {
  const dir = tempDir('a2a-cal');
  const r = await mpirun({
    np: 4,
    program,
    args: [String(CALLS), '8192', '1024', '256'],
    env: {
      SITEMPI_OUTPUT_DIR: dir,
      SITEMPI_SITES: 'A:0-1;B:2-3',
      SITEMPI_COLL_ALPHA_US: '200',
      SITEMPI_COLL_BANDWIDTH_MBPS: '1000',
      ...(force ? { SITEMPI_COLL_ALLTOALL: force } : {}),
    },
  });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/alltoall_sizes done errors=0/);
  const out = new Map<number, Map<number, number[]>>();
  for (const [rank, f] of readJob(dir)) {
    const bySize = new Map<number, number[]>();
    for (const x of f.records)
      if (x.fn === 'Alltoall' && x.role === Role.Coll) {
        bySize.set(x.bytes, [...(bySize.get(x.bytes) ?? []), x.alg]); // bytes: per pair
      }
    out.set(rank, bySize);
  }
  expect([...out.keys()].sort()).toEqual([0, 1, 2, 3]);
  return out;
}

describe('Alltoall calibration', () => {
  it('times both algorithms in alternating rounds where the model is unsure, then keeps one on every rank', async () => {
    const got = await algsBySize();
    const settled = new Set<number>(),
      settledSmall = new Set<number>();
    const settledOn = (algs: number[], rank: number): number => {
      const chosen = algs[CALIBRATION_CALLS]!;
      expect(algs.slice(CALIBRATION_CALLS), `rank ${rank}`).toEqual(
        new Array<number>(CALLS - CALIBRATION_CALLS).fill(chosen),
      );
      return chosen;
    };
    for (const [rank, bySize] of got) {
      const unsure = bySize.get(8192)!;
      // the model's choice (the library) and pairwise untimed, then pairwise and the library in each round
      expect(unsure.slice(0, CALIBRATION_CALLS), `rank ${rank}`).toEqual(calibrationOrder(LIBRARY, PAIRWISE));
      settled.add(settledOn(unsure, rank));
      // where the model is sure, no timing: its choice from the first call
      expect(bySize.get(1024), `rank ${rank}`).toEqual(new Array<number>(CALLS).fill(PAIRWISE));
      // below 1 KiB: grouped and the library untimed, then the library and grouped in each round
      const small = bySize.get(256)!;
      expect(small.slice(0, CALIBRATION_CALLS), `rank ${rank}`).toEqual(calibrationOrder(GROUPED, LIBRARY));
      settledSmall.add(settledOn(small, rank));
    }
    expect(settled.size).toBe(1); // every rank settled on the same algorithm
    expect([LIBRARY, PAIRWISE]).toContain([...settled][0]);
    expect(settledSmall.size).toBe(1);
    expect([GROUPED, LIBRARY]).toContain([...settledSmall][0]);
  }, 120_000);

  it('SITEMPI_COLL_ALLTOALL=model keeps the model choice without timing', async () => {
    for (const bySize of (await algsBySize('model')).values()) {
      expect(bySize.get(8192)).toEqual(new Array<number>(CALLS).fill(LIBRARY));
      expect(bySize.get(1024)).toEqual(new Array<number>(CALLS).fill(PAIRWISE));
      expect(bySize.get(256)).toEqual(new Array<number>(CALLS).fill(GROUPED));
    }
  }, 120_000);
});
