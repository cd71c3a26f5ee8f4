/* WAN bandwidth calibration for the validation: rank 0 streams COUNT messages of BYTES to rank 1
 * with blocking sends, and rank 1 answers each burst with one byte; ROUNDS bursts (the first ones
 * grow the TCP connection's window). Usage: stream ROUNDS COUNT BYTES */
#include <mpi.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int rounds = argc > 1 ? atoi(argv[1]) : 6;
  const int count = argc > 2 ? atoi(argv[2]) : 8;
  const int bytes = argc > 3 ? atoi(argv[3]) : 1 << 20;
  char *buf = calloc((size_t)bytes, 1);
  for (int r = 0; r < rounds; r++) {
    if (rank == 0) {
      for (int k = 0; k < count; k++) MPI_Send(buf, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buf, 1, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      for (int k = 0; k < count; k++) MPI_Recv(buf, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buf, 1, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    }
  }
  free(buf);
  MPI_Finalize();
  return 0;
}
