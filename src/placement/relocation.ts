// One relocation of a job, as the placement service runs it: the executor moves the ranks (or,
// without one, the target is taken as reached), a failed move keeps whatever part of it happened,
// the placement reached becomes the next epoch, and the relocation event is recorded and emitted.
import type { Classification } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { JobState, PlacementEvent, PlacementSource, RelocationEvent } from './events.js';
import type { Executor, JobInfo } from './executor.js';
import type { NumbersSource } from './numbers.js';
import { badHostname } from './hostname.js';
import { crossingTraffic, samePlacement, validatePlacement, type SitePlacement } from './sitemap.js';

/** What a relocation needs of the placement service (its own steps, bound). */
export interface RelocationHost extends NumbersSource {
  readonly executor: Executor | null;
  jobInfo(job: JobProfile): JobInfo;
  /** Makes `p` the job's placement when it differs: next epoch, pushed to every rank. */
  apply(s: JobState, p: SitePlacement, source: PlacementSource, reason: string): PlacementEvent | null;
  emit(event: 'relocation', ev: RelocationEvent): boolean;
}

export async function runRelocation(
  host: RelocationHost,
  s: JobState,
  target: SitePlacement,
  reason: string,
  trigger: RelocationEvent['trigger'],
  requestedAt: number,
  cls?: Classification,
): Promise<RelocationEvent> {
  const job = s.job;
  const from = s.current ? { sites: s.current.sites, siteOf: s.current.siteOf } : null;
  const epochBefore = s.current?.epoch ?? 0;
  const numbers = host.numbers(job, from, target, cls);
  const executorStartedAt = Date.now();
  let reached: SitePlacement | null = null;
  let error: string | null = null;
  if (host.executor) {
    try {
      const bad = badHostname(host.jobInfo(job));
      if (bad) throw new Error(`not relocated: ${bad}`);
      const problem = host.executor.checkTarget
        ? await host.executor.checkTarget(host.jobInfo(job), target, from)
        : null;
      if (problem) throw new Error(problem);
      reached = await host.executor.relocate({
        job: host.jobInfo(job),
        current: from,
        target,
        reason,
        estimate: numbers.cost,
      });
      validatePlacement(reached, job.size);
    } catch (e) {
      error = (e as Error).message ?? String(e);
      reached = null;
      // Part of the move may have happened: take where the executor says the ranks are now.
      const now = await host.executor.placementOf(host.jobInfo(job)).catch(() => null);
      if (now && !samePlacement(now, from)) {
        try {
          validatePlacement(now, job.size);
          reached = now;
        } catch {
          /* unusable */
        }
      }
    }
  } else {
    reached = target;
  }
  const executorDone = Date.now();
  let ranksNotified = 0;
  if (reached && !job.ended) {
    const ev = host.apply(s, reached, 'relocation', `${trigger}: ${reason}`);
    ranksNotified = ev?.ranksNotified ?? 0;
    const c = crossingTraffic(job.pairMatrix(), reached);
    numbers.crossBytesReached = c.bytes;
    numbers.crossMessagesReached = c.messages;
  }
  if (!error && reached) s.lastRelocationAt = Date.now();
  const finishedAt = Date.now();
  const ev: RelocationEvent = {
    jobId: job.id,
    trigger,
    reason,
    ok: error === null,
    error,
    executor: host.executor?.kind ?? 'none',
    from,
    target,
    reached,
    reachedTarget: error === null && reached !== null && samePlacement(reached, target),
    epochBefore,
    epochAfter: s.current?.epoch ?? 0,
    numbers,
    timings: {
      requestedAt,
      executorStartedAt,
      finishedAt,
      executorMs: executorDone - executorStartedAt,
      totalMs: finishedAt - requestedAt,
      ranksNotified,
    },
  };
  s.relocations.push(ev);
  host.emit('relocation', ev);
  return ev;
}
