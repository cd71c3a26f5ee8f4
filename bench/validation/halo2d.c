/* Validation program: a 2-D halo stencil. Ranks form a grid (MPI_Dims_create); each iteration a
 * timed sleep (the emulated compute), a halo exchange of HALO_BYTES with each neighbour
 * (Irecv/Isend/Waitall) and a residual Allreduce of one double. Usage: halo2d ITERATIONS
 * COMPUTE_US HALO_BYTES */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, dims[2] = {0, 0};
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Dims_create(size, 2, dims);
  const int iters = argc > 1 ? atoi(argv[1]) : 40;
  const long us = argc > 2 ? atol(argv[2]) : 10000;
  const int halo = argc > 3 ? atoi(argv[3]) : 32768;
  const int x = rank % dims[0], y = rank / dims[0];
  int nb[4], n = 0;
  if (x > 0) nb[n++] = rank - 1;
  if (x < dims[0] - 1) nb[n++] = rank + 1;
  if (y > 0) nb[n++] = rank - dims[0];
  if (y < dims[1] - 1) nb[n++] = rank + dims[0];
  char *out = calloc((size_t)halo * 4, 1), *in = calloc((size_t)halo * 4, 1);
  double r = 1, res = 0;
  for (int it = 0; it < iters; it++) {
    compute(us);
    MPI_Request rq[8];
    for (int k = 0; k < n; k++) MPI_Irecv(in + (size_t)k * halo, halo, MPI_BYTE, nb[k], 0, MPI_COMM_WORLD, &rq[k]);
    for (int k = 0; k < n; k++) MPI_Isend(out + (size_t)k * halo, halo, MPI_BYTE, nb[k], 0, MPI_COMM_WORLD, &rq[n + k]);
    MPI_Waitall(2 * n, rq, MPI_STATUSES_IGNORE);
    MPI_Allreduce(&r, &res, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  free(out);
  free(in);
  MPI_Finalize();
  return res > 0 ? 0 : 1;
}
