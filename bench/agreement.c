/* The relocation agreement's cost when nothing changes: a small MPI_Allreduce loop on
 * MPI_COMM_WORLD through the shim, in alternating blocks with checkpoints every K calls (the
 * SITEMPI_CHECKPOINT_EVERY in force) and with checkpoints off, switched between blocks with the
 * shim's sitempi_checkpoint_every() (found with dlsym; all ranks call it at the same point). Each
 * block ends with that call too, so the reduction still in flight at its end is completed (and
 * timed) inside it. Block time = slowest rank's; the order is swapped every repetition.
 * Prints one JSON line: ns per call with and without checkpoints (medians), the median of the
 * paired ratios and the fastest blocks' ratio.
 * Usage: agreement [calls-per-block] [repetitions] [bytes] */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "programs/timing.h"
#include <unistd.h>

typedef int (*EveryFn)(MPI_Comm, int);
static EveryFn every_fn;
static double *sbuf, *rbuf;
static int n;

static double block(int every, int calls) {
  every_fn(MPI_COMM_WORLD, every);
  PMPI_Barrier(MPI_COMM_WORLD);
  const double t0 = now();
  for (int i = 0; i < calls; ++i) MPI_Allreduce(sbuf, rbuf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  every_fn(MPI_COMM_WORLD, every); /* completes the reduction in flight, inside the timed block */
  double t = (now() - t0) / calls, tmax = 0;
  PMPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return tmax;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const int calls = argc > 1 ? atoi(argv[1]) : 640;
  const int reps = argc > 2 ? atoi(argv[2]) : 201;
  const int bytes = argc > 3 ? atoi(argv[3]) : 8;
  int rank;
  PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
  n = bytes / 8 > 0 ? bytes / 8 : 1;
  sbuf = calloc((size_t)n, 8);
  rbuf = calloc((size_t)n, 8);
  every_fn = (EveryFn)dlsym(RTLD_DEFAULT, "sitempi_checkpoint_every");
  usleep(500000); /* the monitor's placement arrives right after Hello */
  for (int i = 0; i < 1000; ++i) MPI_Allreduce(sbuf, rbuf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  const int K = every_fn ? every_fn(MPI_COMM_WORLD, -1) : -1;
  if (K <= 0) {
    if (!rank)
      fprintf(stderr, "agreement: no relocation agreement in force (K=%d): run under the shim with SITEMPI_MONITOR\n",
              K);
    MPI_Finalize();
    return 2;
  }
  double *on = malloc(sizeof(double) * reps), *off = malloc(sizeof(double) * reps),
         *ratio = malloc(sizeof(double) * reps);
  block(K, calls);
  block(0, calls);
  for (int r = 0; r < reps; ++r) {
    if (r % 2) {
      off[r] = block(0, calls);
      on[r] = block(K, calls);
    } else {
      on[r] = block(K, calls);
      off[r] = block(0, calls);
    }
    ratio[r] = on[r] / off[r];
  }
  every_fn(MPI_COMM_WORLD, K);
  if (!rank) {
    double mon_min = on[0], moff_min = off[0];
    for (int r = 1; r < reps; ++r) {
      if (on[r] < mon_min) mon_min = on[r];
      if (off[r] < moff_min) moff_min = off[r];
    }
    const double rmed = median(ratio, reps), onm = median(on, reps), offm = median(off, reps);
    printf(
        "{\"every\":%d,\"calls\":%d,\"reps\":%d,\"bytes\":%d,\"on_ns\":%.1f,\"off_ns\":%.1f,\"ratio\":%.4f,\"ratio_"
        "min\":%.4f}\n",
        K, calls, reps, bytes, onm, offm, rmed, mon_min / moff_min);
  }
  free(on);
  free(off);
  free(ratio);
  MPI_Finalize();
  return 0;
}
