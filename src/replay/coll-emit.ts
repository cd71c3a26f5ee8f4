// A collective record as replay operations: the steps of the algorithm that ran. The MPI library's
// own: libnbc's schedules for a non-blocking call (nbc.ts), coll/tuned's for a blocking one
// (schedules.ts); sitempi's site-aware algorithms: the flows of the native cost model.
import { expandCollective } from '../native/addon.js';
import { nbcSteps } from './nbc.js';
import { Coll, emitSteps, tunedSteps } from './schedules.js';
import type { TraceBuilder } from './trace.js';

/** One rank's collective call, from its record (ranks of the communicator; parts by world rank). */
export interface CollCall {
  kind: number;
  /** a non-blocking call (MPI_I*), which the MPI library runs with libnbc */
  nb: boolean;
  members: number[];
  me: number;
  root: number;
  alg: number;
  parts: Map<number, number>;
}

/** Appends world rank w's operations for the call (`bytes`: its record's) on channel `chan`. */
export function emitColl(
  b: TraceBuilder,
  w: number,
  c: CollCall,
  bytes: number,
  chan: number,
  siteOf?: ArrayLike<number>,
): void {
  if (c.alg && siteOf) return emitSiteAware(b, w, c, bytes, chan, siteOf);
  const perPeer = c.kind === Coll.Alltoallv || c.kind === Coll.Alltoallw ? toPerPeer(c) : undefined;
  const steps = c.nb ? nbcSteps : tunedSteps;
  emitSteps(b, w, c.members, steps(c.kind, c.members.length, c.me, c.root, bytes, perPeer), chan);
}

function toPerPeer(c: CollCall): number[] {
  return c.members.map((m) => c.parts.get(m) ?? 0);
}

/**
 * A site-aware collective (sitempi's own schedule): the flows the native cost model says each
 * member sends, ordered in three phases: local contributions in, the WAN exchange, local results out.
 * A local send goes out in the first phase where its destination crosses sites itself (it needs the
 * contribution before its WAN exchange: the spread reduce-scatter, the pairwise all-to-all), else
 * in the last (a leader's results to its site).
 */
function emitSiteAware(
  b: TraceBuilder,
  w: number,
  c: CollCall,
  bytes: number,
  chan: number,
  siteOf: ArrayLike<number>,
): void {
  const P = c.members.length;
  const sites = c.members.map((m) => siteOf[m] ?? 0);
  const mine = siteOf[w] ?? 0;
  const inLocal: number[] = [],
    inWan: number[] = [],
    outFirst: [number, number][] = [],
    outLocal: [number, number][] = [],
    outWan: [number, number][] = [];
  const flows = Array.from({ length: P }, (_, k) => expandCollective(c.kind, c.alg, k, c.root, P, bytes, sites));
  const member = (r: number): boolean => r >= 0 && r < P;
  const crosses = new Array<boolean>(P).fill(false);
  for (const f of flows)
    for (let j = 0; j < f.src.length; j++) {
      const s = f.src[j],
        d = f.dst[j];
      if (member(s) && member(d) && sites[s] !== sites[d]) crosses[s] = crosses[d] = true;
    }
  for (let k = 0; k < P; k++) {
    const f = flows[k];
    for (let j = 0; j < f.src.length; j++) {
      const s = f.src[j],
        d = f.dst[j];
      if (!member(s) || !member(d) || s === d) continue;
      if (s === c.me) {
        const to: [number, number] = [c.members[d], f.bytes[j]];
        if (sites[d] !== mine) outWan.push(to);
        else (crosses[d] ? outFirst : outLocal).push(to);
      } else if (d === c.me && s === k) (sites[s] === mine ? inLocal : inWan).push(c.members[s]);
    }
  }
  const phase = (from: number[], to: [number, number][]): void => {
    for (const f of from) b.irecv(w, f, 0, chan);
    for (const [d, by] of to) b.isend(w, d, by, chan);
    if (from.length + to.length) b.wait(w, -(from.length + to.length));
  };
  if (inWan.length || outWan.length) {
    phase(inLocal, outFirst);
    phase(inWan, outWan);
    phase([], outLocal);
  } else phase(inLocal, [...outFirst, ...outLocal]);
}
