/* How much CPU a rank spends in calls whose crossings are paced at a rate: CALLS spread Gathers
 * of BYTES per rank to rank 0, each rank timing its own main thread's CPU and the wall clock over
 * them. Prints "paced_idle RANK CPU_MS WALL_MS" per rank (rank order) and "paced_idle ok" when
 * every Gather delivered every rank's block.
 * Usage: paced_idle BYTES CALLS */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int bytes = argc > 2 ? atoi(argv[1]) : 0, calls = argc > 2 ? atoi(argv[2]) : 0;
  if (bytes <= 0 || calls <= 0) {
    if (rank == 0) fprintf(stderr, "usage: paced_idle BYTES CALLS\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  unsigned char *mine = malloc((size_t)bytes), *all = malloc((size_t)bytes * (size_t)size);
  if (!mine || !all) MPI_Abort(MPI_COMM_WORLD, 1);
  for (int i = 0; i < bytes; ++i) mine[i] = (unsigned char)(rank * 31 + i);
  int ok = 1;
  MPI_Barrier(MPI_COMM_WORLD);
  const double cpu0 = seconds(CLOCK_THREAD_CPUTIME_ID), wall0 = seconds(CLOCK_MONOTONIC);
  for (int c = 0; c < calls; ++c) {
    memset(all, 0, (size_t)bytes * (size_t)size);
    MPI_Gather(mine, bytes, MPI_BYTE, all, bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (rank == 0)
      for (int r = 0; r < size; ++r)
        for (int i = 0; i < bytes; ++i) ok &= all[(size_t)r * (size_t)bytes + (size_t)i] == (unsigned char)(r * 31 + i);
  }
  double mine_ms[2] = {(seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0) * 1e3, (seconds(CLOCK_MONOTONIC) - wall0) * 1e3};
  double *every = rank == 0 ? malloc(sizeof(double) * 2 * (size_t)size) : NULL;
  MPI_Gather(mine_ms, 2, MPI_DOUBLE, every, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    for (int r = 0; r < size; ++r) printf("paced_idle %d %.1f %.1f\n", r, every[2 * r], every[2 * r + 1]);
    printf(ok ? "paced_idle ok\n" : "paced_idle FAILED\n");
  }
  free(every);
  free(mine);
  free(all);
  MPI_Finalize();
  return 0;
}
