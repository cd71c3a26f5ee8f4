// Measurement fixes of issue #13 (test/shim/measure.test.ts): rank 1 sends 10 and 25 ints to rank
// 0, which posts receives of 1000 ints (one with MPI_STATUS_IGNORE, one from MPI_ANY_SOURCE); then
// every rank runs an Allreduce of one double and one of 2^17 doubles (the library's algorithms).
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  static int buf[1000];
  if (rank == 1) {
    MPI_Send(buf, 10, MPI_INT, 0, 1, MPI_COMM_WORLD);
    MPI_Send(buf, 25, MPI_INT, 0, 2, MPI_COMM_WORLD);
  } else if (rank == 0) {
    MPI_Status st;
    MPI_Recv(buf, 1000, MPI_INT, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Recv(buf, 1000, MPI_INT, MPI_ANY_SOURCE, 2, MPI_COMM_WORLD, &st);
  }
  const int n = 1 << 17;
  double one = rank, sum = 0;
  double* big = malloc(sizeof(double) * n);
  double* out = malloc(sizeof(double) * n);
  if (!big || !out) MPI_Abort(MPI_COMM_WORLD, 2);
  for (int i = 0; i < n; i++) big[i] = rank;
  MPI_Allreduce(&one, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(big, out, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  const double want = size * (size - 1) / 2.0;
  if (sum != want || out[0] != want || out[n - 1] != want) {
    fprintf(stderr, "measure: wrong sums\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  if (rank == 0) printf("measure ok\n");
  free(big);
  free(out);
  MPI_Finalize();
  return 0;
}
