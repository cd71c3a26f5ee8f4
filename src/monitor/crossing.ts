// Traffic of a rank-to-rank matrix that crosses a split of the ranks into groups (sites, halves):
// the one sum behind the classifier's numbers (classify.ts) and a placement's crossing traffic
// (placement/sitemap.ts).
import type { Matrix } from './job.js';
import { runSteps, type Steps } from './steps.js';

export interface CrossingSums {
  /** bytes and messages between ranks of different groups */
  bytes: number;
  messages: number;
  /** bytes and messages over all pairs */
  totalBytes: number;
  totalMessages: number;
}

/** Sums `m` over all pairs, and over the pairs whose ranks' groups differ (group[rank]). */
export function crossingSums(m: Matrix, group: ArrayLike<unknown>): CrossingSums {
  return runSteps(crossingSumsSteps(m, group));
}

/** crossingSums in steps, one row each (for reports that yield to the event loop). */
export function* crossingSumsSteps(m: Matrix, group: ArrayLike<unknown>): Steps<CrossingSums> {
  const P = m.size;
  let cb = 0n,
    cm = 0n,
    tb = 0n,
    tm = 0n;
  for (let s = 0; s < P; s++) {
    for (let d = 0; d < P; d++) {
      const i = s * P + d;
      const b = m.bytes.big(i),
        k = m.messages.big(i);
      if (b === 0n && k === 0n) continue;
      tb += b;
      tm += k;
      if (group[s] !== group[d]) {
        cb += b;
        cm += k;
      }
    }
    yield;
  }
  return { bytes: Number(cb), messages: Number(cm), totalBytes: Number(tb), totalMessages: Number(tm) };
}
