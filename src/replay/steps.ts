// The building blocks of the replay's collective schedules (schedules.ts, tuned-vector.ts): a
// rank's steps and the trees of Open MPI's tree algorithms, over root-relative ranks.
import { BcastAlg, ReduceAlg } from '../generated/tuned-table.js';

export interface Step {
  /** peers this rank sends to, with the bytes of each */
  to: number[];
  bytes: number[];
  /** peers this rank receives from (the bytes are the sender's) */
  from: number[];
}

export class Steps {
  readonly list: Step[] = [];
  step(to: number[], bytes: number[], from: number[]): this {
    if (to.length || from.length) this.list.push({ to, bytes, from });
    return this;
  }
  exchange(peer: number, b: number): this {
    return this.step([peer], [b], [peer]);
  }
  send(peer: number, b: number): this {
    return this.step([peer], [b], []);
  }
  recv(peer: number): this {
    return this.step([], [], [peer]);
  }
}

export const pow2Below = (P: number): number => 1 << Math.floor(Math.log2(P));

export function ring(s: Steps, P: number, me: number, rounds: number, b: number): void {
  for (let k = 0; k < rounds; k++) s.step([(me + 1) % P], [b], [(me - 1 + P) % P]);
}

/**
 * Tree neighbours with v the root-relative rank: parent and children (in sending order). The
 * in-order binomial tree of Reduce, Gather and Scatter (build_in_order_bmtree): the parent clears
 * v's lowest bit.
 */
export function binomialTree(P: number, v: number): { parent: number; children: number[] } {
  let mask = 1;
  while (mask < P && !(v & mask)) mask <<= 1;
  const parent = v === 0 ? -1 : v & ~mask;
  const children: number[] = [];
  for (let m = (v === 0 ? pow2Below(P) * 2 : mask) >> 1; m >= 1; m >>= 1) if (v + m < P) children.push(v + m);
  return { parent, children };
}
/**
 * Open MPI's binary tree (coll_base_topo.c, build_tree with fanout 2), filled level by level:
 * level L holds 2^L - 1 .. 2^(L+1) - 2, and v's children are v + 2^L and v + 2^(L+1).
 */
function binaryTree(P: number, v: number): { parent: number; children: number[] } {
  const L = Math.floor(Math.log2(v + 1));
  const children = [v + 2 ** L, v + 2 ** (L + 1)].filter((c) => c < P);
  return { parent: v === 0 ? -1 : 2 ** (L - 1) - 1 + ((v + 1 - 2 ** L) % 2 ** (L - 1)), children };
}
/** Bcast's binomial tree (build_bmtree): the parent clears v's highest bit, children v + 2^k above it. */
function bmTree(P: number, v: number): { parent: number; children: number[] } {
  let mask = 1;
  while (mask <= v) mask *= 2;
  const children: number[] = [];
  for (let m = mask; v + m < P; m *= 2) children.push(v + m);
  return { parent: v === 0 ? -1 : v - mask / 2, children };
}
/** build_kmtree with coll_tuned_bcast_knomial_radix 4. */
function knomialTree(P: number, v: number): { parent: number; children: number[] } {
  const radix = 4;
  let parent = -1,
    mask = 1;
  for (; mask < P; mask *= radix)
    if (v % (radix * mask)) {
      parent = Math.floor(v / (radix * mask)) * radix * mask;
      break;
    }
  const children: number[] = [];
  for (mask /= radix; mask >= 1; mask /= radix)
    for (let r = 1; r < radix; r++) if (v + mask * r < P) children.push(v + mask * r);
  return { parent, children };
}
/** One chain of consecutive root-relative ranks. */
function chainTree(P: number, v: number): { parent: number; children: number[] } {
  return { parent: v - 1, children: v + 1 < P ? [v + 1] : [] };
}

export type Tree = (P: number, v: number) => { parent: number; children: number[] };
export function treeOf(alg: 'linear' | 'pipeline' | 'binary' | 'binomial' | 'bmtree' | 'knomial'): Tree {
  switch (alg) {
    case 'linear':
      return (P, v) => ({
        parent: v === 0 ? -1 : 0,
        children: v === 0 ? Array.from({ length: P - 1 }, (_, i) => i + 1) : [],
      });
    case 'pipeline':
      return chainTree;
    case 'binary':
      return binaryTree;
    case 'binomial':
      return binomialTree;
    case 'bmtree':
      return bmTree;
    case 'knomial':
      return knomialTree;
  }
}

/**
 * Root to all down a tree (`down`) or all to root up it (reduce); an edge carries b times the
 * blocks of the subtree below it (`blocks` of its lower end, root-relative; 1 by default).
 */
export function tree(
  s: Steps,
  P: number,
  me: number,
  root: number,
  b: number,
  t: Tree,
  down: boolean,
  blocks: (v: number) => number = () => 1,
): void {
  const v = (me - root + P) % P;
  const { parent, children } = t(P, v);
  const real = (x: number): number => (x + root) % P;
  const kids = children.map(real);
  if (down) {
    if (parent >= 0) s.recv(real(parent));
    if (kids.length)
      s.step(
        kids,
        children.map((c) => b * blocks(c)),
        [],
      );
  } else {
    if (kids.length) s.step([], [], kids);
    if (parent >= 0) s.send(real(parent), b * blocks(v));
  }
}

type TreeName = Parameters<typeof treeOf>[0];
// Open MPI's algorithm numbers (coll_tuned_{bcast,reduce}_algorithm) to the tree replayed for them;
// any other number runs as a binomial tree (scatter_allgather bcasts, Rabenseifner reduce). The
// fixed rules pass faninout 0, which Open MPI's chain turns into one chain: the pipeline's.
const BCAST_TREES: Record<number, TreeName> = {
  [BcastAlg.BasicLinear]: 'linear',
  [BcastAlg.Chain]: 'pipeline',
  [BcastAlg.Pipeline]: 'pipeline',
  [BcastAlg.SplitBinaryTree]: 'binary',
  [BcastAlg.BinaryTree]: 'binary',
  [BcastAlg.Knomial]: 'knomial',
};
const REDUCE_TREES: Record<number, TreeName> = {
  [ReduceAlg.Linear]: 'linear',
  [ReduceAlg.Chain]: 'pipeline',
  [ReduceAlg.Pipeline]: 'pipeline',
  [ReduceAlg.Binary]: 'binary',
  [ReduceAlg.InOrderBinary]: 'binary',
};
export const bcastTree = (alg: number): Tree => treeOf(BCAST_TREES[alg] ?? 'bmtree');
export const reduceTree = (alg: number): Tree => treeOf(REDUCE_TREES[alg] ?? 'binomial');
