// Collective expansion: a job's aggregated collective records turned into pairwise flows by the
// cost model (native addon), per placement epoch, held sparsely (pairstore.ts): a job's collectives
// cost the pairs their algorithms connect, never size^2 cells. Done when a matrix is asked for, as
// a generator that yields between pieces of work so that a caller may spread it over event-loop turns.
import { FUNCTIONS } from '../generated/functions.js';
import { expandCollective } from '../native/addon.js';
import { MAX_EXACT } from './counters.js';
import { HistogramStore, sizeBucket } from './histogram.js';
import type { CommInfo } from './comm.js';
import { PairStore, pairsHeld } from './pairstore.js';
import type { RankState } from './rank.js';

export interface Expanded {
  /** Pairs per placement epoch (pair index = src * size + dst). */
  perEpoch: Map<number, PairStore>;
  /** Message-size histograms of the expanded collectives (same pair index as the p2p ones). */
  hist: HistogramStore;
  unexpanded: number;
  /** Messages of expanded collectives left out: they needed pair cells past maxMatrixCells. */
  pairsOverLimit: number;
}

/** What expansion reads of a job. */
export interface ExpandInput {
  readonly size: number;
  readonly ranks: readonly (RankState | undefined)[];
  readonly comms: readonly CommInfo[];
  readonly siteMaps: ReadonlyMap<number, number[]>;
  readonly maxHistogramCells: number;
  /** Pair cells the expansion may hold over all epochs. */
  readonly maxMatrixCells: number;
}

/** Flow updates between two yields of expandSteps. */
export const EXPAND_SLICE = 1 << 16;

/** Expands every collective entry; yields after about EXPAND_SLICE flow updates. */
export function* expandSteps(job: ExpandInput): Generator<void, Expanded> {
  const P = job.size;
  const perEpoch = new Map<number, PairStore>();
  const hist = new HistogramStore();
  let unexpanded = 0,
    pairsOverLimit = 0;
  let work = 0;
  let cells = 0;
  const flowCache = new Map<string, ReturnType<typeof expandCollective>>();
  // Site of each member per (communicator, epoch), built once: not once per rank (size^2 work).
  const sitesOf = new Map<string, { siteOf: number[]; id: number }>();
  for (const r of job.ranks) {
    if (!r) continue;
    const t = r.coll;
    for (let i = 0; i < t.size; i++) {
      if (work >= EXPAND_SLICE) {
        work = 0;
        yield;
      }
      work++;
      const count = t.count[i];
      const kind = FUNCTIONS[t.fn[i]]?.coll ?? 0;
      const comm = t.comm[i] >= 0 ? job.comms[t.comm[i]] : undefined;
      if (!kind || !comm || comm.remoteMembers) {
        unexpanded += count;
        continue;
      }
      const me = comm.rankOf.get(r.rank);
      if (me === undefined) {
        unexpanded += count;
        continue;
      }
      const rootWorld = t.root[i];
      const root = rootWorld >= 0 ? (comm.rankOf.get(rootWorld) ?? -1) : -1;
      const size = comm.members.length;
      const alg = t.alg[i];
      // Site-aware algorithms route by site: the grouping of the record's epoch, as the shim reported it.
      const map = alg ? job.siteMaps.get(t.epoch[i]) : undefined;
      if (alg && !map) {
        unexpanded += count;
        continue;
      }
      let sites: { siteOf: number[]; id: number } | undefined;
      if (map) {
        const sk = `${t.comm[i]},${t.epoch[i]}`;
        sites = sitesOf.get(sk);
        if (!sites)
          sitesOf.set(sk, (sites = { siteOf: Array.from(comm.members, (w) => map[w] ?? 0), id: sitesOf.size }));
      }
      const siteOf = sites?.siteOf;
      const nonBlocking = FUNCTIONS[t.fn[i]].name.startsWith('MPI_I'); // libnbc, not coll/tuned
      const key = `${kind},${alg},${me},${root},${size},${t.bytes[i]},${sites?.id ?? ''},${nonBlocking}`;
      let flows = flowCache.get(key);
      if (!flows) {
        if (flowCache.size >= 4096) flowCache.clear(); // bounded: the cache only saves time
        flowCache.set(key, (flows = expandCollective(kind, alg, me, root, size, t.bytes[i], siteOf, { nonBlocking })));
      }
      if (flows.src.length === 0) continue;
      work += flows.src.length;
      const epoch = t.epoch[i];
      let e = perEpoch.get(epoch);
      if (!e) perEpoch.set(epoch, (e = new PairStore()));
      cells = pairsHeld(perEpoch.values()) - e.count;
      for (let k = 0; k < flows.src.length; k++) {
        const cs = flows.src[k],
          cd = flows.dst[k];
        if (cs < 0 || cd < 0 || cs >= size || cd >= size) continue;
        const s = comm.members[cs],
          d = comm.members[cd];
        if (s === d || s >= P || d >= P) continue;
        const idx = s * P + d;
        const fb = flows.bytes[k],
          fm = flows.msgs[k];
        const pm = fm * count;
        const at = e.slot(idx, cells + e.count < job.maxMatrixCells);
        if (at < 0) {
          pairsOverLimit += pm;
          continue;
        }
        const pb = fb * count;
        e.addAt(at, pb < MAX_EXACT ? pb : BigInt(fb) * BigInt(count), pm < MAX_EXACT ? pm : BigInt(fm) * BigInt(count));
        if (fm > 0) hist.add(idx, sizeBucket(Math.floor(fb / fm)), pm, hist.cells < job.maxHistogramCells);
      }
    }
  }
  return { perEpoch, hist, unexpanded, pairsOverLimit };
}

/** Runs expandSteps to the end at once. */
export function expandAll(job: ExpandInput): Expanded {
  const it = expandSteps(job);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}
