/* Sleeps IDLE_MS (argv[1]) after MPI_Init and prints "RANK sender_ms MS idle_ms MS": the CPU time
 * (user + system) the shim's sender thread used meanwhile, and the time it slept. */
#include <dirent.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The sender thread's CPU time in clock ticks; -1 while it has no name yet. */
static long sender_ticks(void) {
  DIR* d = opendir("/proc/self/task");
  struct dirent* e;
  long ticks = -1;
  while (d && (e = readdir(d))) {
    char path[300], buf[1024] = "";
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE* f = fopen(path, "r");
    if (!f) continue;
    const int named = fgets(buf, sizeof buf, f) && strncmp(buf, "sitempi-sender", 14) == 0;
    fclose(f);
    if (!named) continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
    if (!(f = fopen(path, "r"))) continue;
    const char* fields = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
    fclose(f);
    unsigned long utime = 0, stime = 0;
    /* after the name: state and 10 more fields, then utime and stime (proc(5)) */
    if (fields && sscanf(fields + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) == 2)
      ticks = (long)(utime + stime);
  }
  if (d) closedir(d);
  return ticks;
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
  long before = -1;
  for (int tries = 0; tries < 200 && before < 0; tries++) {
    before = sender_ticks();
    if (before < 0) usleep(10000);
  }
  const double t0 = now_ms();
  usleep((useconds_t)(idle * 1000));
  const double slept = now_ms() - t0;
  const long after = sender_ticks();
  const double ms_per_tick = 1e3 / (double)sysconf(_SC_CLK_TCK);
  printf("%d sender_ms %.0f idle_ms %.0f\n", rank, before < 0 || after < 0 ? -1.0 : (after - before) * ms_per_tick,
         slept);
  MPI_Finalize();
  return 0;
}
