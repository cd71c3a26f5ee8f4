// Traces from real runs: a kernel with blocking, non-blocking, Sendrecv and collective traffic run
// under the shim in file mode, its rank files read back, matched and replayed; and the calibration
// from a ping-pong's records.
import { describe, expect, it } from 'vitest';
import { calibrate } from '../../src/replay/calibrate.js';
import { makeCluster, wanLink } from '../../src/replay/cluster.js';
import { replay } from '../../src/replay/engine.js';
import { buildTrace, readRankRecords } from '../../src/replay/records.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const kernel = compileMpi('test/replay/programs/kernel.c');
const pingpong = compileMpi('test/replay/programs/pingpong.c');

describe('traces from rank files', () => {
  it('a 4-rank kernel: every message matched, replayed without stalls, two sites slower by its WAN hops', async () => {
    const dir = tempDir('replay-kernel');
    const iters = 6,
      sleepUs = 20_000;
    const got = await mpirun({
      np: 4,
      program: kernel,
      args: [String(iters), String(sleepUs)],
      env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'kernel' },
    });
    expect(got.code).toBe(0);
    const ranks = await readRankRecords([dir]);
    expect(ranks).toHaveLength(4);
    const trace = buildTrace(ranks);
    expect(trace.unmatched).toBe(0);
    expect(trace.recordedNs).toBeGreaterThan(iters * sleepUs * 1000);
    const oneSite = replay(trace, makeCluster([0, 0, 0, 0], wanLink(10, 1000), { nodeOf: [0, 0, 0, 0] }));
    expect(oneSite.stalled).toEqual([]);
    // compute gaps come from the records: the replay on the recorded placement is close to the run
    const ratio = oneSite.wallNs / trace.recordedNs;
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.2);
    // two sites at 10 ms RTT: per iteration the token ring crosses sites twice (one way each), and
    // the allreduce's second exchange once more, after the ring (the halo and Sendrecv overlap it)
    const split = replay(trace, makeCluster([0, 0, 1, 1], wanLink(10, 1000), { nodeOf: [0, 0, 1, 1] }));
    expect(split.stalled).toEqual([]);
    const extra = split.wallNs - oneSite.wallNs;
    expect(extra).toBeGreaterThan(iters * 3 * 5e6);
    expect(extra).toBeLessThan(iters * 12 * 5e6);
    expect(Math.max(...split.wanNs)).toBeGreaterThan(iters * 2 * 5e6);

    // a window: at most 20 records per rank, cut at one time for all ranks, still matched
    const window = buildTrace(await readRankRecords([dir], { maxRecordsPerRank: 20 }));
    expect(window.first[4]).toBeLessThan(trace.first[4]);
    expect(window.recordedNs).toBeLessThan(trace.recordedNs);
    expect(replay(window, makeCluster([0, 0, 1, 1], wanLink(10, 1000))).stalled).toEqual([]);
  }, 120_000);

  it('calibration from a ping-pong: a positive small-message latency, G within the memory bandwidth a host can have', async () => {
    const dir = tempDir('replay-pingpong');
    const got = await mpirun({
      np: 2,
      program: pingpong,
      args: ['40'],
      env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'pp' },
    });
    expect(got.code).toBe(0);
    const p = calibrate(await readRankRecords([dir]));
    // o is the small sends' duration less their bytes' share, clamped at 0 (on a quiet loopback
    // the fitted G may take all of it); a small message's one-way time L + 2o is positive
    expect(p.o).toBeGreaterThanOrEqual(0);
    expect(p.L + 2 * p.o).toBeGreaterThan(0);
    // between 0.05 and 100 GB/s
    expect(p.G).toBeGreaterThan(0.01);
    expect(p.G).toBeLessThan(20);
  }, 60_000);
});
