/* Alltoalls of given sizes, each checked: argv[1] = calls per size, then sizes in bytes per pair
 * (multiples of 4). Every block carries (source, destination, call, index); prints
 * "alltoall_sizes done errors=N" on rank 0. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size, errors = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int calls = argc > 1 ? atoi(argv[1]) : 1;
  for (int a = 2; a < argc; ++a) {
    const int n = atoi(argv[a]) / 4;
    int* sb = malloc(sizeof(int) * (size_t)n * (size_t)size);
    int* rb = malloc(sizeof(int) * (size_t)n * (size_t)size);
    for (int c = 0; c < calls; ++c) {
      for (int j = 0; j < size; ++j)
        for (int i = 0; i < n; ++i) sb[(size_t)j * n + i] = ((rank * 64 + j) * 64 + c) * 4096 + i % 4096;
      MPI_Alltoall(sb, n, MPI_INT, rb, n, MPI_INT, MPI_COMM_WORLD);
      for (int j = 0; j < size; ++j)
        for (int i = 0; i < n; ++i)
          if (rb[(size_t)j * n + i] != ((j * 64 + rank) * 64 + c) * 4096 + i % 4096) ++errors;
    }
    free(sb);
    free(rb);
  }
  int all = 0;
  MPI_Reduce(&errors, &all, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) printf("alltoall_sizes done errors=%d\n", all);
  MPI_Finalize();
  return 0;
}
