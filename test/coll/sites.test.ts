// native/core through the addon: site maps, the SITEMPI_COLL switch, the algorithm choice and the
// cost model's schedule (predictions and the monitor's per-record expansion agree).
import { describe, expect, it } from 'vitest';
import { addon, lowerBound, type CallLine } from './predict.js';
import { collIndex } from './records.js';
import { Alg } from '../../src/generated/facts.js';

describe('site maps', () => {
  it('parses ranks, ranges, lists and comments', () => {
    expect(addon.parseSites('A:0-3;B:4-7', 8)).toEqual({ names: ['A', 'B'], siteOf: [0, 0, 0, 0, 1, 1, 1, 1] });
    expect(addon.parseSites('A:0,2,4,6;B:1,3,5,7', 8).siteOf).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(addon.parseSites(' x : 0 ; y: 1-3 ;', 4).siteOf).toEqual([0, 1, 1, 1]);
    expect(addon.parseSites('# sites\nwest: 0, 1   # rack 1\n\neast: 2-3\n', 4)).toEqual({
      names: ['west', 'east'],
      siteOf: [0, 0, 1, 1],
    });
    expect(addon.parseSites('A:0-3', 4).siteOf).toEqual([0, 0, 0, 0]);
  });

  it('resolves host patterns', () => {
    const hosts = ['node0', 'node5', 'node3.lan', 'node7', 'login'];
    expect(addon.parseSites('A:@node[0-3]*;B:@node[4-7]*,4', 5, hosts).siteOf).toEqual([0, 1, 0, 1, 1]);
    expect(addon.parseSites('A:@node?;B:@*.lan,@login', 5, hosts).siteOf).toEqual([0, 0, 1, 0, 1]);
  });

  it('rejects bad maps with a clear reason', () => {
    const bad: [string, number, RegExp, string[]?][] = [
      ['A:0-3;B:4-9', 8, /rank 9 in site 'B' is out of range \(the job has 8 ranks\)/],
      ['A:0-4;B:4-7', 8, /rank 4 is in both site 'A' and site 'B'/],
      ['A:0-3;B:', 4, /site 'B' is empty/],
      ['A:0-2;B:5-7', 8, /ranks 3, 4 are in no site/],
      ['A:0-1;B:x', 2, /unknown rank 'x' in site 'B'/],
      ['A:3-1', 4, /empty range '3-1'/],
      ['A:0;A:1', 2, /site 'A' is named twice/],
      ['0-3', 4, /not of the form NAME:RANKS/],
      ['', 4, /no sites/],
      ['A:0,,1', 2, /empty entry/],
      ['A:@a*;B:@*', 2, /rank 0 is in both site 'A' and site 'B'/, ['ab', 'c']],
      ['A:@zz*;B:@*', 2, /site 'A' is empty \(no rank's host matches\)/, ['ab', 'c']],
      ['A:@a*', 2, /rank 1 is in no site \(host c\)/, ['ab', 'c']],
    ];
    for (const [text, n, msg, hosts] of bad) expect(() => addon.parseSites(text, n, hosts), text).toThrow(msg);
  });
});

describe('SITEMPI_COLL', () => {
  const all = [
    'barrier',
    'bcast',
    'gather',
    'gatherv',
    'scatter',
    'scatterv',
    'allgather',
    'allgatherv',
    'alltoall',
    'alltoallv',
    'reduce',
    'allreduce',
    'reduce_scatter',
    'reduce_scatter_block',
  ];
  it('parses on/off, lists and exclusions', () => {
    expect(addon.parseCollSwitch('').sort()).toEqual([...all].sort());
    expect(addon.parseCollSwitch('on').sort()).toEqual([...all].sort());
    expect(addon.parseCollSwitch('off')).toEqual([]);
    expect(addon.parseCollSwitch('bcast,allreduce').sort()).toEqual(['allreduce', 'bcast']);
    expect(addon.parseCollSwitch('all,-alltoall').sort()).toEqual(all.filter((c) => !c.startsWith('alltoall')).sort());
    expect(addon.parseCollSwitch('-gatherv').sort()).toEqual(all.filter((c) => c !== 'gatherv').sort());
    expect(addon.parseCollSwitch('gather').sort()).toEqual(['gather', 'gatherv']);
    expect(addon.parseCollSwitch('reduce_scatter')).toEqual(['reduce_scatter']);
    expect(addon.parseCollSwitch('off,+Barrier')).toEqual(['barrier']);
    expect(() => addon.parseCollSwitch('bcast,scan')).toThrow(/unknown collective 'scan'/);
  });
});

describe('algorithm choice and predictions', () => {
  const halves = [0, 0, 0, 0, 1, 1, 1, 1];
  const inter = [0, 1, 0, 1, 0, 1, 0, 1];
  const three = [0, 0, 1, 1, 2, 2];
  // the site-aware algorithms at every size (smallBytes 0); the small-call rule is tested below
  const P = (c: string, o: object) => addon.predictCollective({ coll: collIndex(c), smallBytes: 0, ...o } as never);

  it('runs PMPI for one site, one rank per site, empty buffers, non-commutative ops on non-contiguous sites', () => {
    expect(P('Bcast', { siteOf: [0, 0, 0, 0], root: 0, m: 8 }).alg).toBe(Alg.Library);
    expect(P('Bcast', { siteOf: [0, 1, 2, 3], root: 0, m: 8 }).alg).toBe(Alg.Library);
    expect(P('Bcast', { siteOf: halves, root: 0, m: 0 }).alg).toBe(Alg.Library);
    expect(P('Allreduce', { siteOf: inter, m: 8, elems: 2, commutative: false }).alg).toBe(Alg.Library);
    expect(P('Allreduce', { siteOf: halves, m: 8, elems: 2, commutative: false }).alg).toBe(Alg.SiteLeaders);
    expect(P('Gatherv', { siteOf: halves, root: 0, blocks: [0, 0, 0, 0, 0, 0, 0, 0] }).alg).toBe(Alg.SiteLeaders);
  });

  it('runs the library for small calls whose butterfly crosses sites no more than the leaders (SITEMPI_COLL_SMALL)', () => {
    const uneven = [0, 0, 0, 1, 1, 1, 1, 1];
    const small = (c: string, siteOf: number[], m: number, smallBytes?: number, nodeSites?: boolean) =>
      addon.predictCollective({
        coll: collIndex(c),
        siteOf,
        m,
        elems: Math.max(1, m / 4),
        smallBytes,
        nodeSites,
      } as never).alg;
    for (const siteOf of [halves, inter]) {
      expect(small('Allreduce', siteOf, 512)).toBe(0);
      expect(small('Barrier', siteOf, 0)).toBe(0);
      expect(small('Allgather', siteOf, 64)).toBe(0);
      expect(small('ReduceScatterBlock', siteOf, 8)).toBe(0);
      expect(small('Allreduce', siteOf, 1024)).toBe(1); // from 1 KiB the bytes count
      expect(small('Allreduce', siteOf, 512, 0)).toBe(1); // SITEMPI_COLL_SMALL=0
    }
    // a tree in the library, not a butterfly
    expect(P('Bcast', { siteOf: halves, root: 0, m: 8, smallBytes: undefined }).alg).toBe(Alg.SiteLeaders);
    // a rooted call without a root is refused, not modelled from memory past the ranks
    expect(() => P('Bcast', { siteOf: halves, m: 8 })).toThrow(/root must be a rank/);
    expect(() => P('Reduce', { siteOf: halves, root: 8, m: 8 })).toThrow(/root must be a rank/);
    // from 1 KiB to 32 KiB only where the crossing round carries single blocks: sites alternating rank by rank
    expect(small('Allgather', inter, 4096)).toBe(0);
    expect(small('Allgather', halves, 4096)).toBe(1);
    expect(small('Allgather', inter, 4096, 0)).toBe(1);
    expect(small('Allgather', inter, 65536)).toBe(3); // from 64 KiB site-aware (spread) was faster (measured)
    expect(small('Allreduce', uneven, 8)).toBe(1); // its butterfly would cross three times
    expect(small('Barrier', uneven, 0)).toBe(1);
    // sites of one node each: small calls stay site-aware; the single-block rule from 1 KiB holds
    for (const siteOf of [halves, inter]) {
      expect(small('Barrier', siteOf, 0, undefined, true)).toBe(1);
      expect(small('Allreduce', siteOf, 512, undefined, true)).toBe(1);
      expect(small('Allgather', siteOf, 64, undefined, true)).toBe(1);
    }
    expect(small('Allgather', inter, 4096, undefined, true)).toBe(0);
  });

  it('meets the lower bounds with two sites', () => {
    const bcast = P('Bcast', { siteOf: inter, root: 3, m: 100 });
    expect(bcast.alg).toBe(Alg.SiteLeaders);
    expect(bcast.crossBytes).toEqual([0, 0, 0, 100, 0, 0, 0, 0]); // the root sends to the other leader
    const ar = P('Allreduce', { siteOf: halves, m: 800, elems: 100 });
    expect(ar.crossBytes).toEqual([800, 0, 0, 0, 800, 0, 0, 0]); // the leaders swap
    const a2a = P('Alltoall', { siteOf: inter, m: 10 });
    expect(a2a.crossMsgs).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    expect(a2a.crossBytes).toEqual([160, 160, 0, 0, 0, 0, 0, 0]);
  });

  it('groups Alltoall only while blocks are under 1 KiB per pair (it saves messages, not bytes), then pairwise', () => {
    const grouped = P('Alltoall', { siteOf: inter, m: 1023 }),
      pairwise = P('Alltoall', { siteOf: inter, m: 1024 });
    expect(grouped.alg).toBe(Alg.SiteLeaders);
    expect(grouped.crossMsgs.reduce((a, b) => a + b)).toBe(2); // S(S-1)
    // the site-aware pairwise exchange: the same bytes, no leader copies, one message per pair
    expect(pairwise.alg).toBe(Alg.SitePairwise);
    expect(pairwise.crossMsgs).toEqual(Array(8).fill(4));
    expect(pairwise.crossBytes.reduce((a, b) => a + b)).toBe(32 * 1024);
    expect(P('Alltoall', { siteOf: three, m: 1023 }).alg).toBe(Alg.SiteLeaders);
    expect(P('Alltoall', { siteOf: three, m: 4096 }).alg).toBe(Alg.SitePairwise);
    // forced (SITEMPI_COLL_ALLTOALL)
    expect(P('Alltoall', { siteOf: inter, m: 4096, alltoall: 1 }).alg).toBe(Alg.SiteLeaders);
    expect(P('Alltoall', { siteOf: inter, m: 10, alltoall: 3 }).alg).toBe(Alg.Library);
    // On a LAN-like link the two cost alike but for the risk of the library's burst (paced
    // pairwise runs none): the model's first pick is pairwise, which the shim then times against
    // the library (core::alltoall_candidates); the model alone keeps the library at 4 MiB.
    expect(P('Alltoall', { siteOf: inter, m: 1 << 20, alphaUs: 1, bandwidthMbps: 10000 }).alg).toBe(Alg.SitePairwise);
    expect(P('Alltoall', { siteOf: inter, m: 4 << 20 }).alg).toBe(Alg.Library);
    // Alltoallv: a rank knows only its own counts, so every size is grouped
    const matrix = Array.from({ length: 64 }, () => 1 << 20);
    expect(P('Alltoallv', { siteOf: inter, matrix }).alg).toBe(Alg.SiteLeaders);
  });

  it('switches allreduce to reduce-scatter + allgather above m* with three or more sites', () => {
    const mstar = addon.rsagThreshold(3, 5000, 1000);
    expect(mstar).toBe(Math.floor((0.005 * 3 * 125e6) / 2));
    expect(addon.rsagThreshold(2, 5000, 1000)).toBe(Infinity);
    const small = P('Allreduce', { siteOf: three, m: 8 * 1000, elems: 1000 });
    expect(small.alg).toBe(Alg.SiteLeaders);
    expect(small.crossBytes.reduce((a, b) => a + b)).toBe(3 * 2 * 8000); // S(S-1)m
    const big = P('Allreduce', { siteOf: three, m: 8 * 200000, elems: 200000 });
    expect(big.alg).toBe(Alg.SiteRsAg);
    expect(big.crossBytes.reduce((a, b) => a + b)).toBe(2 * 2 * 8 * 200000); // 2(S-1)m
    expect(P('Allreduce', { siteOf: three, m: 8 * 1000, elems: 1000, alphaUs: 1 }).alg).toBe(Alg.SiteRsAg);
  });

  it('spreads a blocking Reduce (64-256 KiB) and Gather (16 KiB-1 MiB) only where sites span nodes', () => {
    for (const [c, least, most] of [
      ['Reduce', 64 * 1024, 256 * 1024],
      ['Gather', 16 * 1024, 1024 * 1024],
    ] as const) {
      const at = (m: number, o: object = {}) => P(c, { siteOf: inter, m, elems: m / 8, root: 1, ...o });
      expect(at(least - 8).alg, c).toBe(Alg.SiteLeaders);
      expect(at(least).alg, c).toBe(Alg.SitePairwise);
      expect(at(most).alg, c).toBe(Alg.SitePairwise);
      expect(at(most + 8).alg, c).toBe(Alg.SiteLeaders);
      expect(at(least, { nodeSites: true }).alg, c).toBe(Alg.SiteLeaders); // shared memory: the trees
      expect(at(least, { spread: false }).alg, c).toBe(Alg.SiteLeaders);
      // the same bytes across as through the leaders, each sent by a member of the other site
      const spread = at(most);
      expect(
        spread.crossBytes.reduce((a, b) => a + b),
        c,
      ).toBe(c === 'Gather' ? 4 * most : most);
      const senders = spread.crossMsgs.flatMap((n, i) => (n ? [i] : []));
      expect(senders, c).toEqual([0, 2, 4, 6]);
    }
    expect(P('Bcast', { siteOf: inter, m: 1 << 20, root: 1 }).alg).toBe(Alg.SiteLeaders);
  });

  it('spreads a blocking Allreduce over the members from 32 KiB (to under 1 MiB where each site is one node)', () => {
    const at = (m: number, o: object = {}) => P('Allreduce', { siteOf: inter, m, elems: m / 8, ...o }).alg;
    expect(at(16 * 1024)).toBe(Alg.SiteLeaders);
    expect(at(32 * 1024)).toBe(Alg.SitePairwise);
    expect(at(256 * 1024)).toBe(Alg.SitePairwise);
    expect(at(1023 * 1024)).toBe(Alg.SitePairwise);
    expect(at(1024 * 1024)).toBe(Alg.SitePairwise); // sites across nodes: each site step a TCP message
    expect(at(64 * 1024 * 1024)).toBe(Alg.SitePairwise);
    expect(at(1023 * 1024, { nodeSites: true })).toBe(Alg.SitePairwise);
    expect(at(1024 * 1024, { nodeSites: true })).toBe(Alg.SiteLeaders); // shared memory: the trees win from 1 MiB
    expect(at(64 * 1024 * 1024, { nodeSites: true })).toBe(Alg.SiteLeaders);
    expect(at(64 * 1024, { spread: false })).toBe(Alg.SiteLeaders); // SITEMPI_COLL_SPREAD=0
    expect(at(64 * 1024, { nonBlocking: true })).toBe(Alg.SiteLeaders); // Iallreduce's chain
    // the leaders' crossing bytes (V out of each site), over every member's link
    const even = P('Allreduce', { siteOf: inter, m: 65536, elems: 8192 });
    expect(even.crossBytes).toEqual(Array(8).fill(16384));
    expect(even.crossMsgs).toEqual(Array(8).fill(1));
    // a site of one against three: its one member sends each chunk's part to that chunk's owner
    const uneven = P('Allreduce', { siteOf: [0, 1, 1, 1], m: 80000, elems: 10000 });
    expect(uneven.crossMsgs).toEqual([3, 1, 1, 1]);
    expect(uneven.crossBytes).toEqual([80000, 3334 * 8, 3333 * 8, 3333 * 8]);
    // three sites below m*: (S-1)V out of each site, as the leaders' exchange
    const three3 = P('Allreduce', { siteOf: three, m: 65536, elems: 8192 });
    expect(three3.alg).toBe(Alg.SitePairwise);
    expect(three3.crossBytes.reduce((a: number, b: number) => a + b)).toBe(3 * 2 * 65536);
  });

  it("the monitor's per-record expansion adds up to the prediction", () => {
    const maps = [halves, inter, [0, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1], three, [0, 1, 2, 0, 1, 2, 1]];
    for (const siteOf of maps) {
      const n = siteOf.length;
      const cross = (f: ReturnType<typeof addon.expandCollective>) => {
        let b = 0;
        for (let i = 0; i < f.src.length; i++) if (siteOf[f.src[i]] !== siteOf[f.dst[i]]) b += f.bytes[i];
        return b;
      };
      for (const coll of ['Barrier', 'Bcast', 'Reduce', 'Allreduce', 'Gather', 'Scatter', 'Allgather', 'Alltoall']) {
        for (const root of coll.match(/Bcast|Reduce$|Gather$|Scatter/) ? [0, n - 1] : [-1]) {
          const m = coll === 'Barrier' ? 0 : 24,
            elems = 3;
          const p = P(coll, { siteOf, root, m, elems, alphaUs: 1 });
          let sum = 0,
            msgs = 0;
          for (let me = 0; me < n; me++) {
            const f = addon.expandCollective(collIndex(coll), p.alg, me, root, n, m, siteOf, { elems });
            sum += cross(f);
            for (let i = 0; i < f.src.length; i++) {
              expect(f.src[i]).toBe(me); // a record accounts for what its rank sends
              if (siteOf[f.src[i]] !== siteOf[f.dst[i]]) msgs += f.msgs[i];
            }
          }
          expect(sum, `${coll} ${siteOf}`).toBe(p.crossBytes.reduce((a, b) => a + b));
          expect(msgs, `${coll} ${siteOf}`).toBe(p.crossMsgs.reduce((a, b) => a + b));
        }
      }
      // v-variants: each record carries its own block; bytes add up.
      const blocks = siteOf.map((_, j) => 8 * ((j * 3) % 5) + 8);
      for (const coll of ['Gatherv', 'Scatterv', 'Allgatherv']) {
        const root = coll === 'Allgatherv' ? -1 : 1;
        const p = P(coll, { siteOf, root, blocks });
        let sum = 0;
        for (let me = 0; me < n; me++)
          sum += cross(addon.expandCollective(collIndex(coll), p.alg, me, root, n, blocks[me], siteOf));
        expect(sum, `${coll} ${siteOf}`).toBe(p.crossBytes.reduce((a, b) => a + b));
        const call = { coll, root, m: 0, blocks } as unknown as CallLine;
        expect(sum).toBe(lowerBound(call, siteOf));
      }
      const matrix = Array.from({ length: n * n }, (_, k) => 4 * ((k * 7) % 3));
      const p = P('Alltoallv', { siteOf, matrix });
      let sum = 0;
      for (let me = 0; me < n; me++) {
        const peerBytes = matrix.slice(me * n, me * n + n);
        sum += cross(addon.expandCollective(collIndex('Alltoallv'), p.alg, me, -1, n, 0, siteOf, { peerBytes }));
      }
      expect(sum).toBe(p.crossBytes.reduce((a, b) => a + b));
      expect(sum).toBe(lowerBound({ coll: 'Alltoallv', root: -1, m: 0, matrix } as unknown as CallLine, siteOf));
      // Reduce-scatter: a block record expands exactly; a v record (the whole vector) as equal
      // blocks: with equal counts, the same flows. Both at the bound, (S-1) times the vector.
      const rsb = P('ReduceScatterBlock', { siteOf, m: 16, elems: 2 * n });
      const rs = P('ReduceScatter', { siteOf, m: 16 * n, elems: 2 * n, blocks: siteOf.map(() => 16) });
      let rsbSum = 0,
        rsSum = 0;
      for (let me = 0; me < n; me++) {
        rsbSum += cross(addon.expandCollective(collIndex('ReduceScatterBlock'), rsb.alg, me, -1, n, 16, siteOf));
        rsSum += cross(addon.expandCollective(collIndex('ReduceScatter'), rs.alg, me, -1, n, 16 * n, siteOf));
      }
      const S = new Set(siteOf).size;
      expect([rsb.alg, rs.alg]).toEqual([Alg.SiteLeaders, Alg.SiteLeaders]);
      expect(rsbSum).toBe(rsb.crossBytes.reduce((a, b) => a + b));
      expect(rsSum).toBe(rs.crossBytes.reduce((a, b) => a + b));
      expect(rsSum).toBe((S - 1) * 16 * n);
    }
  });

  it('keeps the library model for alg 0 and expands nothing without siteOf', () => {
    // alg 0: coll/tuned's choice, a binary tree at 4 ranks and 8 B (the root sends to 1 and 2)
    expect(addon.expandCollective(collIndex('Bcast'), 0, 0, 0, 4, 8).src.length).toBe(2);
    expect(addon.expandCollective(collIndex('Bcast'), 1, 0, 0, 4, 8).src.length).toBe(0);
  });
});
