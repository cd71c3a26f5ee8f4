// How long a running job still runs: the horizon over which the planner weighs a move's gain
// (docs/planner.md, "Remaining time"). Pure: the job's progress and its name's past runs in, an
// estimate and where it came from out; the manager reads the past runs from the job history.
import type { HistoryStore } from '../history/store.js';

/** A finished run of the same job name, from the job history. */
export interface PastRun {
  size: number;
  wallSeconds: number;
  /** Messages of the whole run (the monitor's count, as `messagesSoFar`). */
  messages: number;
}

export interface RemainingInput {
  /** Seconds the job has run. */
  elapsedSeconds: number;
  /** Messages its ranks have reported so far. */
  messagesSoFar: number;
  ranks: number;
  /** Past runs of its name (any size; only runs of its own size count). */
  past: readonly PastRun[];
  /** The most it runs from its start (sitempi submit --time), seconds. */
  limitSeconds?: number;
}

export interface RemainingEstimate {
  seconds: number;
  /**
   * 'progress': the share of a past run's messages sent so far, at the rate of this run;
   * 'history': past runs' wall time less the time run; 'default': as long again as it has run;
   * 'limit': the time limit less the time run, where the others say more.
   */
  source: 'progress' | 'history' | 'default' | 'limit';
  /** e.g. "41% of 12000 messages in 10.2 s" */
  detail: string;
}

/** The shortest horizon any estimate gives (a job about to end still weighs its next seconds). */
export const MIN_REMAINING_SECONDS = 5;
/** Past runs looked at, the newest first. */
export const PAST_RUNS = 5;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Progress first: a job's messages measure how far it is whatever its speed (a split job sends the
 * same messages, later), so with a past run's total the share done is messagesSoFar / total and the
 * rest takes elapsed × (1 − share) / share. Without messages yet, or past the past runs' total:
 * their wall time less the time run. Without a past run of its size, or past that too: as long
 * again as it has run. The median of the newest runs of its size stands for "a past run". A time
 * limit given at submission bounds the result: the limit less the time run, when that is shorter.
 */
export function estimateRemaining(i: RemainingInput): RemainingEstimate {
  const e = estimateFromRuns(i);
  // the job's time limit bounds them; a job past its limit (nothing enforces it) is left to them
  const left = (i.limitSeconds ?? Infinity) - Math.max(0, i.elapsedSeconds);
  if (!(left > 0) || e.seconds <= Math.max(MIN_REMAINING_SECONDS, left)) return e;
  return {
    seconds: Math.max(MIN_REMAINING_SECONDS, left),
    source: 'limit',
    detail: `a time limit of ${i.limitSeconds} s, ${Math.max(0, i.elapsedSeconds).toFixed(1)} s run (${e.source}: ${e.seconds.toFixed(0)} s)`,
  };
}

function estimateFromRuns(i: RemainingInput): RemainingEstimate {
  const elapsed = Math.max(0, i.elapsedSeconds);
  const atLeast = (s: number) => Math.max(MIN_REMAINING_SECONDS, s);
  const same = i.past.filter((p) => p.size === i.ranks && p.wallSeconds > 0).slice(0, PAST_RUNS);
  if (same.length > 0) {
    const counted = same.filter((p) => p.messages > 0);
    const total = counted.length ? median(counted.map((p) => p.messages)) : 0;
    const share = total > 0 ? i.messagesSoFar / total : 0;
    if (share > 0 && share < 1 && elapsed > 0)
      return {
        seconds: atLeast((elapsed * (1 - share)) / share),
        source: 'progress',
        detail: `${(share * 100).toFixed(0)}% of ${Math.round(total)} messages (${counted.length} past run${counted.length > 1 ? 's' : ''}) in ${elapsed.toFixed(1)} s`,
      };
    const wall = median(same.map((p) => p.wallSeconds));
    if (wall > elapsed)
      return {
        seconds: atLeast(wall - elapsed),
        source: 'history',
        detail: `past runs took ${wall.toFixed(1)} s (${same.length}), ${elapsed.toFixed(1)} s run`,
      };
  }
  return {
    seconds: atLeast(elapsed),
    source: 'default',
    detail: same.length ? `longer than its past runs: as long again as it has run` : 'as long again as it has run',
  };
}

/** The newest runs of a name in the job history; none where it cannot be read (the estimate falls back). */
export function pastRuns(store: HistoryStore | undefined, name: string): PastRun[] {
  if (!store) return [];
  try {
    return store
      .list({ name, limit: 4 * PAST_RUNS })
      .filter((j) => j.name === name)
      .map((j) => ({ size: j.size, wallSeconds: j.wallSeconds, messages: j.messages }));
  } catch {
    return [];
  }
}
