/* Validation program: an LU-like wavefront. Ranks form a grid (MPI_Dims_create); each sweep every
 * rank receives from its north and west neighbours, computes a block (a timed sleep) and sends to
 * its south and east ones; sweeps pipeline one after the other. Usage: wavefront SWEEPS COMPUTE_US
 * BYTES */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"
#include "grid.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const grid_t g = grid_create(2);
  const int x = g.coord[0], y = g.coord[1], *dims = g.dims;
  const int sweeps = argc > 1 ? atoi(argv[1]) : 40;
  const long us = argc > 2 ? atol(argv[2]) : 5000;
  const int bytes = argc > 3 ? atoi(argv[3]) : 4096;
  char *buf = calloc((size_t)bytes, 1);
  for (int s = 0; s < sweeps; s++) {
    if (y > 0) MPI_Recv(buf, bytes, MPI_BYTE, rank - dims[0], 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (x > 0) MPI_Recv(buf, bytes, MPI_BYTE, rank - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    compute(us);
    if (y < dims[1] - 1) MPI_Send(buf, bytes, MPI_BYTE, rank + dims[0], 0, MPI_COMM_WORLD);
    if (x < dims[0] - 1) MPI_Send(buf, bytes, MPI_BYTE, rank + 1, 0, MPI_COMM_WORLD);
  }
  free(buf);
  MPI_Finalize();
  return 0;
}
