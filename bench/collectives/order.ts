// The order of a configuration's jobs. A job leaves state on the testbed for the next one (the
// nodes' TCP, the WAN emulator's queues, processes still exiting): in the runs of 2026-12-05/06
// every 2x4 sitempi job whose small calls took a WAN crossing more came within two jobs after a
// HAN job, where a plain rotation always put sitempi and never the default (the cause turned out
// to be Open MPI's TCP poll, not HAN: docs/sites.md). So that no job's neighbour decides its
// figures, the order follows a Williams design: over its cycle every job runs once in each
// position and follows every other job equally often (once for an even count of jobs, twice for
// an odd one, whose cycle is twice as long).

/** Row t of a Williams design of n items (indices 0..n-1). */
export function williamsRow(n: number, t: number): number[] {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(t) || t < 0) throw new Error(`williamsRow(${n}, ${t})`);
  // 0, 1, n-1, 2, n-2, ...: consecutive differences 1, -2, 3, -4, ... are distinct mod n for even n.
  const first: number[] = [0];
  for (let k = 1; first.length < n; ++k) {
    first.push(k);
    if (first.length < n) first.push(n - k);
  }
  const row = first.map((x) => (x + t) % n);
  // For odd n the rows and their mirror images together balance the pairs.
  return n % 2 === 1 && Math.floor(t / n) % 2 === 1 ? row.reverse() : row;
}

/** The jobs in the order of run `t` (the repetition plus --order-offset). */
export function jobOrder<T>(jobs: readonly T[], t: number): T[] {
  return williamsRow(jobs.length, t).map((i) => jobs[i] as T);
}
