/* Known communication patterns for the observe-path tests: `patterns MODE`. Every mode checks
 * its own results and exits non-zero on a mismatch, so the shim can never pass by breaking MPI. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rank, size;

static void check(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "rank %d: wrong result in %s\n", rank, what);
    MPI_Abort(MPI_COMM_WORLD, 3);
  }
}

/* 10 messages of 1000 ints to the right neighbour, blocking. */
static void ring(void) {
  int out[1000], in[1000];
  for (int i = 0; i < 1000; i++) out[i] = rank * 1000 + i;
  for (int k = 0; k < 10; k++) {
    if (rank % 2 == 0) {
      MPI_Send(out, 1000, MPI_INT, (rank + 1) % size, k, MPI_COMM_WORLD);
      MPI_Recv(in, 1000, MPI_INT, (rank + size - 1) % size, k, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(in, 1000, MPI_INT, (rank + size - 1) % size, k, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(out, 1000, MPI_INT, (rank + 1) % size, k, MPI_COMM_WORLD);
    }
    check(in[999] == ((rank + size - 1) % size) * 1000 + 999, "ring");
  }
}

/* Rank r sends (r+1)*(d+1) doubles to every other rank d, non-blocking. */
static void allpairs(void) {
  MPI_Request reqs[64];
  double* out[32];
  double* in[32];
  int nr = 0;
  for (int d = 0; d < size; d++) {
    if (d == rank) continue;
    int n_out = (rank + 1) * (d + 1), n_in = (d + 1) * (rank + 1);
    out[d] = malloc(sizeof(double) * n_out);
    in[d] = malloc(sizeof(double) * n_in);
    for (int i = 0; i < n_out; i++) out[d][i] = rank + i;
    MPI_Irecv(in[d], n_in, MPI_DOUBLE, d, 7, MPI_COMM_WORLD, &reqs[nr++]);
    MPI_Isend(out[d], n_out, MPI_DOUBLE, d, 7, MPI_COMM_WORLD, &reqs[nr++]);
  }
  MPI_Waitall(nr, reqs, MPI_STATUSES_IGNORE);
  for (int d = 0; d < size; d++) {
    if (d == rank) continue;
    check(in[d][0] == d, "allpairs");
    free(out[d]);
    free(in[d]);
  }
}

/* Every rank but 0 sends 3 messages of 100 bytes to 0, which receives from ANY_SOURCE: blocking
 * with MPI_STATUS_IGNORE, then non-blocking completed by Wait, Waitany and Testall. */
static void anysource(void) {
  char buf[100];
  memset(buf, rank, sizeof buf);
  if (rank == 0) {
    int seen = 0;
    for (int i = 1; i < size; i++) {
      MPI_Recv(buf, 100, MPI_CHAR, MPI_ANY_SOURCE, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      seen += buf[0];
    }
    for (int i = 1; i < size; i++) {
      MPI_Request r;
      MPI_Irecv(buf, 100, MPI_CHAR, MPI_ANY_SOURCE, 2, MPI_COMM_WORLD, &r);
      if (i % 2)
        MPI_Wait(&r, MPI_STATUS_IGNORE);
      else {
        int idx;
        MPI_Waitany(1, &r, &idx, MPI_STATUS_IGNORE);
      }
      seen += buf[0];
    }
    for (int i = 1; i < size; i++) {
      MPI_Request r;
      int flag = 0;
      MPI_Irecv(buf, 100, MPI_CHAR, MPI_ANY_SOURCE, 3, MPI_COMM_WORLD, &r);
      while (!flag) MPI_Testall(1, &r, &flag, MPI_STATUSES_IGNORE);
      seen += buf[0];
    }
    check(seen == 3 * (size - 1) * size / 2, "anysource");
  } else {
    for (int tag = 1; tag <= 3; tag++) MPI_Send(buf, 100, MPI_CHAR, 0, tag, MPI_COMM_WORLD);
  }
}

/* Persistent ring: 5 rounds of Startall/Waitall of 64 longs to the right neighbour. */
static void persistent(void) {
  long out[64], in[64];
  MPI_Request reqs[2];
  for (int i = 0; i < 64; i++) out[i] = rank;
  MPI_Send_init(out, 64, MPI_LONG, (rank + 1) % size, 5, MPI_COMM_WORLD, &reqs[0]);
  MPI_Recv_init(in, 64, MPI_LONG, (rank + size - 1) % size, 5, MPI_COMM_WORLD, &reqs[1]);
  for (int k = 0; k < 5; k++) {
    MPI_Startall(2, reqs);
    MPI_Waitall(2, reqs, MPI_STATUSES_IGNORE);
    check(in[63] == (rank + size - 1) % size, "persistent");
  }
  MPI_Request_free(&reqs[0]);
  MPI_Request_free(&reqs[1]);
}

/* One call of each collective family on MPI_COMM_WORLD, root 1 where there is one. */
static void collectives(void) {
  enum { M = 256 };
  int* a = calloc(M * 64, sizeof(int));
  int* b = calloc(M * 64, sizeof(int));
  int counts[64], displs[64], pair[64];
  for (int i = 0; i < size; i++) {
    counts[i] = i + 1;
    displs[i] = i * M;
    pair[i] = rank + i + 1;
  }
  for (int i = 0; i < M; i++) a[i] = rank + i;
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Bcast(a, M, MPI_INT, 1, MPI_COMM_WORLD);
  check(a[5] == 1 + 5, "bcast");
  MPI_Reduce(a, b, M, MPI_INT, MPI_SUM, 1, MPI_COMM_WORLD);
  MPI_Allreduce(a, b, M, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  check(b[0] == size, "allreduce");
  MPI_Gather(a, M, MPI_INT, b, M, MPI_INT, 1, MPI_COMM_WORLD);
  MPI_Scatter(b, M, MPI_INT, a, M, MPI_INT, 1, MPI_COMM_WORLD);
  MPI_Allgather(a, M, MPI_INT, b, M, MPI_INT, MPI_COMM_WORLD);
  MPI_Alltoall(a, 16, MPI_INT, b, 16, MPI_INT, MPI_COMM_WORLD);
  MPI_Gatherv(a, rank + 1, MPI_INT, b, counts, displs, MPI_INT, 1, MPI_COMM_WORLD);
  MPI_Scatterv(b, counts, displs, MPI_INT, a, rank + 1, MPI_INT, 1, MPI_COMM_WORLD);
  MPI_Allgatherv(a, rank + 1, MPI_INT, b, counts, displs, MPI_INT, MPI_COMM_WORLD);
  /* rank r sends r+d+1 ints to rank d (and receives s+r+1 from rank s) */
  MPI_Alltoallv(a, pair, displs, MPI_INT, b, pair, displs, MPI_INT, MPI_COMM_WORLD);
  MPI_Reduce_scatter(a, b, counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Reduce_scatter_block(a, b, 8, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Scan(a, b, 10, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Exscan(a, b, 10, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Request r;
  MPI_Iallreduce(a, b, 32, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &r);
  MPI_Wait(&r, MPI_STATUS_IGNORE);
  free(a);
  free(b);
}

/* Split into even and odd ranks; Bcast from the split's rank 0 and Allreduce on each half. */
static void split(void) {
  MPI_Comm half;
  MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
  int x[100];
  for (int i = 0; i < 100; i++) x[i] = rank;
  MPI_Bcast(x, 100, MPI_INT, 0, half);
  check(x[0] == rank % 2, "split bcast");
  int s = 0;
  MPI_Allreduce(&x[0], &s, 1, MPI_INT, MPI_SUM, half);
  /* point to point inside the split: to the next rank of the half, ranks translated to world */
  int hr, hn, v = rank, w = -1;
  MPI_Comm_rank(half, &hr);
  MPI_Comm_size(half, &hn);
  MPI_Sendrecv(&v, 1, MPI_INT, (hr + 1) % hn, 9, &w, 1, MPI_INT, (hr + hn - 1) % hn, 9, half, MPI_STATUS_IGNORE);
  MPI_Comm_free(&half);
}

/* One-sided: each rank puts 32 ints into its right neighbour's window, gets 16 from its left. */
static void rma(void) {
  int* base;
  MPI_Win win;
  MPI_Win_allocate(64 * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win);
  int src[32], got[16];
  for (int i = 0; i < 32; i++) src[i] = rank;
  MPI_Win_fence(0, win);
  MPI_Put(src, 32, MPI_INT, (rank + 1) % size, 0, 32, MPI_INT, win);
  MPI_Win_fence(0, win);
  MPI_Get(got, 16, MPI_INT, (rank + size - 1) % size, 0, 16, MPI_INT, win);
  MPI_Win_fence(0, win);
  check(base[0] == (rank + size - 1) % size, "rma put");
  MPI_Win_free(&win);
}

/* Rank 0 waits 2 s in MPI_Recv for rank 1: a duration beyond 32 bits of clock ticks. */
static void wait2s(void) {
  int v = rank;
  if (rank == 1) {
    sleep(2);
    MPI_Send(&v, 1, MPI_INT, 0, 7, MPI_COMM_WORLD);
  }
  if (rank == 0) {
    MPI_Recv(&v, 1, MPI_INT, 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    check(v == 1, "wait2s");
  }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const char* mode = argc > 1 ? argv[1] : "ring";
  if (!strcmp(mode, "ring"))
    ring();
  else if (!strcmp(mode, "allpairs"))
    allpairs();
  else if (!strcmp(mode, "anysource"))
    anysource();
  else if (!strcmp(mode, "persistent"))
    persistent();
  else if (!strcmp(mode, "collectives"))
    collectives();
  else if (!strcmp(mode, "split"))
    split();
  else if (!strcmp(mode, "rma"))
    rma();
  else if (!strcmp(mode, "wait2s"))
    wait2s();
  else {
    fprintf(stderr, "unknown mode %s\n", mode);
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  if (rank == 0) printf("patterns %s: ok\n", mode);
  MPI_Finalize();
  return 0;
}
