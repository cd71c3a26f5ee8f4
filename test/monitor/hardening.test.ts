// Hardening (issue 12 items 1, 2, 4, 6, 7): attack clients over real sockets, each test a case
// that broke the monitor before.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Role } from '../../src/generated/functions.js';
import { JobTable } from '../../src/monitor/ingest.js';
import type { JobProfile } from '../../src/monitor/job.js';
import { Monitor, type MonitorOptions } from '../../src/monitor/monitor.js';
import { writeNewReport } from '../../src/cli/report-file.js';
import { buildReport, formatText } from '../../src/report/report.js';
import { keyedHello, partialFrame, probeMs, rawClient } from './attack.js';
import { addon, batchFrame, FakeRank, fnCode, until, worldCommFrame, type Rec } from './helpers.js';

const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.close();
});

async function start(
  opts: MonitorOptions = {},
): Promise<{ m: Monitor; addr: string; ended: JobProfile[]; errors: string[] }> {
  const m = new Monitor(opts);
  monitors.push(m);
  const ended: JobProfile[] = [];
  const errors: string[] = [];
  m.on('jobEnd', (j) => ended.push(j));
  m.on('connectionError', (e) => errors.push(e.error.message));
  const [addr] = await m.listen('tcp://127.0.0.1:0');
  return { m, addr, ended, errors };
}

const SEND = fnCode('MPI_Send', Role.Send);
const ALLREDUCE = fnCode('MPI_Allreduce', Role.Coll);
const bye = (records: number) => addon.encodeBye({ endNs: 1_000_000, records, dropped: 0, mpiNs: 10 });
const commDef = (localId: number, members: number[]) => addon.encodeCommDef({ localId, globalId: 5, members });

/** A clean two-rank job with a key, to check that an attack next to it changes nothing. */
async function cleanJob(addr: string, id: string, key = ''): Promise<void> {
  await Promise.all(
    [0, 1].map(async (r) => {
      const c = new FakeRank(addr);
      await c.send(
        keyedHello(id, r, 2, key),
        worldCommFrame(2),
        batchFrame(0, [{ fn: SEND, peer: 1 - r, bytes: 100 }]),
        bye(1),
      );
      await c.end();
    }),
  );
}

describe('item 1: CommDef ids and members are bounded', () => {
  it('huge local ids cost nothing and still name their communicator', async () => {
    const { addr, ended, errors } = await start();
    const before = process.memoryUsage().arrayBuffers;
    const a = new FakeRank(addr),
      b = new FakeRank(addr);
    await a.send(
      keyedHello('H', 0, 2),
      commDef(2 ** 32 - 1, [0, 1]),
      batchFrame(0, [{ fn: ALLREDUCE, comm: 2 ** 32 - 1, bytes: 8 }]),
      bye(1),
    );
    await b.send(
      keyedHello('H', 1, 2),
      commDef(1e8, [0, 1]),
      batchFrame(0, [{ fn: ALLREDUCE, comm: 1e8, bytes: 8 }]),
      bye(1),
    );
    expect(await probeMs(addr)).toBeLessThan(5000);
    await Promise.all([a.end(), b.end()]);
    await until(() => ended.length === 1);
    expect(errors.filter((e) => !/expected Hello first/.test(e))).toEqual([]); // the probe's only
    const job = ended[0];
    expect(job.endReason).toBe('complete');
    expect(job.rank(0)!.commIndex(2 ** 32 - 1)).toBe(0);
    expect(job.rank(1)!.commIndex(1e8)).toBe(0);
    expect(job.rank(0)!.unknownComms + job.rank(1)!.unknownComms).toBe(0);
    expect(job.unexpandedCollectives).toBe(0);
    expect(job.matrix().bytes.num(1)).toBeGreaterThan(0); // the allreduce was expanded
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  });

  it('members out of range and too many communicators: Error frame, that connection closed, other jobs unaffected', async () => {
    const { addr, ended } = await start({ limits: { maxCommRefs: 4 } });
    const bad = new FakeRank(addr);
    await bad.send(keyedHello('B', 0, 2), commDef(1, [0, 7]));
    const many = new FakeRank(addr);
    await many.send(keyedHello('M', 0, 2), ...[0, 1, 2, 3, 4, 5].map((id) => commDef(id, [0, 1])));
    const huge = new FakeRank(addr);
    await huge.send(
      keyedHello('G', 0, 2),
      commDef(
        3,
        Array.from({ length: 100 }, () => 0),
      ),
    );
    await Promise.all([bad.done, many.done, huge.done]);
    expect(bad.errors()[0]).toMatch(/member 7 out of range/);
    expect(many.errors()[0]).toMatch(/more than 4 communicators.*maxCommRefs/);
    expect(huge.errors()[0]).toMatch(/more members than the job's 2 ranks/);
    await cleanJob(addr, 'C');
    await until(() => ended.some((j) => j.id === 'C'));
    const c = ended.find((j) => j.id === 'C')!;
    expect(c.endReason).toBe('complete');
    expect(c.matrix().bytes.num(1)).toBe(100);
  });
});

describe('item 2: one job costs at most its limits, and expanding it yields to other clients', () => {
  function feed(table: JobTable, id: string, P: number, batches: Buffer[]): JobProfile {
    const s = table.session();
    for (const f of [keyedHello(id, 0, P), worldCommFrame(P), ...batches]) s.frame(f.subarray(4));
    return table.jobs.get(id)!;
  }

  it('placement epochs past maxEpochs are merged into the last kept, nothing lost, and the report says so', () => {
    const P = 64;
    const table = new JobTable({ limits: { maxEpochs: 2 } });
    const batches = [0, 1, 2, 3].map((e) => batchFrame(e, [{ fn: SEND, peer: 1, bytes: 10 + e }], { epoch: 1000 * e }));
    const job = feed(table, 'E', P, batches);
    expect(job.maxEpochs).toBe(2);
    expect(job.epochs()).toEqual([0, 1000]);
    expect(job.matrix().bytes.num(1)).toBe(10 + 11 + 12 + 13);
    expect(job.matrix(1000).bytes.num(1)).toBe(11 + 12 + 13);
    expect(job.limitNotes).toHaveLength(1);
    expect(job.limitNotes[0]).toMatch(/2 batches of later placement epochs were merged into epoch 1000/);
    expect(buildReport([job]).jobs[0].limits).toEqual(job.limitNotes);
    expect(formatText([job])).toContain(`Limit reached: ${job.limitNotes[0]}`);
    // a job of default limits keeps 1024 epochs at most, whatever its size
    expect(new JobTable().session() && feed(new JobTable(), 'D', 2, []).maxEpochs).toBe(1024);
  });

  it('distinct collective entries, histogram cells and placement switches stop at their limits, counted', () => {
    const P = 8;
    const table = new JobTable({ limits: { maxCollEntries: 10, maxHistogramCells: 5, maxPlacementSwitches: 3 } });
    const recs: Rec[] = [];
    for (let i = 0; i < 30; i++) recs.push({ fn: ALLREDUCE, comm: 0, bytes: 8 * (i + 1) });
    for (let i = 0; i < 20; i++) recs.push({ fn: SEND, peer: 1 + (i % 7), bytes: 2 ** (i % 20) });
    for (let i = 0; i < 6; i++)
      recs.push({ fn: fnCode('MPI_Allreduce', Role.Placement), alg: 1, bytes: i, crossBytes: 0, duration: 0 });
    const job = feed(table, 'L', P, [batchFrame(0, recs)]);
    expect(job.rank(0)!.coll.size).toBe(10);
    expect(job.overLimit.collectivesOverLimit).toBe(20);
    expect(job.overLimit.histogramOverLimit).toBeGreaterThan(0);
    expect(job.placementSwitches()).toHaveLength(3);
    expect(job.overLimit.switchesOverLimit).toBe(3);
    expect(job.limitNotes.join('\n')).toMatch(/maxCollEntries[\s\S]*maxHistogramCells[\s\S]*placement switch marks/);
    // the point-to-point matrix itself is complete
    let sent = 0;
    for (let d = 0; d < P; d++) sent += job.matrix().messages.num(d);
    expect(sent).toBeGreaterThanOrEqual(20);
  });

  it('prepare() expands in slices: the event loop turns meanwhile', async () => {
    const P = 64;
    const table = new JobTable();
    const recs: Rec[] = Array.from({ length: 200 }, (_, i) => ({
      fn: fnCode('MPI_Alltoall', Role.Coll),
      comm: 0,
      bytes: 64 * (i + 1),
    }));
    for (let r = 1; r < P; r++) {
      const s = table.session();
      for (const f of [keyedHello('X', r, P), worldCommFrame(P), batchFrame(0, recs)]) s.frame(f.subarray(4));
    }
    const job = feed(table, 'X', P, [batchFrame(0, recs)]);
    const t0 = performance.now();
    job.matrix(); // blocking expansion, for comparison
    const blocking = performance.now() - t0;
    job.version++; // drop the cache
    let turns = 0,
      on = true;
    const turn = () => {
      if (on) {
        turns++;
        setImmediate(turn);
      }
    };
    setImmediate(turn);
    await job.prepare();
    on = false;
    // about one turn per slice of 65536 flow updates: 64 ranks x 200 entries x 63 flows
    expect(turns).toBeGreaterThanOrEqual(10);
    expect(blocking).toBeGreaterThan(0);
    expect(job.matrix().bytes.num(1)).toBeGreaterThan(0);
  });
});

describe('item 4: ranks are bound to their job', () => {
  it('a registered job refuses wrong keys, no key, another size; its ranks complete it', async () => {
    const { m, addr, ended } = await start();
    m.registerJob('R', { key: 'secret-R', size: 2 });
    const wrong = new FakeRank(addr),
      none = new FakeRank(addr),
      squat = new FakeRank(addr);
    await wrong.send(keyedHello('R', 0, 2, 'guess'), bye(0));
    await none.send(keyedHello('R', 1, 2), bye(0));
    await squat.send(keyedHello('R', 0, 3, 'secret-R'));
    await Promise.all([wrong.done, none.done, squat.done]);
    expect(wrong.errors()).toEqual(['job key does not match job R']);
    expect(none.errors()).toEqual(['job key does not match job R']);
    expect(squat.errors()[0]).toMatch(/job R has 2 ranks, this Hello says 3/);
    await cleanJob(addr, 'R', 'secret-R');
    await until(() => ended.length === 1);
    expect(ended[0].endReason).toBe('complete');
    expect(ended[0].registered).toBe(true);
    expect(ended[0].matrix().bytes.num(1)).toBe(100);
  });

  it('an impostor can neither join with another key nor claim a connected rank, nor end the job with Bye', async () => {
    const { addr, ended } = await start();
    const r0 = new FakeRank(addr),
      r1 = new FakeRank(addr);
    await r0.send(keyedHello('J', 0, 2, 'k1'), batchFrame(0, [{ fn: SEND, peer: 1, bytes: 5 }]));
    await r1.send(keyedHello('J', 1, 2, 'k1'));
    await until(() => r1.socket.bytesWritten > 0);
    const otherKey = new FakeRank(addr),
      twin = new FakeRank(addr);
    await otherKey.send(keyedHello('J', 1, 2, 'k2'), bye(0));
    await new Promise((r) => setTimeout(r, 50));
    await twin.send(keyedHello('J', 0, 2, 'k1'), bye(0));
    await Promise.all([otherKey.done, twin.done]);
    expect(otherKey.errors()).toEqual(['job key does not match job J']);
    expect(twin.errors()).toEqual(['rank 0 of job J is already connected']);
    expect(ended).toHaveLength(0);
    await r0.send(bye(1));
    await r1.send(bye(0));
    await Promise.all([r0.end(), r1.end()]);
    await until(() => ended.length === 1);
    expect(ended[0].endReason).toBe('complete');
    expect(ended[0].rank(0)!.host).toBe('h0');
    expect(ended[0].registered).toBe(false);
  });

  it('requireJobKey refuses keyless Hellos', async () => {
    const { addr } = await start({ requireJobKey: true });
    const c = new FakeRank(addr);
    await c.send(keyedHello('N', 0, 1));
    await c.done;
    expect(c.errors()[0]).toMatch(/requires a job key/);
  });
});

describe('item 6: late ranks meet in one job; no report lost', () => {
  it('a rank connecting after the linger time still joins its job (join window)', async () => {
    const { addr, ended } = await start({ lingerMs: 50, joinWindowMs: 5000 });
    const a = new FakeRank(addr);
    await a.send(keyedHello('late', 0, 2), batchFrame(0, [{ fn: SEND, peer: 1, bytes: 7 }]), bye(1));
    await a.end();
    await new Promise((r) => setTimeout(r, 400));
    expect(ended).toHaveLength(0);
    const b = new FakeRank(addr);
    await b.send(keyedHello('late', 1, 2), batchFrame(0, [{ fn: SEND, peer: 0, bytes: 9 }]), bye(1));
    await b.end();
    await until(() => ended.length === 1);
    expect(ended[0].endReason).toBe('complete');
    expect(ended[0].records).toBe(2);
  });

  it('a second report of one job id gets a new name; a planted link is not followed', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-reports-'));
    try {
      const target = path.join(dir, 'victim');
      fs.writeFileSync(target, 'keep');
      fs.symlinkSync(target, path.join(dir, 'j_1.json'));
      const p1 = writeNewReport(dir, 'j/1', 'first');
      const p2 = writeNewReport(dir, 'j/1', 'second');
      expect(path.basename(p1)).toBe('j_1.1.json');
      expect(path.basename(p2)).toBe('j_1.2.json');
      expect(fs.readFileSync(p1, 'utf8')).toBe('first');
      expect(fs.readFileSync(p2, 'utf8')).toBe('second');
      expect(fs.readFileSync(target, 'utf8')).toBe('keep');
      expect(fs.statSync(p1).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('item 7: connections without Hello share one budget', () => {
  it('many partial headers: what they hold stays under the budget, the oldest are closed', async () => {
    const budget = 256 * 1024;
    const { m, addr } = await start({ maxUnauthenticatedBytes: budget });
    const clients = Array.from({ length: 600 }, () => rawClient(addr, partialFrame(60_000, 1)));
    let peak = 0;
    let closed = 0;
    for (const c of clients) void c.closed.then(() => closed++);
    await until(() => {
      peak = Math.max(peak, m.unauthenticatedBytesHeld);
      return m.connectionCount + closed >= 600;
    }, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${m.connectionCount} open, ${closed} closed`);
    });
    await new Promise((r) => setTimeout(r, 200));
    peak = Math.max(peak, m.unauthenticatedBytesHeld);
    expect(peak).toBeLessThanOrEqual(budget);
    expect(m.connectionCount).toBeLessThanOrEqual(budget / 1024);
    expect(m.connectionCount).toBeGreaterThan(100);
    // a real rank still gets in
    const r = new FakeRank(addr);
    await r.send(keyedHello('ok', 0, 1), bye(0));
    await until(() => m.endedJobs().some((j) => j.id === 'ok'));
    for (const c of clients) c.socket.destroy();
  });
});
