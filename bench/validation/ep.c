/* Validation program: embarrassingly parallel. Each iteration is a timed sleep (the emulated
 * compute); every 10 iterations one small Allreduce. Usage: ep ITERATIONS COMPUTE_US */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const int iters = argc > 1 ? atoi(argv[1]) : 40;
  const long us = argc > 2 ? atol(argv[2]) : 20000;
  double x = 1, sum = 0;
  for (int it = 0; it < iters; it++) {
    compute(us);
    if (it % 10 == 9) MPI_Allreduce(&x, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  MPI_Finalize();
  return sum > 0 ? 0 : 1;
}
