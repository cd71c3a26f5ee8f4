// What a candidate of the planner (planner.ts) gains and costs: the gain of every job it changes,
// the migration of every VM that moves (src/placement/cost.ts, live or stop-and-copy, whichever is
// cheaper), the cost on the other jobs crossing the same links while the VMs cross, and, where the
// moves form a cycle between full sites, the pause of the VM stopped to break it (stage.ts: its
// stop-and-copy and the moves that make its room, the time its job stands still).
import { migrationCost, relocationGain, type CostModelOptions, type MigrationEstimate } from '../placement/cost.js';
import {
  crossFraction,
  flows,
  movedRanks,
  worstLink,
  type LinkTable,
  type PlannerJob,
  type PlannerOptions,
} from './planner-model.js';
import { pauses, stageMoves } from './stage.js';

/** A job's new placement in a candidate. */
export interface Change {
  job: PlannerJob;
  to: number[];
}

export interface Ctx {
  links: LinkTable;
  jobs: readonly PlannerJob[];
  counts: Map<string, number[]>;
  o: { hysteresis: number; costFactor: number; minIntervalSeconds: number } & PlannerOptions;
  /** each site's slots, and its free slots as the plan stands (plan() updates them) */
  slots: readonly number[];
  free: readonly number[];
  /** migration estimates of one VM, per link and VM size (see moveCost): the modes weighed, and stop-and-copy */
  perVm: Map<string, { modes: MigrationEstimate[]; stop: MigrationEstimate }>;
  /** the jobs with ranks on each site */
  onSite: Set<PlannerJob>[];
  /** site pair a * k + b (a < b) → sum over the jobs spanning both of their share of the link */
  crossing: Map<number, number>;
}

/** Adds (sign 1) or removes (-1) a job's placement from the indexes that keep a plan fast. */
export function index(ctx: Ctx, j: PlannerJob, c: readonly number[], sign: 1 | -1): void {
  const k = c.length;
  for (let s = 0; s < k; s++) {
    if (c[s] === 0) continue;
    if (sign > 0) ctx.onSite[s].add(j);
    else ctx.onSite[s].delete(j);
  }
  const f = crossFraction(c);
  if (f === 0) return;
  for (let a = 0; a < k; a++)
    for (let b = a + 1; b < k; b++)
      if (c[a] > 0 && c[b] > 0) {
        const key = a * k + b;
        ctx.crossing.set(key, (ctx.crossing.get(key) ?? 0) + sign * linkShare(j, c, ctx.links.bandwidth[a][b]));
      }
}

/** Fraction of a link of `bps` bits/s the job's crossing traffic uses. */
function linkShare(j: PlannerJob, c: readonly number[], bps: number): number {
  return Number.isFinite(bps) ? Math.min(1, (j.bytesPerSecond * crossFraction(c) * 8) / bps) : 0;
}

export interface MoveNumbers {
  transferBytes: number;
  migrationSeconds: number;
  downtimeSeconds: number;
  mode: 'live' | 'stop';
}

export interface Weighed {
  gain: number;
  /** the migrations' cost, the pauses' included */
  cost: number;
  others: number;
  bytes: number;
  /** seconds the stopped VMs' jobs stand still (stage.ts), when the moves form a cycle */
  pause: number;
  per: Map<string, MoveNumbers>;
}

/** Gain of every job changed (the victims' may be negative), the migration costs, the cost on others. */
export function weighChanges(changes: Change[], ctx: Ctx): Weighed {
  const w: Weighed = { gain: 0, cost: 0, others: 0, bytes: 0, pause: 0, per: new Map() };
  const items: Item[] = [];
  for (const { job, to } of changes) {
    const from = ctx.counts.get(job.id)!;
    w.gain += gainOf(job, from, to, ctx);
    const pm = { transferBytes: 0, migrationSeconds: 0, downtimeSeconds: 0, mode: 'stop' as 'live' | 'stop' };
    const crossBps = job.bytesPerSecond * crossFraction(from);
    for (const f of flows(from, to)) {
      const bps = ctx.links.bandwidth[f.from][f.to];
      const est = moveCost(ctx, job, f.from, f.to, Math.ceil(f.ranks / Math.max(1, job.ranksPerVm ?? 1)), crossBps);
      items.push({ job: job.id, from: String(f.from), to: String(f.to), slots: f.ranks, est });
      w.cost += est.costSeconds;
      w.bytes += est.transferBytes;
      pm.transferBytes += est.transferBytes;
      pm.migrationSeconds += est.migrationSeconds;
      pm.downtimeSeconds += est.downtimeSeconds;
      pm.mode = est.mode;
      // the other jobs crossing this link get about half of it while the VMs cross: each loses
      // its share of the link for the time the VMs run while crossing
      const busy = est.migrationSeconds - est.downtimeSeconds;
      const a = Math.min(f.from, f.to),
        b = Math.max(f.from, f.to);
      let share = ctx.crossing.get(a * from.length + b) ?? 0;
      for (const c of changes) {
        const cc = ctx.counts.get(c.job.id)!;
        if (cc[a] > 0 && cc[b] > 0) share -= linkShare(c.job, cc, bps);
      }
      w.others += busy * Math.max(0, share);
    }
    w.per.set(job.id, pm);
  }
  addPauses(w, items, changes, ctx);
  return w;
}

type Item = { job: string; from: string; to: string; slots: number; est: ReturnType<typeof moveCost> };

/**
 * Where the candidate's moves cannot all find room at once (a cycle between full sites), one VM
 * stops first, as the relocator will do (stage.ts, the jobs moved to make room first): its job
 * stands still for its stop-and-copy and the moves in between, instead of the cheaper migration
 * counted for it.
 */
function addPauses(w: Weighed, items: Item[], changes: readonly Change[], ctx: Ctx): void {
  const inflow = new Map<string, number>();
  for (const m of items) inflow.set(m.to, (inflow.get(m.to) ?? 0) + m.slots);
  if ([...inflow].every(([s, n]) => n <= ctx.free[Number(s)])) return; // everything has room now
  const held = new Map(ctx.slots.map((n, s) => [String(s), n - ctx.free[s]]));
  const capacity = new Map(ctx.slots.map((n, s) => [String(s), n]));
  const steps = stageMoves(held, capacity, items, new Set(changes.slice(1).map((c) => c.job.id)));
  for (const [m, pause] of pauses(steps, (x, stopped) => (stopped ? x.est.stopSeconds : x.est.migrationSeconds))) {
    w.pause += pause;
    w.cost += Math.max(0, pause - m.est.costSeconds);
    const pm = w.per.get(m.job)!;
    pm.downtimeSeconds += pause;
    pm.mode = 'stop';
  }
}

/**
 * cost.ts's migration cost of `vms` VMs over link a → b. Every number of that model is linear in
 * the VM count, and the link share only weighs the time the VMs run while crossing: one estimate
 * of one VM per link and VM size is kept and scaled (a plan weighs thousands of moves).
 */
function moveCost(ctx: Ctx, job: PlannerJob, a: number, b: number, vms: number, crossBps: number) {
  const M = job.vmMemoryBytes ?? ctx.o.cost?.vmMemoryBytes;
  const D = job.dirtyBytesPerSecond ?? ctx.o.cost?.dirtyBytesPerSecond;
  const key = `${a},${b},${M},${D}`;
  let one = ctx.perVm.get(key);
  if (!one) {
    const bps = ctx.links.bandwidth[a][b];
    const o: CostModelOptions = {
      ...ctx.o.cost,
      vmMemoryBytes: M,
      dirtyBytesPerSecond: D,
      bandwidthBps: Number.isFinite(bps) ? bps : 0,
      latencySeconds: ctx.links.latency[a][b],
    };
    const modes = ctx.o.cost?.mode && ctx.o.cost.mode !== 'auto' ? [ctx.o.cost.mode] : (['live', 'stop'] as const);
    const stop = migrationCost(1, 0, { ...o, mode: 'stop' });
    one = { modes: modes.map((mode) => (mode === 'stop' ? stop : migrationCost(1, 0, { ...o, mode }))), stop };
    ctx.perVm.set(key, one);
  }
  const bps = ctx.links.bandwidth[a][b];
  const share = Number.isFinite(bps) ? Math.min(1, (crossBps * 8) / bps) : 0;
  let best: {
    mode: 'live' | 'stop';
    transferBytes: number;
    migrationSeconds: number;
    downtimeSeconds: number;
    costSeconds: number;
    stopSeconds: number;
  } | null = null;
  for (const e of one.modes) {
    const costSeconds = vms * (e.downtimeSeconds + (e.migrationSeconds - e.downtimeSeconds) * share);
    if (!best || costSeconds < best.costSeconds)
      best = {
        mode: e.mode,
        transferBytes: vms * e.transferBytes,
        migrationSeconds: vms * e.migrationSeconds,
        downtimeSeconds: vms * e.downtimeSeconds,
        costSeconds,
        // the time its VMs stand still if they must stop first (a cycle between full sites)
        stopSeconds: vms * one.stop.downtimeSeconds,
      };
  }
  return best!;
}

/** Seconds a job saves over its remaining time going from one placement to the other. */
export function gainOf(
  job: PlannerJob,
  from: readonly number[],
  to: readonly number[],
  ctx: { links: LinkTable },
): number {
  if (movedRanks(from, to) === 0) return 0;
  if (job.slowdown) {
    const before = job.slowdown(from),
      after = job.slowdown(to);
    // a model that cannot say (a stalled replay: NaN) leaves the decision to the old formula
    if (before > 0 && after > 0) return job.remainingSeconds * (1 - after / before);
  }
  const link = worstLink(from, ctx.links);
  const linkAfter = worstLink(to, ctx.links);
  const fb = crossFraction(from),
    fa = crossFraction(to);
  const g = relocationGain(
    {
      ranks: job.ranks,
      wallSeconds: 1,
      mpiFraction: job.mpiFraction ?? 1,
      crossBytesBefore: job.bytesPerSecond * fb,
      crossBytesAfter: job.bytesPerSecond * fa,
      crossMessagesBefore: job.messagesPerSecond * fb,
      crossMessagesAfter: job.messagesPerSecond * fa,
    },
    {
      horizonSeconds: job.remainingSeconds,
      bandwidthBps: Number.isFinite(link.bandwidth) ? link.bandwidth : 0,
      latencySeconds: Math.max(link.latency, linkAfter.latency),
    },
  );
  return g.gainSeconds;
}
