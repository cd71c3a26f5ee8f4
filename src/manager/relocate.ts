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
import { freeNodeMigrations, jobMigrations, orderSteps, type Migration, type Step } from './relocate-moves.js';

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
    for (const rec of recs) {
      const counts = sites.map((s) =>
        rec.nodes.filter((n) => cluster.node(n.node).site === s).reduce((a, n) => a + n.slots, 0),
      );
      const job = this.host.monitor.job(rec.monitorJob);
      const hosts = job ? this.service.jobInfo(job).hosts : [];
      // Not all ranks said hello yet (or not a job of ours): it holds its slots, it is not moved.
      if (!job || job.ended || hosts.length !== rec.np || hosts.some((h) => !h) || !this.placed(job, hosts)) {
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
      jobs.push(this.plannerJob(rec, job, cls, counts, verdict));
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
    const steps = orderSteps(cluster, this.capacity, [...migrations, ...free]);
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
        gainSeconds: round(d.gainSeconds),
        costSeconds: round(d.costSeconds),
        othersCostSeconds: round(d.othersCostSeconds),
        transferBytes: Math.round(d.transferBytes),
        alsoMoved: d.alsoMoved,
      })),
      moves: p.moves.map((m) => ({ job: m.job, from: m.from, to: m.to, mode: m.mode })),
    });
    for (const d of p.decisions)
      if (d.action === 'move')
        this.host.say(
          `plan (${reason}): job ${d.job} ${d.from.join('+')} -> ${d.to.join('+')}, gain ${d.gainSeconds.toFixed(1)} s, cost ${(d.costSeconds + d.othersCostSeconds).toFixed(1)} s${d.alsoMoved.length ? `, also moving ${d.alsoMoved.map((a) => `job ${a.job}`).join(', ')}` : ''}`,
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
      // The job's remaining time is not known: as long again as it has run (at least a few seconds).
      remainingSeconds: Math.max(5, (Date.now() - (rec.startedAt ?? Date.now())) / 1000),
      lastMovedAt: this.lastMoved.get(rec.id),
    };
    const slowdown = cls.decidedBy === 'prediction' ? this.replayed(job) : null;
    if (slowdown) pj.slowdown = slowdown;
    return pj;
  }

  /**
   * Whether the job has a placement: the executor's (the testbed's), else where the manager started
   * its ranks (an executor that cannot tell, as the command hook, gets it from here).
   */
  private placed(job: JobProfile, hosts: string[]): boolean {
    if (this.service.current(job.id)) return true;
    const sites = [...this.host.cluster.sites];
    const siteOf: number[] = [];
    for (const h of hosts) {
      const n = this.nodeOfHost(h);
      if (!n) return false;
      siteOf.push(sites.indexOf(n.site));
    }
    this.service.setPlacement(job.id, { sites, siteOf }, 'where the manager started it');
    return true;
  }

  /** The node a rank's host is; undefined where several nodes share it (e.g. localhost): not movable. */
  private nodeOfHost(h: string) {
    const ns = this.host.cluster.nodes.filter((n) => n.host === h || n.host === h.split('.')[0]);
    return ns.length === 1 ? ns[0] : undefined;
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

  /** One step: the nodes migrate (a job's through the placement service), the model follows. */
  private async runStep(step: Step, index: number, profiles: Map<string, JobProfile>): Promise<void> {
    const { cluster } = this.host;
    const byJob = new Map<string | null, Migration[]>();
    for (const m of step.migrations) byJob.set(m.job, [...(byJob.get(m.job) ?? []), m]);
    this.host.log({
      type: 'move',
      step: index,
      swap: step.swap,
      nodes: step.migrations.map((m) => ({ node: m.node, from: m.from, to: m.to, job: m.job })),
    });
    // One job after the other, also in a swap: the executor's migrations must not interleave (the
    // testbed rewrites its state file on each).
    for (const [jobId, ms] of byJob) {
      if (jobId === null) {
        for (const m of ms) {
          try {
            await this.opts.moveFreeNode!(m.node, m.to);
            cluster.moveNode(m.node, m.to);
            this.host.log({ type: 'freeNode', node: m.node, site: m.to });
          } catch (e) {
            this.host.say(`free node ${m.node}: ${(e as Error).message}`);
          }
        }
        continue;
      }
      const rec = this.host.running().find((r) => r.id === jobId);
      const job = profiles.get(jobId);
      if (!rec || !job || job.ended) continue;
      const dest = new Map(ms.map((m) => [m.node, m.to]));
      const nodeOfHost = (h: string) => cluster.nodes.find((n) => n.host === h || n.host === h.split('.')[0]);
      const info = this.service.jobInfo(job);
      const sites = [...cluster.sites];
      const siteOf = info.hosts.map((h) => {
        const n = nodeOfHost(h);
        return sites.indexOf(n ? (dest.get(n.name) ?? n.site) : cluster.sites[0]);
      });
      const ev = await this.service.relocate(job.id, { sites, siteOf }, `manager plan: job ${jobId}`, {
        trigger: 'policy',
      });
      // The model follows where the executor says the ranks are (a partial move included).
      const reached = ev.reached ?? ev.from;
      if (reached)
        for (let r = 0; r < info.hosts.length; r++) {
          const n = nodeOfHost(info.hosts[r]);
          const s = reached.sites[reached.siteOf[r]];
          if (n && s && n.site !== s) cluster.moveNode(n.name, s);
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
        nodes: rec.nodes,
        ms: ev.timings.totalMs,
      });
      this.host.say(
        `job ${jobId} ${ev.ok ? 'relocated' : `not relocated (${ev.error})`}: now on ${rec.nodes.map((n) => `${n.node}@${n.site}`).join(',')}`,
      );
      this.emit('relocation', { ...ev, manager: jobId });
    }
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
