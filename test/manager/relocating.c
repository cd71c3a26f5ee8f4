/* A network-intensive job for the relocation test: for argv[1] ms, rounds of a ring exchange of
 * 64 KiB, an Allreduce and a Bcast, every result checked; then it prints the rounds and the errors
 * (a wrong result after a relocation's switch of the collectives shows here) and exits 1 on any. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N (64 * 1024 / sizeof(int))

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const double seconds = (argc > 1 ? atol(argv[1]) : 1000) / 1000.0;
  int *out = malloc(N * sizeof(int)), *in = malloc(N * sizeof(int));
  long rounds = 0, errors = 0;
  int go = 1;
  const double t0 = now();
  while (go) {
    const int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    for (size_t i = 0; i < N; i++) out[i] = (int)(rank * 7919 + rounds + i);
    MPI_Sendrecv(out, N, MPI_INT, next, 0, in, N, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (size_t i = 0; i < N; i += 97)
      if (in[i] != (int)(prev * 7919 + rounds + i)) errors++;
    long one = rank + rounds, sum = 0;
    MPI_Allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (sum != (long)size * (size - 1) / 2 + (long)size * rounds) errors++;
    /* rank 0 decides when to stop, so that every rank runs the same rounds */
    if (rank == 0) go = now() - t0 < seconds;
    int v[2] = {go, (int)rounds};
    MPI_Bcast(v, 2, MPI_INT, 0, MPI_COMM_WORLD);
    if (v[1] != (int)rounds) errors++;
    go = v[0];
    rounds++;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  long all = 0;
  MPI_Allreduce(&errors, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) printf("relocating: %d ranks, %ld rounds, %ld errors\n", size, rounds, all);
  free(out);
  free(in);
  MPI_Finalize();
  return all == 0 ? 0 : 1;
}
