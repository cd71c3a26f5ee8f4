// Communication graphs of real patterns, ranks numbered as MPI numbers them (row-major over the
// process grid MPI_Dims_create would choose), so that the contiguous split of ranks over sites is
// the placement a job gets without a partitioner.
import { graphFromEdges, type Graph } from '../../src/partition/graph.js';
import { Rng } from '../../src/partition/random.js';

/** Balanced process grid dimensions, non-increasing, as MPI_Dims_create gives them. */
export function dimsCreate(n: number, d: number): number[] {
  const primes: number[] = [];
  let m = n;
  for (let p = 2; p * p <= m; p++) {
    while (m % p === 0) {
      primes.push(p);
      m /= p;
    }
  }
  if (m > 1) primes.push(m);
  const dims = new Array<number>(d).fill(1);
  for (const p of primes.sort((a, b) => b - a)) {
    let i = 0;
    for (let j = 1; j < d; j++) if (dims[j] < dims[i]) i = j;
    dims[i] *= p;
  }
  return dims.sort((a, b) => b - a);
}

/** Directed edges collected before they become an undirected graph. */
class Edges {
  src: number[] = [];
  dst: number[] = [];
  w: number[] = [];
  add(a: number, b: number, w: number): void {
    this.src.push(a);
    this.dst.push(b);
    this.w.push(w);
  }
  graph(n: number): Graph {
    return graphFromEdges(n, Int32Array.from(this.src), Int32Array.from(this.dst), Float64Array.from(this.w));
  }
}

/** 3-D 7-point stencil: each rank exchanges a halo with its 6 face neighbours (not periodic). */
export function stencil3d(n: number): Graph {
  const [a, b, c] = dimsCreate(n, 3);
  const e = new Edges();
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      for (let k = 0; k < c; k++) {
        const r = (i * b + j) * c + k;
        if (i + 1 < a) e.add(r, r + b * c, 2);
        if (j + 1 < b) e.add(r, r + c, 2);
        if (k + 1 < c) e.add(r, r + 1, 2);
      }
    }
  }
  return e.graph(n);
}

/** 2-D wavefront (LU-like sweeps): each rank sends to its right and lower neighbour. */
export function wavefront2d(n: number): Graph {
  const [rows, cols] = dimsCreate(n, 2);
  const e = new Edges();
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const r = i * cols + j;
      if (j + 1 < cols) e.add(r, r + 1, 1);
      if (i + 1 < rows) e.add(r, r + cols, 1);
    }
  }
  return e.graph(n);
}

/**
 * CG-like sparse exchange (as in NAS CG): on a 2-D process grid, recursive-halving exchanges with
 * row partners at distance 2^i (halving volumes), a column partner, and one random long-range pair
 * per rank.
 */
export function cgLike(n: number, seed = 7): Graph {
  const [rows, cols] = dimsCreate(n, 2);
  const rng = new Rng(seed);
  const e = new Edges();
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const r = i * cols + j;
      for (let d = 1, w = 16; d < cols; d <<= 1, w = Math.max(1, w >> 1)) {
        const pj = j ^ d;
        if (pj > j && pj < cols) e.add(r, i * cols + pj, w);
      }
      const pi = i ^ 1;
      if (pi > i && pi < rows) e.add(r, pi * cols + j, 4);
      const far = rng.below(n);
      if (far !== r) e.add(r, far, 1);
    }
  }
  return e.graph(n);
}

/** Random sparse: every rank talks to `degree / 2` random others (average degree about `degree`). */
export function randomSparse(n: number, degree = 8, seed = 11): Graph {
  const rng = new Rng(seed);
  const e = new Edges();
  for (let r = 0; r < n; r++) {
    for (let t = 0; t < degree / 2; t++) {
      const q = rng.below(n);
      if (q !== r) e.add(r, q, 1 + rng.below(16));
    }
  }
  return e.graph(n);
}

export const PATTERNS: Record<string, (n: number) => Graph> = {
  stencil3d,
  wavefront2d,
  cg: cgLike,
  random: randomSparse,
};

/** Capacities of a site configuration: "k" equal sites, or "4u" unequal ones (40/30/20/10 %), 3 % room each. */
export function capsFor(n: number, sites: string): number[] {
  const shares = sites === '4u' ? [0.4, 0.3, 0.2, 0.1] : new Array<number>(Number(sites)).fill(1 / Number(sites));
  if (!shares.length || shares.some((s) => !(s > 0))) throw new Error(`sites: ${sites} is not a site count or 4u`);
  return shares.map((s) => Math.ceil(n * s * 1.03));
}
