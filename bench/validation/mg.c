/* Validation program: a multigrid V-cycle (after NPB MG). First a setup phase without
 * communication (a timed sleep of SETUP_US); then each cycle goes down LEVELS levels and back up:
 * at each level a compute that shrinks 8x per level (timed sleep) and a halo exchange with both
 * neighbours on a ring whose messages shrink 4x per level (Irecv/Isend/Waitall); a residual
 * Allreduce at the coarsest level and one per cycle. Usage: mg CYCLES COMPUTE_US BYTES SETUP_US */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"

#define LEVELS 5

static void exchange(char *out, char *in, int bytes, int left, int right) {
  MPI_Request rq[4];
  MPI_Irecv(in, bytes, MPI_BYTE, left, 2, MPI_COMM_WORLD, &rq[0]);
  MPI_Irecv(in + bytes, bytes, MPI_BYTE, right, 3, MPI_COMM_WORLD, &rq[1]);
  MPI_Isend(out, bytes, MPI_BYTE, right, 2, MPI_COMM_WORLD, &rq[2]);
  MPI_Isend(out + bytes, bytes, MPI_BYTE, left, 3, MPI_COMM_WORLD, &rq[3]);
  MPI_Waitall(4, rq, MPI_STATUSES_IGNORE);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int cycles = argc > 1 ? atoi(argv[1]) : 10;
  const long us = argc > 2 ? atol(argv[2]) : 16000;
  const int bytes = argc > 3 ? atoi(argv[3]) : 131072;
  const long setup = argc > 4 ? atol(argv[4]) : 500000;
  const int left = (rank + size - 1) % size, right = (rank + 1) % size;
  char *out = calloc((size_t)bytes * 2, 1), *in = calloc((size_t)bytes * 2, 1);
  double r = 1, res = 0;
  compute(setup);
  for (int c = 0; c < cycles; c++) {
    for (int l = 0; l < LEVELS; l++) { /* restriction: fine to coarse */
      compute(us >> (3 * l));
      exchange(out, in, bytes >> (2 * l), left, right);
    }
    MPI_Allreduce(&r, &res, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    for (int l = LEVELS - 1; l >= 0; l--) { /* prolongation: coarse to fine */
      exchange(out, in, bytes >> (2 * l), left, right);
      compute(us >> (3 * l));
    }
    MPI_Allreduce(&r, &res, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  free(out);
  free(in);
  MPI_Finalize();
  return res > 0 ? 0 : 1;
}
