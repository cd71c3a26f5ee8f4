// The order in which queued jobs start: first come, first served, with backfill. A later job that
// fits starts ahead of an earlier one that does not; each time that happens the earlier job counts
// one bypass. A job bypassed maxBypass times, or waiting longer than maxWaitMs, blocks further
// backfill: nothing behind it starts until it has started (the slots that free up go to it).

export interface QueueRules {
  /** Bypasses after which a waiting job blocks backfill (default 3). */
  maxBypass: number;
  /** Wait after which a waiting job blocks backfill, ms (default 10 minutes). */
  maxWaitMs: number;
}

export const DEFAULT_QUEUE_RULES: QueueRules = { maxBypass: 3, maxWaitMs: 10 * 60_000 };

export interface Waiting {
  id: string;
  submittedAt: number;
  /** Later jobs that started ahead of this one. */
  bypassed: number;
}

/** Whether a waiting job has waited enough that nothing may start ahead of it any more. */
export function starving(j: Waiting, now: number, rules: QueueRules): boolean {
  return j.bypassed >= rules.maxBypass || now - j.submittedAt >= rules.maxWaitMs;
}

/**
 * Goes through the queue in submission order and starts what it may: `tryStart` starts a job
 * where it fits now (true) or leaves it waiting (false). Returns the ids started, in order.
 */
export function schedule<J extends Waiting>(
  queue: readonly J[],
  tryStart: (job: J) => boolean,
  now: number,
  rules: QueueRules = DEFAULT_QUEUE_RULES,
): string[] {
  const started: string[] = [];
  const passedOver: J[] = [];
  for (const j of queue) {
    if (passedOver.some((w) => starving(w, now, rules))) break;
    if (tryStart(j)) {
      started.push(j.id);
      for (const w of passedOver) w.bypassed++;
    } else passedOver.push(j);
  }
  return started;
}
