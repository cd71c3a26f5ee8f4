/* The cost of a collective through the shim (MPI_X: wrapper, record, site-aware dispatch) against
 * PMPI_X (not intercepted), side by side in one run: alternating blocks of N calls, the order
 * rotated every repetition, each block timed as the slowest rank's time. A third kind of block
 * times each PMPI_X with the two TSC reads that every record needs and nothing else: the floor of
 * any recorder that keeps each call's start and duration. Prints one JSON line per collective:
 * medians (ns per call), the median of the paired ratios, and the fastest blocks' ratio.
 * Usage: coll-overhead [calls-per-block] [repetitions] [bytes] */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#define TICKS() __rdtsc()  /* what the shim times calls with (native/shim/clock.h) */
#else
#define TICKS() ((unsigned long long)now())
#endif

#include "programs/timing.h"

enum { ALLREDUCE, BCAST, BARRIER, NCOLL };
static const char *names[NCOLL] = {"Allreduce", "Bcast", "Barrier"};
enum { SHIM, PMPI, TIMED, NPATH };  /* MPI_X; PMPI_X; PMPI_X between two TSC reads */
static char *sbuf, *rbuf;
static int bytes;
static volatile unsigned long long timed_sum;  /* keeps the timed path's reads alive */

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

static double block(int coll, int path, int calls) {
  PMPI_Barrier(MPI_COMM_WORLD);
  const double t0 = now();
  if (path == TIMED) {
    unsigned long long sum = 0;
    for (int i = 0; i < calls; ++i) {
      const unsigned long long s = TICKS();
      once(coll, 1);
      sum += TICKS() - s;
    }
    timed_sum += sum;
  } else {
    for (int i = 0; i < calls; ++i) once(coll, path == PMPI);
  }
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
  double *t[NPATH], *pr = malloc(sizeof(double) * reps), *fr = malloc(sizeof(double) * reps);
  for (int p = 0; p < NPATH; ++p) t[p] = malloc(sizeof(double) * reps);
  for (int c = 0; c < NCOLL; ++c) {
    for (int p = 0; p < NPATH; ++p) block(c, p, calls);  /* warm-up (builds the communicator's cache) */
    for (int r = 0; r < reps; ++r)
      for (int k = 0; k < NPATH; ++k) {
        const int p = (r + k) % NPATH;
        t[p][r] = block(c, p, calls);
      }
    /* Paired ratios (blocks of one repetition see the same machine load), their median; and the
     * ratio of the fastest blocks (the cost without interference). */
    double min[NPATH];
    for (int p = 0; p < NPATH; ++p) {
      min[p] = t[p][0];
      for (int r = 1; r < reps; ++r) if (t[p][r] < min[p]) min[p] = t[p][r];
    }
    for (int r = 0; r < reps; ++r) { pr[r] = t[SHIM][r] / t[PMPI][r]; fr[r] = t[TIMED][r] / t[PMPI][r]; }
    const double ratio = median(pr, reps), floor_ratio = median(fr, reps);
    const double shim = median(t[SHIM], reps), pmpi = median(t[PMPI], reps);
    if (rank == 0)
      printf("{\"coll\":\"%s\",\"bytes\":%d,\"calls\":%d,\"reps\":%d,\"shim_ns\":%.1f,\"pmpi_ns\":%.1f,"
             "\"ratio\":%.4f,\"shim_min_ns\":%.1f,\"pmpi_min_ns\":%.1f,\"ratio_min\":%.4f,\"floor_ratio\":%.4f}\n",
             names[c], c == BARRIER ? 0 : bytes, calls, reps, shim, pmpi, ratio, min[SHIM], min[PMPI],
             min[SHIM] / min[PMPI], floor_ratio);
  }
  MPI_Finalize();
  return 0;
}
