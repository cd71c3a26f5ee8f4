// A small seeded generator (mulberry32): the random graphs of the benchmark and tests come from it,
// so that a seed gives the same graph on every run and every machine (native/core/partition_internal.h
// has the same generator for the partitioner's own choices).

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform integer in 0 .. n-1 (n > 0). */
  below(n: number): number {
    return this.next() % n;
  }
}
