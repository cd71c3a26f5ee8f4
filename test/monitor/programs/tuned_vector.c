// Library-run Allgatherv and Reduce_scatter_block (test/monitor/tuned-vector.test.ts), one call per
// argument: "agv:B" an Allgatherv of B bytes from every rank, "agvu:B" one of B + 100 * rank bytes
// (unequal blocks), "rsb:B" a Reduce_scatter_block of B bytes per rank (unsigned chars, MPI_MAX),
// "rs:B" a Reduce_scatter of B bytes to each rank; the collectives coll/tuned leaves to coll/basic:
// "gv:B" a Gatherv to rank 1 of B + rank bytes, "sv:B" a Scatterv from rank 1 of B + rank bytes,
// "scan:B" and "exscan:B" of B bytes; and "a2av:B" an Alltoallv of B + rank + peer bytes to each peer.
// Every result is checked: the program prints "tuned_vector ok" only if each call did its job.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size;

static void fail(const char* what) {
  fprintf(stderr, "tuned_vector: %s wrong on rank %d\n", what, rank);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

static void allgatherv(int base, int step) {
  int* counts = malloc(sizeof(int) * (size_t)size);
  int* displs = malloc(sizeof(int) * (size_t)size);
  if (!counts || !displs) MPI_Abort(MPI_COMM_WORLD, 2);
  int total = 0;
  for (int r = 0; r < size; r++) {
    counts[r] = base + step * r;
    displs[r] = total;
    total += counts[r];
  }
  unsigned char* mine = malloc((size_t)counts[rank] + 1);
  unsigned char* all = malloc((size_t)total + 1);
  if (!mine || !all) MPI_Abort(MPI_COMM_WORLD, 2);
  memset(mine, rank + 1, (size_t)counts[rank]);
  MPI_Allgatherv(mine, counts[rank], MPI_UNSIGNED_CHAR, all, counts, displs, MPI_UNSIGNED_CHAR, MPI_COMM_WORLD);
  for (int r = 0; r < size; r++)
    if (all[displs[r]] != r + 1 || all[displs[r] + counts[r] - 1] != r + 1) fail("allgatherv");
  free(counts);
  free(displs);
  free(mine);
  free(all);
}

static void reduce_scatter(int n) {
  unsigned char* in = malloc((size_t)n * (size_t)size);
  unsigned char* out = malloc((size_t)n);
  int* counts = malloc(sizeof(int) * (size_t)size);
  if (!in || !out || !counts) MPI_Abort(MPI_COMM_WORLD, 2);
  for (int b = 0; b < size; b++) {
    counts[b] = n;
    memset(in + (size_t)b * (size_t)n, (rank + b) % size, (size_t)n);
  }
  MPI_Reduce_scatter(in, out, counts, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD);
  if (out[0] != size - 1 || out[n - 1] != size - 1) fail("reduce_scatter");
  free(in);
  free(out);
  free(counts);
}

static void reduce_scatter_block(int n) {
  unsigned char* in = malloc((size_t)n * (size_t)size);
  unsigned char* out = malloc((size_t)n);
  if (!in || !out) MPI_Abort(MPI_COMM_WORLD, 2);
  // block b of rank r holds (r + b) % size: the maximum over ranks of block b is size - 1
  for (int b = 0; b < size; b++) memset(in + (size_t)b * (size_t)n, (rank + b) % size, (size_t)n);
  MPI_Reduce_scatter_block(in, out, n, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD);
  if (out[0] != size - 1 || out[n - 1] != size - 1) fail("reduce_scatter_block");
  free(in);
  free(out);
}

// Gatherv (scatter 0) or Scatterv (scatter 1) of B + rank bytes with rank 1 as the root.
static void rooted_v(int base, int scatter) {
  const int root = 1;
  int* counts = malloc(sizeof(int) * (size_t)size);
  int* displs = malloc(sizeof(int) * (size_t)size);
  if (!counts || !displs) MPI_Abort(MPI_COMM_WORLD, 2);
  int total = 0;
  for (int r = 0; r < size; r++) {
    counts[r] = base + r;
    displs[r] = total;
    total += counts[r];
  }
  unsigned char* mine = malloc((size_t)counts[rank] + 1);
  unsigned char* all = malloc((size_t)total + 1);
  if (!mine || !all) MPI_Abort(MPI_COMM_WORLD, 2);
  if (scatter) {
    for (int r = 0; r < size; r++) memset(all + displs[r], r + 1, (size_t)counts[r]);
    MPI_Scatterv(all, counts, displs, MPI_UNSIGNED_CHAR, mine, counts[rank], MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD);
    if (counts[rank] && (mine[0] != rank + 1 || mine[counts[rank] - 1] != rank + 1)) fail("scatterv");
  } else {
    memset(mine, rank + 1, (size_t)counts[rank]);
    MPI_Gatherv(mine, counts[rank], MPI_UNSIGNED_CHAR, all, counts, displs, MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD);
    if (rank == root)
      for (int r = 0; r < size; r++)
        if (counts[r] && (all[displs[r]] != r + 1 || all[displs[r] + counts[r] - 1] != r + 1)) fail("gatherv");
  }
  free(counts);
  free(displs);
  free(mine);
  free(all);
}

static void scan(int n, int exclusive) {
  unsigned char* in = malloc((size_t)n);
  unsigned char* out = malloc((size_t)n);
  if (!in || !out) MPI_Abort(MPI_COMM_WORLD, 2);
  memset(in, rank, (size_t)n);
  memset(out, 0, (size_t)n);
  if (exclusive)
    MPI_Exscan(in, out, n, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD);
  else
    MPI_Scan(in, out, n, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD);
  const int want = exclusive ? rank - 1 : rank;  // the maximum of the ranks up to this one
  if (rank > 0 && (out[0] != want || out[n - 1] != want)) fail("scan");
  free(in);
  free(out);
}

static void alltoallv(int base) {
  int *sc = malloc(sizeof(int) * (size_t)size), *sd = malloc(sizeof(int) * (size_t)size);
  int *rc = malloc(sizeof(int) * (size_t)size), *rd = malloc(sizeof(int) * (size_t)size);
  if (!sc || !sd || !rc || !rd) MPI_Abort(MPI_COMM_WORLD, 2);
  int st = 0, rt = 0;
  for (int d = 0; d < size; d++) {
    sc[d] = base + rank + d;
    rc[d] = base + d + rank;
    sd[d] = st;
    rd[d] = rt;
    st += sc[d];
    rt += rc[d];
  }
  unsigned char *in = malloc((size_t)st + 1), *out = malloc((size_t)rt + 1);
  if (!in || !out) MPI_Abort(MPI_COMM_WORLD, 2);
  for (int d = 0; d < size; d++) memset(in + sd[d], rank + 1, (size_t)sc[d]);
  MPI_Alltoallv(in, sc, sd, MPI_UNSIGNED_CHAR, out, rc, rd, MPI_UNSIGNED_CHAR, MPI_COMM_WORLD);
  for (int s = 0; s < size; s++)
    if (rc[s] && (out[rd[s]] != s + 1 || out[rd[s] + rc[s] - 1] != s + 1)) fail("alltoallv");
  free(sc);
  free(sd);
  free(rc);
  free(rd);
  free(in);
  free(out);
}

// The collectives of native/core/tuned_coll.cpp and tuned.cpp (root 1 where there is one):
// "bc:B" Bcast, "red:B" Reduce (MPI_MAX), "ar:N" Allreduce of N doubles, "ag:B" Allgather,
// "a2a:B" Alltoall (B to each peer), "ga:B" Gather, "sc:B" Scatter, "bar:0" Barrier.
static void uniform(const char* what, int n) {
  const int root = 1;
  unsigned char* a = malloc((size_t)n * (size_t)size + 1);
  unsigned char* b = malloc((size_t)n * (size_t)size + 1);
  if (!a || !b) MPI_Abort(MPI_COMM_WORLD, 2);
  memset(a, rank + 1, (size_t)n * (size_t)size);
  memset(b, 0, (size_t)n * (size_t)size);
  int ok = 1;
  if (!strcmp(what, "bc")) {
    MPI_Bcast(a, n, MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD);
    ok = !n || (a[0] == root + 1 && a[n - 1] == root + 1);
  } else if (!strcmp(what, "red")) {
    MPI_Reduce(a, b, n, MPI_UNSIGNED_CHAR, MPI_MAX, root, MPI_COMM_WORLD);
    ok = rank != root || !n || (b[0] == size && b[n - 1] == size);
  } else if (!strcmp(what, "ar")) {
    double* x = malloc(sizeof(double) * (size_t)n + 1);
    double* y = malloc(sizeof(double) * (size_t)n + 1);
    if (!x || !y) MPI_Abort(MPI_COMM_WORLD, 2);
    for (int i = 0; i < n; i++) x[i] = rank;
    MPI_Allreduce(x, y, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    ok = !n || (y[0] == size * (size - 1) / 2 && y[n - 1] == size * (size - 1) / 2);
    free(x);
    free(y);
  } else if (!strcmp(what, "ag")) {
    MPI_Allgather(a, n, MPI_UNSIGNED_CHAR, b, n, MPI_UNSIGNED_CHAR, MPI_COMM_WORLD);
    for (int r = 0; r < size && n; r++) ok &= b[r * n] == r + 1 && b[r * n + n - 1] == r + 1;
  } else if (!strcmp(what, "a2a")) {
    MPI_Alltoall(a, n, MPI_UNSIGNED_CHAR, b, n, MPI_UNSIGNED_CHAR, MPI_COMM_WORLD);
    for (int r = 0; r < size && n; r++) ok &= b[r * n] == r + 1 && b[r * n + n - 1] == r + 1;
  } else if (!strcmp(what, "ga")) {
    MPI_Gather(a, n, MPI_UNSIGNED_CHAR, b, n, MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD);
    for (int r = 0; r < size && n && rank == root; r++) ok &= b[r * n] == r + 1 && b[r * n + n - 1] == r + 1;
  } else if (!strcmp(what, "sc")) {
    for (int r = 0; r < size; r++) memset(a + (size_t)r * (size_t)n, r + 1, (size_t)n);
    MPI_Scatter(a, n, MPI_UNSIGNED_CHAR, b, n, MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD);
    ok = !n || (b[0] == rank + 1 && b[n - 1] == rank + 1);
  } else if (!strcmp(what, "bar")) {
    MPI_Barrier(MPI_COMM_WORLD);
  } else {
    fail(what);
  }
  if (!ok) fail(what);
  free(a);
  free(b);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int i = 1; i < argc; i++) {
    int bytes = 0;
    if (sscanf(argv[i], "agv:%d", &bytes) == 1)
      allgatherv(bytes, 0);
    else if (sscanf(argv[i], "agvu:%d", &bytes) == 1)
      allgatherv(bytes, 100);
    else if (sscanf(argv[i], "rsb:%d", &bytes) == 1)
      reduce_scatter_block(bytes);
    else if (sscanf(argv[i], "rs:%d", &bytes) == 1)
      reduce_scatter(bytes);
    else if (sscanf(argv[i], "gv:%d", &bytes) == 1)
      rooted_v(bytes, 0);
    else if (sscanf(argv[i], "sv:%d", &bytes) == 1)
      rooted_v(bytes, 1);
    else if (sscanf(argv[i], "scan:%d", &bytes) == 1)
      scan(bytes, 0);
    else if (sscanf(argv[i], "exscan:%d", &bytes) == 1)
      scan(bytes, 1);
    else if (sscanf(argv[i], "a2av:%d", &bytes) == 1)
      alltoallv(bytes);
    else {
      char what[16];
      if (sscanf(argv[i], "%15[a-z0-9]:%d", what, &bytes) != 2) fail(argv[i]);
      uniform(what, bytes);
    }
  }
  if (rank == 0) printf("tuned_vector ok\n");
  MPI_Finalize();
  return 0;
}
