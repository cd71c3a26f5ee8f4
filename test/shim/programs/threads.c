/* Prints the CPUs each thread of this rank may run on, as one line "RANK main LIST sender LIST"
 * once the shim's sender thread has named itself (sender "none" after 2 s). */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sender_thread.h"

static int read_line(const char* path, const char* key, char* out, size_t n) {
  FILE* f = fopen(path, "r");
  char line[512];
  int found = 0;
  if (!f) return 0;
  while (fgets(line, sizeof line, f)) {
    if (key && strncmp(line, key, strlen(key)) != 0) continue;
    snprintf(out, n, "%s", key ? line + strlen(key) : line);
    out[strcspn(out, "\n")] = 0;
    found = 1;
    break;
  }
  fclose(f);
  return found;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  char dir[300], path[320], main_cpus[256] = "", sender[256] = "none";
  read_line("/proc/self/status", "Cpus_allowed_list:\t", main_cpus, sizeof main_cpus);
  if (sender_task_dir(dir, sizeof dir)) {
    snprintf(path, sizeof path, "%s/status", dir);
    read_line(path, "Cpus_allowed_list:\t", sender, sizeof sender);
  }
  printf("%d main %s sender %s\n", rank, main_cpus, sender);
  MPI_Finalize();
  return 0;
}
