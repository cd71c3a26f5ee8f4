// Each alternative of the collectives that have more than one site-aware form, forced by its
// switch over the correctness grid (quick): results exact against PMPI, every record equal to the
// cost model's prediction for the forced algorithm, every call at the lower bound of crossing
// bytes, and the same algorithm on every rank of each call (checkJob).
import { describe, expect, it } from 'vitest';
import { runScenario, type Scenario } from './scenario.js';

// Pieces of 100 B and segments of 40 B: the boundaries fall inside elements and blocks.
const small = { SITEMPI_COLL_CHUNK_BYTES: '100', SITEMPI_COLL_SEGMENT_BYTES: '40' };

const cases: { s: Scenario; check: (algs: Map<string, Set<number>>) => void }[] = [
  {
    s: {
      name: 'Alltoall(v) pairwise, interleaved, 8 ranks, pieces',
      np: 8,
      sites: 'A:0,2,4,6;B:1,3,5,7',
      expectSites: 2,
      env: small,
      alltoall: 2,
      mode: 'quick',
    },
    check: (algs) => {
      expect([...algs.get('Alltoall')!]).toContain(3);
      expect([...algs.get('Alltoallv')!]).toContain(3);
      expect([...algs.get('Alltoallv')!]).not.toContain(1);
    },
  },
  {
    // A pacing window of 250 B (coll/paced.h): the grid's larger Alltoall(v)s (up to 1800 B per
    // pair in pieces of 100 B, 3600 B per rank across) go as MPI_Issend two pieces at a time, whole
    // messages of a derived type one at a time; the small ones at once.
    s: {
      name: 'Alltoall(v) pairwise paced, contiguous halves, 4 ranks, pieces',
      np: 4,
      sites: 'A:0-1;B:2-3',
      expectSites: 2,
      env: { ...small, SITEMPI_COLL_PACE_BYTES: '250' },
      alltoall: 2,
      mode: 'quick',
    },
    check: (algs) => expect([...algs.get('Alltoall')!]).toContain(3),
  },
  {
    s: {
      name: 'Alltoall(v) pairwise, three sites uneven, 7 ranks',
      np: 7,
      sites: 'A:0,3;B:1,4,6;C:2,5',
      expectSites: 3,
      alltoall: 2,
      mode: 'quick',
    },
    check: (algs) => expect([...algs.get('Alltoall')!]).toContain(3),
  },
  {
    s: {
      name: 'Alltoall(v) grouped for every size, uneven 1+3, pieces',
      np: 4,
      sites: 'A:0;B:1-3',
      expectSites: 2,
      env: small,
      alltoall: 1,
      mode: 'quick',
    },
    check: (algs) => {
      expect([...algs.get('Alltoall')!]).toContain(1);
      expect([...algs.get('Alltoall')!]).not.toContain(3);
    },
  },
  {
    s: {
      name: 'Alltoall(v) the library, contiguous halves, 8 ranks',
      np: 8,
      sites: 'A:0-3;B:4-7',
      expectSites: 2,
      alltoall: 3,
      mode: 'quick',
    },
    check: (algs) => {
      expect([...algs.get('Alltoall')!]).toEqual([0]);
      expect([...algs.get('Alltoallv')!]).toEqual([0]);
    },
  },
  {
    s: {
      name: 'Allgather(v), Gather(v), Scatter(v) packed at the leaders (SITEMPI_COLL_PACKED=1), interleaved, 8 ranks, pieces',
      np: 8,
      sites: 'A:0,2,4,6;B:1,3,5,7',
      expectSites: 2,
      env: { ...small, SITEMPI_COLL_PACKED: '1' },
      mode: 'quick',
    },
    check: (algs) => expect([...algs.get('Allgatherv')!]).toContain(1),
  },
  {
    // Crossings paced at a rate (core::rate_pace): with a one-way latency of 50 us a round trip is
    // 12.5 kB on the link, so the grid's spread calls and pairwise Alltoalls whose site shares are
    // 12.5-100 kB (most of them) are paced, in pieces of 100 B: a burst of 3.1 kB per rank, then
    // 66 MB/s; so are the leaders' crossings of Allreduce, Bcast, Reduce and Gather of 12.5-100 kB
    // (a burst of 6.3 kB, then 131 MB/s); the others go at once (Alltoall: by its window).
    s: {
      name: "spread reduce-scatters, Allgather and Allreduce, pairwise Alltoall(v), the leaders' crossings, paced at a rate, contiguous halves, 4 ranks, pieces",
      np: 4,
      sites: 'A:0-1;B:2-3',
      expectSites: 2,
      env: small,
      alphaUs: 50,
      alltoall: 2,
    },
    check: (algs) => {
      for (const fn of ['Reduce_scatter', 'Reduce_scatter_block', 'Allgather', 'Alltoall', 'Allreduce'])
        expect([...algs.get(fn)!], fn).toContain(3);
    },
  },
  {
    s: {
      name: 'reduce-scatters and Allgather through the leaders at every size (SITEMPI_COLL_SPREAD=0), contiguous, 8 ranks',
      np: 8,
      sites: 'A:0-3;B:4-7',
      expectSites: 2,
      spread: false,
    },
    check: (algs) => {
      for (const fn of ['Reduce_scatter', 'Reduce_scatter_block', 'Allgather']) {
        expect([...algs.get(fn)!], fn).toContain(1);
        expect([...algs.get(fn)!], fn).not.toContain(3);
      }
    },
  },
];

describe('forced alternatives: results, counters, lower bounds', () => {
  for (const { s, check } of cases) {
    it(
      s.name,
      async () => {
        const { res } = await runScenario(s);
        expect(res.mismatches.slice(0, 10)).toEqual([]);
        expect(res.boundFailures.slice(0, 10)).toEqual([]);
        expect(res.siteAware).toBeGreaterThan(res.calls / 4);
        check(res.algs);
      },
      300_000,
    );
  }
});
