/* A few collectives with checked results: the job must run whatever the site configuration. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, ok = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc > 1 && !strcmp(argv[1], "wait")) sleep(2); /* let a monitor's placement arrive */
  int x = rank + 1, sum = 0;
  MPI_Allreduce(&x, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  ok &= sum == size * (size + 1) / 2;
  int b = rank == 0 ? 42 : 0;
  MPI_Bcast(&b, 1, MPI_INT, 0, MPI_COMM_WORLD);
  ok &= b == 42;
  int all[64];
  MPI_Allgather(&rank, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
  for (int i = 0; i < size && i < 64; ++i) ok &= all[i] == i;
  MPI_Barrier(MPI_COMM_WORLD);
  int oks = 0;
  MPI_Reduce(&ok, &oks, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) printf(oks == size ? "coll_tiny ok\n" : "coll_tiny FAILED\n");
  MPI_Finalize();
  return 0;
}
