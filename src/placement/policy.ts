// The first relocation policy: consolidate network-intensive jobs that span sites.
//
// On a job's update (the monitor's jobUpdate, at most once per updateIntervalMs), at most every
// `evaluateEveryMs` and once the job has run `minObserveSeconds` (its wall time from the records):
//   1. a job on one site: nothing to do;
//   2. classify() it as it is placed now (split = its current placement): compute-intensive jobs may
//      span sites, nothing to do;
//   3. network-intensive: consolidate all its ranks on one site; candidates are the sites that hold
//      its ranks, the one holding most first (tie: the first in the placement's site order); the
//      first whose capacity allows (the executor's checkTarget) is the target;
//   4. weigh the expected gain against the migration cost model of Sato et al. (see cost.ts); relocate when
//      gain >= costFactor * cost (or always with requireGain: false), through the service, so the
//      relocation event carries the classification and both estimates.
// At most `maxRelocationsPerJob` relocations per job, at least `minIntervalMs` apart.
// Only registered jobs (launched by sitempi or registered by an operator: JobProfile.registered)
// whose ranks name valid hosts are evaluated: any client holding the monitor's token can make up
// traffic and host names.
import { classify, type Classification, type ClassifyOptions } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { JobState, PolicyDecision } from './events.js';
import type { NumbersSource } from './numbers.js';
import { consolidated, ranksPerSite, type SitePlacement } from './sitemap.js';

export type { PolicyDecision } from './events.js';

/** What the policy needs of the placement service (which implements it). */
export interface PolicyHost extends NumbersSource {
  readonly options: { classify?: ClassifyOptions };
  stateFor(job: JobProfile): JobState | undefined;
  /** Why the job may not be moved at all (not registered, host names an executor must not get), or null. */
  immovable(job: JobProfile): string | null;
  checkTarget(job: JobProfile, target: SitePlacement): Promise<string | null>;
  relocate(
    jobId: string,
    target: SitePlacement,
    reason: string,
    opts: { trigger: 'policy'; classification: Classification },
  ): Promise<unknown>;
  recordDecision(s: JobState, d: PolicyDecision): void;
}

export interface PolicyOptions {
  /** Default true. */
  enabled?: boolean;
  /** Shortest time between two evaluations of one job, ms. Default 2000. */
  evaluateEveryMs?: number;
  /** Job wall time (from its records) before the first evaluation, seconds. Default 3. */
  minObserveSeconds?: number;
  /** Shortest time between two relocations of one job, ms. Default 60000. */
  minIntervalMs?: number;
  /** Relocations per job at most. Default 1. */
  maxRelocationsPerJob?: number;
  /** Relocate only when the estimated gain covers the estimated cost. Default true. */
  requireGain?: boolean;
}

export class ConsolidationPolicy {
  readonly opts: Required<PolicyOptions>;

  constructor(
    private readonly svc: PolicyHost,
    opts: PolicyOptions = {},
  ) {
    this.opts = {
      enabled: opts.enabled ?? true,
      evaluateEveryMs: opts.evaluateEveryMs ?? 2000,
      minObserveSeconds: opts.minObserveSeconds ?? 3,
      minIntervalMs: opts.minIntervalMs ?? 60000,
      maxRelocationsPerJob: opts.maxRelocationsPerJob ?? 1,
      requireGain: opts.requireGain ?? true,
    };
  }

  /** Evaluates a job now (subject to the intervals); resolves with the decision, or null when not evaluated. */
  async evaluate(job: JobProfile, force = false): Promise<PolicyDecision | null> {
    if (!this.opts.enabled || job.ended) return null;
    const s = this.svc.stateFor(job);
    if (!s || !s.current || s.busy > 0 || s.evaluating) return null;
    const problem = this.svc.immovable(job);
    if (problem) {
      // said once, never evaluated: a client holding the token can make up any traffic and host names
      if (s.decisions[s.decisions.length - 1]?.summary !== problem) {
        this.svc.recordDecision(s, {
          jobId: job.id,
          at: Date.now(),
          jobSeconds: job.wallNs / 1e9,
          action: 'skip',
          verdict: null,
          summary: problem,
          classification: null,
          target: null,
          numbers: null,
        });
      }
      return null;
    }
    const now = Date.now();
    if (!force) {
      if (now - s.lastEvaluationAt < this.opts.evaluateEveryMs) return null;
      if (job.wallNs / 1e9 < this.opts.minObserveSeconds) return null;
      if (s.lastRelocationAt && now - s.lastRelocationAt < this.opts.minIntervalMs) return null;
    }
    const done = s.relocations.filter((r) => r.ok && r.trigger === 'policy').length;
    if (done >= this.opts.maxRelocationsPerJob) return null;
    s.lastEvaluationAt = now;
    s.evaluating = true;
    try {
      return await this.decide(job);
    } finally {
      s.evaluating = false;
    }
  }

  private async decide(job: JobProfile): Promise<PolicyDecision> {
    const s = this.svc.stateFor(job)!;
    const cur = s.current!;
    const current: SitePlacement = { sites: cur.sites, siteOf: cur.siteOf };
    const base = { jobId: job.id, at: Date.now(), jobSeconds: job.wallNs / 1e9 };
    const finish = (d: PolicyDecision) => {
      this.svc.recordDecision(s, d);
      return d;
    };
    const per = ranksPerSite(current);
    if (per.size < 2) {
      return finish({
        ...base,
        action: 'none',
        verdict: null,
        summary: `on one site (${[...per.keys()][0] ?? '?'})`,
        classification: null,
        target: null,
        numbers: null,
      });
    }
    const cls = classify(job, { ...this.svc.options.classify, split: current.siteOf });
    if (cls.verdict === 'compute-intensive') {
      return finish({
        ...base,
        action: 'none',
        verdict: cls.verdict,
        summary: `compute-intensive: may span sites (${per.size} sites)`,
        classification: cls,
        target: null,
        numbers: null,
      });
    }
    // candidates: most ranks first; ties keep the placement's site order (Map insertion order)
    const order = [...per.entries()].map(([site, n], i) => ({ site, n, i })).sort((a, b) => b.n - a.n || a.i - b.i);
    let target: SitePlacement | null = null;
    const refusals: string[] = [];
    for (const c of order) {
      const t = consolidated(current, c.site);
      const problem = await this.svc.checkTarget(job, t);
      if (!problem) {
        target = t;
        break;
      }
      refusals.push(`${c.site}: ${problem}`);
    }
    if (job.ended)
      return finish({
        ...base,
        action: 'none',
        verdict: cls.verdict,
        summary: 'job ended',
        classification: cls,
        target: null,
        numbers: null,
      });
    if (!target) {
      return finish({
        ...base,
        action: 'skip',
        verdict: cls.verdict,
        summary: `network-intensive across ${per.size} sites, but no site can take all its ranks (${refusals.join('; ')})`,
        classification: cls,
        target: null,
        numbers: null,
      });
    }
    const site = target.sites[target.siteOf[0]];
    const numbers = this.svc.numbers(job, current, target, cls);
    const g = numbers.gain.gainSeconds,
      c = numbers.cost.costSeconds;
    const weighed = `expected gain ${g.toFixed(2)} s over ${numbers.gain.horizonSeconds.toFixed(1)} s vs ${numbers.cost.mode} migration cost ${c.toFixed(2)} s (${numbers.movedVms} VM${numbers.movedVms === 1 ? '' : 's'}, downtime ${(numbers.cost.downtimeSeconds * 1000).toFixed(0)} ms)`;
    if (this.opts.requireGain && !numbers.worthIt) {
      return finish({
        ...base,
        action: 'skip',
        verdict: cls.verdict,
        summary: `network-intensive across ${per.size} sites; consolidating on ${site} does not pay: ${weighed}`,
        classification: cls,
        target,
        numbers,
      });
    }
    const reason = `network-intensive (${cls.rules.join(', ')}) across ${per.size} sites: consolidate on ${site}, the site with most of its ranks; ${weighed}`;
    const d = finish({
      ...base,
      action: 'relocate',
      verdict: cls.verdict,
      summary: reason,
      classification: cls,
      target,
      numbers,
    });
    await this.svc.relocate(job.id, target, reason, { trigger: 'policy', classification: cls }).catch(() => undefined);
    return d;
  }
}
