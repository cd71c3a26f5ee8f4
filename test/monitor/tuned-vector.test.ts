// Library-run Allgatherv, Reduce_scatter_block and Reduce_scatter (equal blocks), and the
// collectives coll/tuned leaves to coll/basic (Gatherv, Scatterv, Scan, Exscan) and Alltoallv,
// expanded in the monitor's matrix as Open MPI runs them (native/core/tuned_vector.cpp): a real
// program under mpirun and the shim, at sizes on both sides of the rules' switches, against the
// traffic derived here from the algorithms of ompi/mca/coll/base (rank by rank, as Open MPI's loops
// send) and against what Open MPI's pml monitoring component counted in a run without the shim.
import { describe, expect, it } from 'vitest';
import { TUNED_RULES } from '../../native/shim/gen/tuned_rules.mjs';
import { tunedRule, type TunedFamily } from '../../src/generated/tuned-table.js';
import { compileMpi } from '../helpers/mpi.js';
import { Expected } from '../shim/expect.js';
import { observed as observedJob, openMpiCounts as counted } from './pml-counts.js';

const program = compileMpi('test/monitor/programs/tuned_vector.c');
const observed = (np: number, calls: string[]) => observedJob(program, np, calls, 'tuned_vector ok');
const openMpiCounts = (np: number, calls: string[]) => counted(program, np, calls);

const alg = (family: TunedFamily, P: number, bytes: number): string =>
  TUNED_RULES[family].algs[tunedRule(family, P, bytes) - 1];
const pof2Below = (P: number): number => 2 ** Math.floor(Math.log2(P));

/** Parent of v in a tree rooted at 0: Open MPI's binomial tree of Bcast (v without its highest bit). */
const binomialParent = (v: number): number => v - 2 ** Math.floor(Math.log2(v));
/** The in-order binomial tree of Reduce, Gather and Scatter: v without its lowest bit. */
const inOrderParent = (v: number): number => v & (v - 1);
/**
 * Open MPI's binary tree (coll_base_topo.c, build_tree with fanout 2): level L holds 2^L - 1 ..
 * 2^(L+1) - 2, and node k of level L + 1 hangs below node k mod 2^L of level L.
 */
function binaryParent(v: number): number {
  const L = Math.floor(Math.log2(v + 1));
  return 2 ** (L - 1) - 1 + ((v - (2 ** L - 1)) % 2 ** (L - 1));
}
const parentOf = (tree: string, reduce = false): ((v: number) => number) => {
  if (tree === 'binomial') return reduce ? inOrderParent : binomialParent;
  if (tree === 'binary_tree' || tree === 'binary') return binaryParent;
  throw new Error(`the test derives no ${tree} tree`);
};

/** The allgatherv algorithm that runs: neighbour exchange falls back to the ring on odd sizes. */
function allgathervRuns(P: number, meanBlock: number): string {
  const name = alg('allgatherv', P, meanBlock);
  return name === 'neighbor' && P % 2 ? 'ring' : name;
}

/** MPI_Allgatherv with these blocks, as Open MPI 4.1 runs it. */
function allgatherv(e: Expected, counts: number[]): void {
  const P = counts.length;
  const total = counts.reduce((a, b) => a + b);
  const name = allgathervRuns(P, Math.floor(total / P));
  const at = (i: number) => counts[((i % P) + P) % P];
  for (let r = 0; r < P; r++) {
    if (name === 'default') {
      if (r) e.add(r, 0, counts[r]); // coll/basic's Gatherv
      if (r) e.add(parentOf(alg('bcast', P, total))(r), r, total); // the Bcast of every block from 0
    } else if (name === 'ring') {
      for (let i = 0; i < P - 1; i++) e.add(r, (r + 1) % P, at(r - i));
    } else if (name === 'bruck') {
      for (let d = 1; d < P; d *= 2) {
        let b = 0;
        for (let i = 0; i < Math.min(d, P - d); i++) b += at(r + i);
        e.add(r, (r - d + P) % P, b);
      }
    } else if (name === 'neighbor') {
      // coll_base_allgatherv.c: neighbour[], recv_data_from[] and offset_at_step[] as written there
      const even = r % 2 === 0;
      const nb = even ? [(r + 1) % P, (r - 1 + P) % P] : [(r - 1 + P) % P, (r + 1) % P];
      const from = even ? [r, r] : [nb[0], nb[0]];
      const offset = even ? [2, -2] : [-2, 2];
      e.add(r, nb[0], counts[r]);
      let sendFrom = even ? r : from[0];
      for (let i = 1; i < P / 2; i++) {
        const p = i % 2;
        from[p] = (from[p] + offset[p] + P) % P;
        e.add(r, nb[p], counts[sendFrom] + counts[sendFrom + 1]);
        sendFrom = from[p];
      }
    } else throw new Error(`no derivation for allgatherv ${name}`);
  }
}

/**
 * MPI_Reduce_scatter_block of m bytes per rank. The halving and butterfly algorithms: ranks below
 * 2 * rem (rem = P - the largest power of two below) pair up, the even one handing its whole
 * vector to the odd one and getting its block back at the end; the power-of-two core then splits
 * the window of its blocks (the first rem of them two ranks' blocks) in halves, each rank sending
 * the half its partner keeps.
 */
function reduceScatterBlock(e: Expected, P: number, m: number, family: TunedFamily = 'reduceScatterBlock'): void {
  const name = alg(family, P, family === 'reduceScatter' ? m * P : m);
  if (name === 'ring') {
    // coll_base_reduce_scatter.c: P - 1 steps, each one block to rank + 1
    for (let r = 0; r < P; r++) e.add(r, (r + 1) % P, m * (P - 1), P - 1);
    return;
  }
  if (name === 'non-overlapping') {
    // the library's Reduce of the vector to 0, then coll/basic's linear Scatterv
    const up = parentOf(alg('reduce', P, m * P), true);
    for (let r = 1; r < P; r++) e.add(r, up(r), m * P).add(0, r, m);
    return;
  }
  const pof2 = pof2Below(P),
    rem = P - pof2;
  const real = (v: number) => (v < rem ? 2 * v + 1 : v + rem);
  const weight = (lo: number, hi: number) => {
    let w = 0;
    for (let k = lo; k < hi; k++) w += k < rem ? 2 * m : m;
    return w;
  };
  if (name === 'recursive_doubling') {
    if (rem) throw new Error('the test derives recursive doubling on powers of two only');
    for (let r = 0; r < P; r++) for (let d = 1; d < P; d *= 2) e.add(r, r ^ d, m * (P - d));
    return;
  }
  if (name === 'basic_linear') {
    // the library's Reduce of the vector to 0, then its Scatter (binomial: a subtree's blocks)
    const up = parentOf(alg('reduce', P, m * P), true);
    const scatter = alg('scatter', P, m);
    for (let r = 1; r < P; r++) {
      e.add(r, up(r), m * P);
      if (scatter !== 'binomial') e.add(0, r, m);
      else e.add(inOrderParent(r), r, m * Math.min(r & -r, P - r));
    }
    return;
  }
  for (let i = 0; i < rem; i++) {
    e.add(2 * i, 2 * i + 1, m * P);
    if (name === 'recursive_halving') e.add(2 * i + 1, 2 * i, m); // its block back (butterfly: below)
  }
  for (let v = 0; v < pof2; v++) {
    let lo = 0,
      hi = pof2;
    const masks: number[] = [];
    for (let d = 1; d < pof2; d *= 2) masks.push(d);
    if (name === 'recursive_halving')
      masks.reverse(); // the farthest partner first; keeps by rank order
    else if (name !== 'butterfly') throw new Error(`no derivation for reduce_scatter_block ${name}`);
    for (const d of masks) {
      const mid = (lo + hi) / 2;
      const lower = name === 'recursive_halving' ? v < (v ^ d) : (v & d) === 0;
      e.add(real(v), real(v ^ d), lower ? weight(mid, hi) : weight(lo, mid));
      if (lower) hi = mid;
      else lo = mid;
    }
    // butterfly on other sizes (Reduce_scatter's on every size; Reduce_scatter_block's permutes the
    // blocks first on a power of two): the core rank holds the result of block lo, sent to its owners
    if (name === 'butterfly' && (rem || family === 'reduceScatter'))
      for (const owner of lo < rem ? [2 * lo, 2 * lo + 1] : [lo + rem]) e.add(real(v), owner, m);
  }
}

function expected(P: number, calls: string[]): Expected {
  const e = new Expected(P);
  for (const c of calls) {
    const [what, b] = c.split(':');
    const bytes = Number(b);
    const root = 1;
    // coll/basic's Gatherv and Scatterv send nothing for an empty block
    if (what === 'gv') for (let r = 0; r < P; r++) e.add(r, root, bytes + r, bytes + r ? 1 : 0);
    else if (what === 'sv') for (let r = 0; r < P; r++) e.add(root, r, bytes + r, bytes + r ? 1 : 0);
    else if (what === 'scan' || what === 'exscan') for (let r = 0; r + 1 < P; r++) e.add(r, r + 1, bytes);
    else if (what === 'a2av') for (let r = 0; r < P; r++) for (let d = 0; d < P; d++) e.add(r, d, bytes + r + d);
    else if (what === 'agv') allgatherv(e, new Array<number>(P).fill(bytes));
    else if (what === 'agvu')
      allgatherv(
        e,
        Array.from({ length: P }, (_, r) => bytes + 100 * r),
      );
    else if (what === 'rs') reduceScatterBlock(e, P, bytes, 'reduceScatter');
    else reduceScatterBlock(e, P, bytes);
  }
  return e;
}

// Per size: the calls, and the algorithms they must cover (so that a change of the rules or of
// the sizes cannot leave an algorithm untested unnoticed).
const cases: [number, string[], string[]][] = [
  [
    3,
    ['agv:20', 'agv:3000', 'rsb:20', 'rs:30000', 'gv:0', 'sv:10', 'scan:5', 'exscan:7'],
    ['default', 'ring', 'butterfly'],
  ],
  [
    4,
    [
      ...['agv:20', 'agv:100', 'agv:1000', 'agv:5000', 'agv:20000', 'agvu:1000'],
      ...['rsb:1', 'rsb:8', 'rsb:100', 'rsb:1000', 'rs:1', 'rs:100', 'rs:70000', 'a2av:3'],
    ],
    ['default', 'neighbor', 'ring', 'bruck', 'recursive_doubling', 'butterfly', 'recursive_halving', 'non-overlapping'],
  ],
  [
    6,
    ['agv:20', 'agv:1000', 'agv:20000', 'agvu:5000', 'rsb:4', 'rsb:100', 'rs:1', 'rs:100'],
    ['neighbor', 'bruck', 'butterfly', 'recursive_halving', 'non-overlapping'],
  ],
  [
    8,
    ['agv:600', 'agv:2000', 'rsb:1', 'rsb:4', 'rsb:40', 'rs:10', 'rs:40000', 'gv:5', 'a2av:0'],
    ['default', 'bruck', 'basic_linear', 'recursive_halving', 'ring'],
  ],
];

describe('library-run Allgatherv and reduce-scatters as coll/tuned runs them', () => {
  for (const [P, calls, covers] of cases) {
    it(`${P} ranks: the matrix is the traffic of the algorithms Open MPI picks`, async () => {
      const picked = calls.map((c) => {
        const [what, b] = c.split(':');
        if (!['agv', 'agvu', 'rs', 'rsb'].includes(what)) return what;
        if (what === 'rs') return alg('reduceScatter', P, Number(b) * P);
        return what === 'rsb' ? alg('reduceScatterBlock', P, Number(b)) : allgathervRuns(P, Number(b));
      });
      for (const a of covers) expect(picked, `${P} ranks cover ${a}`).toContain(a);
      const job = await observed(P, calls);
      expect(job.unexpandedCollectives).toBe(0);
      // against the algorithms as written out here, and against Open MPI's own counters
      const want = expected(P, calls);
      expect(job.matrix.bytes).toEqual(want.bytes);
      expect(job.matrix.messages).toEqual(want.messages);
      const sent = await openMpiCounts(P, calls);
      expect(job.matrix.bytes).toEqual(sent.bytes);
      expect(job.matrix.messages).toEqual(sent.messages);
    }, 120_000);
  }
});

// The families of native/core/tuned_coll.cpp and tuned.cpp (Bcast, Reduce, Allreduce, Allgather,
// Alltoall, Gather, Scatter, Barrier) at sizes across their rules, held to Open MPI's counters.
const others = [
  ...['bc:100', 'bc:5000', 'bc:300000', 'red:100', 'red:20000', 'red:300000', 'ar:10', 'ar:2000', 'ar:40000'],
  ...['ag:100', 'ag:5000', 'a2a:100', 'a2a:20000', 'ga:100', 'ga:50000', 'sc:100', 'sc:50000', 'bar:0'],
];
describe('library-run collectives of the other families against Open MPI’s counters', () => {
  for (const P of [5, 8])
    it(`${P} ranks`, async () => {
      const job = await observed(P, others);
      const sent = await openMpiCounts(P, others);
      expect(job.matrix.bytes).toEqual(sent.bytes);
      expect(job.matrix.messages).toEqual(sent.messages);
    }, 120_000);
});
