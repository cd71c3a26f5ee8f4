// Open MPI 4.1's coll/tuned fixed decision rules (ompi/mca/coll/tuned/coll_tuned_decision_fixed.c,
// v4.1.x): which algorithm a collective that sitempi passes to PMPI runs, by communicator size P
// and message size. Transcribed for communicators below 64 ranks (reduce: below 32, then binomial,
// which Open MPI picks up to 256); larger ones use the row for 32-63 ranks (docs/replay.md).
// Records carry no reduction operator: reductions are taken to be commutative (MPI_SUM and the like).

/** The first alg whose limit the size is below, else `last`. */
function pick(size: number, rows: readonly (readonly [number, number])[], last: number): number {
  for (const [limit, alg] of rows) if (size < limit) return alg;
  return last;
}

/** Allreduce: 1 basic_linear, 2 nonoverlapping, 3 recursive_doubling, 4 ring, 5 segmented_ring, 6 rabenseifner. */
export function allreduceAlg(P: number, bytes: number): number {
  if (P < 4)
    return pick(
      bytes,
      [
        [8, 4],
        [4096, 3],
        [8192, 4],
        [16384, 3],
        [65536, 4],
        [262144, 5],
      ],
      6,
    );
  if (P < 8)
    return pick(
      bytes,
      [
        [16, 4],
        [8192, 3],
      ],
      6,
    );
  if (P < 16) return pick(bytes, [[8192, 3]], 6);
  if (P < 32)
    return pick(
      bytes,
      [
        [64, 5],
        [4096, 3],
      ],
      6,
    );
  return pick(bytes, [[128, 5]], 6);
}

/** Bcast: 1 linear, 2 chain, 3 pipeline, 4 split_binary_tree, 5 binary_tree, 6 binomial, 7 knomial, 8-9 scatter_allgather. */
export function bcastAlg(P: number, bytes: number): number {
  if (P < 4)
    return pick(
      bytes,
      [
        [32, 3],
        [256, 5],
        [512, 3],
        [1024, 7],
        [32768, 1],
        [131072, 5],
        [262144, 2],
        [524288, 1],
        [1048576, 6],
      ],
      5,
    );
  if (P < 8)
    return pick(
      bytes,
      [
        [64, 5],
        [128, 6],
        [2048, 5],
        [8192, 6],
        [1048576, 1],
      ],
      2,
    );
  if (P < 16)
    return pick(
      bytes,
      [
        [8, 7],
        [64, 5],
        [4096, 7],
        [16384, 5],
        [32768, 6],
      ],
      1,
    );
  if (P < 32)
    return pick(
      bytes,
      [
        [4096, 7],
        [1048576, 6],
      ],
      8,
    );
  return pick(bytes, [[2048, 6]], 7);
}

/** Reduce (commutative): 1 linear, 2 chain, 3 pipeline, 4 binary, 5 binomial, 6 in-order_binary, 7 rabenseifner. */
export function reduceAlg(P: number, bytes: number): number {
  if (P < 4)
    return pick(
      bytes,
      [
        [8, 7],
        [16, 4],
        [32, 3],
        [262144, 1],
        [524288, 3],
        [1048576, 2],
      ],
      3,
    );
  if (P < 8)
    return pick(
      bytes,
      [
        [4096, 4],
        [65536, 2],
        [262144, 5],
        [524288, 1],
        [1048576, 5],
      ],
      1,
    );
  if (P < 16) return pick(bytes, [[8192, 4]], 5);
  if (P < 32) return pick(bytes, [[4096, 4]], 5);
  return 5;
}

/** Allgather (bytes: one rank's block): 1 linear, 2 bruck, 3 recursive_doubling, 4 ring, 5 neighbor, 6 two_proc. */
export function allgatherAlg(P: number, bytes: number): number {
  if (P === 2) return 6;
  if (P < 32) return 3;
  return pick(
    bytes,
    [
      [1024, 3],
      [65536, 5],
    ],
    4,
  );
}

/** Alltoall (bytes: the block to one peer): 1 linear, 2 pairwise, 3 modified_bruck, 4 linear_sync, 5 two_proc. */
export function alltoallAlg(P: number, bytes: number): number {
  if (P === 2)
    return pick(
      bytes,
      [
        [2, 2],
        [4, 5],
        [16, 2],
        [64, 5],
        [256, 2],
        [4096, 5],
        [32768, 2],
        [262144, 4],
        [1048576, 5],
      ],
      2,
    );
  if (P < 8)
    return pick(
      bytes,
      [
        [8192, 4],
        [16384, 1],
        [65536, 4],
        [524288, 1],
        [1048576, 2],
      ],
      1,
    );
  if (P < 16) return pick(bytes, [[262144, 4]], 1);
  if (P < 32)
    return pick(
      bytes,
      [
        [4, 4],
        [512, 3],
        [8192, 4],
        [32768, 1],
        [262144, 4],
        [524288, 1],
      ],
      4,
    );
  return pick(
    bytes,
    [
      [512, 3],
      [524288, 1],
    ],
    4,
  );
}

/** Alltoallv: 1 basic_linear, 2 pairwise. */
export function alltoallvAlg(P: number): number {
  return P < 4 ? 2 : P < 64 ? 1 : P < 128 ? 2 : P < 256 ? 1 : P < 1024 ? 2 : 1;
}

/** Barrier: 1 linear, 2 double_ring, 3 recursive_doubling, 4 bruck, 5 two_proc, 6 tree. */
export function barrierAlg(P: number): number {
  return P < 4 ? 3 : P < 8 ? 1 : P < 64 ? 3 : 4;
}
