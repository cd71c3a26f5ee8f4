/* A job for the manager's tests: each rank says on which host it runs, sleeps argv[1] ms, then all
 * agree on a sum (the result is checked), and the program exits with argv[2] (default 0). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  printf("rank %d on %s\n", rank, host);
  fflush(stdout);
  const long ms = argc > 1 ? atol(argv[1]) : 0;
  const int code = argc > 2 ? atoi(argv[2]) : 0;
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  int one = rank + 1, sum = 0;
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) printf("sleeper: %d ranks, sum %d (expected %d)\n", size, sum, size * (size + 1) / 2);
  MPI_Finalize();
  return code;
}
