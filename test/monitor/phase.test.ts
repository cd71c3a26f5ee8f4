// Measurement fixes of issue #13: rates over the communicating phase, MPI_Init/Finalize apart
// from the application's MPI time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Role } from '../../src/generated/functions.js';
import { classify } from '../../src/monitor/classify.js';
import { loadRankFiles } from '../../src/monitor/files.js';
import { jobReport } from '../../src/report/report.js';
import { addon, batchFrame, fnCode, helloFrame, worldCommFrame, type Rec } from './helpers.js';

const SEND = fnCode('MPI_Send', Role.Send);
const INIT = fnCode('MPI_Init', Role.Other);
const FINALIZE = fnCode('MPI_Finalize', Role.Other);
const WAIT = fnCode('MPI_Wait', Role.Other);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'smphase-'));

/**
 * A 4-rank job of `wallNs` per rank: setup without communication until `commFrom`, then 100 sends
 * of 1 MB across the halves spread up to `commTo`, a wait, and MPI_Init / MPI_Finalize records of
 * `initNs` / `finalizeNs` (counted in Bye.mpiNs, as the shim counts them).
 */
async function job(name: string, o: { commFrom: number; commTo: number; initNs: number; finalizeNs: number }) {
  const dir = tmp();
  const P = 4,
    wallNs = 2e9,
    appMpiNs = 0.5e9;
  const files: string[] = [];
  for (let r = 0; r < P; r++) {
    const step = (o.commTo - o.commFrom) / 100;
    const recs: Rec[] = [{ fn: INIT, start: 0, duration: o.initNs }];
    // a compute-phase wait with no peer: MPI time, but not communication
    recs.push({ fn: WAIT, start: 1e6, duration: appMpiNs / 2 });
    for (let i = 0; i < 100; i++)
      recs.push({ fn: SEND, peer: (r + P / 2) % P, bytes: 1e6, start: o.commFrom + i * step, duration: step / 2 });
    recs.push({ fn: FINALIZE, start: wallNs - o.finalizeNs, duration: o.finalizeNs });
    recs.sort((a, b) => a.start! - b.start!); // a batch's records are in start order (delta coded)
    const f = path.join(dir, `sitempi-${name}-${r}.smpi`);
    fs.writeFileSync(
      f,
      Buffer.concat([
        helloFrame(name, r, P),
        worldCommFrame(P),
        batchFrame(0, recs),
        addon.encodeBye({ endNs: wallNs, records: recs.length, dropped: 0, mpiNs: appMpiNs + o.initNs + o.finalizeNs }),
      ]),
    );
    files.push(f);
  }
  return (await loadRankFiles(files))[0];
}

describe('rates over the communicating phase', () => {
  it('divides crossing traffic by the phase from the first to the last communication, keeping the wall rate', async () => {
    const late = await job('late', { commFrom: 1.5e9, commTo: 2e9, initNs: 0, finalizeNs: 0 });
    const c = classify(late);
    const crossBytes = 4 * 100 * 1e6;
    expect(c.numbers.crossBytes).toBe(crossBytes);
    // last send: starts at 1.5 s + 99 * 5 ms, lasts 2.5 ms
    const phase = 99 * 5e6 + 2.5e6;
    expect(c.numbers.activeSeconds).toBeCloseTo(phase / 1e9, 9);
    expect(c.numbers.crossBytesPerSecond).toBeCloseTo(crossBytes / (phase / 1e9), 0);
    expect(c.numbers.crossBytesPerSecondWall).toBeCloseTo(crossBytes / 2, 0);
    expect(c.numbers.crossMessagesPerSecond / c.numbers.crossMessagesPerSecondWall).toBeCloseTo(2e9 / phase, 6);
    // the same traffic spread over the whole run: both rates agree
    const even = classify(await job('even', { commFrom: 0, commTo: 2e9, initNs: 0, finalizeNs: 0 }));
    expect(even.numbers.crossBytesPerSecond / even.numbers.crossBytesPerSecondWall).toBeCloseTo(
      2e9 / (99 * 20e6 + 10e6),
      6,
    );
  });

  it('changes the verdict of a job whose traffic is concentrated after a long setup', async () => {
    // 400 MB crossing: 200 MB/s over the 2 s wall, ~0.8 GB/s over the last 0.5 s; threshold 300 MB/s
    const opts = { thresholdBytesPerSecond: 300e6 };
    expect(classify(await job('even2', { commFrom: 0, commTo: 2e9, initNs: 0, finalizeNs: 0 }), opts).verdict).toBe(
      'compute-intensive',
    );
    expect(classify(await job('late2', { commFrom: 1.5e9, commTo: 2e9, initNs: 0, finalizeNs: 0 }), opts).verdict).toBe(
      'network-intensive',
    );
  });
});

describe('MPI_Init and MPI_Finalize apart', () => {
  it('reports their time per rank and per job, outside mpiSeconds and mpiFraction', async () => {
    const j = await job('life', { commFrom: 0.5e9, commTo: 1.5e9, initNs: 0.1e9, finalizeNs: 0.7e9 });
    const r = j.rank(0)!;
    expect(r.initFinalizeNs).toBe(0.8e9);
    expect(r.mpiNsAll).toBe(1.3e9);
    expect(r.mpiNs).toBe(0.5e9);
    expect(r.mpiFraction).toBeCloseTo(0.25, 9);
    expect(j.mpiFraction).toBeCloseTo(0.25, 9);
    const rep = jobReport(j);
    expect(rep.ranks[0].initFinalizeSeconds).toBeCloseTo(0.8, 9);
    expect(rep.ranks[0].mpiSeconds).toBeCloseTo(0.5, 9);
    expect(rep.initFinalizeSeconds).toBeCloseTo(4 * 0.8, 9);
    expect(rep.mpiSeconds).toBeCloseTo(4 * 0.5, 9);
    // the verdict: 65% of the time in MPI with Finalize would make it mpi-bound; 25% does not
    const c = classify(j, { thresholdBytesPerSecond: 10e9, lowRateFactor: 0.01 });
    expect(c.numbers.mpiFraction).toBeCloseTo(0.25, 9);
    expect(c.verdict).toBe('compute-intensive');
    const without = await job('nolife', { commFrom: 0.5e9, commTo: 1.5e9, initNs: 0, finalizeNs: 0 });
    expect(without.rank(0)!.initFinalizeNs).toBe(0);
    expect(without.mpiFraction).toBeCloseTo(0.25, 9);
  });
});
