// A job's first placement, as the placement service resolves it: the executor's view once every
// rank's host is known (then the configured map, reached through a relocation), else the
// configured site map (a map, a placement, or a function of the job).
import type { JobProfile } from '../monitor/job.js';
import type { JobState, PlacementEvent, PlacementSource, RelocationEvent } from './events.js';
import type { Executor, JobInfo } from './executor.js';
import {
  parseSiteMap,
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
  relocate(jobId: string, target: SitePlacement, reason: string, opts: { trigger: 'config' }): Promise<RelocationEvent>;
  warn(message: string): void;
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
  if (want) host.apply(s, want, 'config', 'configured site map');
  else if (host.executor && !host.spec && !s.configTried) {
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
