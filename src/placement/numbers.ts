// The numbers behind a relocation: crossing traffic before and after, moved ranks and VMs, and the
// cost model's gain and migration cost (cost.ts). Shared by the service's events and the policy.
import { classify, type Classification, type ClassifyOptions } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import { migrationCost, relocationGain, type CostModelOptions } from './cost.js';
import type { RelocationNumbers } from './events.js';
import { movingHosts, type Executor, type JobInfo } from './executor.js';
import { crossingTraffic, type SitePlacement } from './sitemap.js';

/** What computes a relocation's numbers (the placement service; the policy and the relocation
 * steps ask it through their host interfaces). */
export interface NumbersSource {
  numbers(
    job: JobProfile,
    from: SitePlacement | null,
    target: SitePlacement,
    classification?: Classification,
  ): RelocationNumbers;
}

export interface NumbersContext {
  executor: Executor | null;
  cost?: CostModelOptions;
  classify?: ClassifyOptions;
  /** the classification already made (else made here under `from`) */
  classification?: Classification;
  /** the job as executors see it */
  info: JobInfo;
}

/** The numbers behind moving `job` from `from` to `target` (no side effect). */
export function relocationNumbers(
  job: JobProfile,
  from: SitePlacement | null,
  target: SitePlacement,
  ctx: NumbersContext,
): RelocationNumbers {
  const m = job.pairMatrix();
  const wall = job.wallNs / 1e9;
  const before = from ? crossingTraffic(m, from) : null;
  const after = crossingTraffic(m, target);
  let cls: Classification | null = ctx.classification ?? null;
  if (!cls && from) {
    try {
      cls = classify(job, { ...ctx.classify, split: from.siteOf });
    } catch {
      cls = null;
    }
  }
  const info = ctx.info;
  // link parameters between the (first) pair of sites a rank moves across
  const costOpts: CostModelOptions = { ...ctx.cost };
  let movedRanks = 0;
  let pair: [string, string] | null = null;
  for (let r = 0; r < job.size; r++) {
    const a = from ? from.sites[from.siteOf[r]] : undefined;
    const b = target.sites[target.siteOf[r]];
    if (a !== b) {
      movedRanks++;
      if (!pair && a) pair = [a, b];
    }
  }
  const link = pair && ctx.executor?.link ? ctx.executor.link(pair[0], pair[1]) : null;
  if (link) {
    if (ctx.cost?.bandwidthBps === undefined) costOpts.bandwidthBps = link.bandwidthBps;
    if (ctx.cost?.latencySeconds === undefined) costOpts.latencySeconds = link.latencySeconds;
  }
  const vms = ctx.executor?.vmsToMove
    ? ctx.executor.vmsToMove(info, from, target)
    : movingHosts(info, from, target).length;
  const gain = relocationGain(
    {
      ranks: job.size,
      wallSeconds: wall,
      mpiFraction: job.mpiFraction,
      crossBytesBefore: before?.bytes ?? 0,
      crossMessagesBefore: before?.messages ?? 0,
      crossBytesAfter: after.bytes,
      crossMessagesAfter: after.messages,
    },
    costOpts,
  );
  const cost = migrationCost(vms, gain.crossBytesPerSecondBefore, costOpts);
  const costFactor = costOpts.costFactor ?? 1;
  return {
    classification: cls,
    observedSeconds: wall,
    mpiFraction: job.mpiFraction,
    totalBytes: after.totalBytes,
    crossBytesBefore: before?.bytes ?? 0,
    crossMessagesBefore: before?.messages ?? 0,
    crossBytesAfter: after.bytes,
    crossMessagesAfter: after.messages,
    crossBytesReached: null,
    crossMessagesReached: null,
    movedRanks,
    movedVms: vms,
    cost,
    gain,
    costFactor,
    worthIt: gain.gainSeconds > 0 && gain.gainSeconds >= costFactor * cost.costSeconds,
    gainToCost: cost.costSeconds > 0 ? gain.gainSeconds / cost.costSeconds : null,
  };
}
