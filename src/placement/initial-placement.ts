// A job's first placement, as the placement service resolves it: the executor's view once every
// rank's host is known (then the configured map, reached through a relocation), else the
// configured site map (a map, a placement, or a function of the job). A job whose name has history
// (src/history) starts with its past verdict: a network-intensive one is consolidated on one site
// right after its first placement, before it has communicated much (the policy would wait
// minObserveSeconds to measure it, then move it).
import type { JobProfile } from '../monitor/job.js';
import type { JobState, PastVerdict, PlacementEvent, PlacementSource, RelocationEvent } from './events.js';
import type { Executor, JobInfo } from './executor.js';
import {
  consolidated,
  parseSiteMap,
  ranksPerSite,
  resolveSiteSpec,
  samePlacement,
  validatePlacement,
  type SitePlacement,
  type SiteSpec,
} from './sitemap.js';

/** What resolving a first placement needs of the placement service (its own steps, bound). */
export interface InitialPlacementHost {
  readonly executor: Executor | null;
  /** The configured placement of every job (PlacementServiceOptions.sites, parsed), or null. */
  readonly spec: SiteSpec | SitePlacement | ((job: JobInfo) => string | SitePlacement | null | undefined) | null;
  jobInfo(job: JobProfile): JobInfo;
  /** Makes `p` the job's placement when it differs: next epoch, pushed to every rank. */
  apply(s: JobState, p: SitePlacement, source: PlacementSource, reason: string): PlacementEvent | null;
  relocate(
    jobId: string,
    target: SitePlacement,
    reason: string,
    opts: { trigger: 'config' | 'history' },
  ): Promise<RelocationEvent>;
  warn(message: string): void;
  /** The verdict of the job's past runs (the job history), or null. */
  pastVerdict(job: JobProfile): PastVerdict | null;
  checkTarget(job: JobProfile, target: SitePlacement): Promise<string | null>;
}

/** The first placement: the executor's view (once every rank's host is known), else the configured map. */
export async function resolveInitial(host: InitialPlacementHost, s: JobState): Promise<void> {
  if (s.current || s.resolving || s.job.ended) return;
  const job = s.job;
  const allSeen = job.ranksSeen === job.size;
  if (host.executor) {
    if (!allSeen) return;
    s.resolving = true;
    try {
      let p: SitePlacement | null = null;
      try {
        p = await host.executor.placementOf(host.jobInfo(job));
      } catch (e) {
        host.warn(
          `job ${job.id}: the ${host.executor.kind} executor cannot tell where its ranks are: ${(e as Error).message}`,
        );
      }
      if (job.ended || s.current) return;
      if (p) {
        validatePlacement(p, job.size);
        host.apply(s, p, 'executor', `where the ranks run (${host.executor.kind})`);
        const want = configured(host, s);
        if (want && !samePlacement(want, p) && !job.registered) {
          host.warn(
            `job ${job.id}: not registered, so the configured site map is not reached through the ${host.executor.kind} executor`,
          );
        } else if (want && !samePlacement(want, p)) {
          void host
            .relocate(job.id, want, 'configured site map', { trigger: 'config' })
            .catch((e: Error) => host.warn(`job ${job.id}: ${e.message}`));
        } else {
          startFromHistory(host, s, p);
        }
        return;
      }
    } finally {
      s.resolving = false;
    }
  }
  if (s.current) return;
  const usesHosts = host.spec !== null && 'usesHosts' in host.spec && host.spec.usesHosts;
  if ((usesHosts || typeof host.spec === 'function') && !allSeen) return;
  const want = configured(host, s);
  if (want) {
    host.apply(s, want, 'config', 'configured site map');
    startFromHistory(host, s, want);
  } else if (host.executor && !host.spec && !s.configTried) {
    s.configTried = true;
    const hosts = [...new Set(host.jobInfo(job).hosts)].slice(0, 8).join(', ');
    host.warn(
      `job ${job.id}: no placement (the ${host.executor.kind} executor cannot place its ranks, on hosts ${hosts}, and no site map is configured)`,
    );
  }
}

/** The configured placement of a job (null: none, or it does not fit the job: warned once). */
function configured(host: InitialPlacementHost, s: JobState): SitePlacement | null {
  if (!host.spec) return null;
  const job = s.job;
  const info = host.jobInfo(job);
  try {
    let p: SitePlacement | null | undefined;
    if (typeof host.spec === 'function') {
      const r = host.spec(info);
      p = typeof r === 'string' ? parseSiteMap(r, job.size, info.hosts) : r;
    } else if ('usesHosts' in host.spec) {
      p = resolveSiteSpec(host.spec, job.size, info.hosts);
    } else {
      p = host.spec;
    }
    if (!p) return null;
    validatePlacement(p, job.size);
    return { sites: [...p.sites], siteOf: [...p.siteOf] };
  } catch (e) {
    if (!s.configTried) host.warn(`job ${job.id}: the configured site map does not fit (${(e as Error).message})`);
    s.configTried = true;
    return null;
  }
}

/**
 * The history-based start: when the latest past run of the job's name was network-intensive and
 * its first placement `p` spans sites, consolidate it at once on the site holding most of its
 * ranks whose capacity allows (ties: the placement's site order), as the consolidation policy
 * would, but without measuring first. Only registered jobs (as for the policy).
 */
function startFromHistory(host: InitialPlacementHost, s: JobState, p: SitePlacement): void {
  const job = s.job;
  let past: PastVerdict | null;
  try {
    past = host.pastVerdict(job);
  } catch (e) {
    host.warn(`job ${job.id}: the job history cannot be read: ${(e as Error).message}`);
    return;
  }
  if (!past) return;
  s.fromHistory = past;
  const per = ranksPerSite(p);
  if (past.verdict !== 'network-intensive' || per.size < 2 || !job.registered) return;
  const order = [...per.entries()].map(([site, n], i) => ({ site, n, i })).sort((a, b) => b.n - a.n || a.i - b.i);
  void (async () => {
    for (const c of order) {
      const t = consolidated(p, c.site);
      if ((await host.checkTarget(job, t)) !== null) continue;
      if (job.ended) return;
      const when = new Date(past.endedAt).toISOString();
      await host.relocate(
        job.id,
        t,
        `${past.name} was network-intensive in its last run (job ${past.jobId}, ${when}; ${past.runs} run${past.runs === 1 ? '' : 's'}): consolidate on ${c.site} from the start`,
        { trigger: 'history' },
      );
      return;
    }
    host.warn(`job ${job.id}: network-intensive by its history, but no site can take all its ranks`);
  })().catch((e: Error) => host.warn(`job ${job.id}: ${e.message}`));
}
