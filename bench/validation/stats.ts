// Summary statistics of the validation: medians, errors, Spearman's rank correlation.

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Ranks 1..n, ties sharing their mean rank. */
function ranks(xs: number[]): number[] {
  const idx = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && xs[idx[j + 1]] === xs[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rho: Pearson's correlation of the ranks (NaN for fewer than 2 points or no spread). */
export function spearman(a: number[], b: number[]): number {
  if (a.length !== b.length || a.length < 2) return NaN;
  const ra = ranks(a),
    rb = ranks(b);
  const mean = (a.length + 1) / 2;
  let num = 0,
    da = 0,
    db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (ra[i] - mean) * (rb[i] - mean);
    da += (ra[i] - mean) ** 2;
    db += (rb[i] - mean) ** 2;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : NaN;
}

export interface Point {
  measured: number;
  predicted: number;
}

export interface Summary {
  points: number;
  /** median of |predicted / measured - 1| */
  medianAbsError: number;
  maxAbsError: number;
  spearman: number;
}

export function summarize(ps: Point[]): Summary {
  const errs = ps.map((p) => Math.abs(p.predicted / p.measured - 1));
  return {
    points: ps.length,
    medianAbsError: median(errs),
    maxAbsError: errs.length ? Math.max(...errs) : NaN,
    spearman: spearman(
      ps.map((p) => p.measured),
      ps.map((p) => p.predicted),
    ),
  };
}
