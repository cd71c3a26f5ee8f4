// A discrete-event simulator of a multi-site cluster running a job stream (docs/planner.md). Jobs
// arrive, start by the manager's queue rule (src/manager/queue.ts) where the policy places them,
// progress at the rate of the job model on their placement (src/manager/sim/job-model.ts; links
// shared by the jobs and migrations crossing them), and move when the policy says so: a move takes
// cost.ts's migration time, loads the link and stalls the job for its downtime. Rates only change
// at events (arrival, end, migration end, periodic tick), so the run is exact between them.
//
// Slots: a moving job holds its target placement from the start of the move (the slots it leaves
// are handed to whoever arrives at them, as in a swap); the moves of one plan start at the same
// instant. The event log records every change of holdings, so that capacities can be checked at
// every moment (after all the entries of one instant).
import { plan, type PlannerJob, type PlannerOptions } from '../planner.js';
import { placeNew } from '../planner-place.js';
import { linkTable, spanned, type PlannerCluster } from '../planner-model.js';
import { migrationCost } from '../../placement/cost.js';
import { schedule, type Waiting } from '../queue.js';
import { rng, runSeconds, type SimJob } from './job-model.js';

export type Policy = 'planner' | 'planner-wait' | 'none' | 'consolidate' | 'random';

export interface SimOptions {
  policy: Policy;
  seed?: number;
  /** Seconds between periodic re-plans. Default 60. */
  tickSeconds?: number;
  planner?: PlannerOptions;
  /** Memory of one VM (one rank per VM), bytes. Default 1 GiB. */
  vmMemoryBytes?: number;
}

export interface LogEntry {
  t: number;
  kind: 'start' | 'move' | 'end';
  job: string;
  /** Ranks per site the job holds from now on (all zero at its end). */
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
  bytesMoved: number;
  log: LogEntry[];
}

interface Running {
  job: SimJob;
  counts: number[];
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
  // `check` false: one of the simultaneous moves of a plan, checked once all are applied
  const hold = (r: Running, to: number[], kind: LogEntry['kind'], check = true) => {
    const old = kind === 'start' ? new Array<number>(k).fill(0) : (r.migration?.to ?? r.counts);
    for (let s = 0; s < k; s++) free[s] += old[s] - to[s];
    if (check) checkFree(r.job.id);
    log.push({ t, kind, job: r.job.id, held: [...to] });
  };
  const place = (j: SimJob): number[] | null => {
    // 'planner': start where the job fits now and let the plans consolidate it; 'planner-wait':
    // a network-intensive job that one site can hold waits for one
    if (o.policy === 'planner' || o.policy === 'planner-wait')
      return placeNew(free, slots, j.ranks, j.verdict, o.policy === 'planner');
    if (o.policy === 'random') return placeRandom(free, j.ranks, random);
    return placeNew(free, slots, j.ranks, 'network', true); // today's: no verdict yet, never waits
  };
  const startMove = (r: Running, to: number[], check = true) => {
    if (to.every((c, s) => c === r.counts[s])) return;
    let seconds = 0,
      down = 0;
    const used: [number, number][] = [];
    const crossBps = 0;
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++) {
        const n = Math.min(Math.max(0, r.counts[a] - to[a]), Math.max(0, to[b] - r.counts[b]));
        if (a === b || n === 0) continue;
        const est = migrationCost(n, crossBps, {
          vmMemoryBytes: vmMem,
          bandwidthBps: links.bandwidth[a][b],
          latencySeconds: links.latency[a][b],
        });
        seconds += est.migrationSeconds;
        down += est.downtimeSeconds;
        bytesMoved += est.transferBytes;
        used.push([a, b]);
      }
    hold(r, to, 'move', check);
    for (const [a, b] of used) migUsers.set(key(a, b), (migUsers.get(key(a, b)) ?? 0) + 1);
    r.migration = { until: t + seconds, to, slow: seconds > 0 ? 1 - down / seconds : 1, links: used };
    r.lastMovedAt = t;
    migrations++;
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
        const r: Running = { job: q.job, counts: to, progress: 0, startedAt: t };
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
    if (o.policy === 'planner' || o.policy === 'planner-wait') replan();
    else if (o.policy === 'consolidate') consolidate();
  }

  function replan(): void {
    const jobs: PlannerJob[] = [];
    for (const r of running.values()) {
      const T0 = r.job.computeSeconds;
      const T = runSeconds(r.job, r.counts, links);
      jobs.push({
        id: r.job.id,
        ranks: r.job.ranks,
        counts: r.migration ? r.migration.to : r.counts,
        verdict: r.job.verdict,
        bytesPerSecond: r.job.bytes / T0,
        messagesPerSecond: r.job.chainMessages / T0,
        remainingSeconds: (1 - r.progress) * T,
        vmMemoryBytes: vmMem,
        lastMovedAt: r.migration ? t : r.lastMovedAt,
        slowdown: (c) => runSeconds(r.job, c, links) / T0,
      });
    }
    const p = plan(cluster, jobs, t, o.planner);
    for (const m of p.moves) startMove(running.get(m.job)!, m.to, false);
    checkFree('a plan');
  }

  function consolidate(): void {
    // today's policy: a split network job goes to its majority site when the rest fits there
    for (const r of running.values()) {
      if (r.migration || r.job.verdict !== 'network' || spanned(r.counts) < 2) continue;
      const m = r.counts.indexOf(Math.max(...r.counts));
      if (free[m] < r.job.ranks - r.counts[m]) continue;
      const to = new Array<number>(k).fill(0);
      to[m] = r.job.ranks;
      startMove(r, to);
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
    bytesMoved,
    log,
  };
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
