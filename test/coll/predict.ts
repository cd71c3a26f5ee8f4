// The test side of the site-aware collectives: the addon's predictions (native/core, the same
// code the shim uses to choose) and DESIGN.md's lower bounds written out independently here.
import fs from 'node:fs';
import path from 'node:path';
import { addon, shimLibraryPath } from '../../src/native/addon.js';
import { collIndex, collRecords, familyOf, type RankFile } from './records.js';
import { Alg } from '../../src/generated/facts.js';

export type Prediction = ReturnType<typeof addon.predictCollective>;
export { addon, shimLibraryPath as shimPath };

/** One intercepted collective as the correctness program logged it. */
export interface CallLine {
  comm: number;
  coll: string;
  root: number;
  m: number;
  elems: number;
  commutative: boolean;
  what: string;
  blocks?: number[];
  matrix?: number[];
  members: number[]; // world ranks of the communicator, in communicator order
}

export function readCalls(file: string): CallLine[] {
  const members = new Map<number, number[]>();
  const out: CallLine[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line);
    if ('commdef' in o) {
      members.set(o.commdef, o.members);
      continue;
    }
    out.push({ ...o, members: members.get(o.comm)! });
  }
  return out;
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** DESIGN.md's lower bound on the bytes crossing sites in one call. */
export function lowerBound(c: CallLine, siteOf: number[]): number {
  const P = siteOf.length;
  const S = new Set(siteOf).size;
  const outsideRoot = (j: number) => siteOf[j] !== siteOf[c.root];
  switch (familyOf(c.coll)) {
    case 'Barrier':
      return 0;
    case 'Bcast':
    case 'Reduce':
      return (S - 1) * c.m;
    case 'Allreduce':
      return 2 * (S - 1) * c.m;
    case 'Gather':
    case 'Scatter':
      return c.m * siteOf.filter((_, j) => outsideRoot(j)).length;
    case 'Gatherv':
    case 'Scatterv':
      return sum(c.blocks!.filter((_, j) => outsideRoot(j)));
    case 'Allgather':
      return (S - 1) * P * c.m;
    case 'Allgatherv':
      return (S - 1) * sum(c.blocks!);
    // Every site's contribution to the blocks of every other site must leave it.
    case 'ReduceScatterBlock':
      return (S - 1) * P * c.m;
    case 'ReduceScatter':
      return (S - 1) * sum(c.blocks!);
    case 'Alltoall':
    case 'Alltoallv': {
      let b = 0;
      for (let i = 0; i < P; i++)
        for (let j = 0; j < P; j++) if (siteOf[i] !== siteOf[j]) b += c.matrix ? c.matrix[i * P + j] : c.m;
      return b;
    }
    default:
      throw new Error(`no bound for ${c.coll}`);
  }
}

export interface CheckResult {
  calls: number;
  siteAware: number; // calls (per rank) that ran a site-aware algorithm
  boundChecked: number; // whole calls whose cross bytes were held to the lower bound
  mismatches: string[]; // record vs prediction
  boundFailures: string[]; // byte-optimal calls above (or below) the bound
  algs: Map<string, Set<number>>;
  /** the calls on all ranks of the job (MPI_COMM_WORLD and its duplicates), rank 0's records */
  worldCalls: { coll: string; m: number; commutative: boolean; alg: number }[];
}

/**
 * Holds every rank's records to the cost model's prediction (per rank, per call) and, summed over
 * the ranks of each call, to the lower bound wherever the algorithm is the byte-optimal one.
 * `enabled(family, fn)` says whether SITEMPI_COLL (and SITEMPI_COLL_NONBLOCKING) let the call run site-aware; `calls(rank)` gives
 * the calls a rank made (default: the calls-RANK.jsonl that coll_check wrote in dir).
 */
export function checkJob(
  job: Map<number, RankFile>,
  dir: string,
  worldSiteOf: number[] | null,
  opts: {
    alphaUs?: number;
    alltoall?: number; // SITEMPI_COLL_ALLTOALL forced (core::AlltoallForce)
    smallBytes?: number; // SITEMPI_COLL_SMALL as the job ran (default: the shim's)
    spread?: boolean; // SITEMPI_COLL_SPREAD as the job ran (default: on)
    nodeSites?: boolean; // every site within one node, as the shim found (default: true, one host's jobs)
    enabled?: (family: string, fn: string) => boolean;
    calls?: (rank: number) => CallLine[];
  } = {},
): CheckResult {
  const res: CheckResult = {
    calls: 0,
    siteAware: 0,
    boundChecked: 0,
    mismatches: [],
    boundFailures: [],
    algs: new Map(),
    worldCalls: [],
  };
  const groups = new Map<
    string,
    { call: CallLine; siteOf: number[]; bytes: number; msgs: number; ranks: number; algs: Set<number> }
  >();
  for (const [rank, f] of job) {
    const recs = collRecords(f);
    const calls = opts.calls ? opts.calls(rank) : readCalls(path.join(dir, `calls-${rank}.jsonl`));
    if (recs.length !== calls.length) {
      res.mismatches.push(`rank ${rank}: ${recs.length} collective records for ${calls.length} calls`);
      continue;
    }
    const perComm = new Map<string, number>();
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i],
        r = recs[i];
      res.calls++;
      const siteOf = c.members.map((w) => (worldSiteOf ? worldSiteOf[w] : 0));
      const me = c.members.indexOf(rank);
      const family = familyOf(c.coll);
      const on = opts.enabled ? opts.enabled(family, c.coll) : true;
      const call = {
        coll: collIndex(family),
        siteOf,
        root: c.root,
        m: c.m,
        elems: c.elems,
        commutative: c.commutative,
        blocks: c.blocks,
        matrix: c.matrix,
        alphaUs: opts.alphaUs,
        alltoall: opts.alltoall,
        smallBytes: opts.smallBytes,
        spread: opts.spread,
        nodeSites: opts.nodeSites ?? true,
        nonBlocking: c.coll.startsWith('I'),
      };
      let p =
        on && worldSiteOf
          ? addon.predictCollective(call)
          : { alg: Alg.Library, crossMsgs: siteOf.map(() => 0), crossBytes: siteOf.map(() => 0), sites: 1 };
      // an Alltoall the shim calibrates may run the other candidate: predicted as that one
      if ('alternative' in p && p.alternative === r.alg) p = addon.predictCollective({ ...call, alg: r.alg });
      const got = { fn: r.fn, alg: r.alg, msgs: r.crossMsgs, bytes: r.crossBytes };
      const want = { fn: c.coll, alg: p.alg, msgs: p.crossMsgs[me], bytes: p.crossBytes[me] };
      if (JSON.stringify(got) !== JSON.stringify(want))
        res.mismatches.push(
          `rank ${rank} call ${i} (${c.what}, members ${c.members}): got ${JSON.stringify(got)}, predicted ${JSON.stringify(want)}`,
        );
      if (r.alg) res.siteAware++;
      if (!res.algs.has(c.coll)) res.algs.set(c.coll, new Set());
      res.algs.get(c.coll)!.add(r.alg);
      if (rank === 0 && c.members.length === job.size)
        res.worldCalls.push({ coll: c.coll, m: c.m, commutative: c.commutative, alg: r.alg });
      const ck = `${c.comm}:${c.members.join(',')}`;
      const k = perComm.get(ck) ?? 0;
      perComm.set(ck, k + 1);
      const key = `${ck}#${k}`;
      const g = groups.get(key) ?? { call: c, siteOf, bytes: 0, msgs: 0, ranks: 0, algs: new Set<number>() };
      g.bytes += r.crossBytes;
      g.msgs += r.crossMsgs;
      g.ranks++;
      g.algs.add(r.alg);
      groups.set(key, g);
    }
  }
  for (const [key, g] of groups) {
    const { call, siteOf } = g;
    const S = new Set(siteOf).size;
    const family = familyOf(call.coll);
    if (g.ranks !== call.members.length) {
      res.boundFailures.push(`${key} ${call.what}: ${g.ranks} of ${call.members.length} ranks`);
      continue;
    }
    if (g.algs.size !== 1) {
      res.boundFailures.push(`${key} ${call.what}: ranks ran different algorithms ${[...g.algs]}`);
      continue;
    }
    const alg = [...g.algs][0];
    if (alg === Alg.Library) {
      if (g.bytes || g.msgs) res.boundFailures.push(`${key} ${call.what}: PMPI call reported cross traffic`);
      continue;
    }
    // Byte-optimal: everything except the leaders' exchange allreduce with 3+ sites.
    const optimal = !(family === 'Allreduce' && alg === Alg.SiteLeaders && S > 2);
    if (S === 2 && !optimal) res.boundFailures.push(`${key} ${call.what}: two sites, not byte-optimal`);
    if (!optimal) {
      if (g.bytes !== S * (S - 1) * call.m)
        res.boundFailures.push(`${key} ${call.what}: exchange sent ${g.bytes}, expected S(S-1)m`);
      continue;
    }
    res.boundChecked++;
    const bound = lowerBound(call, siteOf);
    if (g.bytes !== bound)
      res.boundFailures.push(`${key} ${call.what} (sites ${siteOf}): ${g.bytes} bytes crossed, bound ${bound}`);
    if (family === 'Alltoall' && alg === Alg.SiteLeaders && g.msgs !== S * (S - 1))
      res.boundFailures.push(`${key} ${call.what}: ${g.msgs} cross-site messages, expected S(S-1) = ${S * (S - 1)}`);
    if (['Bcast', 'Reduce', 'Gather', 'Scatter'].includes(family)) {
      // one message per other site through its leader; spread, one per rank of another site
      const spread = alg === Alg.SitePairwise;
      const want = spread ? siteOf.filter((x) => x !== siteOf[call.root]).length : S - 1;
      if (g.msgs !== want)
        res.boundFailures.push(
          `${key} ${call.what}: ${g.msgs} cross-site messages, expected ${spread ? 'P-n_root' : 'S-1'} = ${want}`,
        );
    }
  }
  return res;
}
