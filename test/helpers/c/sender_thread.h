/* Finds the shim's sender thread among this process's threads, for the C test programs that look
 * at it from the inside (where it may run, what CPU it used). Compiled in with -I test/helpers/c
 * (compileMpi in test/helpers/mpi.ts). */
#ifndef SITEMPI_TEST_SENDER_THREAD_H
#define SITEMPI_TEST_SENDER_THREAD_H
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Writes "/proc/self/task/TID" of the thread named sitempi-sender into dir; waits up to 2 s for it
 * to name itself. Returns 0 when there is none by then. */
static int sender_task_dir(char* dir, size_t n) {
  for (int tries = 0; tries < 200; tries++) {
    DIR* d = opendir("/proc/self/task");
    struct dirent* e;
    int found = 0;
    while (d && !found && (e = readdir(d))) {
      char path[300], name[64] = "";
      if (e->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
      FILE* f = fopen(path, "r");
      if (!f) continue;
      found = fgets(name, sizeof name, f) && strcmp(name, "sitempi-sender\n") == 0;
      fclose(f);
      if (found) snprintf(dir, n, "/proc/self/task/%s", e->d_name);
    }
    if (d) closedir(d);
    if (found) return 1;
    usleep(10000);
  }
  return 0;
}

#endif
