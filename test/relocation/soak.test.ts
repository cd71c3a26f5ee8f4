// Live relocation, shim side (docs/relocation-shim.md): 8 ranks run every covered collective on
// world, a dup and two splits, each call checked against PMPI, while a real Monitor pushes random
// placements at random moments, some to part of the ranks only (for a while, or for good), in
// different orders. From the records (the switch markers): every rank of a communicator switches
// at the same call to the same epochs, every call ran with the grouping of the epoch in force
// (Bcast's cross-site counters), and no switch comes later than 2K-1 calls after the placement
// reached the first member. Then: a monitor that goes away leaves the job on its last placement.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Alg } from '../../src/generated/facts.js';
import type { Placement } from '../../src/wire/messages.js';
import { compileMpi, mpirun, tempDir, type RunResult } from '../helpers/mpi.js';
import {
  TappedMonitor,
  decodeStreams,
  prng,
  randomPlacement,
  sitesOf,
  sleep,
  traces,
  type CommTrace,
  type RankRecords,
  type Rec,
} from './harness.js';

const program = compileMpi('test/relocation/programs/soak.c');
const NP = 8;

interface CommCheck {
  key: string;
  members: number[];
  calls: number;
  switches: { call: number; epoch: number }[];
  maxLag: number;
  lags: number;
}

/**
 * A call's record against the grouping of the epoch in force: PMPI where the communicator has one
 * site or one rank per site; Bcast (m > 0) site-aware, the root sending m to each other site's
 * leader and nobody else sending across sites.
 */
function checkRecord(
  r: Rec,
  me: number,
  members: number[],
  p: Placement | undefined,
  errors: string[],
  where: string,
  enabled: (coll: string) => boolean = () => true,
): void {
  const P = members.length;
  const S = p ? sitesOf(members, p.siteOf) : 1;
  const siteAware = S >= 2 && S < P && enabled(r.fn);
  if (!siteAware) {
    if (r.alg !== Alg.Library || r.crossMsgs !== 0)
      errors.push(`${where}: ${r.fn} alg ${r.alg} with ${S} sites of ${P} ranks`);
    return;
  }
  if (r.fn !== 'Bcast' || r.bytes === 0) return;
  const root = r.peer === me;
  const want = root ? [1, S - 1, (S - 1) * r.bytes] : [1, 0, 0];
  const got = [r.alg, r.crossMsgs, r.crossBytes];
  if (got.join() !== want.join())
    errors.push(`${where}: Bcast ${got.join()} != ${want.join()} (${S} sites, root ${r.peer})`);
}

/** Every check on the records of one job; returns what was found (errors in `errors`). */
function analyse(
  job: Map<number, RankRecords>,
  placements: Map<number, Placement>,
  K: number,
  errors: string[],
  enabled?: (coll: string) => boolean,
): CommCheck[] {
  const tr = new Map<number, Map<string, CommTrace>>();
  const members = new Map<string, number[]>();
  for (const [rank, rr] of job) {
    tr.set(rank, traces(rr));
    for (const [k, m] of rr.comms) members.set(k, m);
  }
  const out: CommCheck[] = [];
  for (const [key, mem] of members) {
    const ts = mem.map((r) => tr.get(r)?.get(key));
    if (ts.some((t) => !t) || ts[0]!.calls.length === 0) continue; // a communicator without collectives
    const t0 = ts[0]!;
    const sw = (t: CommTrace) => t.switches.map((s) => `${s.call}:${s.epoch}`).join(' ');
    for (let i = 0; i < mem.length; i++) {
      const t = ts[i]!;
      if (t.indexErrors)
        errors.push(`comm ${key} rank ${mem[i]}: ${t.indexErrors} markers out of step with the call records`);
      if (t.calls.length !== t0.calls.length)
        errors.push(`comm ${key}: rank ${mem[i]} made ${t.calls.length} calls, rank ${mem[0]} ${t0.calls.length}`);
      if (sw(t) !== sw(t0))
        errors.push(
          `comm ${key}: rank ${mem[i]} switched at ${sw(t).slice(0, 200)}, rank ${mem[0]} at ${sw(t0).slice(0, 200)}`,
        );
    }
    const switches = t0.switches.map((s) => ({ call: s.call, epoch: s.epoch }));
    if (switches.length === 0 || switches[0].call !== 0) errors.push(`comm ${key}: no switch marker at its first call`);
    for (let i = 1; i < switches.length; i++)
      if (!(switches[i].epoch > switches[i - 1].epoch && switches[i].call > switches[i - 1].call))
        errors.push(`comm ${key}: switch ${i} (${switches[i].call}:${switches[i].epoch}) does not move forward`);
    for (const s of switches)
      if (s.epoch !== 0 && !placements.has(s.epoch)) errors.push(`comm ${key}: switched to unknown epoch ${s.epoch}`);
    // Every call against the grouping of the epoch in force.
    for (let i = 0; i < mem.length; i++) {
      const t = ts[i]!;
      let si = 0,
        epoch = 0;
      t.calls.forEach((r, call) => {
        while (si < switches.length && switches[si].call <= call) epoch = switches[si++].epoch;
        checkRecord(
          r,
          mem[i],
          mem,
          placements.get(epoch),
          errors,
          `comm ${key} rank ${mem[i]} call ${call} epoch ${epoch}`,
          enabled,
        );
      });
    }
    // The lag: from the first call at which any member held epoch E to the switch to E or newer.
    let maxLag = 0,
      lags = 0;
    const calls = t0.calls.length;
    for (const E of placements.keys()) {
      let arrival = Infinity;
      for (const t of ts) {
        const s = t!.seen.find((x) => x.epoch >= E);
        if (s) arrival = Math.min(arrival, s.call);
      }
      if (arrival === Infinity) continue;
      const s = switches.find((x) => x.epoch >= E);
      if (!s) {
        if (calls - arrival >= 2 * K)
          errors.push(`comm ${key}: epoch ${E} held from call ${arrival} but never switched to (${calls} calls)`);
        continue;
      }
      const lag = s.call - Math.max(arrival, 0);
      if (s.call >= arrival) {
        maxLag = Math.max(maxLag, lag);
        lags++;
      }
      if (lag > 2 * K - 1)
        errors.push(
          `comm ${key}: epoch ${E} held from call ${arrival}, switched at ${s.call} (lag ${lag} > ${2 * K - 1})`,
        );
    }
    out.push({ key, members: mem, calls, switches, maxLag, lags });
  }
  return out;
}

/** The soak program finished by itself, every result equal to PMPI's. */
function expectCleanRun(r: { code: number; stdout: string; stderr: string }): RegExpExecArray {
  expect(r.stderr).not.toMatch(/MISMATCH/);
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  const m = /soak rank 0: (\d+) iterations, (\d+) calls, (\d+) errors/.exec(r.stdout);
  expect(m, r.stdout + r.stderr).not.toBeNull();
  expect(Number(m![3])).toBe(0);
  return m!;
}

/**
 * Starts the soak program on NP ranks (`steps` as its second argument), streaming to `tm` with a
 * checkpoint every K calls; once every rank has said Hello, the job's id and the run, which must
 * not end before then.
 */
async function startSoak(
  tm: TappedMonitor,
  stop: string,
  o: { K: number; steps: string; timeoutMs: number; env?: Record<string, string> },
): Promise<{ run: Promise<RunResult>; jobId: string }> {
  const run = mpirun({
    np: NP,
    program,
    args: [stop, o.steps],
    timeoutMs: o.timeoutMs,
    env: {
      SITEMPI_MONITOR: tm.address,
      SITEMPI_CHECKPOINT_EVERY: String(o.K),
      SITEMPI_QUEUE_BATCHES: '448',
      SITEMPI_FLUSH_MS: '100',
      ...(o.env ?? {}),
    },
  });
  const failed = run.then((r) => {
    throw new Error(`the job ended early (${r.code}): ${r.stderr.slice(-2000)}`);
  });
  failed.catch(() => {});
  const jobId = await Promise.race([tm.waitForRanks(NP), failed]);
  return { run, jobId };
}

async function storm(o: {
  K: number;
  epochs: number;
  seed: number;
  env?: Record<string, string>;
  enabled?: (c: string) => boolean;
}) {
  const { K, seed } = o;
  const rnd = prng(seed);
  const dir = tempDir('reloc');
  const tm = await TappedMonitor.start(dir);
  const stop = path.join(dir, 'stop');
  const placements = new Map<number, Placement>();
  const timers: NodeJS.Timeout[] = [];
  const modes = { all: 0, partThenRest: 0, partOnly: 0, shuffled: 0 };
  try {
    const { run, jobId } = await startSoak(tm, stop, { K, steps: '100', timeoutMs: 150_000, env: o.env });
    const send = (p: Placement, rank?: number) =>
      tm.monitor.sendPlacement(jobId, p, rank === undefined ? {} : { rank });
    for (let e = 1; e <= o.epochs; e++) {
      const p = randomPlacement(e, NP, rnd);
      placements.set(e, p);
      const mode = rnd();
      const subset = [...Array(NP).keys()].filter(() => rnd() < 0.4);
      if (subset.length === 0) subset.push(Math.floor(rnd() * NP));
      const rest = [...Array(NP).keys()].filter((r) => !subset.includes(r));
      if (mode < 0.5) {
        send(p);
        modes.all++;
      } else if (mode < 0.75) {
        for (const r of subset) send(p, r);
        timers.push(
          setTimeout(
            () => {
              for (const r of rest) send(p, r);
            },
            20 + rnd() * 400,
          ),
        );
        modes.partThenRest++;
      } else if (mode < 0.88) {
        for (const r of subset) send(p, r);
        modes.partOnly++;
      } else {
        for (let r = 0; r < NP; r++) timers.push(setTimeout(() => send(p, r), rnd() * 300));
        modes.shuffled++;
      }
      await sleep(rnd() * 110);
    }
    await sleep(1500);
    fs.writeFileSync(stop, '');
    const r = await run;
    const m = expectCleanRun(r);
    await sleep(300);
    const job = decodeStreams(tm.streams);
    expect([...job.keys()].sort()).toEqual([...Array(NP).keys()]);
    for (const rr of job.values()) expect(rr.dropped, `rank ${rr.rank} dropped records`).toBe(0);
    const errors: string[] = [];
    const res = analyse(job, placements, K, errors, o.enabled);
    const world = res.find((c) => c.members.length === NP)!;
    console.log(
      `soak (seed ${seed}, K ${K}${o.env?.SITEMPI_COLL ? `, SITEMPI_COLL=${o.env.SITEMPI_COLL}` : ''}): ${m![1]} iterations, ${m![2]} checked calls; placements ${JSON.stringify(modes)}; ` +
        res
          .map(
            (c) =>
              `comm of ${c.members.length} [${c.members.join(',')}]: ${c.calls} calls, ${c.switches.length - 1} switches, ` +
              `max lag ${c.maxLag} (bound ${2 * K - 1}) over ${c.lags} epochs`,
          )
          .join('; '),
    );
    expect(errors.slice(0, 20)).toEqual([]);
    expect(res.length).toBe(1 + 1 + 2 + 2); // world, dup, two parity halves, two halves
    // The storm reached the communicators: most epochs were in force somewhere, and every
    // communicator went through many switches.
    for (const c of res) expect(c.switches.length).toBeGreaterThan(o.epochs / 6);
    expect(world.lags).toBeGreaterThan(o.epochs * 0.6);
  } finally {
    for (const t of timers) clearTimeout(t);
    await tm.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('live relocation: the agreement under a storm of placements', () => {
  it('8 ranks, world + dup + two splits, 250 random placements, partial and reordered deliveries', async () => {
    await storm({ K: 4, epochs: 250, seed: Number(process.env.SITEMPI_SOAK_SEED ?? 4242) });
  }, 170_000);

  it('checkpoints count every covered call when SITEMPI_COLL restricts the algorithms (K = 3, 80 placements)', async () => {
    const off = new Set(['Bcast', 'Alltoall', 'Alltoallv', 'Gatherv']);
    await storm({
      K: 3,
      epochs: 80,
      seed: 99,
      env: { SITEMPI_COLL: '-bcast,-alltoall,-gatherv' },
      enabled: (c) => !off.has(c),
    });
  }, 170_000);

  it('calls cut in segments switch placements like whole ones (K = 4, 80 placements, 32-byte segments)', async () => {
    await storm({ K: 4, epochs: 80, seed: 7, env: { SITEMPI_COLL_SEGMENT_BYTES: '32' } });
  }, 170_000);

  it('a monitor that goes away leaves the job running on its last agreed placement', async () => {
    const K = 4;
    const dir = tempDir('relocgone');
    const tm = await TappedMonitor.start(dir);
    const stop = path.join(dir, 'stop');
    const placements = new Map<number, Placement>();
    let tm2: TappedMonitor | null = null;
    try {
      const { run, jobId } = await startSoak(tm, stop, {
        K,
        steps: '60',
        timeoutMs: 90_000,
        env: { SITEMPI_BACKOFF_MAX_MS: '200' },
      });
      const rnd = prng(7);
      for (let e = 1; e <= 5; e++) {
        const p = randomPlacement(e, NP, rnd);
        placements.set(e, p);
        tm.monitor.sendPlacement(jobId, p);
        await sleep(300);
      }
      // The last one reaches rank 3 only; then the monitor is gone for good (3 s without one).
      const last: Placement = { epoch: 6, sites: ['east', 'west'], siteOf: [0, 0, 1, 1, 1, 0, 1, 0] };
      placements.set(6, last);
      expect(tm.monitor.sendPlacement(jobId, last, { rank: 3 })).toBe(1);
      await sleep(150);
      await tm.close();
      await sleep(3000);
      // A fresh monitor at the same address, which sends nothing: the ranks reconnect and hand
      // over what they recorded meanwhile.
      tm2 = await TappedMonitor.start(dir);
      await sleep(2000);
      fs.writeFileSync(stop, '');
      const r = await run;
      expectCleanRun(r);
      await sleep(300);
      const before = decodeStreams(tm.streams);
      const after = decodeStreams(tm2.streams);
      expect([...after.keys()].sort()).toEqual([...Array(NP).keys()]);
      // Every rank's records after the outage carry epoch 6 (only rank 3 ever received it) and
      // every communicator's last switch (in whichever stream it came) is to epoch 6.
      const errors: string[] = [];
      let checked = 0;
      for (const [rank, rr] of after) {
        const all = [...(before.get(rank)?.records ?? []), ...rr.records];
        const comms = new Map([...(before.get(rank)?.comms ?? []), ...rr.comms]);
        const lastSwitch = new Map<string, number>();
        for (const x of all)
          if (x.role === 8 && x.alg === Alg.SiteLeaders)
            lastSwitch.set((x as Rec & { commKey: string }).commKey, x.bytes);
        for (const [key, mem] of comms)
          if (mem.length > 1 && lastSwitch.get(key) !== 6)
            errors.push(`rank ${rank} comm ${key}: last switch to ${lastSwitch.get(key)}`);
        if (rank !== 3 && all.some((x) => x.role === 8 && x.alg === Alg.SiteRsAg && x.bytes === 6))
          errors.push(`rank ${rank} received epoch 6`);
        const tail = rr.records.slice(-50);
        if (!tail.every((x) => x.epoch === 6))
          errors.push(`rank ${rank}: records after the outage carry epochs ${[...new Set(tail.map((x) => x.epoch))]}`);
        // Calls recorded after the outage ran with the grouping of epoch 6.
        for (const x of rr.records.slice(-400)) {
          if (x.role !== 4 || x.epoch !== 6) continue;
          const mem = comms.get((x as Rec & { commKey: string }).commKey);
          if (!mem) continue;
          checkRecord(x, rank, mem, last, errors, `rank ${rank} after the outage`);
          checked++;
        }
      }
      expect(errors.slice(0, 20)).toEqual([]);
      expect(checked).toBeGreaterThan(1000);
    } finally {
      await tm.close().catch(() => {});
      await tm2?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
