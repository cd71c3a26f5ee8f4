/*
 * wake-lateness — how late processes wake from a sleep to an absolute time on this machine.
 *
 * The collective benchmark starts every iteration by putting all ranks to sleep until one instant
 * of CLOCK_MONOTONIC (osu_coll.c); the last rank's lateness is inside every figure (its `wake`
 * column). On a VM the hypervisor's timer can make that lateness a tenth of a millisecond or more,
 * so each run records this machine's figure next to its CPU model and kernel (bench/machine.ts).
 *
 * Usage: wake-lateness PROCS SLEEPS PERIOD_MS
 *   PROCS processes sleep together SLEEPS times, PERIOD_MS apart (clock_nanosleep, TIMER_ABSTIME,
 *   the default timer slack); for each sleep, the lateness of the last one to wake.
 * Output: one JSON line {"procs":P,"sleeps":S,"medianUs":..,"p75Us":..,"maxUs":..} over the sleeps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  const long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const int procs = argc == 4 ? atoi(argv[1]) : 0;
  const int sleeps = argc == 4 ? atoi(argv[2]) : 0;
  const long long period = argc == 4 ? atoll(argv[3]) * 1000000LL : 0;
  if (procs < 1 || procs > 1024 || sleeps < 1 || sleeps > 100000 || period < 1000000LL) {
    fprintf(stderr, "usage: wake-lateness PROCS(1-1024) SLEEPS(1-100000) PERIOD_MS(>=1)\n");
    return 2;
  }
  /* Lateness of process k at sleep i, shared with the children. */
  const size_t n = (size_t)procs * (size_t)sleeps;
  long long *late = mmap(NULL, n * sizeof *late, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (late == MAP_FAILED) {
    perror("wake-lateness: mmap");
    return 1;
  }
  const long long t0 = now_ns() + 50000000LL; /* every child is forked and asleep by then */
  for (int k = 0; k < procs; k++) {
    const pid_t pid = fork();
    if (pid < 0) {
      perror("wake-lateness: fork");
      return 1;
    }
    if (pid > 0) continue;
    for (int i = 0; i < sleeps; i++) {
      const long long t = t0 + i * period;
      const struct timespec ts = {(time_t)(t / 1000000000LL), (long)(t % 1000000000LL)};
      int rc;
      while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR) {
      }
      if (rc != 0) _exit(1); /* the parent reports it */
      late[(size_t)k * (size_t)sleeps + (size_t)i] = now_ns() - t;
    }
    _exit(0);
  }
  int failed = 0, status;
  while (wait(&status) > 0)
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  if (failed) {
    fprintf(stderr, "wake-lateness: a sleeping process failed\n");
    return 1;
  }
  long long *last = malloc((size_t)sleeps * sizeof *last);
  if (!last) return 1;
  for (int i = 0; i < sleeps; i++) {
    last[i] = 0;
    for (int k = 0; k < procs; k++) {
      const long long l = late[(size_t)k * (size_t)sleeps + (size_t)i];
      if (l > last[i]) last[i] = l;
    }
  }
  qsort(last, (size_t)sleeps, sizeof *last, by_value);
  printf("{\"procs\":%d,\"sleeps\":%d,\"medianUs\":%.1f,\"p75Us\":%.1f,\"maxUs\":%.1f}\n", procs, sleeps,
         last[sleeps / 2] / 1e3, last[(sleeps * 3) / 4] / 1e3, last[sleeps - 1] / 1e3);
  free(last);
  return 0;
}
