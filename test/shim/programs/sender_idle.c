/* Sleeps IDLE_MS (argv[1]) after MPI_Init and prints "RANK sender_ms MS idle_ms MS": the CPU time
 * (user + system) the shim's sender thread used meanwhile, and the time it slept. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sender_thread.h"

/* The CPU time (user + system) of the thread whose /proc directory is dir, in clock ticks; -1 if
 * unreadable. */
static long cpu_ticks(const char* dir) {
  char path[320], buf[1024] = "";
  snprintf(path, sizeof path, "%s/stat", dir);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  const char* fields = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
  fclose(f);
  unsigned long utime = 0, stime = 0;
  /* after the name: state and 10 more fields, then utime and stime (proc(5)) */
  if (!fields || sscanf(fields + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    return -1;
  return (long)(utime + stime);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const long idle = argc > 1 ? atol(argv[1]) : 1000;
  char dir[300];
  const int found = sender_task_dir(dir, sizeof dir);
  const long before = found ? cpu_ticks(dir) : -1;
  const double t0 = now_ms();
  usleep((useconds_t)(idle * 1000));
  const double slept = now_ms() - t0;
  const long after = found ? cpu_ticks(dir) : -1;
  const double ms_per_tick = 1e3 / (double)sysconf(_SC_CLK_TCK);
  printf("%d sender_ms %.0f idle_ms %.0f\n", rank, before < 0 || after < 0 ? -1.0 : (after - before) * ms_per_tick,
         slept);
  MPI_Finalize();
  return 0;
}
