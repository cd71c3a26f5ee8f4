/* MPI_THREAD_MULTIPLE: T threads per rank call MPI at the same time. Thread t exchanges K messages
 * of (t+1)*100 bytes around a ring on a communicator all threads share (all first use it at once),
 * tag t, half blocking and half non-blocking, and runs K Allreduces of t+1 ints on a duplicate of
 * its own. Rank 0 prints "threads ok" when every message and every sum was right.
 * Usage: threads_multiple [K] */
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T = 4 };
static int K = 200, rank, size, errors = 0;
static MPI_Comm shared, own[T];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void fail(void) {
  pthread_mutex_lock(&mu);
  ++errors;
  pthread_mutex_unlock(&mu);
}

static void *work(void *arg) {
  const int t = (int)(long)arg, n = (t + 1) * 100;
  const int next = (rank + 1) % size, prev = (rank + size - 1) % size;
  char *out = malloc(n), *in = malloc(n);
  for (int k = 0; k < K; ++k) {
    memset(out, (rank + k + t) & 0xff, n);
    if (k % 2 == 0) {
      MPI_Sendrecv(out, n, MPI_BYTE, next, t, in, n, MPI_BYTE, prev, t, shared, MPI_STATUS_IGNORE);
    } else {
      MPI_Request r[2];
      MPI_Irecv(in, n, MPI_BYTE, prev, t, shared, &r[0]);
      MPI_Isend(out, n, MPI_BYTE, next, t, shared, &r[1]);
      MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
    }
    if ((unsigned char)in[n - 1] != ((prev + k + t) & 0xff)) fail();
    int v[T], sum[T];
    for (int i = 0; i <= t; ++i) v[i] = rank + i + k;
    MPI_Allreduce(v, sum, t + 1, MPI_INT, MPI_SUM, own[t]);
    for (int i = 0; i <= t; ++i)
      if (sum[i] != size * (size - 1) / 2 + size * (i + k)) fail();
  }
  free(out);
  free(in);
  return NULL;
}

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  if (argc > 1) K = atoi(argv[1]);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (provided < MPI_THREAD_MULTIPLE) {
    if (rank == 0) printf("threads unsupported\n");
    MPI_Finalize();
    return 0;
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &shared);
  for (int t = 0; t < T; ++t) MPI_Comm_dup(MPI_COMM_WORLD, &own[t]);
  pthread_t th[T];
  for (int t = 0; t < T; ++t) pthread_create(&th[t], NULL, work, (void *)(long)t);
  for (int t = 0; t < T; ++t) pthread_join(th[t], NULL);
  int total = 0;
  MPI_Allreduce(&errors, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  for (int t = 0; t < T; ++t) MPI_Comm_free(&own[t]);
  MPI_Comm_free(&shared);
  if (rank == 0) printf(total ? "threads: %d errors\n" : "threads ok\n", total);
  MPI_Finalize();
  return 0;
}
