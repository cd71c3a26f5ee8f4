// Hardening: valid rank streams with a few bytes mutated (flips, overwrites, cuts, repeats), fed
// through the monitor's whole path — framing, decoding, aggregation, collective expansion,
// queries and the report. A peer's bad bytes may only ever raise WireError on its own session;
// every job must stay queryable with finite, non-negative numbers; and a job fed cleanly in the
// same table must come out exactly as without the noise around it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FuzzResult } from '../../bench/fuzz-monitor.js';
import { packageRoot } from '../../src/native/paths.js';
import { Role } from '../../src/generated/functions.js';
import { JobTable } from '../../src/monitor/ingest.js';
import type { JobProfile } from '../../src/monitor/job.js';
import { buildReport } from '../../src/report/report.js';
import { WireError } from '../../src/wire/frames.js';
import { encodePlacement } from '../../src/wire/messages.js';
import { mutate, rng } from '../../bench/records.js';
import { addon, batchFrame, fnCode, helloFrame, worldCommFrame, type Rec } from './helpers.js';

const P = 4;
const mark = (kind: number, epoch: number, call: number): Rec => ({
  fn: fnCode('MPI_Allreduce', Role.Placement),
  alg: kind,
  bytes: epoch,
  crossBytes: call,
  duration: 0,
});

/** Every frame a rank sends, in order (bodies without the 4-byte length). */
function stream(job: string, rank: number): Buffer[] {
  const recs: Rec[] = [
    mark(1, 0, 0),
    { fn: fnCode('MPI_Send', Role.Send), peer: (rank + 1) % P, bytes: 1000 + rank },
    { fn: fnCode('MPI_Recv', Role.Recv), peer: (rank + P - 1) % P, bytes: 1000 },
    {
      fn: fnCode('MPI_Allreduce', Role.Coll),
      bytes: 4096,
      comm: 0,
      alg: 1,
      crossMsgs: rank % 2,
      crossBytes: 4096 * (rank % 2),
    },
    { fn: fnCode('MPI_Bcast', Role.Coll), peer: 0, bytes: 64, comm: 1 },
    { fn: fnCode('MPI_Alltoallv', Role.Coll), bytes: 300, comm: 0 },
    { fn: fnCode('MPI_Alltoallv', Role.PartSend), peer: (rank + 2) % P, bytes: 300 },
    { fn: fnCode('MPI_Get', Role.Pull), peer: (rank + 3) % P, bytes: 2 ** 40 },
    { fn: fnCode('MPI_Wait', Role.RecvDone), peer: 1, bytes: 8 },
    mark(1, 1, 5),
  ];
  const half = rank < P / 2 ? [0, 1] : [2, 3];
  return [
    helloFrame(job, rank, P),
    worldCommFrame(P),
    addon.encodeCommDef({ localId: 1, globalId: 77, members: half }),
    batchFrame(0, recs.slice(0, 5), { epoch: 0 }),
    encodePlacement({ epoch: 1, sites: ['A', 'B'], siteOf: [0, 1, 0, 1] }),
    batchFrame(1, recs.slice(5), { epoch: 1 }),
    addon.encodeBye({ endNs: 5e9, records: recs.length, dropped: 0, mpiNs: 1e9 }),
  ].map((f) => f.subarray(4));
}

/** Everything a user of the library or the CLI may ask of a job. */
function query(job: JobProfile): number[] {
  const m = job.matrix();
  const numbers: number[] = [];
  for (let i = 0; i < job.size * job.size; i++) numbers.push(m.bytes.num(i), m.messages.num(i));
  for (const e of job.epochs()) job.matrix(e);
  for (const h of job.histogramPairs()) numbers.push(...h.counts);
  for (const f of job.functions()) numbers.push(f.count, f.bytes, f.timeNs);
  for (const w of job.placementSwitches()) numbers.push(w.call, w.jobSeconds);
  const report = buildReport([job]).jobs[0];
  numbers.push(
    report.mpiSeconds,
    report.wallSeconds,
    report.unexpandedCollectives,
    ...report.ranks.map((r) => r.crossSiteBytes),
  );
  JSON.stringify(report);
  return numbers;
}

describe('monitor under mutated streams', () => {
  it('only WireError escapes, every job stays queryable, and a clean job is unaffected', () => {
    const clean = new JobTable();
    for (let r = 0; r < P; r++) {
      const s = clean.session();
      for (const f of stream('clean', r)) s.frame(f);
    }
    const expected = buildReport([clean.jobs.get('clean')!]).jobs[0];

    const rnd = rng(2026);
    const table = new JobTable();
    let wireErrors = 0,
      accepted = 0;
    const feed = (frames: Buffer[]) => {
      const s = table.session();
      for (const f of frames) {
        try {
          s.frame(f);
          accepted++;
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
          wireErrors++;
          break; // the monitor closes the connection on the first error
        }
      }
      s.close();
    };
    for (let it = 0; it < 4000; it++) {
      const r = Math.floor(rnd() * P);
      const frames = stream(`noisy${it % 7}`, r);
      const k = Math.floor(rnd() * frames.length);
      for (let n = 0; n < 1 + rnd() * 2; n++) frames[Math.floor(rnd() * frames.length)] = mutate(frames[k], rnd);
      feed(frames);
      if (it % 100 === 0) for (let q = 0; q < P; q++) feed(stream('clean', q)); // a clean job amid the noise
    }
    expect(wireErrors).toBeGreaterThan(100);
    expect(accepted).toBeGreaterThan(2000);
    for (const job of table.jobs.values()) {
      for (const x of query(job)) {
        expect(Number.isFinite(x)).toBe(true);
        expect(x).toBeGreaterThanOrEqual(0);
      }
    }
    // Resent clean streams are duplicates (same seq): the clean job is exactly as alone.
    const got = buildReport([table.jobs.get('clean')!]).jobs[0];
    expect(got.matrix).toEqual(expected.matrix);
    expect(got.functions).toEqual(expected.functions);
    expect(got.placementSwitches).toEqual(expected.placementSwitches);
  });
});

// The whole input path over real sockets (bench/fuzz-monitor.ts): random and mutated streams
// from many connections, flooding clients in another process, a probe timing new connections.
// The compiled bench runs in a Node process of its own, as a monitor service does (inside the test
// runner's worker, its transformed modules and the runner's own work would be timed too).
// Longer: node --expose-gc dist/bench/fuzz-monitor.js --seconds 600 --seed 7 --clients 32 --flood 200
describe('monitor over sockets under a fuzzer and flooding clients', () => {
  it('no internal error, memory and new-connection latency within their bounds', async () => {
    const script = path.join(packageRoot, 'dist', 'bench', 'fuzz-monitor.js');
    const out = await new Promise<string>((resolve, reject) => {
      const args = ['--expose-gc', script, '--seconds', '20', '--seed', '2026', '--clients', '8', '--flood', '20'];
      execFile(process.execPath, args, { maxBuffer: 1 << 24 }, (e, stdout) =>
        stdout ? resolve(stdout) : reject(e ?? new Error('fuzz-monitor printed no result')),
      );
    });
    const r = JSON.parse(out) as FuzzResult;
    expect(r.internalErrors).toEqual([]);
    expect(r.connections).toBeGreaterThan(50);
    expect(r.protocolErrors).toBeGreaterThan(10);
    expect(r.probes).toBeGreaterThan(5);
    // documented bounds: a new connection is answered within 1 s; the fuzzed jobs (up to 2048
    // ranks, limits by default) hold at most a few hundred MB together
    expect(r.probeMaxMs).toBeLessThan(1000);
    expect(r.rssMaxMB - r.rssStartMB).toBeLessThan(600);
  }, 120_000);
});
