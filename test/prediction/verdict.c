/* Two characters for the verdict from the prediction.
 * ring ROUNDS: a token passed around the ranks, each hop waiting for the one before (chains of
 *   dependent small messages: every WAN crossing costs a one-way latency).
 * ep ITERS SLEEP_US: computation between rare exchanges with a neighbour (embarrassingly parallel). */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int token = 0;
  int next = (rank + 1) % size, prev = (rank + size - 1) % size;
  if (argc >= 3 && strcmp(argv[1], "ring") == 0) {
    int rounds = atoi(argv[2]);
    for (int i = 0; i < rounds; i++) {
      if (rank == 0) {
        MPI_Send(&token, 1, MPI_INT, next, 0, MPI_COMM_WORLD);
        MPI_Recv(&token, 1, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else {
        MPI_Recv(&token, 1, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        token++;
        MPI_Send(&token, 1, MPI_INT, next, 0, MPI_COMM_WORLD);
      }
    }
  } else if (argc >= 4 && strcmp(argv[1], "ep") == 0) {
    int iters = atoi(argv[2]), us = atoi(argv[3]);
    for (int i = 0; i < iters; i++) {
      usleep(us);
      int got = 0;
      MPI_Sendrecv(&token, 1, MPI_INT, next, 0, &got, 1, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
  }
  MPI_Finalize();
  return 0;
}
