/* Validation program: an FFT-like transpose. Each iteration: a compute (timed sleep) on the local
 * pencils, then the global transpose, an MPI_Alltoall of BLOCK_BYTES to every rank, and a second
 * compute. Usage: fft ITERATIONS COMPUTE_US BLOCK_BYTES */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int iters = argc > 1 ? atoi(argv[1]) : 20;
  const long us = argc > 2 ? atol(argv[2]) : 20000;
  const int block = argc > 3 ? atoi(argv[3]) : 262144;
  char *out = calloc((size_t)block * size, 1), *in = calloc((size_t)block * size, 1);
  for (int it = 0; it < iters; it++) {
    compute(us);
    MPI_Alltoall(out, block, MPI_BYTE, in, block, MPI_BYTE, MPI_COMM_WORLD);
    compute(us / 2);
  }
  free(out);
  free(in);
  MPI_Finalize();
  return 0;
}
