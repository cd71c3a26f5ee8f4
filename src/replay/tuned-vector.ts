// Library-run Allgatherv, Reduce_scatter_block and Reduce_scatter as the replay's steps: the
// algorithms coll/tuned's rules pick (coll_base_allgatherv.c, coll_base_reduce_scatter{,_block}.c),
// the same as the monitor's matrices count them (native/core/tuned_vector.cpp).
import {
  AllgathervAlg,
  ReduceScatterAlg,
  ReduceScatterBlockAlg,
  ScatterAlg,
  tunedRule,
} from '../generated/tuned-table.js';
import { bcastTree, binomialTree, pow2Below, reduceTree, ring, type Steps, tree, treeOf } from './steps.js';

/**
 * Allgatherv with every block the size of this rank's (its record holds only its own): Open MPI's
 * rules by the mean block, coll_base_allgatherv.c's algorithms.
 */
export function allgatherv(s: Steps, P: number, me: number, m: number): void {
  let alg = tunedRule('allgatherv', P, m);
  if (alg === AllgathervAlg.Neighbor && P % 2) alg = AllgathervAlg.Ring;
  if (alg === AllgathervAlg.TwoProc && P !== 2) alg = AllgathervAlg.Ring;
  if (alg === AllgathervAlg.Default) {
    // coll/basic's Gatherv to 0, then the library's Bcast of the P blocks
    if (m) tree(s, P, me, 0, m, treeOf('linear'), false);
    tree(s, P, me, 0, P * m, bcastTree(tunedRule('bcast', P, P * m)), true);
  } else if (alg === AllgathervAlg.Bruck)
    for (let d = 1; d < P; d <<= 1) s.step([(me - d + P) % P], [m * Math.min(d, P - d)], [(me + d) % P]);
  else if (alg === AllgathervAlg.Neighbor) {
    const even = me % 2 === 0;
    const n = [even ? me + 1 : me - 1, even ? (me - 1 + P) % P : (me + 1) % P];
    s.exchange(n[0], m);
    for (let i = 1; i < P / 2; i++) s.exchange(n[i % 2], 2 * m);
  } else ring(s, P, me, P - 1, m);
}

const mirror = (x: number, bits: number): number => {
  let y = 0;
  for (let i = 0; i < bits; i++) if (x & (1 << i)) y |= 1 << (bits - 1 - i);
  return y;
};

/**
 * The blocks of a reduce-scatter: rank i's is base (+1 for i < extra). After the fold-in of the
 * ranks past the largest power of two, core rank k holds those of ranks first(k) .. last(k).
 */
class Blocks {
  readonly rem: number;
  constructor(
    readonly P: number,
    readonly base: number,
    readonly extra = 0,
  ) {
    this.rem = P - pow2Below(P);
  }
  of(i: number): number {
    return this.base + (i < this.extra ? 1 : 0);
  }
  /** ranks a .. b */
  real(a: number, b: number): number {
    return this.base * (b - a + 1) + Math.max(0, Math.min(b + 1, this.extra) - Math.min(a, this.extra));
  }
  /** core blocks lo .. hi */
  core(lo: number, hi: number): number {
    if (lo > hi) return 0;
    return this.real(lo < this.rem ? 2 * lo : lo + this.rem, hi < this.rem ? 2 * hi + 1 : hi + this.rem);
  }
  all(): number {
    return this.real(0, this.P - 1);
  }
}

/**
 * Reduce-scatter steps (coll_base_reduce_scatter{,_block}.c). Recursive halving and butterfly
 * first fold the ranks below 2 * rem into their odd neighbours; `permuted`: Reduce_scatter_block's
 * butterfly on a power of two, which permutes the blocks first and needs no final exchange.
 */
function halving(s: Steps, me: number, b: Blocks, butterfly: boolean, permuted: boolean): void {
  const pof2 = b.P - b.rem,
    rem = b.rem;
  const coreRank = (v: number): number => (v < rem ? v * 2 + 1 : v + rem);
  let v = me - rem;
  if (me < 2 * rem) {
    if (me % 2) {
      s.recv(me - 1);
      v = me >> 1;
    } else {
      s.send(me + 1, b.all());
      v = -1;
    }
  }
  if (butterfly) {
    const bits = Math.log2(pof2);
    if (v < 0) {
      s.recv(coreRank(mirror((me + 1) >> 1, bits)));
      return;
    }
    let nblocks = pof2,
      si = 0,
      ri = 0;
    for (let mask = 1; mask < pof2; mask <<= 1) {
      nblocks >>= 1;
      if ((v & mask) === 0) si += nblocks;
      else ri += nblocks;
      s.exchange(coreRank(v ^ mask), b.core(si, si + nblocks - 1));
      si = ri;
    }
    if (permuted) return;
    const vpeer = mirror(v, bits),
      peer = coreRank(vpeer);
    if (vpeer < rem) s.send(peer - 1, b.of(peer - 1));
    if (vpeer !== v) s.exchange(peer, b.of(peer));
    return;
  }
  if (v >= 0) {
    let si = 0,
      ri = 0,
      last = pof2;
    for (let mask = pof2 >> 1; mask > 0; mask >>= 1) {
      const peer = coreRank(v ^ mask);
      let send: number, recv: number;
      if (v < (v ^ mask)) {
        si = ri + mask;
        send = b.core(si, last - 1);
        recv = b.core(ri, si - 1);
      } else {
        ri = si + mask;
        send = b.core(si, ri - 1);
        recv = b.core(ri, last - 1);
      }
      s.step(send ? [peer] : [], send ? [send] : [], recv ? [peer] : []);
      si = ri;
      last = ri + mask;
    }
  }
  if (me < 2 * rem) {
    if (me % 2 && b.of(me - 1)) s.send(me - 1, b.of(me - 1));
    else if (me % 2 === 0 && b.of(me)) s.recv(me + 1);
  }
}

/** The library's Reduce of the whole vector to rank 0, then the scatter of the blocks. */
function reduceThenScatter(s: Steps, P: number, me: number, b: Blocks, scatterv: boolean): void {
  tree(s, P, me, 0, b.all(), reduceTree(tunedRule('reduce', P, b.all())), false);
  if (scatterv) {
    // coll/basic's linear Scatterv: nothing for an empty block
    if (me === 0) {
      const to = Array.from({ length: P - 1 }, (_, i) => i + 1).filter((j) => b.of(j));
      s.step(
        to,
        to.map((j) => b.of(j)),
        [],
      );
    } else if (b.of(me)) s.recv(0);
  } else if (tunedRule('scatter', P, b.base) === ScatterAlg.Binomial)
    tree(s, P, me, 0, b.base, binomialTree, true, (v) => Math.min(v & -v, P - v));
  else tree(s, P, me, 0, b.base, treeOf('linear'), true);
}

/** Reduce_scatter_block of m bytes per rank. */
export function reduceScatterBlock(s: Steps, P: number, me: number, m: number): void {
  if (!m) return;
  const A = ReduceScatterBlockAlg;
  const alg = tunedRule('reduceScatterBlock', P, m);
  const b = new Blocks(P, m);
  if (alg === A.RecursiveDoubling) {
    // all blocks outside both subtrees; subtrees cut short by P get the result by halving
    const outside = (root: number, mask: number): number => m * root + (P >= root + mask ? m * (P - root - mask) : 0);
    for (let mask = 1; mask < P; mask <<= 1) {
      const remote = me ^ mask,
        cur = Math.floor(me / mask) * mask,
        rroot = Math.floor(remote / mask) * mask;
      if (remote < P) s.exchange(remote, outside(cur, mask));
      if (rroot + mask > P) {
        const alldata = P - cur - mask;
        for (let h = mask >> 1; h > 0; h >>= 1) {
          const peer = me ^ h,
            troot = Math.floor(me / (2 * h)) * 2 * h;
          if (peer > me && me < troot + alldata && peer >= troot + alldata) s.send(peer, outside(rroot, mask));
          else if (peer < me && peer < troot + alldata && me >= troot + alldata) s.recv(peer);
        }
      }
    }
  } else if (alg === A.RecursiveHalving) halving(s, me, b, false, false);
  else if (alg === A.Butterfly) halving(s, me, b, true, b.rem === 0);
  else reduceThenScatter(s, P, me, b, false);
}

/** Reduce_scatter of a vector of `all` bytes, taken as P equal blocks (the record has the total). */
export function reduceScatter(s: Steps, P: number, me: number, all: number): void {
  if (!all) return;
  const A = ReduceScatterAlg;
  const alg = tunedRule('reduceScatter', P, all);
  const b = new Blocks(P, Math.floor(all / P), all % P);
  if (alg === A.RecursiveHalving) halving(s, me, b, false, false);
  else if (alg === A.Butterfly) halving(s, me, b, true, false);
  else if (alg === A.Ring)
    for (let k = 1; k < P; k++) s.step([(me + 1) % P], [b.of((me - k + P) % P)], [(me - 1 + P) % P]);
  else reduceThenScatter(s, P, me, b, true);
}
