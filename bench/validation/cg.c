/* Validation program: a CG-like sparse solver (after NPB CG's communication). Each iteration: the
 * matrix-vector product's partial sums reduced by a chain of dependent small exchanges with the
 * partners rank^1, rank^2, ... (Irecv/Send/Wait: each step needs the previous one's result), a
 * short compute (timed sleep) between them, and two dot products (Allreduce of one double).
 * Usage: cg ITERATIONS COMPUTE_US BYTES */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int iters = argc > 1 ? atoi(argv[1]) : 40;
  const long us = argc > 2 ? atol(argv[2]) : 2000;
  const int bytes = argc > 3 ? atoi(argv[3]) : 2048;
  char *out = calloc((size_t)bytes, 1), *in = calloc((size_t)bytes, 1);
  double a = 1, b = 0;
  for (int it = 0; it < iters; it++) {
    compute(us);
    for (int bit = 1; bit < size; bit <<= 1) {
      const int partner = rank ^ bit;
      if (partner >= size) continue;
      MPI_Request rq;
      MPI_Irecv(in, bytes, MPI_BYTE, partner, 1, MPI_COMM_WORLD, &rq);
      MPI_Send(out, bytes, MPI_BYTE, partner, 1, MPI_COMM_WORLD);
      MPI_Wait(&rq, MPI_STATUS_IGNORE);
      compute(us / 8);
    }
    MPI_Allreduce(&a, &b, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    compute(us / 4);
    MPI_Allreduce(&a, &b, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  free(out);
  free(in);
  MPI_Finalize();
  return b > 0 ? 0 : 1;
}
