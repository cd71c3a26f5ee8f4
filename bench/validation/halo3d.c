/* Validation program: a 3-D halo stencil. Ranks form a 3-D grid (MPI_Dims_create); each iteration a
 * timed sleep (the emulated compute), an exchange of FACE_BYTES with each of up to six face
 * neighbours (Irecv/Isend/Waitall) and, every 5 iterations, a residual Allreduce.
 * Usage: halo3d ITERATIONS COMPUTE_US FACE_BYTES */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"
#include "grid.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const grid_t g = grid_create(3);
  const int iters = argc > 1 ? atoi(argv[1]) : 40;
  const long us = argc > 2 ? atol(argv[2]) : 10000;
  const int face = argc > 3 ? atoi(argv[3]) : 16384;
  int nb[6];
  const int n = grid_faces(&g, rank, nb);
  char *out = calloc((size_t)face * 6, 1), *in = calloc((size_t)face * 6, 1);
  double r = 1, res = 0;
  for (int it = 0; it < iters; it++) {
    compute(us);
    halo_exchange(out, in, face, nb, n);
    if (it % 5 == 4) MPI_Allreduce(&r, &res, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  free(out);
  free(in);
  MPI_Finalize();
  return 0;
}
