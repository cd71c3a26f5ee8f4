/* Ping-pong between ranks 0 and 1 for the replay's calibration: REPS round trips at each size. */
#include <mpi.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int reps = argc > 1 ? atoi(argv[1]) : 50;
  static const int sizes[] = {8, 1024, 8192, 32768, 65536};
  char *buf = calloc(65536, 1);
  for (unsigned s = 0; s < sizeof sizes / sizeof *sizes; s++)
    for (int i = 0; i < reps; i++) {
      if (rank == 0) {
        MPI_Send(buf, sizes[s], MPI_BYTE, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(buf, sizes[s], MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(buf, sizes[s], MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buf, sizes[s], MPI_BYTE, 0, 0, MPI_COMM_WORLD);
      }
    }
  free(buf);
  MPI_Finalize();
  return 0;
}
