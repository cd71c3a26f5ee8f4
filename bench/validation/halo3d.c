/* Validation program: a 3-D halo stencil. Ranks form a 3-D grid (MPI_Dims_create); each iteration a
 * timed sleep (the emulated compute), an exchange of FACE_BYTES with each of up to six face
 * neighbours (Irecv/Isend/Waitall) and, every 5 iterations, a residual Allreduce.
 * Usage: halo3d ITERATIONS COMPUTE_US FACE_BYTES */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, d[3] = {0, 0, 0};
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Dims_create(size, 3, d);
  const int iters = argc > 1 ? atoi(argv[1]) : 40;
  const long us = argc > 2 ? atol(argv[2]) : 10000;
  const int face = argc > 3 ? atoi(argv[3]) : 16384;
  const int c[3] = {rank % d[0], (rank / d[0]) % d[1], rank / (d[0] * d[1])};
  const int stride[3] = {1, d[0], d[0] * d[1]};
  int nb[6], n = 0;
  for (int k = 0; k < 3; k++) {
    if (c[k] > 0) nb[n++] = rank - stride[k];
    if (c[k] < d[k] - 1) nb[n++] = rank + stride[k];
  }
  char *out = calloc((size_t)face * 6, 1), *in = calloc((size_t)face * 6, 1);
  double r = 1, res = 0;
  for (int it = 0; it < iters; it++) {
    compute(us);
    MPI_Request rq[12];
    for (int k = 0; k < n; k++) MPI_Irecv(in + (size_t)k * face, face, MPI_BYTE, nb[k], 0, MPI_COMM_WORLD, &rq[k]);
    for (int k = 0; k < n; k++) MPI_Isend(out + (size_t)k * face, face, MPI_BYTE, nb[k], 0, MPI_COMM_WORLD, &rq[n + k]);
    MPI_Waitall(2 * n, rq, MPI_STATUSES_IGNORE);
    if (it % 5 == 4) MPI_Allreduce(&r, &res, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  free(out);
  free(in);
  MPI_Finalize();
  return 0;
}
