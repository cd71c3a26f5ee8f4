// Traffic of a rank-to-rank matrix that crosses a split of the ranks into groups (sites, halves):
// the one sum behind the classifier's numbers (classify.ts) and a placement's crossing traffic
// (placement/sitemap.ts). Reads the matrix as its non-zero pairs: work grows with the pairs that
// talk, not with size^2.
import { MAX_EXACT } from './counters.js';
import { pairsFromDense, SparseMatrix, type Matrix, type PairMatrix } from './pairs.js';
import { runSteps, type Steps } from './steps.js';

export interface CrossingSums {
  /** bytes and messages between ranks of different groups */
  bytes: number;
  messages: number;
  /** bytes and messages over all pairs */
  totalBytes: number;
  totalMessages: number;
}

/** Pairs between two yields of crossingSumsSteps. */
const STEP = 1 << 14;

/** Sums `m` over all pairs, and over the pairs whose ranks' groups differ (group[rank]). */
export function crossingSums(m: PairMatrix | Matrix, group: ArrayLike<unknown>): CrossingSums {
  return runSteps(crossingSumsSteps(m, group));
}

/** An exact sum of exact integers: doubles while below 2^53, then bigints. */
class Total {
  private d = 0;
  private b = 0n;
  add(v: number | bigint): void {
    if (typeof v === 'number' && this.d + v < MAX_EXACT) this.d += v;
    else {
      this.b += BigInt(this.d) + BigInt(v);
      this.d = 0;
    }
  }
  get value(): number {
    return Number(this.b + BigInt(this.d));
  }
}

/** crossingSums in steps (for reports that yield to the event loop). */
export function* crossingSumsSteps(m: PairMatrix | Matrix, group: ArrayLike<unknown>): Steps<CrossingSums> {
  const p = 'pairCount' in m ? m : pairsFromDense(m);
  const cb = new Total(),
    cm = new Total(),
    tb = new Total(),
    tm = new Total();
  const add = (s: number, d: number, b: number | bigint, k: number | bigint) => {
    tb.add(b);
    tm.add(k);
    if (group[s] !== group[d]) {
      cb.add(b);
      cm.add(k);
    }
  };
  if (p instanceof SparseMatrix) {
    const { src, dst, bytes, messages } = p;
    const big = bytes.hi !== null || messages.hi !== null;
    for (let i = 0; i < src.length; i++) {
      if (i % STEP === 0 && i > 0) yield;
      if (big) add(src[i], dst[i], bytes.big(i), messages.big(i));
      else add(src[i], dst[i], bytes.lo[i], messages.lo[i]);
    }
  } else p.forEach(add);
  return { bytes: cb.value, messages: cm.value, totalBytes: tb.value, totalMessages: tm.value };
}
