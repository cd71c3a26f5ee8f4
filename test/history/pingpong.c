/* A network-intensive job for the history tests: rank r exchanges 256 KiB with rank r + size/2 (on the
 * other site under an interleaved placement) for argv[1] seconds, checking every message. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  const int n = 64 * 1024;
  int *out = malloc(n * sizeof(int)), *in = malloc(n * sizeof(int));
  int peer = (rank + size / 2) % size, bad = 0, stop = 0;
  long iter = 0;
  double t0 = MPI_Wtime();
  while (!stop && size > 1) {
    for (int i = 0; i < n; i++) out[i] = (int)(rank * 1000003L + iter + i);
    MPI_Sendrecv(out, n, MPI_INT, peer, 0, in, n, MPI_INT, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (int i = 0; i < n; i += 997)
      if (in[i] != (int)(peer * 1000003L + iter + i)) bad++;
    iter++;
    /* both sides of a pair stop at the same iteration */
    if (iter % 8 == 0) {
      int mine = MPI_Wtime() - t0 >= seconds;
      MPI_Allreduce(&mine, &stop, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    }
  }
  int total = 0;
  MPI_Allreduce(&bad, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) printf("pingpong %s %ld\n", total == 0 ? "ok" : "WRONG", iter);
  free(out);
  free(in);
  MPI_Finalize();
  return 0;
}
