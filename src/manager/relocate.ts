// The planner in the manager (docs/manager.md, "The planner in the service"): on each event (a job
// starts or ends, a verdict changes, a node goes stale, a periodic tick) every running job is
// planned at once (planner.ts), and the moves the plan returns are carried out through the
// placement service's relocation path (src/placement/service.ts: the executor moves the nodes, the
// ranks get their next placement and their collectives switch). Plans never overlap; while one
// runs, the queue waits (its slots are in flux). Every plan that moves something, or whose
// decisions changed, is an event ('plan') and a line of the event log, with its numbers.
import { EventEmitter } from 'node:events';
import { classify, type Classification } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { Monitor } from '../monitor/monitor.js';
import { replayWindowOf } from '../monitor/prediction.js';
import type { Executor } from '../placement/executor.js';
import type { RelocationEvent } from '../placement/events.js';
import { PlacementService } from '../placement/service.js';
import { makeCluster, wanLink } from '../replay/cluster.js';
import { buildTrace } from '../replay/records.js';
import type { Cluster } from './cluster.js';
import type { ManagerEvent } from './event-log.js';
import type { JobRecord } from './job-record.js';
import { linkTable, type PlannerCluster } from './planner-model.js';
import { replaySlowdown } from './planner-replay.js';
import { plan, type Plan, type PlanDecision, type PlannerJob, type PlannerOptions } from './planner.js';
import {
  freeNodeMigrations,
  heldPerSite,
  jobMigrations,
  orderSteps,
  rankNodes,
  type Migration,
  type Step,
} from './relocate-moves.js';
import { estimateRemaining, type PastRun, type RemainingEstimate } from './remaining.js';

export interface RelocatorOptions {
  /** false: jobs get their placements (the collectives switch) but the planner moves nothing. */
  enabled: boolean;
  executor: Executor;
  /** Migrates a node no job holds (the testbed: wanemu migrate); absent: free nodes stay. */
  moveFreeNode?: (node: string, site: string) => Promise<void>;
  planner?: PlannerOptions;
  /** Periodic plan, ms (default 5000). */
  tickMs?: number;
}

/** What the relocator needs of the manager. */
export interface RelocatorHost {
  cluster: Cluster;
  monitor: Monitor;
  running(): JobRecord[];
  log(ev: ManagerEvent): void;
  say(m: string): void;
  /** A plan is done: the queue may go on. */
  settled(): void;
  /** Past runs of a job name (the job history), for its remaining time; absent: none. */
  pastRuns?(name: string): PastRun[];
}

export interface PlanEvent {
  reason: string;
  at: number;
  plannerMs: number;
  decisions: PlanDecision[];
  steps: Step[];
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Relocator {
  on(event: 'plan', l: (ev: PlanEvent) => void): this;
  on(event: 'relocation', l: (ev: RelocationEvent & { manager: string }) => void): this;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Relocator extends EventEmitter {
  readonly service: PlacementService;
  private readonly home = new Map<string, number>();
  private readonly capacity = new Map<string, number>();
  private readonly verdicts = new Map<string, string>();
  private readonly lastMoved = new Map<string, number>();
  /** VMs stopped for a stop-and-copy (relocate-moves.ts Step): they hold no site's slots until they resume. */
  private readonly stopped = new Map<string, Migration>();
  private lastDecisions = '[]';
  private timer: NodeJS.Timeout | null = null;
  private pending: string | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly t0 = Date.now();

  constructor(
    private readonly host: RelocatorHost,
    private readonly opts: RelocatorOptions,
  ) {
    super();
    // A site's capacity: the nodes (hosts) and slots it started with.
    for (const n of host.cluster.nodes) {
      this.home.set(n.site, (this.home.get(n.site) ?? 0) + 1);
      this.capacity.set(n.site, (this.capacity.get(n.site) ?? 0) + n.slots);
    }
    this.service = new PlacementService(host.monitor, { executor: opts.executor });
    this.service.on('warning', (m) => host.say(`placement: ${m}`));
  }

  get busy(): boolean {
    return this.running !== null;
  }

  async start(): Promise<void> {
    await this.service.start();
    if (!this.opts.enabled) return;
    this.timer = setInterval(() => this.request('tick'), this.opts.tickMs ?? 5000);
    this.timer.unref();
  }

  /** Plans soon (coalesced: one plan at a time, the latest reason next). */
  request(reason: string): void {
    if (!this.opts.enabled || this.closed) return;
    if (this.running) {
      this.pending = this.pending && this.pending !== 'tick' ? this.pending : reason;
      return;
    }
    this.running = this.runPlan(reason)
      .catch((e: Error) => this.host.say(`plan failed: ${e.message}`))
      .finally(() => {
        this.running = null;
        this.host.settled();
        const next = this.pending;
        this.pending = null;
        if (next) this.request(next);
      });
  }

  private async runPlan(reason: string): Promise<void> {
    const { cluster } = this.host;
    const sites = [...cluster.sites];
    const recs = this.host.running();
    const profiles = new Map<string, JobProfile>();
    const jobs: PlannerJob[] = [];
    const fixed = new Array<number>(sites.length).fill(0);
    const t = (Date.now() - this.t0) / 1000;
    const past = new Map<string, PastRun[]>(); // a name's past runs, read once a plan
    for (const rec of recs) {
      const counts = sites.map((s) =>
        rec.nodes.filter((n) => cluster.node(n.node).site === s).reduce((a, n) => a + n.slots, 0),
      );
      const job = this.host.monitor.job(rec.monitorJob);
      const hosts = job ? this.service.jobInfo(job).hosts : [];
      // Not all ranks said hello yet (or not a job of ours): it holds its slots, it is not moved.
      if (!job || job.ended || hosts.length !== rec.np || hosts.some((h) => !h) || !this.placed(rec, job, hosts)) {
        counts.forEach((c, s) => (fixed[s] += c));
        continue;
      }
      let cls: Classification;
      try {
        cls = classify(job);
      } catch (e) {
        this.host.say(`job ${rec.id}: not classified (${(e as Error).message}); not moved`);
        counts.forEach((c, s) => (fixed[s] += c));
        continue;
      }
      const verdict = cls.verdict === 'network-intensive' ? 'network' : 'compute';
      if (this.verdicts.get(rec.id) !== verdict) {
        if (this.verdicts.has(rec.id)) reason = reason === 'tick' ? `verdict of job ${rec.id}` : reason;
        this.verdicts.set(rec.id, verdict);
      }
      profiles.set(rec.id, job);
      rec.remaining = { ...this.remaining(rec, cls, past), at: Date.now() };
      jobs.push(this.plannerJob(rec, job, cls, counts, verdict, rec.remaining.seconds));
    }
    const pc: PlannerCluster = {
      sites: sites.map((s, i) => ({ name: s, slots: (this.capacity.get(s) ?? 0) - fixed[i] })),
      links: cluster.links.map((l) => ({ ...l })),
    };
    const t1 = performance.now();
    const p: Plan = plan(pc, jobs, t, this.opts.planner);
    const plannerMs = performance.now() - t1;
    const migrations: Migration[] = [];
    for (const m of p.moves) migrations.push(...jobMigrations(cluster, m.job, sites, m.from, m.to));
    const free = this.opts.moveFreeNode ? freeNodeMigrations(cluster, this.home, migrations) : [];
    // the jobs moved to make room are the ones stopped, where a cycle must be broken
    const makingRoom = new Set(p.decisions.flatMap((d) => (d.action === 'move' ? d.alsoMoved.map((a) => a.job) : [])));
    const steps = orderSteps(cluster, this.capacity, [...migrations, ...free], makingRoom);
    const remaining = new Map(recs.map((r) => [r.id, r.remaining]));
    const summary = JSON.stringify(p.decisions.map((d) => [d.job, d.action, d.reason, d.to]));
    if (steps.length === 0 && summary === this.lastDecisions) return;
    this.lastDecisions = summary;
    const ev: PlanEvent = { reason, at: Date.now(), plannerMs, decisions: p.decisions, steps };
    this.host.log({
      type: 'plan',
      reason,
      plannerMs: Math.round(plannerMs * 100) / 100,
      sites,
      decisions: p.decisions.map((d) => ({
        job: d.job,
        action: d.action,
        reason: d.reason,
        from: d.from,
        to: d.to,
        remainingSeconds: round(remaining.get(d.job)?.seconds ?? NaN),
        remainingSource: remaining.get(d.job)?.source,
        gainSeconds: round(d.gainSeconds),
        costSeconds: round(d.costSeconds),
        othersCostSeconds: round(d.othersCostSeconds),
        pauseSeconds: round(d.pauseSeconds),
        transferBytes: Math.round(d.transferBytes),
        alsoMoved: d.alsoMoved,
      })),
      moves: p.moves.map((m) => ({ job: m.job, from: m.from, to: m.to, mode: m.mode })),
    });
    for (const d of p.decisions)
      if (d.action === 'move')
        this.host.say(
          `plan (${reason}): job ${d.job} ${d.from.join('+')} -> ${d.to.join('+')}, gain ${d.gainSeconds.toFixed(1)} s over ${remaining.get(d.job)?.seconds.toFixed(0)} s (${remaining.get(d.job)?.source}), cost ${(d.costSeconds + d.othersCostSeconds).toFixed(1)} s${d.pauseSeconds > 0 ? ` (a stopped VM's pause ${d.pauseSeconds.toFixed(1)} s)` : ''}${d.alsoMoved.length ? `, also moving ${d.alsoMoved.map((a) => `job ${a.job}`).join(', ')}` : ''}`,
        );
    this.emit('plan', ev);
    for (const [i, step] of steps.entries()) await this.runStep(step, i, profiles);
  }

  private plannerJob(
    rec: JobRecord,
    job: JobProfile,
    cls: Classification,
    counts: number[],
    verdict: 'network' | 'compute',
    remainingSeconds: number,
  ): PlannerJob {
    const n = cls.numbers;
    const wall = Math.max(1e-3, n.wallSeconds);
    const pj: PlannerJob = {
      id: rec.id,
      ranks: counts.reduce((a, b) => a + b, 0),
      counts,
      verdict,
      bytesPerSecond: n.totalBytes / wall,
      messagesPerSecond: n.totalMessages / wall,
      mpiFraction: n.mpiFraction,
      remainingSeconds,
      lastMovedAt: this.lastMoved.get(rec.id),
    };
    const slowdown = cls.decidedBy === 'prediction' ? this.replayed(job) : null;
    if (slowdown) pj.slowdown = slowdown;
    return pj;
  }

  /** How long the job still runs (remaining.ts): its progress against its name's past runs. */
  private remaining(rec: JobRecord, cls: Classification, cache: Map<string, PastRun[]>): RemainingEstimate {
    let past = cache.get(rec.name);
    if (!past) {
      try {
        past = this.host.pastRuns?.(rec.name) ?? [];
      } catch {
        past = []; // no history: the estimate falls back
      }
      cache.set(rec.name, past);
    }
    return estimateRemaining({
      elapsedSeconds: (Date.now() - (rec.startedAt ?? Date.now())) / 1000,
      messagesSoFar: cls.numbers.totalMessages,
      ranks: rec.np,
      past,
      limitSeconds: rec.timeLimitSeconds,
    });
  }

  /** The node of each rank (relocate-moves.ts rankNodes), or null before every rank said hello. */
  private rankNodes(rec: JobRecord, hosts: readonly string[]): string[] | null {
    if (hosts.length !== rec.np || hosts.some((h) => !h)) return null;
    const nodes = rankNodes(this.host.cluster, rec.nodes, hosts);
    return nodes.length === rec.np ? nodes : null;
  }

  /**
   * Whether the job has a placement: the executor's (the testbed's), else where the manager started
   * its ranks (an executor that cannot tell, as the command hook, gets it from here).
   */
  private placed(rec: JobRecord, job: JobProfile, hosts: string[]): boolean {
    if (this.service.current(job.id)) return true;
    const nodes = this.rankNodes(rec, hosts);
    if (!nodes) return false;
    const sites = [...this.host.cluster.sites];
    const siteOf = nodes.map((n) => sites.indexOf(this.host.cluster.node(n).site));
    this.service.setPlacement(job.id, { sites, siteOf }, 'where the manager started it');
    return true;
  }

  /** The replay's slowdown of the job's window on a placement (planner-replay.ts), or null. */
  private replayed(job: JobProfile): ((c: readonly number[]) => number) | null {
    const w = replayWindowOf(job);
    if (!w) return null;
    try {
      const P = job.size;
      const hosts = new Map<string, number>();
      const nodeOf = Array.from({ length: P }, (_, i) => {
        const h = job.rank(i)?.host || `rank ${i}`;
        if (!hosts.has(h)) hosts.set(h, hosts.size);
        return hosts.get(h)!;
      });
      const recorded = new Array<number>(P).fill(0);
      const trace = buildTrace(w.ranks, { siteOf: recorded });
      const f = replaySlowdown(
        trace,
        makeCluster(recorded, wanLink(10, 1000), { nodeOf }),
        linkTable(this.plannerLinks()),
      );
      f(this.host.cluster.sites.map((_, i) => (i === 0 ? P : 0))); // fails here, not in the planner
      return f;
    } catch (e) {
      this.host.say(`job ${job.id}: no replay for the planner (${(e as Error).message})`);
      return null;
    }
  }

  private plannerLinks(): PlannerCluster {
    return {
      sites: this.host.cluster.sites.map((s) => ({ name: s, slots: this.capacity.get(s) ?? 0 })),
      links: this.host.cluster.links.map((l) => ({ ...l })),
    };
  }

  /** Slots held on each site now: the model's, less the VMs stopped (they are on no site). */
  private held(): Map<string, number> {
    const held = heldPerSite(this.host.cluster);
    for (const m of this.stopped.values()) {
      const site = this.host.cluster.node(m.node).site;
      held.set(site, held.get(site)! - this.slotsOf(m));
    }
    return held;
  }

  private slotsOf(m: Migration): number {
    return m.job === null ? 0 : (this.host.cluster.holders(m.node).get(m.job) ?? 0);
  }

  /** Whether the migrations' slots fit at their destinations now (an earlier step may have failed). */
  private fits(ms: readonly Migration[]): boolean {
    const held = this.held();
    for (const m of ms) held.set(m.to, held.get(m.to)! + this.slotsOf(m));
    return ms.every((m) => held.get(m.to)! <= (this.capacity.get(m.to) ?? 0));
  }

  /**
   * One step (relocate-moves.ts): the nodes migrate (a job's through the placement service), or a
   * VM stops (its slots leave its site) or resumes. Checked again before it runs: a step that no
   * longer fits, because an earlier one failed, is skipped; a stopped VM whose destination has no
   * room resumes where it was.
   */
  private async runStep(step: Step, index: number, profiles: Map<string, JobProfile>): Promise<void> {
    let ms = step.migrations;
    if (step.stage === 'suspend') {
      const m = ms[0];
      // the executor stops the VM first (the command hook's suspend request): its host is free
      const err = await this.stopStart('suspend', m, profiles);
      if (err) {
        this.host.log({ type: 'skipped', step: index, nodes: [{ ...m }] });
        this.host.say(`node ${m.node} (job ${m.job}) not stopped (${err}): the moves into its slot wait`);
        return;
      }
      this.stopped.set(m.node, m);
      this.host.log({ type: 'suspend', step: index, node: m.node, from: m.from, to: m.to, job: m.job });
      this.host.say(
        `node ${m.node} (job ${m.job}) stopped for stop-and-copy ${m.from} -> ${m.to}: its slots on ${m.from} are free`,
      );
      return;
    }
    if (step.stage === 'resume') {
      const m = ms[0];
      if (!this.stopped.has(m.node)) {
        this.host.log({ type: 'skipped', step: index, nodes: [{ ...m }] }); // it never stopped
        return;
      }
      // while it is stopped, its slots are on no site: room for it here or there
      const back = !this.fits(ms) && m.from !== m.to && this.fits([{ ...m, to: m.from }]);
      this.stopped.delete(m.node);
      if (back) {
        // the move that was to leave it room did not happen: the VM starts again where it was
        this.host.log({ type: 'move', step: index, stage: 'resume', nodes: [{ ...m, to: m.from }] });
        this.host.say(`node ${m.node} (job ${m.job}) resumes on ${m.from}: ${m.to} has no room`);
        const err = await this.stopStart('resume', m, profiles);
        if (err) this.host.say(`node ${m.node} (job ${m.job}) not resumed: ${err}`);
        return;
      }
    } else if (!this.fits(ms)) {
      this.host.log({ type: 'skipped', step: index, nodes: ms.map((m) => ({ ...m })) });
      this.host.say(`step ${index} skipped: ${ms.map((m) => `${m.node} -> ${m.to}`).join(', ')} no longer fits`);
      return;
    }
    ms = ms.map((m) => ({ ...m }));
    this.host.log({ type: 'move', step: index, stage: step.stage, nodes: ms });
    const byJob = new Map<string | null, Migration[]>();
    for (const m of ms) byJob.set(m.job, [...(byJob.get(m.job) ?? []), m]);
    // One job after the other: the executor's migrations must not interleave (the testbed rewrites
    // its state file on each).
    for (const [jobId, jms] of byJob) {
      if (jobId === null) await this.moveFree(jms);
      else await this.moveJob(jobId, jms, profiles);
    }
  }

  /**
   * The executor's suspend (the VM stops before its move) or resume (it starts again where it was)
   * of a stopped node: its ranks, the job's placement now and where the move takes them. The
   * error, or null (done, or nothing to do: an executor without them, as the testbed's).
   */
  private async stopStart(
    action: 'suspend' | 'resume',
    m: Migration,
    profiles: Map<string, JobProfile>,
  ): Promise<string | null> {
    const { cluster } = this.host;
    const rec = this.host.running().find((r) => r.id === m.job);
    const job = m.job === null ? undefined : profiles.get(m.job);
    if (!this.opts.executor[action] || !rec || !job || job.ended) return null;
    const info = this.service.jobInfo(job);
    const nodes = this.rankNodes(rec, info.hosts);
    if (!nodes) return null;
    const sites = [...cluster.sites];
    const cur = this.service.current(job.id);
    const at = (n: string) => (n === m.node && action === 'suspend' ? m.to : cluster.node(n).site);
    try {
      await this.opts.executor[action]!({
        job: info,
        ranks: nodes.flatMap((n, r) => (n === m.node ? [r] : [])),
        current: cur ? { sites: cur.sites, siteOf: cur.siteOf } : null,
        target: { sites, siteOf: nodes.map((n) => sites.indexOf(at(n))) },
        reason: `manager plan: job ${m.job}: node ${m.node} ${m.from} -> ${m.to} (${action === 'suspend' ? 'stopped for stop-and-copy' : 'resumes where it was'})`,
      });
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  private async moveFree(ms: readonly Migration[]): Promise<void> {
    for (const m of ms) {
      try {
        await this.opts.moveFreeNode!(m.node, m.to);
        this.host.cluster.moveNode(m.node, m.to);
        this.host.log({ type: 'freeNode', node: m.node, site: m.to });
      } catch (e) {
        this.host.say(`free node ${m.node}: ${(e as Error).message}`);
      }
    }
  }

  /** A job's nodes move through the placement service; the model follows where its executor says they are. */
  private async moveJob(jobId: string, ms: readonly Migration[], profiles: Map<string, JobProfile>): Promise<void> {
    const { cluster } = this.host;
    const rec = this.host.running().find((r) => r.id === jobId);
    const job = profiles.get(jobId);
    if (!rec || !job || job.ended) return;
    const dest = new Map(ms.map((m) => [m.node, m.to]));
    const info = this.service.jobInfo(job);
    const nodes = this.rankNodes(rec, info.hosts);
    if (!nodes) return;
    const sites = [...cluster.sites];
    const siteOf = nodes.map((n) => sites.indexOf(dest.get(n) ?? cluster.node(n).site));
    const what = ms.map((m) => `node ${m.node} ${m.from} -> ${m.to}`).join(', ');
    const ev = await this.service.relocate(job.id, { sites, siteOf }, `manager plan: job ${jobId}: ${what}`, {
      trigger: 'policy',
    });
    // The model follows where the executor says the ranks are (a partial move included).
    const reached = ev.reached ?? ev.from;
    if (reached)
      for (let r = 0; r < nodes.length; r++) {
        const s = reached.sites[reached.siteOf[r]];
        if (s && cluster.node(nodes[r]).site !== s) cluster.moveNode(nodes[r], s);
      }
    for (const nd of rec.nodes) nd.site = cluster.node(nd.node).site;
    rec.sites = [...new Set(rec.nodes.map((n) => n.site))];
    rec.relocations = (rec.relocations ?? 0) + (ev.ok ? 1 : 0);
    this.lastMoved.set(jobId, (Date.now() - this.t0) / 1000);
    this.host.log({
      type: 'relocated',
      job: jobId,
      ok: ev.ok,
      error: ev.error,
      epoch: ev.epochAfter,
      // a node still stopped is on no site
      nodes: rec.nodes.filter((n) => !this.stopped.has(n.node)).map((n) => ({ ...n })),
      ms: ev.timings.totalMs,
    });
    this.host.say(
      `job ${jobId} ${ev.ok ? 'relocated' : `not relocated (${ev.error})`}: now on ${rec.nodes.map((n) => `${n.node}@${n.site}`).join(',')}`,
    );
    this.emit('relocation', { ...ev, manager: jobId });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    await this.service.close();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
