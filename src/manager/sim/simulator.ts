// A discrete-event simulator of a multi-site cluster running a job stream (docs/planner.md). Jobs
// arrive, start by the manager's queue rule (src/manager/queue.ts) where the policy places them,
// progress at the rate of the job model on their placement (src/manager/sim/job-model.ts; links
// shared by the jobs and migrations crossing them), and move when the policy says so: a move takes
// cost.ts's migration time, loads the link and stalls the job for its downtime. Rates only change
// at events (arrival, end, migration end, periodic tick), so the run is exact between them.
//
// Slots: the moves of a plan start at the same instant, staged as the manager's relocator stages
// them (src/manager/stage.ts): each flow of VMs counts on its destination from the start of its
// move, one after the other, and a cycle between full sites is broken by stopping one flow first
// (stop-and-copy: it holds no slots until it resumes on its destination; its job pauses meanwhile).
// The event log records every change of holdings, so that capacities can be checked after every
// entry.
import { plan, type PlannerJob, type PlannerOptions } from '../planner.js';
import { placeNew, waitForRoom, type Release } from '../planner-place.js';
import { flows, linkTable, spanned, type PlannerCluster } from '../planner-model.js';
import { migrationCost } from '../../placement/cost.js';
import { schedule, type Waiting } from '../queue.js';
import { pauses, stageMoves } from '../stage.js';
import { rng, runSeconds, type SimJob } from './job-model.js';

export type Policy = 'planner' | 'planner-eager' | 'planner-wait' | 'none' | 'consolidate' | 'random';
/** Where the baselines ('none', 'consolidate') start a job (SimOptions.baselineStart). */
export type BaselineStart = 'site-aware' | 'node-order';
const PLANNED: readonly Policy[] = ['planner', 'planner-eager', 'planner-wait'];

export interface SimOptions {
  policy: Policy;
  seed?: number;
  /** Seconds between periodic re-plans. Default 60. */
  tickSeconds?: number;
  planner?: PlannerOptions;
  /** Memory of one VM (one rank per VM), bytes. Default 1 GiB. */
  vmMemoryBytes?: number;
  /** Where 'none' and 'consolidate' start a job: 'site-aware' (one site where it fits now, the
   *  planner's start without its wait rule; default) or 'node-order' (the free nodes in order). */
  baselineStart?: BaselineStart;
}

export interface LogEntry {
  t: number;
  /** 'suspend': VMs of the job stopped, on no site until their 'resume' */
  kind: 'start' | 'move' | 'suspend' | 'resume' | 'end';
  job: string;
  /** Ranks per site the job holds from now on (all zero at its end; fewer than its ranks while stopped). */
  held: number[];
}

export interface SimResult {
  policy: Policy;
  jobs: number;
  makespanSeconds: number;
  jobsPerHour: number;
  /** mean of (end - start) / run time on one site */
  meanSlowdown: number;
  meanWaitSeconds: number;
  migrations: number;
  /** flows of VMs stopped to break a cycle between full sites, and their jobs' pauses (seconds) */
  suspends: number;
  pauseSeconds: number;
  bytesMoved: number;
  log: LogEntry[];
}

interface Running {
  job: SimJob;
  /** the placement it runs on (the old one until its move ends) */
  counts: number[];
  /** the slots it holds per site now (the event log's) */
  held: number[];
  progress: number;
  startedAt: number;
  lastMovedAt?: number;
  migration?: { until: number; to: number[]; slow: number; links: [number, number][] };
}

interface Queued extends Waiting {
  job: SimJob;
}

export function simulate(cluster: PlannerCluster, stream: readonly SimJob[], o: SimOptions): SimResult {
  const links = linkTable(cluster);
  const k = cluster.sites.length;
  const slots = cluster.sites.map((s) => s.slots);
  const tick = o.tickSeconds ?? 60;
  const vmMem = o.vmMemoryBytes ?? 1024 ** 3;
  const random = rng(o.seed ?? 1);
  const arrivals = [...stream].sort((a, b) => a.at - b.at);
  const running = new Map<string, Running>();
  const queue: Queued[] = [];
  const log: LogEntry[] = [];
  const free = slots.slice();
  let t = 0,
    next = 0,
    nextTick = tick,
    migrations = 0,
    suspends = 0,
    pauseSum = 0,
    bytesMoved = 0,
    slowSum = 0,
    waitSum = 0,
    ended = 0;

  const migUsers = new Map<number, number>();
  const key = (a: number, b: number) => Math.min(a, b) * k + Math.max(a, b);
  const users = (a: number, b: number): number => {
    let n = migUsers.get(key(a, b)) ?? 0;
    for (const r of running.values()) if (r.counts[a] > 0 && r.counts[b] > 0) n++;
    return n;
  };
  const checkFree = (why: string) => {
    if (free.some((f) => f < 0)) throw new Error(`simulator: ${why} over a site's slots at ${t}`);
  };
  const hold = (r: Running, to: number[], kind: LogEntry['kind']) => {
    for (let s = 0; s < k; s++) free[s] += r.held[s] - to[s];
    r.held = to;
    checkFree(r.job.id);
    log.push({ t, kind, job: r.job.id, held: [...to] });
  };
  const place = (j: SimJob): number[] | null => {
    // 'planner': a network-intensive job that one site could hold starts split only when the time
    // a split run loses is at most the wait for that site; 'planner-eager': it starts where it
    // fits now and the plans consolidate it; 'planner-wait': it waits for one site
    if (o.policy === 'planner')
      return placeNew(free, slots, j.ranks, j.verdict, (split) => {
        const lost = runSeconds(j, split, links, users) - j.computeSeconds;
        return lost > waitForOneSite(j.ranks);
      });
    if (o.policy === 'planner-eager' || o.policy === 'planner-wait')
      return placeNew(free, slots, j.ranks, j.verdict, o.policy === 'planner-eager' ? 'never' : 'always');
    if (o.policy === 'random') return placeRandom(free, j.ranks, random);
    if (o.baselineStart === 'node-order') return placeInOrder(free, j.ranks);
    return placeNew(free, slots, j.ranks, 'network', 'never'); // no verdict yet, never waits
  };
  /** Seconds until some site has room for `ranks` as the running jobs end (at their rates now). */
  const waitForOneSite = (ranks: number): number => {
    const releases: Release[] = [];
    for (const r of running.values()) {
      const inSeconds = (1 - r.progress) * runSeconds(r.job, r.counts, links, users);
      r.held.forEach((n, s) => n > 0 && releases.push({ site: String(s), slots: n, inSeconds }));
    }
    return waitForRoom(
      ranks,
      slots.map((c, s) => ({ site: String(s), capacity: c, free: free[s] })),
      releases,
    );
  };
  const migrate = (n: number, a: number, b: number, stop: boolean) =>
    migrationCost(n, 0, {
      vmMemoryBytes: vmMem,
      bandwidthBps: links.bandwidth[a][b],
      latencySeconds: links.latency[a][b],
      ...(stop ? { mode: 'stop' as const } : {}),
    });
  /** The moves of one plan, staged (stage.ts); `suspendFirst`: the jobs moved to make room. */
  const startMoves = (moves: { r: Running; to: number[] }[], suspendFirst: ReadonlySet<string>) => {
    type Item = { job: string; from: string; to: string; slots: number; a: number; b: number; r: Running };
    const items: Item[] = [];
    for (const { r, to } of moves)
      for (const f of flows(r.held, to))
        items.push({ job: r.job.id, from: String(f.from), to: String(f.to), slots: f.ranks, a: f.from, b: f.to, r });
    const held = new Map(slots.map((c, s) => [String(s), c - free[s]]));
    const capacity = new Map(slots.map((c, s) => [String(s), c]));
    const steps = stageMoves(held, capacity, items, suspendFirst);
    for (const st of steps) {
      const r = st.items[0].r;
      const to = [...r.held];
      for (const m of st.items) {
        if (st.stage !== 'resume') to[m.a] -= m.slots;
        if (st.stage !== 'suspend') to[m.b] += m.slots;
      }
      hold(r, to, st.stage ?? 'move');
    }
    const ms = (m: Item, stop: boolean) => migrate(m.slots, m.a, m.b, stop).migrationSeconds;
    const paused = pauses(steps, ms);
    for (const { r, to } of moves) {
      // its live flows one after the other; a stopped flow stalls the whole job for its pause
      let live = 0,
        down = 0,
        pause = 0;
      const used: [number, number][] = [];
      for (const m of items.filter((x) => x.r === r)) {
        const p = paused.get(m);
        const est = migrate(m.slots, m.a, m.b, p !== undefined);
        if (p !== undefined) {
          pause = Math.max(pause, p);
          suspends++;
          pauseSum += p;
        } else {
          live += est.migrationSeconds;
          down += est.downtimeSeconds;
        }
        bytesMoved += est.transferBytes;
        used.push([m.a, m.b]);
      }
      for (const [a, b] of used) migUsers.set(key(a, b), (migUsers.get(key(a, b)) ?? 0) + 1);
      const seconds = Math.max(live, pause);
      const slow = seconds > 0 ? Math.max(0, 1 - Math.min(seconds, down + pause) / seconds) : 1;
      r.migration = { until: t + seconds, to, slow, links: used };
      r.lastMovedAt = t;
      migrations++;
    }
  };

  for (;;) {
    // rates on the current placements and link loads
    const rate = new Map<string, number>();
    for (const r of running.values()) {
      const T = runSeconds(r.job, r.counts, links, users);
      rate.set(r.job.id, (r.migration ? r.migration.slow : 1) / T);
    }
    let tn = Infinity;
    for (const r of running.values()) {
      tn = Math.min(tn, t + (1 - r.progress) / rate.get(r.job.id)!);
      if (r.migration) tn = Math.min(tn, r.migration.until);
    }
    if (next < arrivals.length) tn = Math.min(tn, arrivals[next].at);
    if (nextTick <= t) nextTick = t + tick;
    if (running.size > 0) tn = Math.min(tn, nextTick);
    if (tn === Infinity) {
      if (queue.length > 0) throw new Error(`simulator: ${queue.length} jobs can never start`);
      break;
    }
    for (const r of running.values()) r.progress += rate.get(r.job.id)! * (tn - t);
    t = tn;
    if (t >= nextTick) nextTick = t + tick;
    for (const r of [...running.values()]) {
      if (r.migration && r.migration.until <= t + 1e-9) {
        for (const [a, b] of r.migration.links) migUsers.set(key(a, b), migUsers.get(key(a, b))! - 1);
        r.counts = r.migration.to;
        r.migration = undefined;
      }
      if (r.progress >= 1 - 1e-9) {
        hold(r, new Array<number>(k).fill(0), 'end');
        running.delete(r.job.id);
        if (r.migration) for (const [a, b] of r.migration.links) migUsers.set(key(a, b), migUsers.get(key(a, b))! - 1);
        slowSum += (t - r.startedAt) / r.job.computeSeconds;
        ended++;
      }
    }
    while (next < arrivals.length && arrivals[next].at <= t) {
      const j = arrivals[next++];
      queue.push({ id: j.id, submittedAt: j.at * 1000, bypassed: 0, job: j });
    }
    const started = schedule(
      queue,
      (q) => {
        const to = place(q.job);
        if (!to) return false;
        const r: Running = { job: q.job, counts: to, held: new Array<number>(k).fill(0), progress: 0, startedAt: t };
        hold(r, to, 'start');
        running.set(q.job.id, r);
        waitSum += t - q.job.at;
        return true;
      },
      t * 1000,
    );
    if (started.length > 0) {
      const gone = new Set(started);
      queue.splice(0, queue.length, ...queue.filter((q) => !gone.has(q.id)));
    }
    if (PLANNED.includes(o.policy)) replan();
    else if (o.policy === 'consolidate') consolidate();
  }

  function replan(): void {
    // a job still moving holds its slots and is not planned (the manager's plans never overlap)
    const jobs: PlannerJob[] = [];
    const room = slots.slice();
    for (const r of running.values()) {
      if (r.migration) {
        r.held.forEach((c, s) => (room[s] -= c));
        continue;
      }
      const T0 = r.job.computeSeconds;
      const T = runSeconds(r.job, r.counts, links);
      jobs.push({
        id: r.job.id,
        ranks: r.job.ranks,
        counts: r.counts,
        verdict: r.job.verdict,
        bytesPerSecond: r.job.bytes / T0,
        messagesPerSecond: r.job.chainMessages / T0,
        remainingSeconds: (1 - r.progress) * T,
        vmMemoryBytes: vmMem,
        lastMovedAt: r.lastMovedAt,
        slowdown: (c) => runSeconds(r.job, c, links) / T0,
      });
    }
    const c = { sites: cluster.sites.map((x, s) => ({ name: x.name, slots: room[s] })), links: cluster.links };
    const p = plan(c, jobs, t, o.planner);
    const makingRoom = new Set(p.decisions.flatMap((d) => (d.action === 'move' ? d.alsoMoved.map((x) => x.job) : [])));
    startMoves(
      p.moves.map((m) => ({ r: running.get(m.job)!, to: m.to })),
      makingRoom,
    );
  }

  function consolidate(): void {
    // today's policy: a split network job goes to its majority site when the rest fits there
    for (const r of running.values()) {
      if (r.migration || r.job.verdict !== 'network' || spanned(r.counts) < 2) continue;
      const m = r.counts.indexOf(Math.max(...r.counts));
      if (free[m] < r.job.ranks - r.counts[m]) continue;
      const to = new Array<number>(k).fill(0);
      to[m] = r.job.ranks;
      startMoves([{ r, to }], new Set());
    }
  }

  return {
    policy: o.policy,
    jobs: ended,
    makespanSeconds: t,
    jobsPerHour: t > 0 ? (ended * 3600) / t : 0,
    meanSlowdown: ended > 0 ? slowSum / ended : 0,
    meanWaitSeconds: ended > 0 ? waitSum / ended : 0,
    migrations,
    suspends,
    pauseSeconds: pauseSum,
    bytesMoved,
    log,
  };
}

/** The free slots in site order, as mpirun fills a hostfile of the free nodes. */
function placeInOrder(free: readonly number[], ranks: number): number[] | null {
  let left = ranks;
  const to = free.map((f) => {
    const n = Math.min(left, f);
    left -= n;
    return n;
  });
  return left > 0 ? null : to;
}

/** Each rank on a random site with a free slot (a site drawn in proportion to its free slots). */
function placeRandom(free: readonly number[], ranks: number, r: () => number): number[] | null {
  const f = free.slice();
  let total = f.reduce((a, b) => a + b, 0);
  if (total < ranks) return null;
  const to = new Array<number>(f.length).fill(0);
  for (let i = 0; i < ranks; i++) {
    let x = Math.floor(r() * total);
    let s = 0;
    while (x >= f[s]) x -= f[s++];
    to[s]++;
    f[s]--;
    total--;
  }
  return to;
}
