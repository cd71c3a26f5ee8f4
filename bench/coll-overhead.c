/* The cost of a collective through the shim (MPI_X: wrapper, record, site-aware dispatch) against
 * PMPI_X (not intercepted), side by side in one run: alternating blocks of N calls, the order
 * swapped every repetition, each block timed as the slowest rank's time. Prints one JSON line per
 * collective: medians (ns per call), the median of the paired ratios, and the fastest blocks' ratio.
 * Usage: coll-overhead [calls-per-block] [repetitions] [bytes] */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "programs/timing.h"

enum { ALLREDUCE, BCAST, BARRIER, NCOLL };
static const char *names[NCOLL] = {"Allreduce", "Bcast", "Barrier"};
static char *sbuf, *rbuf;
static int bytes;

static void once(int coll, int pmpi) {
  const int n = bytes / 8 > 0 ? bytes / 8 : 1;
  switch (coll) {
    case ALLREDUCE:
      if (pmpi) PMPI_Allreduce(sbuf, rbuf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      else MPI_Allreduce(sbuf, rbuf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      break;
    case BCAST:
      if (pmpi) PMPI_Bcast(sbuf, n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
      else MPI_Bcast(sbuf, n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
      break;
    default:
      if (pmpi) PMPI_Barrier(MPI_COMM_WORLD);
      else MPI_Barrier(MPI_COMM_WORLD);
  }
}

static double block(int coll, int pmpi, int calls) {
  PMPI_Barrier(MPI_COMM_WORLD);
  const double t0 = now();
  for (int i = 0; i < calls; ++i) once(coll, pmpi);
  double t = (now() - t0) / calls, tmax = 0;
  PMPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return tmax;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const int calls = argc > 1 ? atoi(argv[1]) : 200;
  const int reps = argc > 2 ? atoi(argv[2]) : 201;
  bytes = argc > 3 ? atoi(argv[3]) : 8;
  int rank;
  PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
  sbuf = calloc(1, (size_t)bytes + 8);
  rbuf = calloc(1, (size_t)bytes + 8);
  double *a = malloc(sizeof(double) * reps), *b = malloc(sizeof(double) * reps), *pr = malloc(sizeof(double) * reps);
  for (int c = 0; c < NCOLL; ++c) {
    block(c, 0, calls);  /* warm-up, both paths (builds the communicator's cache) */
    block(c, 1, calls);
    for (int r = 0; r < reps; ++r) {
      if (r % 2) { a[r] = block(c, 0, calls); b[r] = block(c, 1, calls); }
      else { b[r] = block(c, 1, calls); a[r] = block(c, 0, calls); }
    }
    /* Paired ratios (adjacent blocks see the same machine load), their median; and the ratio of
     * the fastest blocks (the cost without interference). */
    double amin = a[0], bmin = b[0];
    for (int r = 0; r < reps; ++r) { pr[r] = a[r] / b[r]; if (a[r] < amin) amin = a[r]; if (b[r] < bmin) bmin = b[r]; }
    const double ratio = median(pr, reps);
    const double shim = median(a, reps), pmpi = median(b, reps);
    if (rank == 0)
      printf("{\"coll\":\"%s\",\"bytes\":%d,\"calls\":%d,\"reps\":%d,\"shim_ns\":%.1f,\"pmpi_ns\":%.1f,"
             "\"ratio\":%.4f,\"shim_min_ns\":%.1f,\"pmpi_min_ns\":%.1f,\"ratio_min\":%.4f}\n",
             names[c], c == BARRIER ? 0 : bytes, calls, reps, shim, pmpi, ratio, amin, bmin, amin / bmin);
  }
  MPI_Finalize();
  return 0;
}
