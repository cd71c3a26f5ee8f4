// The monitor over real sockets, with fake ranks speaking through the shim's encoder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Role, ROLE_SHIFT, COLL_NAMES } from '../../src/generated/functions.js';
import { HELLO_MAX_BYTES, Monitor } from '../../src/monitor/monitor.js';
import { DEFAULT_MAX_RANKS } from '../../src/monitor/ingest.js';
import { sizeBucket } from '../../src/monitor/histogram.js';
import type { JobProfile } from '../../src/monitor/job.js';
import { addon, batchFrame, FakeRank, fnCode, fnId, helloFrame, until, worldCommFrame, type Rec } from './helpers.js';

const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.close();
});

async function start(
  opts: ConstructorParameters<typeof Monitor>[0] = {},
  addr = 'tcp://127.0.0.1:0',
): Promise<{ m: Monitor; addr: string; ended: JobProfile[] }> {
  const m = new Monitor(opts);
  monitors.push(m);
  const ended: JobProfile[] = [];
  m.on('jobEnd', (j) => ended.push(j));
  const [a] = await m.listen(addr);
  return { m, addr: a, ended };
}

const SEND = fnCode('MPI_Send', Role.Send);
const RECV = fnCode('MPI_Recv', Role.Recv);
const bye = (records: number, mpiNs = 0, endNs = 1_000_000) => addon.encodeBye({ endNs, records, dropped: 0, mpiNs });

/** Ring: each rank sends `k` messages of `b` bytes to rank+1, and receives k. */
function ringRecords(rank: number, size: number, k: number, b: number): Rec[] {
  const out: Rec[] = [];
  for (let i = 0; i < k; i++) {
    out.push({ fn: SEND, peer: (rank + 1) % size, bytes: b, duration: 100 });
    out.push({ fn: RECV, peer: (rank + size - 1) % size, bytes: b, duration: 300 });
  }
  return out;
}

describe('Monitor', () => {
  it('many concurrent ranks of two jobs: exact matrices, function stats, events', async () => {
    const { m, addr, ended } = await start({ updateIntervalMs: 10 });
    const started: string[] = [];
    const updates = new Set<string>();
    m.on('jobStart', (j) => started.push(j.id));
    m.on('jobUpdate', (j) => updates.add(j.id));
    const jobs = [
      { id: 'A', size: 16, k: 50, b: 1000 },
      { id: 'B', size: 6, k: 7, b: 2 ** 40 },
    ];
    const ranks: Array<Promise<void>> = [];
    for (const j of jobs) {
      for (let r = 0; r < j.size; r++) {
        ranks.push(
          (async () => {
            const c = new FakeRank(addr);
            const recs = ringRecords(r, j.size, j.k, j.b);
            await c.send(helloFrame(j.id, r, j.size), worldCommFrame(j.size));
            // several batches, sent in pieces
            const f = Buffer.concat([
              batchFrame(0, recs.slice(0, 30)),
              batchFrame(1, recs.slice(30)),
              bye(recs.length, 12345, 10_000_000),
            ]);
            for (let i = 0; i < f.length; i += 97) await c.send(f.subarray(i, i + 97));
            await c.end();
          })(),
        );
      }
    }
    await Promise.all(ranks);
    await until(() => ended.length === 2);
    expect(started.sort()).toEqual(['A', 'B']);
    expect(updates.size).toBeGreaterThan(0);
    for (const j of jobs) {
      const job = ended.find((x) => x.id === j.id)!;
      expect(job.endReason).toBe('complete');
      const mat = job.matrix();
      for (let s = 0; s < j.size; s++) {
        for (let d = 0; d < j.size; d++) {
          const ring = d === (s + 1) % j.size;
          expect(mat.bytes.big(s * j.size + d)).toBe(ring ? BigInt(j.k) * BigInt(j.b) : 0n);
          expect(mat.messages.num(s * j.size + d)).toBe(ring ? j.k : 0);
        }
      }
      const fns = job.functions();
      expect(fns.find((f) => f.name === 'MPI_Send')).toMatchObject({
        count: j.k * j.size,
        bytes: j.k * j.size * j.b,
        timeNs: 100 * j.k * j.size,
      });
      expect(fns.find((f) => f.name === 'MPI_Recv')).toMatchObject({ count: j.k * j.size, timeNs: 300 * j.k * j.size });
      const r0 = job.rank(0)!;
      expect(r0.mpiNs).toBe(12345); // Bye.mpiNs wins over the sum of durations
      expect(r0.mpiNsRecorded).toBe(400 * j.k);
      expect(r0.wallNs).toBe(10_000_000);
      expect(job.losses).toEqual({ droppedRecords: 0, lostBatches: 0, lostRecords: 0, duplicateBatches: 0 });
      // histogram: all ring messages in one bucket
      const h = job.histogram(0, 1);
      expect(h.reduce((a, b) => a + b, 0)).toBe(j.k);
      expect(h[sizeBucket(j.b)]).toBe(j.k);
      expect(h[sizeBucket(j.b) + 1]).toBe(0);
    }
    expect(m.jobs()).toHaveLength(0);
  });

  it('load: 384 ranks of 4 jobs at once, 48 faulty clients among them: every record counted, faults refused', async () => {
    const { m, addr, ended } = await start({ token: 't' });
    const errs: string[] = [];
    m.on('connectionError', (e) => errs.push(e.error.message));
    const jobs = ['L0', 'L1', 'L2', 'L3'].map((id, i) => ({ id, size: 96, k: 200 + 50 * i, b: 1 + i * 1000 }));
    const clients: Array<Promise<void>> = [];
    for (const j of jobs) {
      for (let r = 0; r < j.size; r++) {
        clients.push(
          (async () => {
            const c = new FakeRank(addr);
            const recs = ringRecords(r, j.size, j.k, j.b);
            const third = Math.floor(recs.length / 3);
            await c.send(helloFrame(j.id, r, j.size, 't'), worldCommFrame(j.size), batchFrame(0, recs.slice(0, third)));
            await new Promise((res) => setImmediate(res)); // interleave with the other clients
            await c.send(
              batchFrame(1, recs.slice(third, 2 * third)),
              batchFrame(2, recs.slice(2 * third)),
              bye(recs.length),
            );
            await c.end();
          })(),
        );
        if (r % 8 !== 0) continue;
        // A faulty client for every 8 good ones: a wrong token, garbage, or a frame cut short.
        clients.push(
          (async () => {
            const c = new FakeRank(addr);
            const kind = (r / 8) % 3;
            if (kind === 0)
              await c.send(helloFrame(j.id, r, j.size, 'wrong'), batchFrame(0, ringRecords(r, j.size, 5, 7)));
            else if (kind === 1) await c.send(Buffer.from([9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
            else await c.send(helloFrame('cut', r, 1000, 't'), batchFrame(0, ringRecords(0, 2, 5, 7)).subarray(0, 20));
            if (kind === 2) await c.end();
            else await c.done; // the monitor closes it
          })(),
        );
      }
    }
    await Promise.all(clients);
    await until(() => ended.filter((x) => x.id.startsWith('L')).length === jobs.length, 20_000);
    for (const j of jobs) {
      const job = ended.find((x) => x.id === j.id)!;
      expect(job.endReason).toBe('complete');
      expect(job.losses).toEqual({ droppedRecords: 0, lostBatches: 0, lostRecords: 0, duplicateBatches: 0 });
      const mat = job.matrix();
      let total = 0n;
      for (let i = 0; i < j.size * j.size; i++) total += mat.bytes.big(i);
      expect(total).toBe(BigInt(j.size * j.k * j.b));
      for (let s = 0; s < j.size; s++) expect(mat.messages.num(s * j.size + ((s + 1) % j.size))).toBe(j.k);
      expect(job.functions().find((f) => f.name === 'MPI_Send')).toMatchObject({ count: j.k * j.size });
    }
    // 12 faulty clients per job: 4 wrong tokens and 4 garbage streams refused with an Error each
    expect(errs.filter((e) => e === 'bad token')).toHaveLength(16);
    expect(errs.filter((e) => /malformed|expected Hello first/.test(e))).toHaveLength(16);
  }, 60_000);

  it('rejects a bad token and malformed frames with an Error and a close, others unaffected', async () => {
    const { m, addr, ended } = await start({ token: 'right' });
    const errs: string[] = [];
    m.on('connectionError', (e) => errs.push(e.error.message));
    const good = new FakeRank(addr);
    await good.send(helloFrame('J', 0, 2, 'right'), worldCommFrame(2), batchFrame(0, ringRecords(0, 2, 5, 10)));
    const good1 = new FakeRank(addr);
    await good1.send(helloFrame('J', 1, 2, 'right'), worldCommFrame(2));

    const badToken = new FakeRank(addr);
    await badToken.send(helloFrame('J', 1, 2, 'wrong'), batchFrame(0, ringRecords(1, 2, 100, 10)));
    const before = new FakeRank(addr);
    await before.send(batchFrame(0, ringRecords(1, 2, 1, 10)));
    const garbage = new FakeRank(addr);
    await garbage.send(helloFrame('G', 1, 2, 'right'), Buffer.from([5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff]));
    const oversize = new FakeRank(addr);
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(addon.maxFrameBytes + 1);
    await oversize.send(hdr);
    const badRank = new FakeRank(addr);
    await badRank.send(helloFrame('J', 5, 2, 'right'));
    const badSize = new FakeRank(addr);
    await badSize.send(helloFrame('J', 1, 3, 'right'));

    await Promise.all([badToken.done, before.done, garbage.done, oversize.done, badRank.done, badSize.done]);
    expect(badToken.errors()).toEqual(['bad token']);
    expect(before.errors()[0]).toMatch(/expected Hello first/);
    expect(garbage.errors()[0]).toMatch(/malformed/);
    expect(oversize.errors()[0]).toMatch(/exceeds the maximum/);
    expect(badRank.errors()[0]).toMatch(/out of range/);
    expect(badSize.errors()[0]).toMatch(/has 2 ranks/);
    expect(errs).toHaveLength(6);

    // the good ranks go on
    expect(good.closed).toBe(false);
    await good.send(batchFrame(1, ringRecords(0, 2, 5, 10)), bye(20));
    await good1.send(batchFrame(0, ringRecords(1, 2, 10, 10)), bye(20));
    await Promise.all([good.end(), good1.end()]);
    await until(() => ended.length === 1);
    const job = ended[0];
    expect(job.endReason).toBe('complete');
    const mat = job.matrix();
    expect(mat.bytes.num(0 * 2 + 1)).toBe(100); // 10 sends of 10 bytes from rank 0
    expect(mat.bytes.num(1 * 2 + 0)).toBe(100); // rank 1: only the good connection counted
    expect(mat.messages.num(1)).toBe(10);
    expect(job.rank(1)!.records).toBe(20);
  });

  it('refuses a first frame larger than a Hello at its header; after a Hello, large batches pass', async () => {
    const { m, addr, ended } = await start({ token: 't' });
    const errs: string[] = [];
    m.on('connectionError', (e) => errs.push(e.error.message));
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(HELLO_MAX_BYTES + 1);
    const stranger = new FakeRank(addr);
    await stranger.send(hdr);
    await stranger.done;
    expect(stranger.errors()).toEqual([
      `first frame of ${HELLO_MAX_BYTES + 1} bytes exceeds the maximum of ${HELLO_MAX_BYTES}`,
    ]);
    // A rank's batch frames may be far larger than a Hello.
    const recs = ringRecords(0, 1, 40_000, 3);
    const big = batchFrame(0, recs);
    expect(big.length).toBeGreaterThan(HELLO_MAX_BYTES);
    const rank = new FakeRank(addr);
    await rank.send(helloFrame('H', 0, 1, 't'), worldCommFrame(1), big, bye(recs.length));
    await rank.end();
    await until(() => ended.length === 1);
    expect(ended[0].rank(0)!.records).toBe(recs.length);
    expect(errs).toHaveLength(1);
  });

  it('refuses jobs larger than maxRanks at Hello, with the way to raise the limit', async () => {
    const { addr } = await start();
    const huge = new FakeRank(addr);
    await huge.send(helloFrame('big', 0, DEFAULT_MAX_RANKS + 1));
    await huge.done;
    expect(huge.errors()).toEqual([
      `job size ${DEFAULT_MAX_RANKS + 1} out of range (1..${DEFAULT_MAX_RANKS}; the monitor's maxRanks option raises the limit)`,
    ]);
    const { addr: small } = await start({ maxRanks: 3 });
    const four = new FakeRank(small);
    await four.send(helloFrame('four', 0, 4));
    await four.done;
    expect(four.errors()[0]).toMatch(/out of range \(1\.\.3;/);
  });

  it('closes a connection that sends no Hello in time; ranks that said Hello stay', async () => {
    const { addr, ended } = await start({ helloTimeoutMs: 150 });
    const silent = new FakeRank(addr);
    const rank = new FakeRank(addr);
    await rank.send(helloFrame('S', 0, 1), worldCommFrame(1));
    await silent.done;
    expect(silent.errors()).toEqual(['no Hello within 150 ms']);
    await new Promise((r) => setTimeout(r, 200)); // past the timeout: the rank is still connected
    expect(rank.closed).toBe(false);
    await rank.send(batchFrame(0, [{ fn: SEND, peer: 0, bytes: 5 }]), bye(1));
    await rank.end();
    await until(() => ended.length === 1);
    expect(ended[0].endReason).toBe('complete');
  });

  it('expands collectives through the cost model', async () => {
    const { addr, ended } = await start(
      {},
      `unix:${path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'smon-')), 'm.sock')}`,
    );
    const P = 4;
    const BCAST = fnCode('MPI_Bcast', Role.Coll),
      ALLRED = fnCode('MPI_Allreduce', Role.Coll),
      A2A = fnCode('MPI_Alltoall', Role.Coll);
    // comm 1 = ranks {3, 1} (world), comm 0 = world
    await Promise.all(
      Array.from({ length: P }, async (_, r) => {
        const c = new FakeRank(addr);
        const recs: Rec[] = [];
        for (let i = 0; i < 3; i++) recs.push({ fn: BCAST, peer: 2, bytes: 1000, comm: 0 }); // root world rank 2
        for (let i = 0; i < 5; i++) recs.push({ fn: ALLRED, peer: -1, bytes: 8, comm: 0 });
        if (r === 1 || r === 3) recs.push({ fn: A2A, peer: -1, bytes: 64, comm: 1 });
        recs.push({ fn: BCAST, peer: 1, bytes: 77, comm: 9 }); // unknown communicator: not expanded
        const frames = [helloFrame('C', r, P), worldCommFrame(P)];
        if (r === 1 || r === 3) frames.push(addon.encodeCommDef({ localId: 1, globalId: 42, members: [3, 1] }));
        await c.send(...frames, batchFrame(0, recs), bye(recs.length));
        await c.end();
      }),
    );
    await until(() => ended.length === 1);
    const job = ended[0];
    // expected, from the addon's cost model directly
    const want = { bytes: new Array(P * P).fill(0), msgs: new Array(P * P).fill(0) };
    const add = (coll: string, me: number, root: number, members: number[], bytes: number, times: number) => {
      const f = addon.expandCollective(COLL_NAMES.indexOf(coll), 0, me, root, members.length, bytes);
      for (let k = 0; k < f.src.length; k++) {
        const s = members[f.src[k]],
          d = members[f.dst[k]];
        want.bytes[s * P + d] += f.bytes[k] * times;
        want.msgs[s * P + d] += f.msgs[k] * times;
      }
    };
    const world = [0, 1, 2, 3];
    for (let r = 0; r < P; r++) {
      add('Bcast', r, 2, world, 1000, 3);
      add('Allreduce', r, -1, world, 8, 5);
    }
    add('Alltoall', 0, -1, [3, 1], 64, 1);
    add('Alltoall', 1, -1, [3, 1], 64, 1);
    const mat = job.matrix();
    expect(Array.from({ length: P * P }, (_, i) => mat.bytes.num(i))).toEqual(want.bytes);
    expect(Array.from({ length: P * P }, (_, i) => mat.messages.num(i))).toEqual(want.msgs);
    // whatever the model (a tree: from the root or a rank on the way), a bcast delivers the
    // root's 1000 bytes x 3 to every rank, and the alltoall on {3, 1} moves 64 bytes each way
    const into = (d: number): number => world.reduce((sum, s) => sum + want.bytes[s * P + d], 0);
    for (const d of [0, 1, 3]) expect(into(d)).toBeGreaterThanOrEqual(3000);
    expect(mat.bytes.num(3 * P + 1)).toBeGreaterThanOrEqual(64);
    expect(mat.bytes.num(1 * P + 3)).toBeGreaterThanOrEqual(64);
    expect(job.unexpandedCollectives).toBe(P);
    expect(job.functions().find((f) => f.name === 'MPI_Bcast')).toMatchObject({ count: 4 * P, bytes: P * (3000 + 77) });
  });

  it('treats a reconnecting rank as the same rank: duplicates ignored, gaps counted as lost', async () => {
    const { addr, ended } = await start();
    const one = (seq: number, bytes: number) => batchFrame(seq, [{ fn: SEND, peer: 1, bytes }]);
    const a = new FakeRank(addr);
    await a.send(helloFrame('R', 0, 2), worldCommFrame(2), one(0, 1), one(1, 2));
    const r1 = new FakeRank(addr);
    await r1.send(helloFrame('R', 1, 2), worldCommFrame(2), bye(0));
    await a.end();
    const b = new FakeRank(addr);
    await b.send(
      helloFrame('R', 0, 2),
      worldCommFrame(2),
      one(1, 2),
      one(2, 4),
      one(4, 16),
      one(3, 8),
      one(6, 64),
      addon.encodeBye({ endNs: 5, records: 7, dropped: 0, mpiNs: 1 }),
    );
    await Promise.all([b.end(), r1.end()]);
    await until(() => ended.length === 1);
    const job = ended[0];
    const r0 = job.rank(0)!;
    expect(job.matrix().bytes.num(1)).toBe(1 + 2 + 4 + 8 + 16 + 64);
    expect(r0.duplicateBatches).toBe(1);
    expect(r0.lostBatches).toBe(1); // seq 5
    expect(r0.lostRecords).toBe(1);
    expect(r0.connections).toBe(2);
  });

  it('ends a job whose ranks disconnected without Bye after the linger time', async () => {
    const { addr, ended } = await start({ lingerMs: 100, joinWindowMs: 100 });
    const a = new FakeRank(addr);
    await a.send(helloFrame('L', 0, 2), batchFrame(0, [{ fn: SEND, peer: 1, bytes: 3 }]));
    await a.end();
    await new Promise((r) => setTimeout(r, 30));
    expect(ended).toHaveLength(0);
    await until(() => ended.length === 1);
    expect(ended[0].endReason).toBe('disconnected');
    expect(ended[0].ranksFinished).toBe(0);
  });

  it('keeps one matrix per placement epoch, exact past 2^53, and sends placements', async () => {
    const { m, addr, ended } = await start();
    const a = new FakeRank(addr);
    const big = 2 ** 52;
    await a.send(helloFrame('E', 0, 2), worldCommFrame(2));
    await until(() => m.job('E') !== undefined);
    expect(m.sendPlacement('E', { epoch: 1, sites: ['x', 'y'], siteOf: [0, 1] })).toBe(1);
    await until(() => a.received.length > 0);
    expect(a.received[0]).toEqual({ kind: 'placement', placement: { epoch: 1, sites: ['x', 'y'], siteOf: [0, 1] } });
    const recs = Array.from({ length: 5 }, () => ({ fn: SEND, peer: 1, bytes: big }));
    await a.send(batchFrame(0, recs, { epoch: 0 }), batchFrame(1, recs.slice(0, 2), { epoch: 1 }), bye(7));
    const b = new FakeRank(addr);
    await b.send(helloFrame('E', 1, 2), bye(0));
    await Promise.all([a.end(), b.end()]);
    await until(() => ended.length === 1);
    const job = ended[0];
    expect(job.epochs()).toEqual([0, 1]);
    expect(job.matrix(0).bytes.big(1)).toBe(5n * BigInt(big));
    expect(job.matrix(1).bytes.big(1)).toBe(2n * BigInt(big));
    expect(job.matrix().bytes.big(1)).toBe(7n * BigInt(big));
    expect(job.functions()[0].bytes).toBe(7 * big);
    expect(job.matrix().messages.num(1)).toBe(7);
  });

  it("reports when each communicator switched placements; a mark's call number is no cross-site traffic", async () => {
    const { addr, ended } = await start();
    const ar = fnId('MPI_Allreduce');
    // agreement.h: role Placement, alg = mark kind (1 switch, 2 seen), bytes = epoch, cross bytes = call
    const mark = (kind: number, epoch: number, call: number, start: number): Rec => ({
      fn: ar | (Role.Placement << ROLE_SHIFT),
      alg: kind,
      bytes: epoch,
      crossBytes: call,
      start,
      duration: 0,
    });
    const ranks = [0, 1].map(async (r) => {
      const c = new FakeRank(addr);
      await c.send(
        helloFrame('S', r, 2),
        worldCommFrame(2),
        batchFrame(0, [
          mark(1, 0, 0, 1000),
          { fn: ar | (Role.Coll << ROLE_SHIFT), bytes: 8, start: 2000, alg: 1, crossMsgs: 1, crossBytes: 8 },
          mark(2, 1, 40, 3_000_000_000 + r),
          mark(1, 1, 64, 3_500_000_000 + 1000 * r),
        ]),
        bye(4),
      );
      await c.end();
    });
    await Promise.all(ranks);
    await until(() => ended.length === 1);
    const job = ended[0];
    expect(job.placementSwitches()).toEqual([
      { comm: 0, epoch: 0, call: 0, jobSeconds: 1e-6, ranks: 2 },
      { comm: 0, epoch: 1, call: 64, jobSeconds: 3.5, ranks: 2 },
    ]);
    for (const r of job.ranks) expect([r!.crossSiteMessages, r!.crossSiteBytes]).toEqual([1, 8]);
  });

  it('part records count in the matrix only; RecvDone and Recv nowhere', async () => {
    const { addr, ended } = await start();
    const a = new FakeRank(addr);
    const av = fnId('MPI_Alltoallv');
    await a.send(
      helloFrame('P', 0, 3),
      worldCommFrame(3),
      batchFrame(0, [
        { fn: av | (Role.Coll << ROLE_SHIFT), peer: -1, bytes: 30, comm: 0, duration: 50 },
        { fn: av | (Role.PartSend << ROLE_SHIFT), peer: 1, bytes: 10 },
        { fn: av | (Role.PartSend << ROLE_SHIFT), peer: 2, bytes: 20 },
        { fn: av | (Role.PartSend << ROLE_SHIFT), peer: 0, bytes: 99 }, // self: never counts
        { fn: fnId('MPI_Get') | (Role.Pull << ROLE_SHIFT), peer: 2, bytes: 7 },
        { fn: fnId('MPI_Wait') | (Role.RecvDone << ROLE_SHIFT), peer: 1, bytes: 1000 },
      ]),
      bye(6),
    );
    await a.end();
    const others = [1, 2].map(async (r) => {
      const c = new FakeRank(addr);
      await c.send(helloFrame('P', r, 3), bye(0));
      await c.end();
    });
    await Promise.all(others);
    await until(() => ended.length === 1);
    const job = ended[0];
    const mat = job.matrix();
    expect(Array.from({ length: 9 }, (_, i) => mat.bytes.num(i))).toEqual([0, 10, 20, 0, 0, 0, 7, 0, 0]);
    expect(job.functions().map((f) => [f.name, f.count, f.bytes])).toEqual([
      ['MPI_Alltoallv', 1, 30],
      ['MPI_Get', 1, 7],
    ]);
  });
});
