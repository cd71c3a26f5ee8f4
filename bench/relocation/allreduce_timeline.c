/* The relocation end-to-end job: Allreduce of M bytes in a loop for SECONDS, with a little
 * computation between calls; rank 0 prints one JSON line per iteration window with the median
 * latency, so that a plot can show latency before and after the ranks were moved.
 * `allreduce_timeline SECONDS BYTES` */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const double seconds = argc > 1 ? atof(argv[1]) : 30;
  const int n = (argc > 2 ? atoi(argv[2]) : 65536) / (int)sizeof(int);
  int* in = malloc(sizeof(int) * (n + 1));
  int* out = malloc(sizeof(int) * (n + 1));
  double window[4096];
  int w = 0, wrong = 0;
  const double t0 = MPI_Wtime();
  double wstart = t0;
  for (long it = 0;; it++) {
    for (int i = 1; i <= n; i++) in[i] = rank + i + (int)it;
    in[0] = (rank == 0 && MPI_Wtime() - t0 >= seconds); /* the stop flag rides in the same call */
    const double a = MPI_Wtime();
    MPI_Allreduce(in, out, n + 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    const double lat = MPI_Wtime() - a;
    if (out[n] != size * (n + (int)it) + size * (size - 1) / 2) wrong++;
    if (rank == 0) {
      if (w < 4096) window[w++] = lat;
      const double now = MPI_Wtime();
      if (now - wstart >= 0.25 || out[0]) {
        qsort(window, w, sizeof(double), cmp);
        printf("{\"t\":%.3f,\"latency_ms\":%.3f,\"calls\":%d}\n", now - t0, window[w / 2] * 1e3, w);
        fflush(stdout);
        w = 0;
        wstart = now;
      }
    }
    if (out[0]) break;
  }
  int total_wrong = 0;
  MPI_Reduce(&wrong, &total_wrong, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) printf("{\"done\":true,\"wrong\":%d}\n", total_wrong);
  free(in);
  free(out);
  MPI_Finalize();
  return total_wrong != 0;
}
