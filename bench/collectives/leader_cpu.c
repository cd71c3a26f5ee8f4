/* The CPU a collective costs each rank, per call: thread CPU time (CLOCK_THREAD_CPUTIME_ID) and
 * wall time around a loop of calls, after a barrier. Run it twice side by side under the shim with
 * a site map, once per variant (e.g. SITEMPI_COLL_PACKED=1 and unset), to compare what the
 * leaders spend per forwarded byte. The thread CPU includes the MPI library's polling while a
 * rank waits (Open MPI polls), so compare variants on the same host state only.
 *
 * Usage: leader_cpu allgather|alltoall|gather|scatter|gatherv|scatterv|reduce_scatter BYTES ITERS [uneven]
 * (gather(v), scatter(v): root 0; reduce_scatter: Reduce_scatter_block of BYTES / 8 doubles per
 * rank, summed). gatherv/scatterv: blocks of BYTES with a gap of 64 bytes
 * between them in the root's buffer; `uneven`: rank j's block is (j % 4) * BYTES / 2 (0, half,
 * one, one and a half: a quarter of the blocks empty).
 * Output (rank 0): one JSON line per rank: {"rank","coll","bytes","iters","cpu_us","wall_us"},
 * cpu_us and wall_us per call; "block": the rank's own block in bytes.
 */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ALLGATHER, ALLTOALL, GATHER, SCATTER, GATHERV, SCATTERV, REDUCE_SCATTER };

static int *counts, *displs; /* the v variants' blocks, every rank's */

static void call(int coll, const char *s, char *r, int m) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  switch (coll) {
    case GATHERV:
      MPI_Gatherv(s, counts[rank], MPI_BYTE, r, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
      break;
    case SCATTERV:
      MPI_Scatterv(r, counts, displs, MPI_BYTE, (char *)s, counts[rank], MPI_BYTE, 0, MPI_COMM_WORLD);
      break;
    case ALLTOALL:
      MPI_Alltoall(s, m, MPI_BYTE, r, m, MPI_BYTE, MPI_COMM_WORLD);
      break;
    case REDUCE_SCATTER:
      MPI_Reduce_scatter_block(s, r, m / 8, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      break;
    case GATHER:
      MPI_Gather(s, m, MPI_BYTE, r, m, MPI_BYTE, 0, MPI_COMM_WORLD);
      break;
    case SCATTER:
      MPI_Scatter(r, m, MPI_BYTE, (char *)s, m, MPI_BYTE, 0, MPI_COMM_WORLD);
      break;
    default:
      MPI_Allgather(s, m, MPI_BYTE, r, m, MPI_BYTE, MPI_COMM_WORLD);
  }
}

static double now_us(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, P;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &P);
  if (argc < 4) {
    if (!rank)
      fprintf(
          stderr,
          "usage: leader_cpu allgather|alltoall|gather|scatter|gatherv|scatterv|reduce_scatter BYTES ITERS [uneven]\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const int coll = !strcmp(argv[1], "alltoall")         ? ALLTOALL
                   : !strcmp(argv[1], "gather")         ? GATHER
                   : !strcmp(argv[1], "scatter")        ? SCATTER
                   : !strcmp(argv[1], "gatherv")        ? GATHERV
                   : !strcmp(argv[1], "scatterv")       ? SCATTERV
                   : !strcmp(argv[1], "reduce_scatter") ? REDUCE_SCATTER
                                                        : ALLGATHER;
  const int a2a = coll == ALLTOALL || coll == REDUCE_SCATTER; /* a send buffer of P blocks */
  const int m = atoi(argv[2]), iters = atoi(argv[3]);
  const int uneven = argc > 4 && !strcmp(argv[4], "uneven");
  counts = malloc(sizeof(int) * (size_t)P);
  displs = malloc(sizeof(int) * (size_t)P);
  long span = 0;
  for (int j = 0; j < P; ++j) {
    counts[j] = uneven ? (j % 4) * (m / 2) : m;
    displs[j] = (int)span;
    span += counts[j] + 64;
  }
  char *s = malloc((size_t)m * (a2a ? (size_t)P : 2) + 1), *r = malloc((size_t)span + (size_t)m * (size_t)P + 1);
  if (!s || !r) MPI_Abort(MPI_COMM_WORLD, 3);
  memset(s, 0, (size_t)m * (a2a ? (size_t)P : 2)); /* zero: valid doubles to sum */
  memset(r, rank, (size_t)span + (size_t)m * (size_t)P);
  for (int w = 0; w < 2; ++w) call(coll, s, r, m); /* warm-up: caches, connections */
  MPI_Barrier(MPI_COMM_WORLD);
  const double c0 = now_us(CLOCK_THREAD_CPUTIME_ID), t0 = now_us(CLOCK_MONOTONIC);
  for (int i = 0; i < iters; ++i) call(coll, s, r, m);
  const double mine[2] = {(now_us(CLOCK_THREAD_CPUTIME_ID) - c0) / iters, (now_us(CLOCK_MONOTONIC) - t0) / iters};
  double *all = rank ? NULL : malloc(sizeof(double) * 2 * (size_t)P);
  MPI_Gather(mine, 2, MPI_DOUBLE, all, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (!rank)
    for (int j = 0; j < P; ++j)
      printf("{\"rank\":%d,\"coll\":\"%s\",\"bytes\":%d,\"block\":%d,\"iters\":%d,\"cpu_us\":%.1f,\"wall_us\":%.1f}\n",
             j, argv[1], m, coll >= GATHERV ? counts[j] : m, iters, all[2 * j], all[2 * j + 1]);
  free(all);
  free(counts);
  free(displs);
  free(s);
  free(r);
  MPI_Finalize();
  return 0;
}
