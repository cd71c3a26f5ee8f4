/*
 * syscall-cost — what one system call costs on this machine right now.
 *
 * On the VM of these benchmarks a trivial system call took 0.1 us in some host states and 1 us in
 * others, and everything that enters the kernel moves with it: a rank that yields its core while
 * polling (mpi_yield_when_idle) makes one per poll, and on 8x1 every site-local byte crosses TCP
 * between namespaces. So each run records this figure next to the machine's CPU and boot
 * (bench/machine.ts), and runs are grouped by it.
 *
 * Usage: syscall-cost [CALLS]   (default 20000 of each)
 * Output: one JSON line {"getppidNs":..,"schedYieldNs":..}: the median over 9 rounds of the mean
 * time of one getppid (nothing done in the kernel) and of one sched_yield (alone on its core).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { ROUNDS = 9 };

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median over the rounds of the mean ns per call; syscall() itself, so that no libc cache answers. */
static double cost(long nr, int calls) {
  double t[ROUNDS];
  for (int r = 0; r < ROUNDS; ++r) {
    const double t0 = now_ns();
    for (int i = 0; i < calls; ++i) syscall(nr);
    t[r] = (now_ns() - t0) / calls;
  }
  qsort(t, ROUNDS, sizeof t[0], by_value);
  return t[ROUNDS / 2];
}

int main(int argc, char **argv) {
  const int calls = argc > 1 ? atoi(argv[1]) : 20000;
  if (argc > 2 || calls <= 0) {
    fprintf(stderr, "usage: syscall-cost [CALLS]   (CALLS > 0, default 20000)\n");
    return 2;
  }
  const double getppid_ns = cost(SYS_getppid, calls), yield_ns = cost(SYS_sched_yield, calls);
  printf("{\"getppidNs\":%.1f,\"schedYieldNs\":%.1f}\n", getppid_ns, yield_ns);
  return 0;
}
