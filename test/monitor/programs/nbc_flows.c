// Non-blocking collectives run by Open MPI's coll/libnbc (test/monitor/nbc-flows.test.ts), one
// call per argument "what:N[:root]", each waited for at once: "ibc" Ibcast of N bytes, "iar" an
// Iallreduce and "ired" an Ireduce of N doubles (MPI_SUM), "iag" Iallgather and "ia2a" Ialltoall of N
// bytes per rank, "iagv" Iallgatherv of N + 100 * rank bytes, "ia2av" Ialltoallv of N + rank + peer
// bytes, "iga"/"isc" Igather/Iscatter of N bytes per rank, "igv"/"isv" Igatherv/Iscatterv of N +
// rank bytes, "irsb" Ireduce_scatter_block and "irs" Ireduce_scatter of N bytes per rank, "iscan"
// and "iexscan" of N bytes (unsigned chars, MPI_MAX), "ibar" Ibarrier. Every result is checked: the
// program prints "nbc_flows ok" only if each call did its job.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size;

static void fail(const char* what) {
  fprintf(stderr, "nbc_flows: %s wrong on rank %d\n", what, rank);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

static void* alloc(size_t n) {
  void* p = calloc(n + 8, 1);
  if (!p) MPI_Abort(MPI_COMM_WORLD, 2);
  return p;
}

static void wait_for(MPI_Request* req) { MPI_Wait(req, MPI_STATUS_IGNORE); }

// counts[r] = base + step * r (+ peer for the all-to-all: added by the caller), displs packed
static int layout(int* counts, int* displs, int base, int step) {
  int total = 0;
  for (int r = 0; r < size; r++) {
    counts[r] = base + step * r;
    displs[r] = total;
    total += counts[r];
  }
  return total;
}

static void reductions(const char* what, int n, int root) {
  double* x = alloc(sizeof(double) * (size_t)n);
  double* y = alloc(sizeof(double) * (size_t)n);
  const double want = size * (size - 1) / 2.0;
  MPI_Request req;
  for (int i = 0; i < n; i++) x[i] = rank;
  if (!strcmp(what, "iar")) {
    MPI_Iallreduce(x, y, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &req);
    wait_for(&req);
    if (n && (y[0] != want || y[n - 1] != want)) fail(what);
  } else {
    MPI_Ireduce(x, y, n, MPI_DOUBLE, MPI_SUM, root, MPI_COMM_WORLD, &req);
    wait_for(&req);
    if (rank == root && n && (y[0] != want || y[n - 1] != want)) fail(what);
  }
  free(x);
  free(y);
}

static void reduce_scatters(const char* what, int n) {
  unsigned char* in = alloc((size_t)n * (size_t)size);
  unsigned char* out = alloc((size_t)n);
  int* counts = alloc(sizeof(int) * (size_t)size);
  MPI_Request req;
  for (int b = 0; b < size; b++) {
    counts[b] = n;
    memset(in + (size_t)b * (size_t)n, (rank + b) % size, (size_t)n);
  }
  if (!strcmp(what, "irsb"))
    MPI_Ireduce_scatter_block(in, out, n, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD, &req);
  else
    MPI_Ireduce_scatter(in, out, counts, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD, &req);
  wait_for(&req);
  if (n && (out[0] != size - 1 || out[n - 1] != size - 1)) fail(what);
  free(in);
  free(out);
  free(counts);
}

static void scans(const char* what, int n) {
  unsigned char* in = alloc((size_t)n);
  unsigned char* out = alloc((size_t)n);
  const int exclusive = !strcmp(what, "iexscan");
  MPI_Request req;
  memset(in, rank, (size_t)n);
  if (exclusive)
    MPI_Iexscan(in, out, n, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD, &req);
  else
    MPI_Iscan(in, out, n, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD, &req);
  wait_for(&req);
  const int want = exclusive ? rank - 1 : rank;
  if (rank > 0 && n && (out[0] != want || out[n - 1] != want)) fail(what);
  free(in);
  free(out);
}

// The v-variants: blocks of n + step * rank bytes.
static void vectors(const char* what, int n, int root) {
  int *counts = alloc(sizeof(int) * (size_t)size), *displs = alloc(sizeof(int) * (size_t)size);
  int *rc = alloc(sizeof(int) * (size_t)size), *rd = alloc(sizeof(int) * (size_t)size);
  const int step = !strcmp(what, "iagv") ? 100 : 1;
  const int total = layout(counts, displs, n, step);
  unsigned char *mine = alloc((size_t)counts[rank] + (size_t)size),
                *all = alloc((size_t)total + (size_t)size * (size_t)size);
  MPI_Request req;
  memset(mine, rank + 1, (size_t)counts[rank]);
  if (!strcmp(what, "iagv")) {
    MPI_Iallgatherv(mine, counts[rank], MPI_UNSIGNED_CHAR, all, counts, displs, MPI_UNSIGNED_CHAR, MPI_COMM_WORLD,
                    &req);
    wait_for(&req);
    for (int r = 0; r < size; r++)
      if (counts[r] && (all[displs[r]] != r + 1 || all[displs[r] + counts[r] - 1] != r + 1)) fail(what);
  } else if (!strcmp(what, "igv")) {
    MPI_Igatherv(mine, counts[rank], MPI_UNSIGNED_CHAR, all, counts, displs, MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD,
                 &req);
    wait_for(&req);
    for (int r = 0; r < size && rank == root; r++)
      if (counts[r] && (all[displs[r]] != r + 1 || all[displs[r] + counts[r] - 1] != r + 1)) fail(what);
  } else if (!strcmp(what, "isv")) {
    for (int r = 0; r < size; r++) memset(all + displs[r], r + 1, (size_t)counts[r]);
    MPI_Iscatterv(all, counts, displs, MPI_UNSIGNED_CHAR, mine, counts[rank], MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD,
                  &req);
    wait_for(&req);
    if (counts[rank] && (mine[0] != rank + 1 || mine[counts[rank] - 1] != rank + 1)) fail(what);
  } else {  // ia2av: n + rank + peer bytes from rank to peer
    int st = 0, rt = 0;
    for (int d = 0; d < size; d++) {
      counts[d] = n + rank + d;
      rc[d] = n + d + rank;
      displs[d] = st;
      rd[d] = rt;
      st += counts[d];
      rt += rc[d];
    }
    unsigned char *in = alloc((size_t)st), *out = alloc((size_t)rt);
    for (int d = 0; d < size; d++) memset(in + displs[d], rank + 1, (size_t)counts[d]);
    MPI_Ialltoallv(in, counts, displs, MPI_UNSIGNED_CHAR, out, rc, rd, MPI_UNSIGNED_CHAR, MPI_COMM_WORLD, &req);
    wait_for(&req);
    for (int s = 0; s < size; s++)
      if (rc[s] && (out[rd[s]] != s + 1 || out[rd[s] + rc[s] - 1] != s + 1)) fail(what);
    free(in);
    free(out);
  }
  free(counts);
  free(displs);
  free(rc);
  free(rd);
  free(mine);
  free(all);
}

// Same-size blocks: ibc, iag, ia2a, iga, isc, ibar.
static void uniform(const char* what, int n, int root) {
  unsigned char* a = alloc((size_t)n * (size_t)size);
  unsigned char* b = alloc((size_t)n * (size_t)size);
  MPI_Request req;
  int ok = 1;
  memset(a, rank + 1, (size_t)n * (size_t)size);
  if (!strcmp(what, "ibc")) {
    MPI_Ibcast(a, n, MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD, &req);
    wait_for(&req);
    ok = !n || (a[0] == root + 1 && a[n - 1] == root + 1);
  } else if (!strcmp(what, "iag")) {
    MPI_Iallgather(a, n, MPI_UNSIGNED_CHAR, b, n, MPI_UNSIGNED_CHAR, MPI_COMM_WORLD, &req);
    wait_for(&req);
    for (int r = 0; r < size && n; r++) ok &= b[r * n] == r + 1 && b[r * n + n - 1] == r + 1;
  } else if (!strcmp(what, "ia2a")) {
    MPI_Ialltoall(a, n, MPI_UNSIGNED_CHAR, b, n, MPI_UNSIGNED_CHAR, MPI_COMM_WORLD, &req);
    wait_for(&req);
    for (int r = 0; r < size && n; r++) ok &= b[r * n] == r + 1 && b[r * n + n - 1] == r + 1;
  } else if (!strcmp(what, "iga")) {
    MPI_Igather(a, n, MPI_UNSIGNED_CHAR, b, n, MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD, &req);
    wait_for(&req);
    for (int r = 0; r < size && n && rank == root; r++) ok &= b[r * n] == r + 1 && b[r * n + n - 1] == r + 1;
  } else if (!strcmp(what, "isc")) {
    for (int r = 0; r < size; r++) memset(a + (size_t)r * (size_t)n, r + 1, (size_t)n);
    MPI_Iscatter(a, n, MPI_UNSIGNED_CHAR, b, n, MPI_UNSIGNED_CHAR, root, MPI_COMM_WORLD, &req);
    wait_for(&req);
    ok = !n || (b[0] == rank + 1 && b[n - 1] == rank + 1);
  } else if (!strcmp(what, "ibar")) {
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    wait_for(&req);
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
    char what[16];
    int n = 0, root = 0;
    if (sscanf(argv[i], "%15[a-z0-9]:%d:%d", what, &n, &root) < 2 || root < 0 || root >= size) fail(argv[i]);
    if (!strcmp(what, "iar") || !strcmp(what, "ired"))
      reductions(what, n, root);
    else if (!strcmp(what, "irs") || !strcmp(what, "irsb"))
      reduce_scatters(what, n);
    else if (!strcmp(what, "iscan") || !strcmp(what, "iexscan"))
      scans(what, n);
    else if (!strcmp(what, "iagv") || !strcmp(what, "igv") || !strcmp(what, "isv") || !strcmp(what, "ia2av"))
      vectors(what, n, root);
    else
      uniform(what, n, root);
  }
  if (rank == 0) printf("nbc_flows ok\n");
  MPI_Finalize();
  return 0;
}
