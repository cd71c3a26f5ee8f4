// What the placement service records and reports: placement epochs, relocations, policy decisions,
// and the per-job state the service and its policy share. Types only: both import them, neither
// imports the other's module for them.
import type { Classification, Verdict } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { GainEstimate, MigrationEstimate } from './cost.js';
import type { SitePlacement } from './sitemap.js';

/** Where a placement came from. */
export type PlacementSource = 'config' | 'executor' | 'relocation' | 'external' | 'api';

/** One epoch of a job's placement. */
export interface PlacementRecord {
  epoch: number;
  sites: string[];
  siteOf: number[];
  /** the same in site-map syntax ("A:0-3;B:4-7") */
  map: string;
  source: PlacementSource;
  reason: string;
  /** Date.now() when it took effect at the monitor */
  at: number;
  /** the job's wall time (from its records) at that moment, seconds */
  jobSeconds: number;
}

/** A job's placement changed (every change, whatever its source). */
export interface PlacementEvent extends PlacementRecord {
  jobId: string;
  previous: PlacementRecord | null;
  /** rank connections the new Placement was written to */
  ranksNotified: number;
}

export interface RelocationNumbers {
  /** the classification as the job is placed now (split = the current placement); null without one */
  classification: Classification | null;
  /** the job's wall time the numbers cover, seconds */
  observedSeconds: number;
  mpiFraction: number;
  totalBytes: number;
  /** bytes/messages of the whole job's matrix that cross sites under each placement */
  crossBytesBefore: number;
  crossMessagesBefore: number;
  crossBytesAfter: number;
  crossMessagesAfter: number;
  /** the same under the placement actually reached (null when the relocation failed) */
  crossBytesReached: number | null;
  crossMessagesReached: number | null;
  movedRanks: number;
  movedVms: number;
  /** the migration cost model of Sato et al. */
  cost: MigrationEstimate;
  gain: GainEstimate;
  costFactor: number;
  /** gain >= costFactor * cost */
  worthIt: boolean;
  /** gain / cost (null when the cost is 0) */
  gainToCost: number | null;
}

export interface RelocationEvent {
  jobId: string;
  /** who asked: the policy, an API caller, or the configured map (with an executor) */
  trigger: 'policy' | 'api' | 'config' | 'history';
  reason: string;
  ok: boolean;
  error: string | null;
  executor: string;
  from: SitePlacement | null;
  target: SitePlacement;
  reached: SitePlacement | null;
  reachedTarget: boolean;
  /** epoch before, and after (equal when nothing changed) */
  epochBefore: number;
  epochAfter: number;
  numbers: RelocationNumbers;
  timings: {
    /** Date.now() values */
    requestedAt: number;
    executorStartedAt: number;
    finishedAt: number;
    /** time the executor took, ms */
    executorMs: number;
    totalMs: number;
    ranksNotified: number;
  };
}

export interface PlacementHistory {
  jobId: string;
  current: PlacementRecord | null;
  timeline: PlacementRecord[];
  relocations: RelocationEvent[];
  /** policy evaluations whose outcome differed from the one before */
  decisions: PolicyDecision[];
  /** the verdict of the job's past runs its first placement used (the job history), or null */
  fromHistory?: PastVerdict | null;
}

/** The verdict of a job name's latest past run, from the job history (src/history). */
export interface PastVerdict {
  name: string;
  verdict: Verdict;
  /** the past run it came from */
  jobId: string;
  /** Date.now() when that run ended */
  endedAt: number;
  /** runs of that name in the history */
  runs: number;
}

export interface PolicyDecision {
  jobId: string;
  /** Date.now() */
  at: number;
  /** job wall time, seconds */
  jobSeconds: number;
  action: 'relocate' | 'none' | 'skip';
  verdict: Verdict | null;
  /** one line: why */
  summary: string;
  classification: Classification | null;
  target: SitePlacement | null;
  numbers: RelocationNumbers | null;
}

/** @internal per-job state */
export interface JobState {
  job: JobProfile;
  current: PlacementRecord | null;
  timeline: PlacementRecord[];
  relocations: RelocationEvent[];
  decisions: PolicyDecision[];
  chain: Promise<unknown>;
  busy: number;
  resolving: boolean;
  configTried: boolean;
  lastRelocationAt: number;
  lastEvaluationAt: number;
  evaluating: boolean;
  /** the verdict from history its first placement used */
  fromHistory?: PastVerdict | null;
}
