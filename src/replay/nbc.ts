// Non-blocking collectives as the replay's steps: the schedules Open MPI 4.1's coll/libnbc runs
// (ompi/mca/coll/libnbc/nbc_i*.c), by its choice rules at the default settings, the same messages
// as the monitor's matrices count (native/core/nbc.cpp; test/replay/nbc-schedules.test.ts holds
// the two to each other). A non-blocking collective is replayed whole at its initiating call:
// libnbc's progress (its rounds advance only inside MPI calls) is not modelled.
import { NBC_LARGE_BYTES, NBC_REDUCE_FRAGMENT_BYTES } from '../generated/facts.js';
import { Coll } from './schedules.js';
import { binomialTree, pow2Below, type Step, Steps, type Tree, treeOf } from './steps.js';

/** libnbc's algorithms (native/core/nbc.h, NbcAlg). */
export const NbcAlg = { Linear: 1, Binomial: 2, Chain: 3, Rabenseifner: 4, Ring: 5 } as const;

/** Where the rules switch, and Ireduce's chain fragment (native/shim/gen/facts.mjs). */
const LARGE_BYTES = NBC_LARGE_BYTES;
const REDUCE_FRAGMENT_BYTES = NBC_REDUCE_FRAGMENT_BYTES;

/** Elements of a reduction record, which has bytes only: 8-byte elements if they divide it, else 4, else 1 (tuned.h, guess_elems). */
export const guessElems = (bytes: number): number =>
  bytes % 8 === 0 ? bytes / 8 : bytes % 4 === 0 ? bytes / 4 : bytes;

/** Ibcast: linear up to 4 ranks, else the binomial tree (ibcast_skip_dt_decision, on by default). */
export const nbcBcastAlg = (P: number): number => (P <= 4 ? NbcAlg.Linear : NbcAlg.Binomial);

/** Iallreduce: binomial under 4 ranks or 64 KiB, else Rabenseifner with an element per core rank, else the ring. */
export function nbcAllreduceAlg(P: number, bytes: number, elems = guessElems(bytes)): number {
  if (P < 4 || bytes < LARGE_BYTES) return NbcAlg.Binomial;
  return elems >= pow2Below(P) ? NbcAlg.Rabenseifner : NbcAlg.Ring;
}

/** Ireduce: Rabenseifner's reduce-scatter + gather on 3+ ranks with enough elements, else binomial on 5+ ranks or under 64 KiB, else a chain. */
export function nbcReduceAlg(P: number, bytes: number, elems = guessElems(bytes)): number {
  if (P > 2 && elems >= pow2Below(P)) return NbcAlg.Rabenseifner;
  return P > 4 || bytes < LARGE_BYTES ? NbcAlg.Binomial : NbcAlg.Chain;
}

/** libnbc's trees exchange the root and rank 0 (RANK2VRANK), they do not rotate the ranks. */
const swapRoot = (x: number, root: number): number => (x === 0 ? root : x === root ? 0 : x);

/** Down (from the root) or up (to it) a tree over swapped ranks, b bytes an edge. */
function swappedTree(s: Steps, P: number, me: number, root: number, b: number, t: Tree, down: boolean): void {
  const { parent, children } = t(P, swapRoot(me, root));
  const kids = children.map((c) => swapRoot(c, root));
  if (down) {
    if (parent >= 0) s.recv(swapRoot(parent, root));
    if (kids.length)
      s.step(
        kids,
        kids.map(() => b),
        [],
      );
  } else {
    if (kids.length) s.step([], [], kids);
    if (parent >= 0) s.send(swapRoot(parent, root), b);
  }
}

const others = (P: number, me: number): number[] => Array.from({ length: P - 1 }, (_, k) => (me + 1 + k) % P);

/**
 * Rabenseifner's fold-in and recursive halving (allred_sched_redscat_allgather, red_sched_redscat_gather):
 * the rank's core rank (-1: folded out) and, per step, the elements it keeps.
 */
function halving(s: Steps, P: number, me: number, elems: number, es: number): { v: number; kept: number[] } {
  const pof2 = pow2Below(P),
    rem = P - pof2;
  const lhalf = Math.floor(elems / 2),
    rhalf = elems - lhalf;
  let v = me - rem;
  if (me < 2 * rem) {
    if (me % 2) {
      s.step([me - 1], [lhalf * es], [me - 1]).send(me - 1, rhalf * es);
      return { v: -1, kept: [] };
    }
    s.step([me + 1], [rhalf * es], [me + 1]).recv(me + 1);
    v = me / 2;
  }
  const kept: number[] = [];
  let wsize = elems;
  for (let mask = 1; mask < pof2; mask <<= 1) {
    const dest = coreReal(v ^ mask, rem);
    const keep = me < dest ? Math.floor(wsize / 2) : wsize - Math.floor(wsize / 2);
    s.exchange(dest, (wsize - keep) * es);
    kept.push(keep);
    wsize = keep;
  }
  return { v, kept };
}
const coreReal = (v: number, rem: number): number => (v < rem ? 2 * v : v + rem);

function allreduceRabenseifner(s: Steps, P: number, me: number, elems: number, es: number): void {
  const rem = P - pow2Below(P);
  const { v, kept } = halving(s, P, me, elems, es);
  if (v >= 0)
    for (let mask = pow2Below(P) >> 1, step = kept.length - 1; mask > 0; mask >>= 1, step--)
      s.exchange(coreReal(v ^ mask, rem), kept[step] * es);
  if (me < 2 * rem) {
    if (me % 2) s.recv(me - 1);
    else s.send(me + 1, elems * es);
  }
}

/** red_sched_redscat_gather: the halving, then a binomial gather of the halves to the root. */
function reduceRedscatGather(s: Steps, P: number, me: number, root: number, elems: number, es: number): void {
  const pof2 = pow2Below(P),
    rem = P - pof2;
  const { v: core, kept } = halving(s, P, me, elems, es);
  let v = core;
  const oddRoot = root < 2 * rem && root % 2 === 1;
  let vroot = root < 2 * rem ? root >> 1 : root - rem;
  if (oddRoot) {
    // core rank 0 (real 0) hands its part to the root, which takes its place and only receives
    vroot = 0;
    if (me === root) {
      s.recv(0);
      v = 0;
    } else if (v === 0) {
      s.send(root, kept[kept.length - 1] * es);
      v = -1;
    }
  }
  if (v < 0) return;
  for (let mask = pof2 >> 1, step = Math.log2(pof2) - 1; mask > 0; mask >>= 1, step--) {
    const vdest = v ^ mask;
    const dest = vdest === 0 && oddRoot ? root : coreReal(vdest, rem);
    if (vdest >> step === vroot >> step) {
      s.send(dest, kept[step] * es);
      return;
    }
    s.recv(dest);
  }
}

/**
 * Rank `me`'s steps of one non-blocking collective that the MPI library (libnbc) runs. `bytes` and
 * `perPeer` as for tunedSteps (schedules.ts); a Reduce_scatter's blocks are taken as equal.
 */
export function nbcSteps(
  coll: number,
  P: number,
  me: number,
  root: number,
  bytes: number,
  perPeer?: ArrayLike<number>,
): Step[] {
  const s = new Steps();
  if (P <= 1) return s.list;
  const rt = root >= 0 && root < P ? root : 0;
  const m = bytes;
  const elems = guessElems(m),
    es = elems ? m / elems : 1;
  const up = binomialTree,
    down = treeOf('bmtree');
  const all = (b: (p: number) => number): void => {
    const peers = others(P, me);
    s.step(peers, peers.map(b), peers);
  };
  switch (coll) {
    case Coll.Barrier: // dissemination
      for (let d = 1; d < P; d <<= 1) s.step([(me + d) % P], [0], [(me - d + P) % P]);
      break;
    case Coll.Bcast:
      if (!m) break;
      swappedTree(s, P, me, rt, m, nbcBcastAlg(P) === NbcAlg.Binomial ? down : treeOf('linear'), true);
      break;
    case Coll.Reduce: {
      if (!m) break;
      const alg = nbcReduceAlg(P, m, elems);
      if (alg === NbcAlg.Rabenseifner) reduceRedscatGather(s, P, me, rt, elems, es);
      else if (alg === NbcAlg.Binomial) swappedTree(s, P, me, rt, m, up, false);
      else {
        // the chain, fragment by fragment: from the next rank, to the one before
        const v = swapRoot(me, rt);
        const frags = Math.ceil(m / REDUCE_FRAGMENT_BYTES),
          per = Math.floor(elems / frags) * es;
        for (let f = 0; f < frags; f++) {
          if (v < P - 1) s.recv(swapRoot(v + 1, rt));
          if (v > 0) s.send(swapRoot(v - 1, rt), f < frags - 1 ? per : m - per * (frags - 1));
        }
      }
      break;
    }
    case Coll.Allreduce: {
      if (!m) break;
      const alg = nbcAllreduceAlg(P, m, elems);
      if (alg === NbcAlg.Rabenseifner) allreduceRabenseifner(s, P, me, elems, es);
      else if (alg === NbcAlg.Ring) {
        const base = Math.floor(elems / P),
          split = elems % P;
        const block = (b: number): number => (((b % P) + P) % P < split ? base + 1 : base) * es;
        for (let k = 0; k < 2 * (P - 1); k++) s.step([(me + 1) % P], [block(me + 1 - k)], [(me - 1 + P) % P]);
      } else {
        swappedTree(s, P, me, 0, m, up, false);
        swappedTree(s, P, me, 0, m, down, true);
      }
      break;
    }
    case Coll.Gather:
    case Coll.Gatherv:
      swappedTree(s, P, me, rt, m, treeOf('linear'), false);
      break;
    case Coll.Scatter:
    case Coll.Scatterv: // (the root's record's block to every rank: exact for equal blocks)
      swappedTree(s, P, me, rt, m, treeOf('linear'), true);
      break;
    case Coll.Allgather:
    case Coll.Allgatherv:
    case Coll.Alltoall:
      all(() => m);
      break;
    case Coll.Alltoallv:
    case Coll.Alltoallw:
      all((p) => (perPeer ? perPeer[p] : m / (P - 1)));
      break;
    case Coll.ReduceScatterBlock:
    case Coll.ReduceScatter: {
      if (!m) break;
      // the binomial reduce of the whole vector to 0, then 0 sends each rank its block
      const block = coll === Coll.ReduceScatterBlock ? () => m : (j: number) => Math.floor(m / P) + (j < m % P ? 1 : 0);
      swappedTree(s, P, me, 0, coll === Coll.ReduceScatterBlock ? m * P : m, up, false);
      if (me === 0) {
        const peers = others(P, 0);
        s.step(peers, peers.map(block), []);
      } else s.recv(0);
      break;
    }
    case Coll.Scan:
    case Coll.Exscan: // a chain; Iexscan sends its 0-byte messages too
      if (!m && coll === Coll.Scan) break;
      if (me > 0) s.recv(me - 1);
      if (me < P - 1) s.send(me + 1, m);
      break;
    default:
      break;
  }
  return s.list;
}
