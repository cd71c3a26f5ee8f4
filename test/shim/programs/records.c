/* Many cheap recorded calls, for the shim's memory and full-disk tests: `records CALLS [rss]`.
 * Each rank makes CALLS MPI_Iprobe calls (one record each) and a checked Allreduce; rank 0 prints
 * one result line. With `rss`, every rank also prints its peak resident memory (VmHWM, kB) read
 * before MPI_Finalize. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long peak_rss_kb(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return kb;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size, flag, probes = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long calls = argc > 1 ? atol(argv[1]) : 100000;
  for (long i = 0; i < calls; i++) {
    MPI_Iprobe(MPI_ANY_SOURCE, 77, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    probes += flag; /* nobody sends tag 77 */
  }
  long mine = rank + 1, sum = 0;
  MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (sum != (long)size * (size + 1) / 2 || probes != 0) {
    fprintf(stderr, "rank %d: wrong result\n", rank);
    MPI_Abort(MPI_COMM_WORLD, 3);
  }
  if (rank == 0) printf("records: %ld calls on %d ranks, sum %ld\n", calls, size, sum);
  if (argc > 2 && strcmp(argv[2], "rss") == 0) printf("rank %d peak %ld kB\n", rank, peak_rss_kb());
  MPI_Finalize();
  return 0;
}
