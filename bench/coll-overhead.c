/* The cost of a collective through the shim (MPI_X: wrapper, record, site-aware dispatch) against
 * PMPI_X (not intercepted), side by side in one run: alternating blocks of N calls, the order
 * rotated every repetition, each block timed as the slowest rank's time. A third kind of block
 * times each PMPI_X with the two TSC reads that every record needs and nothing else: the floor of
 * any recorder that keeps each call's start and duration. A fourth kind calls MPI_X on one rank
 * only (PMPI_X on the others; the rank changes every repetition): what the shim adds per call and
 * rank, which the first kind adds up over the ranks whose calls the iteration waits for. Besides
 * the collectives, a ping-pong between ranks 0 and 1 (MPI_Send + MPI_Recv each way: the shim's
 * cost on point-to-point latency).
 * Prints one JSON line per kind: medians (ns per iteration), the median of the paired ratios, the
 * median of the paired differences per intercepted call (added_ns: a collective is one call per
 * iteration, the ping-pong two on each of its ranks), the same for the TSC-read blocks (floor_ns:
 * what timing each call adds at the least), the largest over ranks of the same for the one-rank
 * blocks (one_rank_ns; each rank's: one_rank_by_rank_ns), and the fastest blocks' ratio.
 * Usage: coll-overhead [calls-per-block] [repetitions] [bytes]
 *        coll-overhead CALLS count shim|pmpi [bytes]: only CALLS iterations of each kind (Allreduce,
 *        Bcast, Barrier, ping-pong) on that path, untimed (for counting instructions under callgrind: the
 *        inclusive cost of each MPI_X less that of the PMPI_X it calls) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#define TICKS() __rdtsc() /* what the shim times calls with (native/shim/clock.h) */
#else
#define TICKS() ((unsigned long long)now())
#endif

#include "programs/timing.h"

enum { ALLREDUCE, BCAST, BARRIER, PINGPONG, NCOLL };
static const char *names[NCOLL] = {"Allreduce", "Bcast", "Barrier", "PingPong"};
enum { SHIM, PMPI, TIMED, ONE, NPATH }; /* MPI_X; PMPI_X; PMPI_X between two TSC reads; MPI_X on one rank */
static char *sbuf, *rbuf;
static int bytes, rank, size;
static int carrier;                           /* the ONE path's rank that calls MPI_X */
static volatile unsigned long long timed_sum; /* keeps the timed path's reads alive */

/* One MPI call on the path's entry point; on the timed path between two TSC reads. */
#define CALL(path, fn, ...)                                     \
  do {                                                          \
    if ((path) == SHIM || ((path) == ONE && rank == carrier)) { \
      MPI_##fn(__VA_ARGS__);                                    \
    } else if ((path) != TIMED) {                               \
      PMPI_##fn(__VA_ARGS__);                                   \
    } else {                                                    \
      const unsigned long long s_ = TICKS();                    \
      PMPI_##fn(__VA_ARGS__);                                   \
      timed_sum += TICKS() - s_;                                \
    }                                                           \
  } while (0)

/* One iteration: a collective, or a round trip between ranks 0 and 1 (the others wait). */
static void once(int coll, int path) {
  const int n = bytes / 8 > 0 ? bytes / 8 : 1;
  switch (coll) {
    case ALLREDUCE:
      CALL(path, Allreduce, sbuf, rbuf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      break;
    case BCAST:
      CALL(path, Bcast, sbuf, n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
      break;
    case BARRIER:
      CALL(path, Barrier, MPI_COMM_WORLD);
      break;
    default:
      if (rank == 0) {
        CALL(path, Send, sbuf, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
        CALL(path, Recv, rbuf, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        CALL(path, Recv, rbuf, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        CALL(path, Send, sbuf, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
      }
  }
}

static double block(int coll, int path, int calls) {
  PMPI_Barrier(MPI_COMM_WORLD);
  const double t0 = now();
  for (int i = 0; i < calls; ++i) once(coll, path);
  double t = (now() - t0) / calls, tmax = 0;
  PMPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return tmax;
}

/* The instruction-count mode: CALLS iterations of each kind on one path, nothing else. */
static int count_only(int calls, const char *path) {
  const int p = !strcmp(path, "pmpi") ? PMPI : SHIM;
  for (int c = 0; c < NCOLL; ++c)
    for (int i = 0; i < calls; ++i) once(c, p);
  MPI_Finalize();
  return 0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const int calls = argc > 1 ? atoi(argv[1]) : 200;
  if (argc > 3 && !strcmp(argv[2], "count")) {
    bytes = argc > 4 ? atoi(argv[4]) : 8;
    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    sbuf = calloc(1, (size_t)bytes + 8);
    rbuf = calloc(1, (size_t)bytes + 8);
    return count_only(calls, argv[3]);
  }
  const int reps = argc > 2 ? atoi(argv[2]) : 201;
  bytes = argc > 3 ? atoi(argv[3]) : 8;
  PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
  PMPI_Comm_size(MPI_COMM_WORLD, &size);
  sbuf = calloc(1, (size_t)bytes + 8);
  rbuf = calloc(1, (size_t)bytes + 8);
  double *t[NPATH], *pr = malloc(sizeof(double) * reps), *fr = malloc(sizeof(double) * reps);
  double *dr = malloc(sizeof(double) * reps), *fd = malloc(sizeof(double) * reps);
  double *od = malloc(sizeof(double) * reps);
  for (int p = 0; p < NPATH; ++p) t[p] = malloc(sizeof(double) * reps);
  for (int c = 0; c < NCOLL; ++c) {
    /* the ranks that take part: the ping-pong's are 0 and 1 */
    const int players = c == PINGPONG && size > 2 ? 2 : size;
    carrier = 0;
    for (int p = 0; p < NPATH; ++p) block(c, p, calls); /* warm-up (builds the communicator's cache) */
    for (int r = 0; r < reps; ++r)
      for (int k = 0; k < NPATH; ++k) {
        carrier = r % players;
        const int p = (r + k) % NPATH;
        t[p][r] = block(c, p, calls);
      }
    /* Paired ratios (blocks of one repetition see the same machine load), their median; and the
     * ratio of the fastest blocks (the cost without interference). */
    double min[NPATH];
    for (int p = 0; p < NPATH; ++p) {
      min[p] = t[p][0];
      for (int r = 1; r < reps; ++r)
        if (t[p][r] < min[p]) min[p] = t[p][r];
    }
    const int per_iter = c == PINGPONG ? 2 : 1; /* intercepted calls per iteration and rank */
    for (int r = 0; r < reps; ++r) {
      pr[r] = t[SHIM][r] / t[PMPI][r];
      fr[r] = t[TIMED][r] / t[PMPI][r];
      dr[r] = (t[SHIM][r] - t[PMPI][r]) / per_iter;
      fd[r] = (t[TIMED][r] - t[PMPI][r]) / per_iter;
    }
    const double ratio = median(pr, reps), floor_ratio = median(fr, reps), added = median(dr, reps);
    const double floor_ns = median(fd, reps);
    /* per carrier: the median of its repetitions' differences; the largest over the carriers */
    double one_rank = -1e300;
    char by_rank[512] = "";
    for (int q = 0, len = 0; q < players; ++q) {
      int n = 0;
      for (int r = q; r < reps; r += players) od[n++] = (t[ONE][r] - t[PMPI][r]) / per_iter;
      const double m = n > 0 ? median(od, n) : 0;
      if (m > one_rank) one_rank = m;
      if (len < (int)sizeof by_rank - 32) /* the first few dozen ranks listed */
        len += snprintf(by_rank + len, sizeof by_rank - (size_t)len, "%s%.1f", q ? "," : "", m);
    }
    const double shim = median(t[SHIM], reps), pmpi = median(t[PMPI], reps);
    if (rank == 0)
      printf(
          "{\"coll\":\"%s\",\"bytes\":%d,\"calls\":%d,\"reps\":%d,\"shim_ns\":%.1f,\"pmpi_ns\":%.1f,"
          "\"ratio\":%.4f,\"shim_min_ns\":%.1f,\"pmpi_min_ns\":%.1f,\"ratio_min\":%.4f,\"floor_ratio\":%.4f,"
          "\"added_ns\":%.1f,\"floor_ns\":%.1f,\"one_rank_ns\":%.1f,\"one_rank_by_rank_ns\":[%s],"
          "\"calls_per_iter\":%d}\n",
          names[c], c == BARRIER ? 0 : bytes, calls, reps, shim, pmpi, ratio, min[SHIM], min[PMPI],
          min[SHIM] / min[PMPI], floor_ratio, added, floor_ns, one_rank, by_rank, per_iter);
  }
  MPI_Finalize();
  return 0;
}
