// Collectives as the point-to-point steps of the algorithm that runs: Open MPI's (coll/tuned's fixed
// rules pick it: src/generated/tuned-table.ts, from native/shim/gen/tuned_rules.mjs, the table the
// native cost model uses too) for collectives the shim passed to PMPI. Ranks are communicator ranks; each function returns
// rank `me`'s steps. A step's receives and sends are posted together and completed together.
//
// Approximations (docs/replay.md): no segmentation or pipelining (chain and pipeline are one
// whole-message chain, scatter_allgather bcasts run as binomial, rabenseifner reduce as binomial);
// ring and rabenseifner split the buffer in P equal parts; a reduction's arithmetic is not timed.
import { TraceBuilder } from './trace.js';
import {
  AllgatherAlg,
  AllreduceAlg,
  AlltoallAlg,
  AlltoallvAlg,
  BarrierAlg,
  GatherAlg,
  ScatterAlg,
  tunedRule,
} from '../generated/tuned-table.js';
import { allgatherv, reduceScatter, reduceScatterBlock } from './tuned-vector.js';
import { bcastTree, binomialTree, pow2Below, reduceTree, ring, type Step, Steps, tree, treeOf } from './steps.js';

export type { Step } from './steps.js';

/** Element size assumed where Open MPI's choice depends on the count (the records have bytes only). */
const ALLREDUCE_ELEMENT_BYTES = 4;

/** Collective families (src/generated/facts.ts COLL_NAMES order). */
export const Coll = {
  Barrier: 1,
  Bcast: 2,
  Gather: 3,
  Gatherv: 4,
  Scatter: 5,
  Scatterv: 6,
  Allgather: 7,
  Allgatherv: 8,
  Alltoall: 9,
  Alltoallv: 10,
  Alltoallw: 11,
  Reduce: 12,
  Allreduce: 13,
  ReduceScatter: 14,
  ReduceScatterBlock: 15,
  Scan: 16,
  Exscan: 17,
  Neighbor: 18,
} as const;

/**
 * Exchange steps (distance, bytes) over a power-of-two core, Open MPI's way for other sizes: ranks
 * below 2 * extra pair up first (even ones hand their `pre` bytes to the odd ones and sit out) and
 * get the result back at the end.
 */
function foldedExchange(s: Steps, P: number, me: number, pre: number, core: [number, number][]): void {
  const adj = pow2Below(P),
    extra = P - adj;
  let nr: number;
  if (me < 2 * extra) {
    if (me % 2 === 0) {
      s.send(me + 1, pre);
      nr = -1;
    } else {
      s.recv(me - 1);
      nr = me >> 1;
    }
  } else nr = me - extra;
  if (nr >= 0)
    for (const [d, b] of core) {
      const nrem = nr ^ d;
      s.exchange(nrem < extra ? nrem * 2 + 1 : nrem + extra, b);
    }
  if (me < 2 * extra) {
    if (me % 2 === 0) s.recv(me + 1);
    else s.send(me - 1, pre);
  }
}

/** Recursive doubling: log2 exchanges of the whole buffer. */
function recursiveDoubling(s: Steps, P: number, me: number, bytes: number): void {
  const core: [number, number][] = [];
  for (let d = 1; d < pow2Below(P); d <<= 1) core.push([d, bytes]);
  foldedExchange(s, P, me, bytes, core);
}

/** Rabenseifner: recursive halving (reduce-scatter) then recursive doubling (allgather). */
function rabenseifner(s: Steps, P: number, me: number, bytes: number): void {
  const adj = pow2Below(P);
  const core: [number, number][] = [];
  for (let d = adj >> 1, part = bytes / 2; d >= 1; d >>= 1, part /= 2) core.push([d, part]);
  for (let d = 1, part = bytes / adj; d < adj; d <<= 1, part *= 2) core.push([d, part]);
  foldedExchange(s, P, me, bytes, core);
}

function allToAll(s: Steps, P: number, me: number, bytesTo: (peer: number) => number, pairwise: boolean): void {
  if (pairwise) for (let k = 1; k < P; k++) s.step([(me + k) % P], [bytesTo((me + k) % P)], [(me - k + P) % P]);
  else {
    const peers = Array.from({ length: P - 1 }, (_, k) => (me + 1 + k) % P);
    s.step(peers, peers.map(bytesTo), peers.slice().reverse());
  }
}

/**
 * Rank `me`'s steps of one collective that Open MPI's tuned component runs. `bytes`: what the
 * record says (the buffer; a rank's block for (all)gather(v); the block to one peer for alltoall;
 * the total for alltoallv, whose per-peer bytes `perPeer` gives when known).
 */
export function tunedSteps(
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
  switch (coll) {
    case Coll.Barrier: {
      const alg = tunedRule('barrier', P, 0);
      if (alg === BarrierAlg.Linear) {
        tree(s, P, me, 0, 0, treeOf('linear'), false);
        tree(s, P, me, 0, 0, treeOf('linear'), true);
      } else if (alg === BarrierAlg.Bruck)
        for (let d = 1; d < P; d <<= 1) s.step([(me + d) % P], [0], [(me - d + P) % P]);
      else recursiveDoubling(s, P, me, 0);
      break;
    }
    case Coll.Bcast:
      tree(s, P, me, rt, bytes, bcastTree(tunedRule('bcast', P, bytes)), true);
      break;
    case Coll.Reduce:
      tree(s, P, me, rt, bytes, reduceTree(tunedRule('reduce', P, bytes)), false);
      break;
    case Coll.Allreduce: {
      const A = AllreduceAlg;
      let alg = tunedRule('allreduce', P, bytes);
      // Open MPI's ring (and segmented ring) and Rabenseifner fall back to recursive doubling for
      // fewer elements than ranks; records carry bytes, not counts: elements of 4 bytes assumed
      if ((alg === A.Ring || alg === A.SegmentedRing || alg === A.Rabenseifner) && bytes < P * ALLREDUCE_ELEMENT_BYTES)
        alg = A.RecursiveDoubling;
      if (alg === A.RecursiveDoubling) recursiveDoubling(s, P, me, bytes);
      else if (alg === A.Ring || alg === A.SegmentedRing) ring(s, P, me, 2 * (P - 1), bytes / P);
      else if (alg === A.Rabenseifner) rabenseifner(s, P, me, bytes);
      else {
        const t = treeOf(alg === A.BasicLinear ? 'linear' : 'binomial');
        tree(s, P, me, 0, bytes, t, false);
        tree(s, P, me, 0, bytes, t, true);
      }
      break;
    }
    case Coll.Allgatherv:
      allgatherv(s, P, me, bytes);
      break;
    case Coll.Allgather: {
      const alg = tunedRule('allgather', P, bytes);
      const adj = pow2Below(P);
      if (alg === AllgatherAlg.TwoProc) s.exchange(1 - me, bytes);
      else if (alg === AllgatherAlg.RecursiveDoubling && adj === P)
        for (let d = 1; d < P; d <<= 1) s.exchange(me ^ d, bytes * d);
      else if (alg === AllgatherAlg.Ring || alg === AllgatherAlg.Neighbor) ring(s, P, me, P - 1, bytes);
      // bruck (Open MPI's fallback for recursive doubling on other sizes)
      else for (let d = 1; d < P; d <<= 1) s.step([(me - d + P) % P], [bytes * Math.min(d, P - d)], [(me + d) % P]);
      break;
    }
    case Coll.Alltoall: {
      const alg = tunedRule('alltoall', P, bytes);
      if (alg === AlltoallAlg.ModifiedBruck)
        for (let d = 1; d < P; d <<= 1) {
          let blocks = 0;
          for (let i = 0; i < P; i++) if (i & d) blocks++;
          s.step([(me + d) % P], [bytes * blocks], [(me - d + P) % P]);
        }
      else if (alg === AlltoallAlg.TwoProc) s.exchange(1 - me, bytes);
      else allToAll(s, P, me, () => bytes, alg === AlltoallAlg.Pairwise);
      break;
    }
    case Coll.Alltoallv:
    case Coll.Alltoallw:
      allToAll(
        s,
        P,
        me,
        (p) => (perPeer ? perPeer[p] : bytes / (P - 1)),
        tunedRule('alltoallv', P, 0) === AlltoallvAlg.Pairwise,
      );
      break;
    case Coll.Gather:
    case Coll.Gatherv:
    case Coll.Scatter:
    case Coll.Scatterv: {
      // Open MPI's binomial gather and scatter move whole subtrees (v-variants: linear)
      const scatter = coll === Coll.Scatter || coll === Coll.Scatterv;
      const binomial =
        coll === Coll.Gather
          ? tunedRule('gather', P, bytes) === GatherAlg.Binomial
          : coll === Coll.Scatter && tunedRule('scatter', P, bytes) === ScatterAlg.Binomial;
      if (binomial) tree(s, P, me, rt, bytes, binomialTree, scatter, (v) => Math.min(v & -v, P - v));
      else tree(s, P, me, rt, bytes, treeOf('linear'), scatter);
      break;
    }
    case Coll.ReduceScatterBlock:
      reduceScatterBlock(s, P, me, bytes);
      break;
    case Coll.ReduceScatter:
      reduceScatter(s, P, me, bytes);
      break;
    case Coll.Scan:
    case Coll.Exscan:
      if (me > 0) s.recv(me - 1);
      if (me < P - 1) s.send(me + 1, bytes);
      break;
    default:
      break;
  }
  return s.list;
}

/** Appends steps (communicator ranks mapped to world ranks by `members`) to rank `world`'s trace. */
export function emitSteps(
  b: TraceBuilder,
  world: number,
  members: ArrayLike<number>,
  steps: Step[],
  chan: number,
): void {
  for (const st of steps) {
    let n = 0;
    for (const f of st.from) {
      b.irecv(world, members[f], 0, chan);
      n++;
    }
    for (let k = 0; k < st.to.length; k++) {
      b.isend(world, members[st.to[k]], st.bytes[k], chan);
      n++;
    }
    if (n) b.wait(world, -n);
  }
}
