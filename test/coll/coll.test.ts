// Site-aware collectives under real mpirun: results equal PMPI's (coll_check compares every call
// byte for byte), the shim's cross-site counters equal the cost model's prediction per rank and
// per call, and the whole call's cross-site bytes equal DESIGN.md's lower bound wherever the
// algorithm is byte-optimal (always with two sites).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Alg } from '../../src/generated/facts.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { addon } from './predict.js';
import { collRecords, COVERED_FNS, decodeStream, familyOf, readJob } from './records.js';
import { runScenario, type Scenario } from './scenario.js';

const twoSites: Scenario[] = [
  { name: 'contiguous halves, 8 ranks', np: 8, sites: 'A:0-3;B:4-7', expectSites: 2 },
  { name: 'interleaved, 8 ranks', np: 8, sites: 'A:0,2,4,6;B:1,3,5,7', expectSites: 2 },
  { name: 'uneven 1+3, 4 ranks', np: 4, sites: 'A:0;B:1-3', expectSites: 2 },
  // every rank a node of its own: Reduce and Gather spread over the members
  { name: 'uneven 2+5, 7 ranks, a node per rank', np: 7, sites: 'A:0-1;B:2-6', expectSites: 2, oneRankPerNode: true },
];
const threeSites: Scenario[] = [
  // alpha 10 us puts m* at 1875 bytes: both leader algorithms of allreduce run
  { name: 'three sites 2+2+2, 6 ranks', np: 6, sites: 'A:0-1;B:2-3;C:4-5', alphaUs: 10, expectSites: 3 },
  {
    name: 'three sites uneven, interleaved, 7 ranks',
    np: 7,
    sites: 'A:0,3;B:1,4,6;C:2,5',
    alphaUs: 10,
    expectSites: 3,
  },
];
// Cross-site messages in pieces of 100 bytes: boundaries fall inside elements of every datatype,
// non-contiguous data is packed and unpacked around them. Calls from 80 bytes up run in segments
// of 40 (coll/segments.h), so segments, pieces of segments and calls that stay whole all run.
// Results and counters must not change.
const small = { SITEMPI_COLL_CHUNK_BYTES: '100', SITEMPI_COLL_SEGMENT_BYTES: '40' };
const pieces: Scenario[] = [
  {
    name: 'interleaved, 8 ranks, cross-site pieces of 100 B, segments of 40 B',
    np: 8,
    sites: 'A:0,2,4,6;B:1,3,5,7',
    expectSites: 2,
    env: small,
  },
  {
    name: 'three sites uneven, 7 ranks, a node per rank, cross-site pieces of 100 B, segments of 40 B',
    np: 7,
    sites: 'A:0,3;B:1,4,6;C:2,5',
    alphaUs: 10,
    expectSites: 3,
    env: small,
    oneRankPerNode: true,
  },
  {
    name: 'uneven 1+3 (a site of one rank), 4 ranks, cross-site pieces of 100 B, segments of 40 B',
    np: 4,
    sites: 'A:0;B:1-3',
    expectSites: 2,
    env: small,
  },
];

describe('site-aware collectives: results, counters, lower bounds', () => {
  for (const s of [...twoSites, ...threeSites, ...pieces]) {
    it(
      s.name,
      async () => {
        const { res } = await runScenario(s);
        console.log(
          `${s.name}: ${res.calls} calls (rank-records), ${res.siteAware} site-aware, ${res.boundChecked} whole calls at the lower bound`,
        );
        expect(res.mismatches.slice(0, 10)).toEqual([]);
        expect(res.mismatches.length).toBe(0);
        expect(res.boundFailures.slice(0, 10)).toEqual([]);
        // The algorithms did run, for every covered collective, and bounds were checked.
        expect(res.siteAware).toBeGreaterThan(res.calls / 4);
        expect(res.boundChecked).toBeGreaterThan(100);
        for (const fn of COVERED_FNS) expect([...(res.algs.get(fn) ?? [])], fn).toContain(1);
        // pairwise for blocks from 1 KiB on two sites (on three, the model's 1.5x margin over the
        // library keeps it out at these sizes; the per-record check above holds the choice to the model)
        if (s.expectSites === 2) expect([...res.algs.get('Alltoall')!]).toContain(3);
        // spread over the members from 16 KiB per rank (core::kSpreadReduceScatterMin, kSpreadAllgatherMin,
        // kSpreadAllreduceMin; Allreduce where the leaders would exchange: with three sites, RS+AG from m*)
        for (const fn of ['Reduce_scatter', 'Reduce_scatter_block', 'Allgather'])
          expect([...res.algs.get(fn)!], fn).toContain(3);
        if (s.expectSites === 2) expect([...res.algs.get('Allreduce')!]).toContain(3);
        expect([...res.algs.get('Iallreduce')!]).not.toContain(3); // its chain has no spread form
        expect([...res.algs.get('Ibcast')!]).not.toContain(3);
        // Reduce and Gather spread (core::kSpreadReduceMin, kSpreadGatherMin) only where sites
        // span nodes; within one node the leaders' trees run in shared memory. Bcast never.
        expect([...res.algs.get('Bcast')!]).not.toContain(3);
        for (const fn of ['Reduce', 'Gather'])
          if (s.oneRankPerNode) expect([...res.algs.get(fn)!], fn).toContain(3);
          else expect([...res.algs.get(fn)!], fn).not.toContain(3);
        if (s.expectSites > 2) {
          expect([...res.algs.get('Allreduce')!]).toContain(2); // RS+AG ran
          expect([...res.algs.get('Iallreduce')!]).toContain(2);
        }
        // Non-commutative reductions on non-contiguous sites keep to PMPI (alg 0).
        if (s.sites.includes(',')) expect([...res.algs.get('Reduce')!]).toContain(0);
      },
      300_000,
    );
  }

  it('a single site: everything is PMPI, nothing crosses', async () => {
    const { res } = await runScenario({ name: 'single', np: 4, sites: 'A:0-3', expectSites: 1, mode: 'quick' });
    expect(res.mismatches).toEqual([]);
    expect(res.boundFailures).toEqual([]);
    expect(res.siteAware).toBe(0);
  }, 300_000);

  it('no site map: recording only', async () => {
    const { res } = await runScenario({ name: 'none', np: 4, sites: '', expectSites: 0, mode: 'quick' });
    expect(res.mismatches).toEqual([]);
    expect(res.siteAware).toBe(0);
  }, 300_000);
});

describe('small calls run the library where its butterfly crosses sites as little (SITEMPI_COLL_SMALL)', () => {
  // 2 + 2: the butterfly crosses in one round, as the leaders do; 1 + 3: in two. Sites of several
  // nodes (every rank counted as its own node) step aside; sites of one node (this host) never do.
  for (const [sites, regular, oneRankPerNode] of [
    ['A:0-1;B:2-3', true, true],
    ['A:0;B:1-3', false, true],
    ['A:0-1;B:2-3', false, false],
  ] as const) {
    it(`${sites}, ${oneRankPerNode ? 'a node per rank' : 'sites of one node'}: records, predictions and results`, async () => {
      const { res } = await runScenario({
        name: sites,
        np: 4,
        sites,
        expectSites: 2,
        mode: 'quick',
        small: 1024,
        oneRankPerNode,
      });
      expect(res.mismatches.slice(0, 10)).toEqual([]);
      expect(res.boundFailures.slice(0, 10)).toEqual([]);
      const world = (c: string) => res.worldCalls.filter((x) => x.coll === c && x.commutative);
      // Allreduce: Open MPI's rules run recursive doubling on 4 ranks from 16 bytes (a ring below)
      const small = world('Allreduce').filter((x) => x.m >= 16 && x.m < 1024);
      const large = world('Allreduce').filter((x) => x.m >= 1024 && x.m < 1 << 20);
      const huge = world('Allreduce').filter((x) => x.m >= 1 << 20);
      expect(small.length).toBeGreaterThan(3);
      expect(large.length).toBeGreaterThan(3);
      expect(new Set(small.map((x) => x.alg))).toEqual(new Set([regular ? 0 : 1]));
      expect(new Set(large.map((x) => x.alg))).toEqual(new Set([1])); // from 1 KiB the bytes count
      // from 1 MiB spread over the members where sites span nodes, the leaders' trees within one
      expect(huge.length).toBe(2);
      expect(new Set(huge.map((x) => x.alg))).toEqual(new Set([oneRankPerNode ? 3 : 1]));
      expect(new Set(world('Reduce_scatter').map((x) => x.alg))).toEqual(new Set([regular ? 0 : 1]));
      // a linear barrier on 4 ranks in the library, no butterfly: site-aware either way
      expect(new Set(world('Barrier').map((x) => x.alg))).toEqual(new Set([1]));
    }, 300_000);
  }
});

describe('SITEMPI_COLL', () => {
  const nonBlocking = (fn: string) => fn === 'Iallreduce' || fn === 'Ibcast';
  const cases: [string, (family: string, fn: string) => boolean, Record<string, string>][] = [
    ['off', () => false, { SITEMPI_COLL: 'off' }],
    ['bcast,allreduce', (c) => c === 'Bcast' || c === 'Allreduce', { SITEMPI_COLL: 'bcast,allreduce' }],
    ['all,-alltoall', (c) => c !== 'Alltoall' && c !== 'Alltoallv', { SITEMPI_COLL: 'all,-alltoall' }],
    ['-gatherv,-barrier', (c) => c !== 'Gatherv' && c !== 'Barrier', { SITEMPI_COLL: '-gatherv,-barrier' }],
    // Iallreduce and Ibcast are site-aware by default (the grid above); SITEMPI_COLL_NONBLOCKING=0
    // leaves them to the library
    ['on, SITEMPI_COLL_NONBLOCKING=0', (_c, fn) => !nonBlocking(fn), { SITEMPI_COLL_NONBLOCKING: '0' }],
  ];
  for (const [value, enabled, env] of cases) {
    it(`SITEMPI_COLL=${value}`, async () => {
      const { res } = await runScenario({
        name: value,
        np: 4,
        sites: 'A:0-1;B:2-3',
        expectSites: 2,
        mode: 'quick',
        env,
        enabled,
      });
      expect(res.mismatches.slice(0, 10)).toEqual([]);
      expect(res.boundFailures.slice(0, 10)).toEqual([]);
      for (const [coll, algs] of res.algs) {
        if (enabled(familyOf(coll), coll)) expect([...algs], coll).toContain(1);
        else expect([...algs], coll).toEqual([0]);
      }
    }, 300_000);
  }
});

describe('site maps at Init', () => {
  const tiny = compileMpi('test/coll/programs/coll_tiny.c');
  const bad: [string, Record<string, string>, RegExp][] = [
    [
      'rank out of range',
      { SITEMPI_SITES: 'A:0-3;B:4-9' },
      /rank 9 in site 'B' is out of range \(the job has 4 ranks\)/,
    ],
    ['overlap', { SITEMPI_SITES: 'A:0-2;B:2-3' }, /rank 2 is in both site 'A' and site 'B'/],
    ['empty site', { SITEMPI_SITES: 'A:0-3;B:' }, /site 'B' is empty/],
    ['rank in no site', { SITEMPI_SITES: 'A:0-1;B:3' }, /rank 2 is in no site/],
    ['unknown rank', { SITEMPI_SITES: 'A:0-1;B:two,3' }, /unknown rank 'two'/],
    ['host pattern matching nothing', { SITEMPI_SITES: 'A:@no-such-host-*;B:0-3' }, /site 'A' is empty/],
    [
      'missing file',
      { SITEMPI_SITES_FILE: '/nonexistent/sites' },
      /SITEMPI_SITES_FILE \(\/nonexistent\/sites\) rejected: cannot read/,
    ],
  ];
  for (const [name, env, msg] of bad) {
    it(`rejects a bad map (${name}) with one message, and the job runs recorded only`, async () => {
      const dir = tempDir('collbad');
      const r = await mpirun({ np: 4, program: tiny, env: { SITEMPI_OUTPUT_DIR: dir, ...env } });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('coll_tiny ok');
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('sitempi:'));
      expect(lines.length, r.stderr).toBe(1);
      expect(lines[0]).toMatch(msg);
      expect(lines[0]).toMatch(/site-aware collectives are off/);
      const job = readJob(dir);
      expect(job.size).toBe(4);
      for (const f of job.values()) {
        const recs = collRecords(f);
        expect(recs.length).toBeGreaterThan(0);
        for (const rec of recs) expect([rec.alg, rec.crossMsgs, rec.crossBytes]).toEqual([0, 0, 0]);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);
  }

  it('reads SITEMPI_SITES_FILE (comments, one site per line) and host patterns', async () => {
    const dir = tempDir('collfile');
    const file = path.join(dir, 'sites.txt');
    fs.writeFileSync(file, '# two sites\nwest: 0, 1\neast: 2-3   # the rest\n');
    const r = await mpirun({ np: 4, program: tiny, env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_SITES_FILE: file } });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/sitempi:/);
    const algs = [...readJob(dir).values()].flatMap((f) => collRecords(f).map((x) => x.alg));
    expect(algs).toContain(1);
    // A host pattern covering every rank (one host here): one site, so PMPI, and no complaint.
    const dir2 = tempDir('collhost');
    const r2 = await mpirun({ np: 4, program: tiny, env: { SITEMPI_OUTPUT_DIR: dir2, SITEMPI_SITES: 'all:@*' } });
    expect(r2.code).toBe(0);
    expect(r2.stderr).not.toMatch(/sitempi:/);
    const algs2 = [...readJob(dir2).values()].flatMap((f) => collRecords(f).map((x) => x.alg));
    expect(new Set(algs2)).toEqual(new Set([0]));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(dir2, { recursive: true, force: true });
  }, 60_000);
});

describe('communicator caches are freed with their communicators', () => {
  // Each freed communicator leaves ~70 bytes in the recorder (its CommDef is kept for resending
  // after a reconnect), so growth is compared with the same run without sites. A cache that was
  // not freed costs three MPI communicators: about 20 KB each time, 150+ MB over 9 000.
  const churn = compileMpi('test/coll/programs/comm_churn.c');
  async function growth(sites: string) {
    const dir = tempDir('churn');
    const env: Record<string, string> = {
      SITEMPI_OUTPUT_DIR: dir,
      SITEMPI_BATCH_RECORDS: '256',
      SITEMPI_QUEUE_BATCHES: '4',
    };
    if (sites) env.SITEMPI_SITES = sites;
    const r = await mpirun({ np: 4, program: churn, args: ['10000'], env, timeoutMs: 200_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBe(4);
    const out = lines.map((l) => JSON.parse(l) as { rank: number; rss1000: number; rss10000: number; sum: number });
    for (const o of out) expect(o.sum).toBe(0);
    const recs = [...readJob(dir).values()].flatMap((f) => collRecords(f).filter((x) => x.fn === 'Allreduce'));
    fs.rmSync(dir, { recursive: true, force: true });
    return { grow: Math.max(...out.map((o) => o.rss10000 - o.rss1000)), recs };
  }

  it('10 000 communicators created, used once and freed: no growth', async () => {
    const withSites = await growth('A:0-1;B:2-3');
    // The caches were real: every allreduce ran site-aware.
    expect(withSites.recs.length).toBe(4 * 10000);
    expect(withSites.recs.every((x) => x.alg === Alg.SiteLeaders)).toBe(true);
    const without = await growth('');
    expect(without.recs.every((x) => x.alg === Alg.Library)).toBe(true);
    console.log(
      `RSS growth from 1 000 to 10 000 communicators: ${withSites.grow} bytes with sites, ${without.grow} without`,
    );
    expect(withSites.grow - without.grow).toBeLessThan(512 * 1024);
    expect(withSites.grow).toBeLessThan(2 * 1024 * 1024);
  }, 300_000);
});

describe("the monitor's placement", () => {
  it('overrides the static map, agreed on by all ranks even when only one rank received it', async () => {
    const tiny = compileMpi('test/coll/programs/coll_tiny.c');
    const dir = tempDir('collmon');
    const sock = path.join(dir, 'monitor.sock');
    const streams = new Map<net.Socket, Buffer[]>();
    // Interleaved, epoch 3, pushed to world rank 3 only; the static map says halves.
    const placement = (addon as unknown as { encodePlacement(p: object): Buffer }).encodePlacement({
      epoch: 3,
      sites: ['A', 'B'],
      siteOf: [0, 1, 0, 1],
    });
    const server = net.createServer((s) => {
      const chunks: Buffer[] = [];
      streams.set(s, chunks);
      let sent = false;
      s.on('data', (d) => {
        chunks.push(d);
        if (!sent) {
          const buf = Buffer.concat(chunks);
          if (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
            const hello = decodeStream(buf.subarray(0, 4 + buf.readUInt32LE(0)));
            if (hello.rank === 3) s.write(placement);
            sent = true;
          }
        }
      });
      s.on('error', () => {});
    });
    await new Promise<void>((res) => server.listen(sock, res));
    try {
      const r = await mpirun({
        np: 4,
        program: tiny,
        args: ['wait'],
        // every call site-aware, the small ones too (the small-call rule has its own test)
        env: { SITEMPI_MONITOR: `unix:${sock}`, SITEMPI_SITES: 'A:0-1;B:2-3', SITEMPI_COLL_SMALL: '0' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('coll_tiny ok');
      await new Promise((res) => setTimeout(res, 200));
    } finally {
      server.close();
    }
    const byRank = new Map<number, ReturnType<typeof decodeStream>>();
    for (const chunks of streams.values()) {
      const f = decodeStream(Buffer.concat(chunks));
      byRank.set(f.rank, f);
    }
    expect([...byRank.keys()].sort()).toEqual([0, 1, 2, 3]);
    // Reduce to root 0 (4 bytes): under the interleaved placement the other site's leader is
    // rank 1 (under the static halves it would be rank 2).
    const reduce = (rank: number) => collRecords(byRank.get(rank)!).find((x) => x.fn === 'Reduce')!;
    expect(reduce(1)).toMatchObject({ alg: Alg.SiteLeaders, crossMsgs: 1, crossBytes: 4 });
    expect(reduce(2)).toMatchObject({ alg: Alg.SiteLeaders, crossMsgs: 0, crossBytes: 0 });
    for (const f of byRank.values()) for (const x of collRecords(f)) expect(x.alg).toBe(Alg.SiteLeaders);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
