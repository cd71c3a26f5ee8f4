// The planner: where every running job should be, and the moves that get it there (docs/planner.md).
// Pure and synchronous: the cluster, the running jobs and the time in; a placement per job, the
// moves and every decision with its numbers out. Network-intensive jobs go to one site where they
// fit (making room by moving compute-intensive ranks or the minority ranks of other split jobs), a
// job larger than any site is split by the partitioner's min-cut, compute-intensive jobs fill what
// is left. A move is made only when its gain over the job's remaining time beats its migration
// cost (src/placement/cost.ts), the cost it puts on the jobs sharing the link included, by a
// hysteresis margin, and not twice within a job's minimum interval.
import { graphFromEdges, partition, type Graph } from '../partition/index.js';
import { index, weighChanges, type Change, type Ctx, type MoveNumbers, type Weighed } from './planner-cost.js';
import {
  crossFraction,
  linkTable,
  type PlannerCluster,
  type PlannerJob,
  type PlannerOptions,
} from './planner-model.js';

export type { PlannerJob, PlannerOptions, Verdict } from './planner-model.js';
export { gainOf } from './planner-cost.js';

export interface PlanDecision {
  job: string;
  action: 'move' | 'stay';
  reason: string;
  from: number[];
  to: number[];
  /** Seconds the job (and the jobs moved with it) gain over their remaining time. */
  gainSeconds: number;
  /** Migration cost of every job moved, seconds of job time. */
  costSeconds: number;
  /** Cost put on the other jobs that cross the same links while the VMs cross. */
  othersCostSeconds: number;
  /** Of costSeconds: the pause of the VMs stopped first, where the moves form a cycle between full sites. */
  pauseSeconds: number;
  transferBytes: number;
  /** Jobs moved to make room, with their new placement. */
  alsoMoved: { job: string; to: number[] }[];
}

export interface PlannedMove extends MoveNumbers {
  job: string;
  from: number[];
  to: number[];
}

export interface Plan {
  /** Ranks per site of every running job after the moves. */
  placements: Map<string, number[]>;
  moves: PlannedMove[];
  decisions: PlanDecision[];
}

const DEFAULTS = { hysteresis: 0.25, costFactor: 1, minIntervalSeconds: 300 };

/** Plans every running job at once; see the top of this file. Never exceeds a site's slots. */
export function plan(
  cluster: PlannerCluster,
  jobs: readonly PlannerJob[],
  now: number,
  opts: PlannerOptions = {},
): Plan {
  const links = linkTable(cluster);
  const k = cluster.sites.length;
  const slots = cluster.sites.map((s) => s.slots);
  const maxSlots = Math.max(...slots);
  const counts = new Map(jobs.map((j) => [j.id, [...j.counts]]));
  const free = slots.slice();
  for (const j of jobs) {
    if (j.counts.length !== k) throw new Error(`planner: job ${j.id} has ${j.counts.length} site counts, not ${k}`);
    j.counts.forEach((c, s) => (free[s] -= c));
  }
  if (free.some((f) => f < 0)) throw new Error('planner: the running jobs hold more slots than a site has');
  const o = { ...DEFAULTS, ...opts };
  const touched = new Set<string>();
  const decisions: PlanDecision[] = [];
  const moves: PlannedMove[] = [];
  const ctx: Ctx = { links, jobs, counts, o, slots, free, onSite: [], crossing: new Map(), perVm: new Map() };
  for (let s = 0; s < k; s++) ctx.onSite.push(new Set());
  for (const j of jobs) index(ctx, j, j.counts, 1);

  const split = jobs.filter((j) => j.verdict === 'network' && crossFraction(j.counts) > 0);
  // the heaviest crossing traffic first: it gains most per slot
  split.sort((a, b) => b.bytesPerSecond * crossFraction(b.counts) - a.bytesPerSecond * crossFraction(a.counts));
  for (const j of split) {
    if (touched.has(j.id)) continue;
    const from = counts.get(j.id)!;
    if (j.lastMovedAt !== undefined && now - j.lastMovedAt < o.minIntervalSeconds) {
      decisions.push(stay(j, from, `moved ${(now - j.lastMovedAt).toFixed(0)} s ago (minimum interval)`));
      continue;
    }
    let best: { changes: Change[]; w: Weighed } | null = null;
    const options = j.ranks <= maxSlots ? consolidations(j, ctx, free, slots, touched) : [splitByMinCut(j, from, free)];
    for (const changes of options) {
      if (!changes) continue;
      const w = weighChanges(changes, ctx);
      if (!best || w.gain - w.cost - w.others > best.w.gain - best.w.cost - best.w.others) best = { changes, w };
    }
    if (!best) {
      decisions.push(stay(j, from, 'no placement on fewer sites fits'));
      continue;
    }
    const { changes, w } = best;
    const to = changes[0].to;
    const pays = w.gain > 0 && w.gain >= (1 + o.hysteresis) * o.costFactor * (w.cost + w.others);
    decisions.push({
      job: j.id,
      action: pays ? 'move' : 'stay',
      reason: pays ? 'gain beats cost' : 'the move does not pay',
      from: [...from],
      to: [...to],
      gainSeconds: w.gain,
      costSeconds: w.cost,
      othersCostSeconds: w.others,
      pauseSeconds: w.pause,
      transferBytes: w.bytes,
      alsoMoved: changes.slice(1).map((c) => ({ job: c.job.id, to: [...c.to] })),
    });
    if (!pays) continue;
    for (const c of changes) {
      const old = counts.get(c.job.id)!;
      for (let s = 0; s < k; s++) free[s] += old[s] - c.to[s];
      index(ctx, c.job, old, -1);
      counts.set(c.job.id, c.to);
      index(ctx, c.job, c.to, 1);
      touched.add(c.job.id);
      moves.push({ job: c.job.id, from: old, to: c.to, ...w.per.get(c.job.id)! });
    }
  }
  return { placements: counts, moves, decisions };
}

function stay(j: PlannerJob, from: number[], reason: string): PlanDecision {
  return {
    job: j.id,
    action: 'stay',
    reason,
    from: [...from],
    to: [...from],
    gainSeconds: 0,
    costSeconds: 0,
    othersCostSeconds: 0,
    pauseSeconds: 0,
    transferBytes: 0,
    alsoMoved: [],
  };
}

/**
 * Every way of putting job j on one site t: its ranks elsewhere come to t, into free slots and,
 * where those are short, into slots vacated by ranks of compute-intensive jobs or by the minority
 * ranks of other split jobs, which go to the sites j leaves (or other free slots).
 */
function consolidations(
  j: PlannerJob,
  ctx: Ctx,
  free: readonly number[],
  slots: readonly number[],
  touched: ReadonlySet<string>,
): (Change[] | null)[] {
  const k = slots.length;
  const from = ctx.counts.get(j.id)!;
  const out: (Change[] | null)[] = [];
  sites: for (let t = 0; t < k; t++) {
    if (slots[t] < j.ranks || from[t] === 0) continue; // a site with none of its ranks: a whole move
    const to = new Array<number>(k).fill(0);
    to[t] = j.ranks;
    const changes: Change[] = [{ job: j, to }];
    let need = j.ranks - from[t] - free[t];
    const room = free.map((f, s) => (s === t ? 0 : f + from[s]));
    if (need > 0) {
      // victims: compute ranks first, then the minority ranks of split network jobs
      const victims = [...ctx.onSite[t]]
        .filter((v) => v !== j && !touched.has(v.id))
        .filter((v) => v.verdict === 'compute' || isMinority(ctx.counts.get(v.id)!, t))
        .sort((a, b) => (a.verdict === b.verdict ? 0 : a.verdict === 'compute' ? -1 : 1));
      for (const v of victims) {
        if (need <= 0) break;
        const vc = [...ctx.counts.get(v.id)!];
        let take = Math.min(need, vc[t]);
        // where they go: the victim's own largest other site first, then the most room
        const dest = [...Array(k).keys()]
          .filter((s) => s !== t && room[s] > 0)
          .sort((a, b) => vc[b] - vc[a] || room[b] - room[a]);
        const moved = take;
        for (const s of dest) {
          if (take === 0) break;
          const n = Math.min(take, room[s]);
          vc[s] += n;
          room[s] -= n;
          take -= n;
        }
        if (take > 0) continue sites; // no room left anywhere for the victims
        vc[t] -= moved;
        need -= moved;
        changes.push({ job: v, to: vc });
      }
      // then whole network jobs of site t, each to one other site: they run as fast there, the
      // move only costs its migration (weighed with the rest)
      if (need > 0 && !swapWholeJobs(j, t, ctx, room, touched, changes, need)) {
        out.push(null);
        continue;
      }
    }
    out.push(changes);
  }
  return out;
}

/**
 * Moves whole network-intensive jobs held only by site t to one other site each, until `need`
 * slots of t are free: the largest that does not exceed what is still needed first, else the
 * smallest that covers it. False when they cannot free enough.
 */
function swapWholeJobs(
  j: PlannerJob,
  t: number,
  ctx: Ctx,
  room: number[],
  touched: ReadonlySet<string>,
  changes: Change[],
  need: number,
): boolean {
  const k = room.length;
  const maxRoom = Math.max(...room);
  const chosen = new Set(changes.map((c) => c.job));
  const whole = [...ctx.onSite[t]]
    .filter((v) => v !== j && v.verdict === 'network' && !touched.has(v.id) && !chosen.has(v))
    .filter((v) => v.ranks <= maxRoom && ctx.counts.get(v.id)![t] === v.ranks)
    .sort((a, b) => b.ranks - a.ranks);
  while (need > 0 && whole.length > 0) {
    let i = whole.findIndex((v) => v.ranks <= need);
    if (i < 0) i = whole.length - 1;
    const v = whole.splice(i, 1)[0];
    // the site with the least room that holds it whole (large rooms stay for larger jobs)
    let dest = -1;
    for (let s = 0; s < k; s++) if (s !== t && room[s] >= v.ranks && (dest < 0 || room[s] < room[dest])) dest = s;
    if (dest < 0) continue;
    const to = new Array<number>(k).fill(0);
    to[dest] = v.ranks;
    room[dest] -= v.ranks;
    need -= v.ranks;
    changes.push({ job: v, to });
  }
  return need <= 0;
}

function isMinority(c: readonly number[], t: number): boolean {
  return c.some((x, s) => s !== t && x >= c[t]); // a tie counts: a 4 + 4 job may swap with another
}

/** A job larger than any site: the partitioner's min-cut over its own slots plus the free ones. */
function splitByMinCut(j: PlannerJob, from: readonly number[], free: readonly number[]): Change[] | null {
  const caps = from.map((c, s) => c + free[s]);
  if (!j.pairs) {
    // without a pair graph: the fewest sites, the largest first
    const to = new Array<number>(caps.length).fill(0);
    let left = j.ranks;
    for (const s of [...caps.keys()].sort((a, b) => caps[b] - caps[a] || from[b] - from[a])) {
      const n = Math.min(left, caps[s]);
      to[s] = n;
      left -= n;
    }
    return left === 0 ? [{ job: j, to }] : null;
  }
  const g: Graph = graphFromEdges(j.ranks, j.pairs.src, j.pairs.dst, j.pairs.weight, j.pairs.src.length);
  const p = partition(g, caps, { seed: 1, cuts: 1 });
  const to = Array.from(p.loads, (x) => Math.round(x));
  return [{ job: j, to }];
}
