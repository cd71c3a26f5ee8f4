// 64-bit-exact counters on float64 storage.
//
// Ingest adds into Float64Arrays (fast). A double holds every integer up to 2^53 exactly, so a
// slot stays exact as long as it stays at or below 2^53; an addition that would go past it moves
// the slot's value into a sparse BigInt overflow map instead ("spill"). Every counter is therefore
// an exact unsigned 64-bit (and beyond) integer: value(i) = lo[i] + hi.get(i). Each added value
// must itself be an exact integer (< 2^53), which the wire decoder reports (Batch.inexact).

export const MAX_EXACT = 9007199254740992; // 2^53

export class U64Array {
  readonly lo: Float64Array;
  hi: Map<number, bigint> | null = null;

  constructor(readonly length: number) {
    this.lo = new Float64Array(length);
  }

  /** Adds v (an integer < 2^53) to slot i. Hot loops inline the fast path and call spill(). */
  add(i: number, v: number): void {
    const s = this.lo[i] + v;
    if (s < MAX_EXACT) this.lo[i] = s;
    else this.spill(i, v);
  }

  /** Adds a possibly huge exact value. */
  addBig(i: number, v: bigint): void {
    if (v < BigInt(MAX_EXACT)) this.add(i, Number(v));
    else {
      const hi = (this.hi ??= new Map());
      hi.set(i, (hi.get(i) ?? 0n) + v);
    }
  }

  /** The slow path of add: lo[i] + v went past 2^53. */
  spill(i: number, v: number): void {
    const hi = (this.hi ??= new Map());
    hi.set(i, (hi.get(i) ?? 0n) + BigInt(this.lo[i]) + BigInt(v));
    this.lo[i] = 0;
  }

  /** Exact value. */
  big(i: number): bigint {
    const h = this.hi?.get(i);
    return h === undefined ? BigInt(this.lo[i]) : h + BigInt(this.lo[i]);
  }

  /** Value as a number (exact up to 2^53, rounded above). */
  num(i: number): number {
    const h = this.hi?.get(i);
    return h === undefined ? this.lo[i] : Number(h + BigInt(this.lo[i]));
  }

  /** Adds every slot of other into this (same length); slots from..to-1 only when given (ranges that cover all slots add all). */
  addAll(other: U64Array, from = 0, to = this.length): void {
    const a = this.lo,
      b = other.lo;
    for (let i = from; i < to; i++) {
      const v = b[i];
      if (v === 0) continue;
      const s = a[i] + v;
      if (s < MAX_EXACT) a[i] = s;
      else this.spill(i, v);
    }
    if (other.hi) for (const [i, v] of other.hi) if (i >= from && i < to) this.addBig(i, v);
  }

  /** Exact sum of all slots. */
  sum(): bigint {
    let d = 0;
    for (let i = 0; i < this.lo.length; i++) d += this.lo[i];
    let total = d < MAX_EXACT ? BigInt(d) : this.lo.reduce((acc, v) => acc + BigInt(v), 0n);
    if (this.hi) for (const v of this.hi.values()) total += v;
    return total;
  }
}

/** Number of a bigint when it is exact, else the nearest double. */
export function toNumber(v: bigint): number {
  return Number(v);
}

/** Exact sum of doubles that are each exact integers. */
export function exactSum(values: ArrayLike<number>): bigint {
  let d = 0;
  for (let i = 0; i < values.length; i++) d += values[i];
  if (d < MAX_EXACT) return BigInt(d);
  let b = 0n;
  for (let i = 0; i < values.length; i++) b += BigInt(values[i]);
  return b;
}
