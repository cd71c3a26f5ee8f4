/* Validation program: an integer sort (after NPB IS). Each iteration: local bucketing (timed
 * sleep), the bucket sizes summed by an Allreduce of BUCKETS ints, the send counts exchanged by an
 * Alltoall of one int, and the keys redistributed by an MPI_Alltoallv of uneven parts (about
 * KEY_BYTES per rank in all, skewed by a fixed pattern that changes each iteration).
 * Usage: isort ITERATIONS COMPUTE_US KEY_BYTES */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"

#define BUCKETS 1024

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int iters = argc > 1 ? atoi(argv[1]) : 20;
  const long us = argc > 2 ? atol(argv[2]) : 20000;
  const int keyBytes = argc > 3 ? atoi(argv[3]) : 524288;
  int *scount = calloc(size, sizeof(int)), *rcount = calloc(size, sizeof(int));
  int *sdispl = calloc(size, sizeof(int)), *rdispl = calloc(size, sizeof(int));
  int lbuckets[BUCKETS] = {0}, gbuckets[BUCKETS];
  char *out = calloc((size_t)keyBytes * 2, 1), *in = calloc((size_t)keyBytes * 2 * size, 1);
  for (int it = 0; it < iters; it++) {
    compute(us);
    MPI_Allreduce(lbuckets, gbuckets, BUCKETS, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int total = 0;
    for (int p = 0; p < size; p++) {
      /* weights 1..size, rotated by rank and iteration: parts from a quarter to twice the mean */
      const int w = 1 + (p + rank + it) % size;
      scount[p] = (int)((long)keyBytes * 2 * w / ((long)size * (size + 1)));
      sdispl[p] = total;
      total += scount[p];
    }
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, MPI_COMM_WORLD);
    for (int p = 0, t = 0; p < size; p++) {
      rdispl[p] = t;
      t += rcount[p];
    }
    MPI_Alltoallv(out, scount, sdispl, MPI_BYTE, in, rcount, rdispl, MPI_BYTE, MPI_COMM_WORLD);
    compute(us / 4);
  }
  free(scount);
  free(rcount);
  free(sdispl);
  free(rdispl);
  free(out);
  free(in);
  MPI_Finalize();
  return 0;
}
