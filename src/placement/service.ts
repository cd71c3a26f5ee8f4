// The placement service: knows where each job's ranks are (world rank -> site), hands that to every
// rank right after its Hello, pushes a new Placement{epoch + 1} to every rank of a job whenever it
// changes, and relocates jobs through an executor.
//
//   const monitor = new Monitor({ token });
//   const svc = new PlacementService(monitor, { executor: new TestbedExecutor(), policy: { } });
//   await svc.start();
//   svc.on('placement', (ev) => ...);      // every change, also ones made outside the monitor
//   svc.on('relocation', (ev) => ...);     // every relocation, with its reason and numbers
//   await svc.relocate(jobId, 'A:0-7', 'my own policy');
//
// Epochs: per job, 1 for the first placement, + 1 for every change the service makes or sees.
import { EventEmitter } from 'node:events';
import type { Classification } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { Monitor } from '../monitor/monitor.js';
import type { Placement } from '../wire/messages.js';
import type {
  JobState,
  PastVerdict,
  PlacementEvent,
  PlacementHistory,
  PlacementRecord,
  PlacementSource,
  PolicyDecision,
  RelocationEvent,
  RelocationNumbers,
} from './events.js';
import type { Executor, ExternalChange, JobInfo } from './executor.js';
import { badHostname } from './hostname.js';
import { resolveInitial, type InitialPlacementHost } from './initial-placement.js';
import { relocationNumbers } from './numbers.js';
import { ConsolidationPolicy, type PolicyHost } from './policy.js';
import { runRelocation, type RelocationHost } from './relocation.js';
import type { PlacementServiceEvents, PlacementServiceOptions } from './service-options.js';
import {
  formatSiteMap,
  parseSiteMap,
  parseSiteSpec,
  samePlacement,
  validatePlacement,
  type SitePlacement,
  type SiteSpec,
} from './sitemap.js';

export type {
  JobState,
  PlacementEvent,
  PlacementHistory,
  PlacementRecord,
  PlacementSource,
  RelocationEvent,
  RelocationNumbers,
} from './events.js';
export type { PlacementServiceEvents, PlacementServiceOptions, SitesConfig } from './service-options.js';

// Typed events: the interface merges into the class below (what EventEmitter subclasses do).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface PlacementService {
  on<K extends keyof PlacementServiceEvents>(event: K, listener: PlacementServiceEvents[K]): this;
  once<K extends keyof PlacementServiceEvents>(event: K, listener: PlacementServiceEvents[K]): this;
  off<K extends keyof PlacementServiceEvents>(event: K, listener: PlacementServiceEvents[K]): this;
  emit<K extends keyof PlacementServiceEvents>(event: K, ...args: Parameters<PlacementServiceEvents[K]>): boolean;
}

const MAX_DECISIONS = 200;
const NOT_REGISTERED = 'not registered: only jobs launched by sitempi or registered by an operator may be relocated';

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class PlacementService extends EventEmitter implements PolicyHost {
  readonly executor: Executor | null;
  readonly policy: ConsolidationPolicy | null;
  private readonly states = new Map<string, JobState>();
  private readonly ended: JobState[] = [];
  private readonly spec:
    SiteSpec | SitePlacement | ((job: JobInfo) => string | SitePlacement | null | undefined) | null;
  private unwatch: (() => void) | null = null;
  private closed = false;
  private readonly hooks: Array<[string, (...a: never[]) => void]> = [];
  /** The verdict of a job's past runs (options.pastVerdict; the job history sets it). */
  pastVerdict: ((job: JobProfile) => PastVerdict | null) | null;
  /** Its own steps, bound, for the relocation (relocation.ts) and the first placement (initial-placement.ts). */
  private readonly steps: RelocationHost & InitialPlacementHost;

  constructor(
    readonly monitor: Monitor,
    readonly options: PlacementServiceOptions = {},
  ) {
    super();
    this.executor = options.executor ?? null;
    const s = options.sites;
    this.spec = s === undefined || s === '' ? null : typeof s === 'string' ? parseSiteSpec(s) : s;
    if (s && typeof s === 'object') validateShape(s);
    this.pastVerdict = options.pastVerdict ?? null;
    this.steps = {
      executor: this.executor,
      spec: this.spec,
      jobInfo: (job) => this.jobInfo(job),
      numbers: (job, from, target, classification) => this.numbers(job, from, target, classification),
      apply: (st, p, source, reason) => this.apply(st, p, source, reason),
      emit: (event, ev) => this.emit(event, ev),
      relocate: (jobId, target, reason, opts) => this.relocate(jobId, target, reason, opts),
      warn: (message) => this.warn(message),
      pastVerdict: (job) => (this.pastVerdict ? this.pastVerdict(job) : null),
      checkTarget: (job, target) => this.checkTarget(job, target),
    };
    const pol = options.policy;
    this.policy = pol ? new ConsolidationPolicy(this, pol === true ? {} : pol) : null;
    this.listen('jobStart', (job: JobProfile) => this.onJobStart(job));
    this.listen('rankHello', (job: JobProfile, rank: number) => this.onHello(job, rank));
    this.listen('jobUpdate', (job: JobProfile) => {
      if (this.policy) this.policy.evaluate(job).catch((e: Error) => this.warn(`job ${job.id}: policy: ${e.message}`));
    });
    this.listen('jobEnd', (job: JobProfile) => this.onJobEnd(job));
  }

  private listen(ev: string, fn: (...a: never[]) => void): void {
    const safe = (...a: never[]) => {
      try {
        fn(...a);
      } catch (e) {
        this.warn(`placement service: ${(e as Error).message}`);
      }
    };
    this.hooks.push([ev, safe]);
    this.monitor.on(ev as 'jobStart', safe as never);
  }

  /** Starts the executor and its watch for outside moves. Throws when the executor cannot start. */
  async start(): Promise<this> {
    if (this.executor?.start) await this.executor.start();
    if (this.executor?.watch && !this.unwatch) this.unwatch = this.executor.watch((ev) => this.onExternal(ev));
    return this;
  }

  /** Stops watching (the monitor is left alone). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unwatch?.();
    this.unwatch = null;
    for (const [ev, fn] of this.hooks) this.monitor.off(ev as 'jobStart', fn as never);
    await Promise.allSettled([...this.states.values()].map((s) => s.chain));
    await this.executor?.close?.();
  }

  // --- queries ------------------------------------------------------------------------------

  /** The current placement of a job in progress (undefined: no such job, null: none yet). */
  current(jobId: string): PlacementRecord | null | undefined {
    return this.states.get(jobId)?.current;
  }

  /** The placement history of a job (in progress, or among the last ended ones). */
  history(jobOrId: string | JobProfile): PlacementHistory | undefined {
    const s = this.stateFor(jobOrId);
    if (!s) return undefined;
    return {
      jobId: s.job.id,
      current: s.current,
      timeline: [...s.timeline],
      relocations: [...s.relocations],
      decisions: [...s.decisions],
      fromHistory: s.fromHistory ?? null,
    };
  }

  /** The job as executors see it: id, size, host of each rank. */
  jobInfo(job: JobProfile): JobInfo {
    return { id: job.id, size: job.size, hosts: Array.from({ length: job.size }, (_, r) => job.rank(r)?.host ?? '') };
  }

  /** Why `target` cannot be reached for this job (capacity...), or null. */
  async checkTarget(job: JobProfile, target: SitePlacement): Promise<string | null> {
    const s = this.states.get(job.id);
    if (!this.executor?.checkTarget) return null;
    return await this.executor.checkTarget(this.jobInfo(job), target, s?.current ?? null);
  }

  /** Why the job may not be moved at all (not registered; with an executor: host names it must not get), or null. */
  immovable(job: JobProfile): string | null {
    if (!job.registered) return NOT_REGISTERED;
    return this.executor ? badHostname(this.jobInfo(job)) : null;
  }

  /** @internal */
  stateFor(jobOrId: string | JobProfile): JobState | undefined {
    if (typeof jobOrId !== 'string') {
      const s = this.states.get(jobOrId.id);
      if (s && s.job === jobOrId) return s;
      return this.ended.find((e) => e.job === jobOrId);
    }
    return this.states.get(jobOrId) ?? [...this.ended].reverse().find((e) => e.job.id === jobOrId);
  }

  // --- changes ------------------------------------------------------------------------------

  /**
   * Relocates a job: the executor moves its ranks (without an executor the target is taken as
   * reached), the placement actually reached becomes the next epoch and is pushed to every rank.
   * Resolves with the relocation event (ok false, with the error, when the executor failed; the
   * placement then stays as it was). Throws for an unknown job or an unusable target, and when the
   * policy or the configured map (triggers other than 'api') would move a job that is not
   * registered (Monitor.registerJob): a client with the token must not make an operator's hook run.
   */
  async relocate(
    jobId: string,
    target: SitePlacement | string,
    reason = 'requested',
    opts: { trigger?: RelocationEvent['trigger']; classification?: Classification } = {},
  ): Promise<RelocationEvent> {
    const s = this.states.get(jobId);
    if (!s || s.job.ended) throw new Error(`no job ${jobId} in progress`);
    const job = s.job;
    if ((opts.trigger ?? 'api') !== 'api' && !job.registered) throw new Error(`job ${jobId}: ${NOT_REGISTERED}`);
    const info = this.jobInfo(job);
    const t =
      typeof target === 'string'
        ? parseSiteMap(target, job.size, info.hosts)
        : { sites: [...target.sites], siteOf: [...target.siteOf] };
    validatePlacement(t, job.size);
    const requestedAt = Date.now();
    s.busy++;
    const run = s.chain.then(async () => {
      try {
        return await runRelocation(this.steps, s, t, reason, opts.trigger ?? 'api', requestedAt, opts.classification);
      } finally {
        s.busy--;
      }
    });
    s.chain = run.catch(() => undefined);
    return await run;
  }

  /**
   * Records a placement change made outside the service (the caller moved the ranks itself, or
   * saw them moved): the next epoch, pushed to every rank. Returns null when nothing changed.
   */
  setPlacement(jobId: string, placement: SitePlacement | string, reason = 'set by the caller'): PlacementEvent | null {
    const s = this.states.get(jobId);
    if (!s || s.job.ended) throw new Error(`no job ${jobId} in progress`);
    const p =
      typeof placement === 'string' ? parseSiteMap(placement, s.job.size, this.jobInfo(s.job).hosts) : placement;
    validatePlacement(p, s.job.size);
    return this.apply(s, p, 'api', reason);
  }

  /** Re-reads every job's placement from the executor now (what a watch event does). */
  async refresh(reason = 'refresh'): Promise<void> {
    await Promise.all([...this.states.values()].map((s) => this.refreshJob(s, reason)));
  }

  /** The numbers behind moving `job` from `from` to `target` (no side effect). */
  numbers(
    job: JobProfile,
    from: SitePlacement | null,
    target: SitePlacement,
    classification?: Classification,
  ): RelocationNumbers {
    return relocationNumbers(job, from, target, {
      executor: this.executor,
      cost: this.options.cost,
      classify: this.options.classify,
      classification,
      info: this.jobInfo(job),
    });
  }

  /** Makes `p` the job's placement when it differs: next epoch, pushed to every rank. */
  private apply(s: JobState, p: SitePlacement, source: PlacementSource, reason: string): PlacementEvent | null {
    if (s.current && samePlacement(s.current, p)) return null;
    const job = s.job;
    const rec: PlacementRecord = {
      epoch: (s.current?.epoch ?? 0) + 1,
      sites: [...p.sites],
      siteOf: [...p.siteOf],
      map: formatSiteMap(p),
      source,
      reason,
      at: Date.now(),
      jobSeconds: job.wallNs / 1e9,
    };
    const previous = s.current;
    s.current = rec;
    s.timeline.push(rec);
    const ranksNotified = job.ended ? 0 : this.monitor.sendPlacement(job.id, wirePlacement(rec));
    const ev: PlacementEvent = { ...rec, jobId: job.id, previous, ranksNotified };
    this.emit('placement', ev);
    return ev;
  }

  // --- monitor events -----------------------------------------------------------------------

  private onJobStart(job: JobProfile): void {
    const old = this.states.get(job.id);
    if (old && old.job !== job) this.retire(old);
    this.states.set(job.id, {
      job,
      current: null,
      timeline: [],
      relocations: [],
      decisions: [],
      chain: Promise.resolve(),
      busy: 0,
      resolving: false,
      configTried: false,
      lastRelocationAt: 0,
      lastEvaluationAt: 0,
      evaluating: false,
    });
  }

  private onJobEnd(job: JobProfile): void {
    const s = this.states.get(job.id);
    if (s && s.job === job) {
      this.states.delete(job.id);
      this.retire(s);
    }
  }

  private retire(s: JobState): void {
    if (this.ended.includes(s)) return;
    this.ended.push(s);
    while (this.ended.length > (this.options.keepEndedJobs ?? 100)) this.ended.shift();
  }

  private onHello(job: JobProfile, rank: number): void {
    const s = this.states.get(job.id);
    if (!s || s.job !== job) return;
    if (s.current) {
      this.monitor.sendPlacement(job.id, wirePlacement(s.current), { rank });
      return;
    }
    resolveInitial(this.steps, s).catch((e: Error) => this.warn(`job ${job.id}: ${e.message}`));
  }

  private onExternal(ev: ExternalChange): void {
    if (this.closed) return;
    for (const s of this.states.values()) {
      this.refreshJob(s, `outside the monitor: ${ev.description}`).catch((e: Error) =>
        this.warn(`job ${s.job.id}: ${e.message}`),
      );
    }
  }

  private async refreshJob(s: JobState, reason: string): Promise<void> {
    if (!this.executor || s.busy > 0 || s.job.ended) return;
    if (!s.current) {
      await resolveInitial(this.steps, s).catch((e: Error) => this.warn(`job ${s.job.id}: ${e.message}`));
      return;
    }
    const run = s.chain.then(async () => {
      if (s.busy > 0 || s.job.ended) return;
      const p = await this.executor!.placementOf(this.jobInfo(s.job));
      if (p && !samePlacement(p, s.current)) this.apply(s, p, 'external', reason);
    });
    s.chain = run.catch((e: Error) => this.warn(`job ${s.job.id}: ${e.message}`));
    await s.chain;
  }

  /** @internal used by the policy */
  recordDecision(s: JobState, d: PolicyDecision): void {
    const last = s.decisions[s.decisions.length - 1];
    if (!last || last.action !== d.action || last.verdict !== d.verdict || last.summary !== d.summary) {
      s.decisions.push(d);
      if (s.decisions.length > MAX_DECISIONS) s.decisions.shift();
    }
    this.emit('decision', d);
  }

  private warn(message: string): void {
    this.emit('warning', message);
  }
}

/** The wire form (proto Placement) of a placement record. */
export function wirePlacement(r: PlacementRecord): Placement {
  return { epoch: r.epoch, sites: r.sites, siteOf: r.siteOf };
}

function validateShape(p: SitePlacement): void {
  if (!Array.isArray(p.sites) || !Array.isArray(p.siteOf)) throw new Error('a placement needs sites[] and siteOf[]');
}
