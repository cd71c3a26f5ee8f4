/* A small kernel for the replay tests: per iteration a timed sleep (the compute), a token ring with
 * Send/Recv, a halo exchange with Isend/Irecv/Waitall, a Sendrecv shift and an Allreduce.
 * Usage: kernel ITERATIONS SLEEP_US */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int iters = argc > 1 ? atoi(argv[1]) : 5;
  const long us = argc > 2 ? atol(argv[2]) : 10000;
  const int right = (rank + 1) % size, left = (rank + size - 1) % size;
  double token = 0, halo[2][64] = {{0}}, mine[64] = {0}, sum[8], part[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (int it = 0; it < iters; it++) {
    sleep_us(us);
    if (rank == 0) {
      MPI_Send(&token, 1, MPI_DOUBLE, right, 1, MPI_COMM_WORLD);
      MPI_Recv(&token, 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(&token, 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      token += 1;
      MPI_Send(&token, 1, MPI_DOUBLE, right, 1, MPI_COMM_WORLD);
    }
    MPI_Request rq[4];
    MPI_Irecv(halo[0], 64, MPI_DOUBLE, left, 2, MPI_COMM_WORLD, &rq[0]);
    MPI_Irecv(halo[1], 64, MPI_DOUBLE, right, 3, MPI_COMM_WORLD, &rq[1]);
    MPI_Isend(mine, 64, MPI_DOUBLE, right, 2, MPI_COMM_WORLD, &rq[2]);
    MPI_Isend(mine, 64, MPI_DOUBLE, left, 3, MPI_COMM_WORLD, &rq[3]);
    MPI_Waitall(4, rq, MPI_STATUSES_IGNORE);
    MPI_Sendrecv(mine, 16, MPI_DOUBLE, right, 4, halo[0], 16, MPI_DOUBLE, left, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Allreduce(part, sum, 8, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  if (rank == 0) printf("token %.0f sum %.0f\n", token, sum[0]);
  MPI_Finalize();
  return 0;
}
