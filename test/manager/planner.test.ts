import { describe, expect, it } from 'vitest';

import { plan, type PlannerJob } from '../../src/manager/planner.js';
import { placeNew } from '../../src/manager/planner-place.js';
import { linkTable, spanned, type PlannerCluster } from '../../src/manager/planner-model.js';
import { jobGainModel, replayGainModel, replaySlowdown } from '../../src/manager/planner-replay.js';
import { classify } from '../../src/monitor/classify.js';
import { loadRankFiles } from '../../src/monitor/files.js';
import { windowsFromFiles } from '../../src/monitor/prediction.js';
import { makeCluster, wanLink } from '../../src/replay/cluster.js';
import { TraceBuilder } from '../../src/replay/trace.js';
import { rng } from '../../src/manager/sim/job-model.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

function cluster(slots: number[], latencyMs = 10, bandwidthBps = 1e9): PlannerCluster {
  const sites = slots.map((s, i) => ({ name: `s${i}`, slots: s }));
  const links = sites.flatMap((a) =>
    sites.filter((b) => b !== a).map((b) => ({ from: a.name, to: b.name, latencyMs, bandwidthBps })),
  );
  return { sites, links };
}

function job(id: string, counts: number[], over: Partial<PlannerJob> = {}): PlannerJob {
  const ranks = counts.reduce((a, b) => a + b, 0);
  return {
    id,
    ranks,
    counts,
    verdict: 'network',
    bytesPerSecond: ranks * 1e6,
    messagesPerSecond: 2000,
    remainingSeconds: 3600,
    vmMemoryBytes: 256 * 2 ** 20,
    ...over,
  };
}

const apply = (jobs: PlannerJob[], p: ReturnType<typeof plan>, now: number): PlannerJob[] =>
  jobs.map((j) => {
    const m = p.moves.find((x) => x.job === j.id);
    return m ? { ...j, counts: m.to, lastMovedAt: now } : j;
  });

describe('planner', () => {
  it('never exceeds a site capacity and keeps every rank (random clusters and jobs)', () => {
    const r = rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const k = 2 + Math.floor(r() * 4);
      const slots = Array.from({ length: k }, () => 8 + Math.floor(r() * 64));
      const free = slots.slice();
      const jobs: PlannerJob[] = [];
      for (let i = 0; i < 30; i++) {
        const ranks = 1 + Math.floor(r() * 24);
        if (free.reduce((a, b) => a + b, 0) < ranks) break;
        const counts = new Array<number>(k).fill(0);
        for (let x = 0; x < ranks; x++) {
          let s = Math.floor(r() * k);
          while (free[s] === 0) s = (s + 1) % k;
          counts[s]++;
          free[s]--;
        }
        jobs.push(
          job(`j${i}`, counts, {
            verdict: r() < 0.6 ? 'network' : 'compute',
            remainingSeconds: r() * 5000,
            bytesPerSecond: r() * 1e8,
          }),
        );
      }
      const p = plan(cluster(slots), jobs, 1000);
      const used = new Array<number>(k).fill(0);
      for (const j of jobs) {
        const c = p.placements.get(j.id)!;
        expect(c.reduce((a, b) => a + b, 0)).toBe(j.ranks);
        c.forEach((x, s) => {
          expect(x).toBeGreaterThanOrEqual(0);
          used[s] += x;
        });
      }
      used.forEach((u, s) => expect(u).toBeLessThanOrEqual(slots[s]));
      for (const m of p.moves) expect(p.placements.get(m.job)).toEqual(m.to);
    }
  });

  it('consolidates a split network-intensive job on the site that holds most of it', () => {
    const p = plan(cluster([16, 16]), [job('a', [6, 2])], 0);
    expect(p.moves).toHaveLength(1);
    expect(p.placements.get('a')).toEqual([8, 0]);
    const d = p.decisions.find((x) => x.job === 'a')!;
    expect(d.action).toBe('move');
    expect(d.gainSeconds).toBeGreaterThan(d.costSeconds);
  });

  it('makes room by moving compute-intensive ranks, and leaves compute jobs split', () => {
    const jobs = [
      job('net', [4, 4]),
      job('cpu', [4, 4], { verdict: 'compute', bytesPerSecond: 0, messagesPerSecond: 0 }),
    ];
    const p = plan(cluster([8, 8]), jobs, 0);
    const net = p.placements.get('net')!;
    expect(spanned(net)).toBe(1);
    expect(p.decisions.find((d) => d.job === 'net')!.alsoMoved.map((x) => x.job)).toEqual(['cpu']);
  });

  it('makes room by moving a whole network-intensive job to the slots a split job leaves', () => {
    // A: small1 (4) + big's 4; B: big's 4 + small2 (4); no compute ranks to move out of the way
    const jobs = [job('big', [4, 4]), job('small1', [4, 0]), job('small2', [0, 4])];
    const p = plan(cluster([8, 8]), jobs, 0);
    expect(spanned(p.placements.get('big')!)).toBe(1);
    const d = p.decisions.find((x) => x.job === 'big')!;
    expect(d.action).toBe('move');
    expect(d.alsoMoved).toHaveLength(1);
    const other = d.alsoMoved[0];
    expect(spanned(other.to)).toBe(1); // moved whole: it runs as fast on the other site
    expect(p.placements.get(other.job)).toEqual(other.to);
  });

  it('does not make a move that does not pay', () => {
    // stop-and-copy of two 256 MiB VMs at 1 Gb/s stalls the job ~4 s; it has 2 s left
    const p = plan(cluster([16, 16]), [job('a', [6, 2], { remainingSeconds: 2 })], 0, { cost: { mode: 'stop' } });
    expect(p.moves).toHaveLength(0);
    const d = p.decisions.find((x) => x.job === 'a')!;
    expect(d.action).toBe('stay');
    expect(d.reason).toMatch(/does not pay/);
    expect(d.gainSeconds).toBeLessThan(d.costSeconds);
  });

  it('counts the cost a move puts on the jobs sharing the link', () => {
    const alone = plan(cluster([64, 64]), [job('a', [6, 2])], 0).decisions[0];
    const busy = plan(cluster([64, 64]), [job('a', [6, 2]), job('b', [20, 20], { lastMovedAt: 0 })], 0);
    const withOther = busy.decisions.find((d) => d.job === 'a')!;
    expect(alone.othersCostSeconds).toBe(0);
    expect(withOther.othersCostSeconds).toBeGreaterThan(0);
  });

  it('weighs the pause of a VM stopped to break a cycle between full sites, and refuses a move it outweighs', () => {
    // two full sites of 3: c1 on s0, c2 on s1, the network job split 1 + 1. Consolidating it moves
    // a rank of c1 the other way: neither fits first, so c1's VM stops (stage.ts) and its job
    // stands still for its stop-and-copy and the network job's move
    const weigh = (vmMemoryBytes: number, remainingSeconds: number, slots = [3, 3]) => {
      const split = (c: readonly number[]) => (c[0] > 0 && c[1] > 0 ? 1.5 : 1);
      const o = { vmMemoryBytes };
      const jobs = [
        job('c1', [2, 0], { verdict: 'compute', bytesPerSecond: 0, messagesPerSecond: 0, ...o }),
        job('c2', [0, 2], { verdict: 'compute', bytesPerSecond: 0, messagesPerSecond: 0, ...o }),
        job('net', [1, 1], { bytesPerSecond: 1e5, remainingSeconds, slowdown: split, ...o }),
      ];
      const p = plan(cluster(slots, 10), jobs, 0);
      return { p, d: p.decisions.find((x) => x.job === 'net')! };
    };
    // small VMs: the pause is short, the move pays
    const small = weigh(256 * 2 ** 20, 120);
    expect(small.d).toMatchObject({ action: 'move', alsoMoved: [{ job: 'c1', to: [1, 1] }] });
    expect(small.d.pauseSeconds).toBeGreaterThan(0);
    // 4 GiB VMs over 1 Gbit/s: a stop-and-copy of about 35 s and the network job's move: the pause
    // outweighs a gain of 40 s, which the live migrations alone would have paid
    const big = weigh(4 * 2 ** 30, 120);
    expect(big.d).toMatchObject({ action: 'stay', reason: 'the move does not pay' });
    expect(big.d.pauseSeconds).toBeGreaterThan(big.d.gainSeconds);
    expect(big.d.gainSeconds).toBeGreaterThan(
      1.25 * (big.d.costSeconds - big.d.pauseSeconds + big.d.othersCostSeconds),
    );
    expect(big.p.moves).toEqual([]);
    // the same VMs with a free slot on each site: no VM stops, the move is made
    const room = weigh(4 * 2 ** 30, 120, [4, 4]);
    expect(room.d).toMatchObject({ action: 'move', pauseSeconds: 0 });
    // and with a gain that outweighs the pause
    expect(weigh(4 * 2 ** 30, 1200).d).toMatchObject({ action: 'move' });
  });

  it('does not thrash: two split jobs swap once, then stay; a job just moved waits its interval', () => {
    let jobs = [job('a', [4, 4]), job('b', [4, 4])];
    const c = cluster([8, 8]);
    const first = plan(c, jobs, 0);
    expect(first.moves.length).toBe(2); // one plan moves both: a to one site, b to the other
    jobs = apply(jobs, first, 0);
    expect(jobs.map((j) => spanned(j.counts))).toEqual([1, 1]);
    for (let t = 60; t < 3600; t += 60) {
      const p = plan(c, jobs, t);
      expect(p.moves).toHaveLength(0);
      jobs = apply(jobs, p, t);
    }
    const recent = plan(cluster([16, 16]), [job('x', [6, 2], { lastMovedAt: 100 })], 200);
    expect(recent.moves).toHaveLength(0);
    expect(recent.decisions[0].reason).toMatch(/minimum interval/);
  });

  it('holds back a marginal move by the hysteresis margin', () => {
    // find a remaining time where gain just beats the cost, then check the margin holds it back
    const c = cluster([16, 16]);
    const probe = plan(c, [job('a', [6, 2])], 0, { hysteresis: 0 }).decisions[0];
    const ratio = probe.gainSeconds / (probe.costSeconds + probe.othersCostSeconds);
    const remaining = (3600 * 1.1) / ratio; // gain = 1.1 x cost
    expect(plan(c, [job('a', [6, 2], { remainingSeconds: remaining })], 0, { hysteresis: 0 }).moves).toHaveLength(1);
    expect(plan(c, [job('a', [6, 2], { remainingSeconds: remaining })], 0, { hysteresis: 0.25 }).moves).toHaveLength(0);
  });

  it('splits a job larger than any site by the min-cut of its pair graph', () => {
    // two groups of 6 ranks that talk among themselves, spread over three sites of 8
    const src: number[] = [],
      dst: number[] = [],
      w: number[] = [];
    for (let a = 0; a < 12; a++)
      for (let b = 0; b < 12; b++)
        if (a !== b && Math.floor(a / 6) === Math.floor(b / 6)) {
          src.push(a);
          dst.push(b);
          w.push(1e6);
        }
    const big = job('big', [4, 4, 4], {
      pairs: { src: Int32Array.from(src), dst: Int32Array.from(dst), weight: Float64Array.from(w) },
    });
    const p = plan(cluster([8, 8, 8]), [big], 0);
    const to = p.placements.get('big')!;
    expect(spanned(to)).toBe(2);
    to.forEach((x) => expect(x).toBeLessThanOrEqual(8));
    expect(to.reduce((a, b) => a + b, 0)).toBe(12);
  });

  it('starts network jobs on one site or waits, compute jobs in the fragments', () => {
    expect(placeNew([3, 10, 6], [16, 16, 16], 5, 'network')).toEqual([0, 0, 5]);
    expect(placeNew([3, 4, 2], [16, 16, 16], 8, 'network')).toBeNull();
    expect(placeNew([3, 4, 2], [16, 16, 16], 8, 'network', 'never')).toEqual([3, 4, 1]);
    // asked: the rule sees the split it would start on, and waits or not by its answer
    const seen: (readonly number[])[] = [];
    expect(placeNew([3, 4, 2], [16, 16, 16], 8, 'network', (split) => (seen.push(split), true))).toBeNull();
    expect(placeNew([3, 4, 2], [16, 16, 16], 8, 'network', () => false)).toEqual([3, 4, 1]);
    expect(seen).toEqual([[3, 4, 1]]);
    // never asked where it fits one site now, nor for a compute job, nor for a job no site holds
    const never = () => expect.unreachable('asked');
    expect(placeNew([3, 10, 6], [16, 16, 16], 5, 'network', never)).toEqual([0, 0, 5]);
    expect(placeNew([3, 4, 2], [16, 16, 16], 8, 'compute', never)).toEqual([3, 3, 2]);
    expect(placeNew([16, 16, 4], [16, 16, 16], 20, 'network', never)).toEqual([16, 4, 0]);
    expect(placeNew([3, 4, 2], [16, 16, 16], 8, 'compute')).toEqual([3, 3, 2]);
    expect(placeNew([10, 10], [16, 16], 24, 'network')).toBeNull();
    expect(placeNew([16, 16, 4], [16, 16, 16], 20, 'network')).toEqual([16, 4, 0]);
  });
});

describe('planner with the replay model', () => {
  const recorded = makeCluster(new Int32Array(8), wanLink(0, 1000));

  it('weighs a move by the replayed slowdown of a recorded trace', () => {
    // a chain of small messages around a ring of 8 ranks: latency-bound once split
    const b = new TraceBuilder(8);
    for (let it = 0; it < 200; it++)
      for (let r = 0; r < 8; r++) {
        b.compute(r, 50_000);
        if (r === 0) b.send(0, 1, 64).recv(0, 7, 64);
        else b.recv(r, r - 1, 64).send(r, (r + 1) % 8, 64);
      }
    const trace = b.finish();
    const c = cluster([16, 16], 20, 1e9);
    const slowdown = replayGainModel(trace, recorded, linkTable(c))!;
    expect(slowdown([8, 0])).toBeCloseTo(1, 6);
    expect(slowdown([6, 2])).toBeGreaterThan(1.5);
    const p = plan(c, [job('ring', [6, 2], { slowdown, remainingSeconds: 600 })], 0);
    const d = p.decisions[0];
    expect(d.action).toBe('move');
    expect(d.gainSeconds).toBeCloseTo(600 * (1 - 1 / slowdown([6, 2])), 6);
  });

  it("refuses a move the replay says gains nothing, where the old formula's guess would make it", () => {
    // rank pairs (0,1) (2,3) (4,5) (6,7) talk, only to each other: a 6 + 2 split keeps every pair
    // on one site, nothing crosses; the old formula takes the share of rank pairs on different
    // sites (43%) as the share of traffic that crosses
    const b = new TraceBuilder(8);
    for (let it = 0; it < 100; it++)
      for (let r = 0; r < 8; r++) {
        b.compute(r, 1_000_000);
        const peer = r ^ 1;
        if (r % 2 === 0) b.send(r, peer, 1 << 20).recv(r, peer, 1 << 20);
        else b.recv(r, peer, 1 << 20).send(r, peer, 1 << 20);
      }
    const c = cluster([16, 16], 20, 1e9);
    const slowdown = replayGainModel(b.finish(), recorded, linkTable(c))!;
    expect(slowdown([6, 2])).toBeCloseTo(1, 6);
    expect(slowdown([5, 3])).toBeGreaterThan(1.2); // the pair (4,5) split: the replay sees it
    const pairs = job('pairs', [6, 2], { remainingSeconds: 600, bytesPerSecond: 8 * 200e6 });
    const guessed = plan(c, [pairs], 0).decisions[0];
    expect(guessed.action).toBe('move');
    const replayed = plan(c, [{ ...pairs, slowdown }], 0).decisions[0];
    expect(replayed.action).toBe('stay');
    expect(replayed.gainSeconds).toBeCloseTo(0, 6);
    // the same job split 5 + 3: the replay's gain pays for the move
    expect(plan(c, [{ ...pairs, counts: [5, 3], slowdown }], 0).decisions[0].action).toBe('move');
  });

  it('leaves a job with too few records, or a stalled replay, to the old formula', () => {
    const thin = new TraceBuilder(8).compute(0, 1e6).send(0, 1, 64).recv(1, 0, 64).finish();
    const c = cluster([16, 16], 20, 1e9);
    expect(replayGainModel(thin, recorded, linkTable(c))).toBeUndefined();
    expect(replayGainModel(null, recorded, linkTable(c))).toBeUndefined();
    // two blocking sends above the eager limit, each waiting for the other's receive: the
    // replay cannot finish (NaN), the formula decides
    const stuck = replaySlowdown(
      new TraceBuilder(2)
        .send(0, 1, 1 << 20)
        .recv(0, 1, 1 << 20)
        .send(1, 0, 1 << 20)
        .recv(1, 0, 1 << 20)
        .finish(),
      makeCluster(new Int32Array(2), wanLink(0, 1000)),
      linkTable(cluster([8, 8], 20, 1e9)),
    );
    expect(stuck([1, 1])).toBeNaN();
    const j = job('j', [1, 1], { slowdown: stuck });
    const withNaN = plan(cluster([8, 8], 20, 1e9), [j], 0).decisions[0];
    const formula = plan(cluster([8, 8], 20, 1e9), [{ ...j, slowdown: undefined }], 0).decisions[0];
    expect(withNaN.gainSeconds).toBeGreaterThan(0);
    expect(withNaN.gainSeconds).toBe(formula.gainSeconds);
  });
});

describe('planner with the replay model of a real run', () => {
  it("weighs a job by the monitor's window of its records; a job without one is left to the formula", async () => {
    // a ring of dependent small messages, 4 ranks under the shim: the replay's split is slow
    const prog = compileMpi('test/prediction/verdict.c');
    const dir = tempDir('planner-ring');
    const got = await mpirun({
      np: 4,
      program: prog,
      args: ['ring', '200'],
      env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'planner-ring' },
    });
    expect(got.code).toBe(0);
    const [ring] = await loadRankFiles([dir]);
    const c = cluster([4, 4], 10, 1e9);
    expect(jobGainModel(ring, linkTable(c))).toBeUndefined(); // no window of records yet
    await windowsFromFiles([dir], [ring]);
    const model = jobGainModel(ring, linkTable(c))!;
    expect(model([4, 0])).toBeCloseTo(1, 6);
    // the monitor's verdict from the same records agrees that the split is dear
    expect(classify(ring).verdict).toBe('network-intensive');
    expect(model([2, 2])).toBeGreaterThan(1.25);
    const d = plan(c, [job('ring', [2, 2], { slowdown: model, remainingSeconds: 600 })], 0).decisions[0];
    expect(d.action).toBe('move');
    expect(d.gainSeconds).toBeCloseTo(600 * (1 - 1 / model([2, 2])), 6);
  }, 120_000);
});
