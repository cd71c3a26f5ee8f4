/* Iallreduce overlapped with computation. Four ways, alternating, ITERS times each:
 *   comm:     MPI_Allreduce alone;
 *   blocking: compute, then MPI_Allreduce;
 *   overlap:  MPI_Iallreduce, compute (calling MPI_Test between slices), MPI_Wait;
 *   icomm:    MPI_Iallreduce and MPI_Wait alone.
 * "Compute" is COMPUTE_MS of wall time in slices of 0.5 ms (sleeps: the testbed's cores are shared
 * with its WAN emulator). Each iteration's time is the slowest rank's. Results are checked against
 * a blocking Allreduce. Prints, from rank 0:
 *   overlap: comm_ms=C blocking_ms=B overlap_ms=O icomm_ms=I errors=E   (medians)
 * Usage: overlap DOUBLES ITERS COMPUTE_MS */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void slice(void) {
  struct timespec ts = {0, 500000};
  nanosleep(&ts, NULL);
}

static int cmp(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 4) {
    if (!rank) fprintf(stderr, "usage: overlap DOUBLES ITERS COMPUTE_MS\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const int n = atoi(argv[1]), iters = atoi(argv[2]);
  const double compute_s = atof(argv[3]) / 1e3;
  double *in = malloc(sizeof(double) * n), *out = malloc(sizeof(double) * n), *ref = malloc(sizeof(double) * n);
  double *t[4];
  for (int m = 0; m < 4; ++m) t[m] = malloc(sizeof(double) * iters);
  long errors = 0;
  for (int k = 0; k < n; ++k) in[k] = (double)((rank * 31 + k) % 1000);
  MPI_Allreduce(in, ref, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD); /* warm-up, and the reference */
  for (int it = 0; it < iters; ++it) {
    for (int m = 0; m < 4; ++m) {
      memset(out, 0, sizeof(double) * n);
      MPI_Barrier(MPI_COMM_WORLD);
      const double t0 = MPI_Wtime();
      if (m == 0) {
        MPI_Allreduce(in, out, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      } else if (m == 1) {
        while (MPI_Wtime() - t0 < compute_s) slice();
        MPI_Allreduce(in, out, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      } else {
        MPI_Request req;
        int flag = 0;
        MPI_Iallreduce(in, out, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &req);
        while (m == 2 && MPI_Wtime() - t0 < compute_s) {
          slice();
          if (!flag) MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
        }
        if (!flag) MPI_Wait(&req, MPI_STATUS_IGNORE);
      }
      double dt = MPI_Wtime() - t0, slowest;
      errors += memcmp(out, ref, sizeof(double) * n) != 0;
      PMPI_Allreduce(&dt, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      t[m][it] = slowest;
    }
  }
  long all_errors = 0;
  PMPI_Reduce(&errors, &all_errors, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  if (!rank)
    printf("overlap: comm_ms=%.2f blocking_ms=%.2f overlap_ms=%.2f icomm_ms=%.2f errors=%ld\n",
           median(t[0], iters) * 1e3, median(t[1], iters) * 1e3, median(t[2], iters) * 1e3, median(t[3], iters) * 1e3,
           all_errors);
  MPI_Finalize();
  return 0;
}
