/* Validation program: a 2-D halo stencil. Ranks form a grid (MPI_Dims_create); each iteration a
 * timed sleep (the emulated compute), a halo exchange of HALO_BYTES with each neighbour
 * (Irecv/Isend/Waitall) and a residual Allreduce of one double. Usage: halo2d ITERATIONS
 * COMPUTE_US HALO_BYTES */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"
#include "grid.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const grid_t g = grid_create(2);
  const int iters = argc > 1 ? atoi(argv[1]) : 40;
  const long us = argc > 2 ? atol(argv[2]) : 10000;
  const int halo = argc > 3 ? atoi(argv[3]) : 32768;
  int nb[6];
  const int n = grid_faces(&g, rank, nb);
  char *out = calloc((size_t)halo * 4, 1), *in = calloc((size_t)halo * 4, 1);
  double r = 1, res = 0;
  for (int it = 0; it < iters; it++) {
    compute(us);
    halo_exchange(out, in, halo, nb, n);
    MPI_Allreduce(&r, &res, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  free(out);
  free(in);
  MPI_Finalize();
  return res > 0 ? 0 : 1;
}
