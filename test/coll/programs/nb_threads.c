/* MPI_THREAD_MULTIPLE with site-aware non-blocking collectives: T threads per rank each start K
 * Iallreduces and Ibcasts on a duplicate of its own and complete them, thread 0 by MPI_Wait, the
 * others by polling MPI_Test, while the library's progress engine may run the shim's callback on
 * any of them at once (the chains' lock). Every result is checked exactly; rank 0 prints
 * "nb_threads ok" when all were right, "nb_threads skip" when the library does not provide
 * MPI_THREAD_MULTIPLE. Usage: nb_threads [K] [COUNT] */
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { T = 3 };
static int K = 40, count = 2048, rank, size;
static long errors;
static MPI_Comm own[T];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void complete(int t, MPI_Request *req) {
  if (t == 0) {
    MPI_Wait(req, MPI_STATUS_IGNORE);
    return;
  }
  int done = 0;
  while (!done) MPI_Test(req, &done, MPI_STATUS_IGNORE);
}

static void *work(void *arg) {
  const int t = (int)(long)arg, root = (t + 1) % size;
  double *in = malloc(sizeof(double) * (size_t)count), *out = malloc(sizeof(double) * (size_t)count);
  long bad = 0;
  for (int k = 0; k < K; ++k) {
    MPI_Request req;
    for (int i = 0; i < count; ++i) in[i] = rank + i + k + t;
    MPI_Iallreduce(in, out, count, MPI_DOUBLE, MPI_SUM, own[t], &req);
    complete(t, &req);
    for (int i = 0; i < count; ++i) bad += out[i] != (double)size * (i + k + t) + size * (size - 1) / 2.0;
    for (int i = 0; i < count; ++i) out[i] = rank == root ? 1000.0 * t + i + k : -1.0;
    MPI_Ibcast(out, count, MPI_DOUBLE, root, own[t], &req);
    complete(t, &req);
    for (int i = 0; i < count; ++i) bad += out[i] != 1000.0 * t + i + k;
  }
  if (bad) fprintf(stderr, "rank %d thread %d: %ld wrong elements\n", rank, t, bad);
  pthread_mutex_lock(&mu);
  errors += bad;
  pthread_mutex_unlock(&mu);
  free(in);
  free(out);
  return NULL;
}

int main(int argc, char **argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc > 1) K = atoi(argv[1]);
  if (argc > 2) count = atoi(argv[2]);
  if (provided < MPI_THREAD_MULTIPLE) {
    if (!rank) printf("nb_threads skip: provided %d\n", provided);
    MPI_Finalize();
    return 0;
  }
  for (int t = 0; t < T; ++t) MPI_Comm_dup(MPI_COMM_WORLD, &own[t]);
  pthread_t th[T];
  for (int t = 0; t < T; ++t) pthread_create(&th[t], NULL, work, (void *)(long)t);
  for (int t = 0; t < T; ++t) pthread_join(th[t], NULL);
  for (int t = 0; t < T; ++t) MPI_Comm_free(&own[t]);
  long all = 0;
  MPI_Allreduce(&errors, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (!rank) printf(all ? "nb_threads failed errors=%ld\n" : "nb_threads ok\n", all);
  MPI_Finalize();
  return all ? 1 : 0;
}
