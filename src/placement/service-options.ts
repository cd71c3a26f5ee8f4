// The placement service's options and the events it emits (PlacementService, service.ts).
import type { ClassifyOptions } from '../monitor/classify.js';
import type { CostModelOptions } from './cost.js';
import type { JobProfile } from '../monitor/job.js';
import type { PastVerdict, PlacementEvent, PolicyDecision, RelocationEvent } from './events.js';
import type { Executor, JobInfo } from './executor.js';
import type { PolicyOptions } from './policy.js';
import type { SitePlacement } from './sitemap.js';

export interface PlacementServiceEvents {
  placement: (ev: PlacementEvent) => void;
  relocation: (ev: RelocationEvent) => void;
  decision: (d: PolicyDecision) => void;
  /** problems that are not a relocation's (a bad configured map, an executor that cannot read) */
  warning: (message: string) => void;
}

export type SitesConfig = string | SitePlacement | ((job: JobInfo) => string | SitePlacement | null | undefined);

export interface PlacementServiceOptions {
  /**
   * The configured placement of every job: a site map ("A:0-3;B:4-7", SITEMPI_SITES syntax), a
   * placement, or a function of the job. Without an executor it is the job's placement; with one,
   * the executor says where ranks are, and a configured map that differs is reached through it
   * (a relocation with trigger 'config').
   */
  sites?: SitesConfig;
  executor?: Executor;
  /** Parameters of the migration cost model (Sato et al., docs/references.md) (link parameters default to the executor's). */
  cost?: CostModelOptions;
  /** Classification thresholds (for the numbers and the policy). */
  classify?: ClassifyOptions;
  /** The consolidation policy: options, true for defaults, false/absent for none. */
  policy?: PolicyOptions | boolean;
  /**
   * The verdict of a job's past runs (the job history): a network-intensive one consolidates the
   * job on one site at its first placement (initial-placement.ts). Settable later (service.pastVerdict).
   */
  pastVerdict?: (job: JobProfile) => PastVerdict | null;
  /** Ended jobs whose timeline is kept. Default 100. */
  keepEndedJobs?: number;
}
