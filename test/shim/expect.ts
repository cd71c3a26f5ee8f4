// Expected traffic of the test programs, written out by hand from their source: the tests hold
// the monitor to these numbers.
export class Expected {
  readonly bytes: number[][];
  readonly messages: number[][];
  constructor(readonly size: number) {
    this.bytes = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    this.messages = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  }
  add(src: number, dst: number, bytes: number, messages = 1): this {
    if (src !== dst) {
      this.bytes[src][dst] += bytes;
      this.messages[src][dst] += messages;
    }
    return this;
  }
  /** Every rank r adds f(r). */
  each(f: (r: number) => void): this {
    for (let r = 0; r < this.size; r++) f(r);
    return this;
  }
}

const INT = 4,
  DOUBLE = 8,
  LONG = 8;

/**
 * A blocking Allreduce of m bytes as Open MPI's coll/tuned runs it below 8 KiB on 4-7 ranks (and
 * on 2): recursive doubling (native/core/tuned.cpp). For a power of two P, rank r sends m to
 * r^1, r^2, r^4...
 */
function recursiveDoubling(e: Expected, P: number, m: number): void {
  if (P & (P - 1)) throw new Error('expect.ts: recursive doubling written out for powers of two only');
  e.each((r) => {
    for (let d = 1; d < P; d <<= 1) e.add(r, r ^ d, m);
  });
}

/** test/shim/programs/patterns.c, by mode, for P ranks. */
export function patterns(mode: string, P: number): Expected {
  const e = new Expected(P);
  const right = (r: number) => (r + 1) % P,
    left = (r: number) => (r + P - 1) % P;
  switch (mode) {
    case 'ring':
      return e.each((r) => e.add(r, right(r), 10 * 1000 * INT, 10));
    case 'allpairs':
      return e.each((r) => {
        for (let d = 0; d < P; d++) e.add(r, d, (r + 1) * (d + 1) * DOUBLE);
      });
    case 'anysource':
      return e.each((r) => {
        if (r) e.add(r, 0, 3 * 100, 3);
      });
    case 'persistent':
      return e.each((r) => e.add(r, right(r), 5 * 64 * LONG, 5));
    case 'split': {
      // halves: even world ranks and odd world ranks, in order; half rank 0 is world 0 or 1
      for (const half of [
        [0, 2],
        [1, 3],
      ].map((h) => h.filter((r) => r < P))) {
        const root = half[0];
        for (const r of half) e.add(root, r, 100 * INT); // Bcast from half rank 0
        for (const r of half) {
          e.add(r, root, INT);
          e.add(root, r, INT);
        } // Allreduce on 2 ranks: recursive doubling, one exchange
        half.forEach((r, i) => e.add(r, half[(i + 1) % half.length], INT)); // Sendrecv to next
      }
      return e;
    }
    case 'rma':
      return e.each((r) => {
        e.add(r, right(r), 32 * INT);
        e.add(left(r), r, 16 * INT);
      });
    case 'collectives': {
      const root = 1,
        M = 256 * INT;
      e.each((r) => {
        e.add(r, 0, 0);
        e.add(0, r, 0);
      }); // Barrier
      // Library collectives as Open MPI 4.1's coll/tuned fixed rules run them at 4 ranks:
      const tree = binomialTree(P, root);
      for (const [parent, child] of tree) e.add(parent, child, M); // Bcast 1 KiB: binomial
      for (const [parent, child] of tree) e.add(child, parent, M); // Reduce 1 KiB: binomial
      recursiveDoubling(e, P, M); // Allreduce of 1 KiB
      e.each((r) => e.add(r, root, M)); // Gather: linear
      e.add(root, 2, M)
        .add(root, 3, 2 * M)
        .add(3, 0, M); // Scatter: in-order binomial (1 -> 2, 3; 3 -> 0)
      for (let step = 1; step < P; step *= 2) e.each((r) => e.add(r, r ^ step, step * M)); // Allgather: recursive doubling
      e.each((r) => {
        for (let d = 0; d < P; d++) e.add(r, d, 16 * INT);
      }); // Alltoall
      e.each((r) => e.add(r, root, (r + 1) * INT)); // Gatherv
      e.each((r) => e.add(root, r, (r + 1) * INT)); // Scatterv
      e.each((r) => {
        e.add(r, 0, (r + 1) * INT);
        for (const [p, c] of [
          [0, 1],
          [0, 2],
          [1, 3],
        ])
          e.add(p, c, (r + 1) * INT, r === 0 ? 1 : 0);
      }); // Allgatherv of 4-16 B: coll/basic's Gatherv to 0, the library's Bcast (binary tree)
      e.each((r) => {
        for (let d = 0; d < P; d++) e.add(r, d, (r + d + 1) * INT);
      }); // Alltoallv
      // Reduce_scatter of counts i+1 (40 B): recursive halving, the record's total taken as four
      // equal blocks (the model: a record holds the whole vector only): half to rank^2, a quarter to rank^1
      e.each((r) => e.add(r, r ^ 2, 20).add(r, r ^ 1, 10));
      e.each((r) => {
        e.add(r, r ^ 1, 8 * INT * 2).add(r, r ^ 2, 8 * INT);
      }); // Reduce_scatter_block of 32 B: butterfly (half the vector, then a block)
      e.each((r) => {
        if (r + 1 < P) e.add(r, r + 1, 10 * INT).add(r, r + 1, 10 * INT);
      }); // Scan, Exscan
      e.each((r) => {
        if (r) e.add(r, r & (r - 1), 32 * INT).add(r - 2 ** Math.floor(Math.log2(r)), r, 32 * INT);
      }); // Iallreduce of 128 B: libnbc's binomial trees, to 0 (in-order) and back (native/core/nbc.cpp)
      return e;
    }
    default:
      throw new Error(`no expectation for ${mode}`);
  }
}

/**
 * Open MPI's binomial tree (coll_base_topo.c, build_bmtree) rooted at ROOT: [parent, child, ranks in
 * the child's subtree] for every edge. Virtual rank v = rank - root (mod P); v's children are v ^ m
 * for the powers of two m from next_pow2(v) up, while below P.
 */
function binomialTree(P: number, root: number): [number, number, number][] {
  const edges: [number, number, number][] = [];
  const real = (v: number) => (v + root) % P;
  const subtree = (v: number): number => {
    let n = 1;
    for (let m = v === 0 ? 1 : 2 ** Math.ceil(Math.log2(v + 1)); m < P && (v ^ m) < P; m *= 2) n += subtree(v ^ m);
    return n;
  };
  for (let v = 0; v < P; v++)
    for (let m = v === 0 ? 1 : 2 ** Math.ceil(Math.log2(v + 1)); m < P && (v ^ m) < P; m *= 2)
      edges.push([real(v), real(v ^ m), subtree(v ^ m)]);
  return edges;
}

/** test/shim/programs/fortran_*.f90 (all three bindings send the same traffic). */
export function fortran(P: number): Expected {
  const e = new Expected(P);
  e.each((r) => e.add(r, (r + 1) % P, 5 * 100 * INT, 5)); // ring
  recursiveDoubling(e, P, 10 * DOUBLE); // Allreduce
  e.each((r) => {
    if (r) e.add(r, 0, 10 * INT);
  }); // to rank 0 (ANY_SOURCE there)
  for (const half of [
    [0, 2],
    [1, 3],
  ])
    for (const r of half) e.add(half[0], r, 50 * INT); // Bcast in split
  return e;
}
