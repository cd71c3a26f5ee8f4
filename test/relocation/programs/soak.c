/* Relocation soak: every covered collective, over and over, on MPI_COMM_WORLD, a dup of it, a
 * split by parity (reversed rank order) and a split into halves, each call checked against PMPI
 * on the same input (int data: sums are exact in any order; a non-commutative user operation
 * checks rank order), while a monitor pushes placements. Runs until STOPFILE exists (rank 0 looks,
 * the others learn it through PMPI) or MAXSEC seconds have passed.
 * Usage: soak STOPFILE [MAXSEC]
 * Prints "soak rank 0: I iterations, N calls, E errors" (sums over ranks); mismatches on stderr. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_ops.h"

static int wrank, wsize;
static long ncalls = 0, nerrors = 0;

typedef struct {
  MPI_Comm comm;
  const char *name;
  int rank, size;
} Comm;

/* Non-commutative: matmul8 (check_ops.h), io = in x io. */
static void user_nc(void *in, void *io, int *len, MPI_Datatype *t) {
  (void)t;
  for (int k = 0; k < *len; ++k) matmul8((int *)in + k, (int *)io + k);
}
static MPI_Op op_nc;

#define MAXN 64
#define MAXP 16
static int sa[MAXP * MAXN * 2], sb[MAXP * MAXN * 2], ra[MAXP * MAXN * 2], rb[MAXP * MAXN * 2];

static void fill(int *b, int n, uint32_t seed) {
  for (int i = 0; i < n; ++i) b[i] = (int)(hash3(seed, (uint32_t)i, 7) & 0x7fffffff);
}
static void prep(int n, uint32_t seed) {
  fill(sa, n, seed);
  memcpy(sb, sa, sizeof(int) * (size_t)n);
  fill(ra, n, seed ^ 0xabcdu);
  memcpy(rb, ra, sizeof(int) * (size_t)n);
}
static void check(const Comm *c, const char *what, const int *a, const int *b, int n, long iter) {
  ++ncalls;
  if (n <= 0 || memcmp(a, b, sizeof(int) * (size_t)n) == 0) return;
  if (nerrors < 20)
    fprintf(stderr, "MISMATCH rank %d (%s rank %d) iteration %ld: %s\n", wrank, c->name, c->rank, iter, what);
  ++nerrors;
}

static void round_of(const Comm *c, long it) {
  const int P = c->size, me = c->rank;
  const uint32_t seed = hash3((uint32_t)it, (uint32_t)me, (uint32_t)P);
  const int n = (int)(hash3((uint32_t)it, 11, (uint32_t)P) % (MAXN + 1)); /* same on every rank; 0 sometimes */
  const int root = (int)(it % P);
  const int bufn = MAXP * MAXN * 2;
  int counts[MAXP], displs[MAXP], rcounts[MAXP], rdispls[MAXP], tot = 0;

  MPI_Barrier(c->comm);
  ++ncalls;

  prep(bufn, seed);
  MPI_Bcast(sa, n, MPI_INT, root, c->comm);
  PMPI_Bcast(sb, n, MPI_INT, root, c->comm);
  check(c, "Bcast", sa, sb, n, it);

  const MPI_Op op = (it & 1) ? op_nc : MPI_SUM;
  prep(bufn, seed);
  MPI_Reduce(sa, ra, n, MPI_INT, op, root, c->comm);
  PMPI_Reduce(sb, rb, n, MPI_INT, op, root, c->comm);
  check(c, "Reduce", ra, rb, me == root ? n : 0, it);

  prep(bufn, seed);
  MPI_Allreduce(sa, ra, n, MPI_INT, op, c->comm);
  PMPI_Allreduce(sb, rb, n, MPI_INT, op, c->comm);
  check(c, "Allreduce", ra, rb, n, it);

  prep(bufn, seed);
  MPI_Gather(sa, n, MPI_INT, ra, n, MPI_INT, root, c->comm);
  PMPI_Gather(sb, n, MPI_INT, rb, n, MPI_INT, root, c->comm);
  check(c, "Gather", ra, rb, me == root ? n * P : 0, it);

  for (int j = 0; j < P; ++j) {
    counts[j] = (n + j) % (MAXN / 2 + 1);
    displs[j] = tot;
    tot += counts[j] + 1;
  }
  prep(bufn, seed);
  MPI_Gatherv(sa, counts[me], MPI_INT, ra, counts, displs, MPI_INT, root, c->comm);
  PMPI_Gatherv(sb, counts[me], MPI_INT, rb, counts, displs, MPI_INT, root, c->comm);
  check(c, "Gatherv", ra, rb, me == root ? tot : 0, it);

  prep(bufn, seed);
  MPI_Scatter(sa, n, MPI_INT, ra, n, MPI_INT, root, c->comm);
  PMPI_Scatter(sb, n, MPI_INT, rb, n, MPI_INT, root, c->comm);
  check(c, "Scatter", ra, rb, n, it);

  prep(bufn, seed);
  MPI_Scatterv(sa, counts, displs, MPI_INT, ra, counts[me], MPI_INT, root, c->comm);
  PMPI_Scatterv(sb, counts, displs, MPI_INT, rb, counts[me], MPI_INT, root, c->comm);
  check(c, "Scatterv", ra, rb, counts[me], it);

  prep(bufn, seed);
  MPI_Allgather(sa, n, MPI_INT, ra, n, MPI_INT, c->comm);
  PMPI_Allgather(sb, n, MPI_INT, rb, n, MPI_INT, c->comm);
  check(c, "Allgather", ra, rb, n * P, it);

  prep(bufn, seed);
  MPI_Allgatherv(sa, counts[me], MPI_INT, ra, counts, displs, MPI_INT, c->comm);
  PMPI_Allgatherv(sb, counts[me], MPI_INT, rb, counts, displs, MPI_INT, c->comm);
  check(c, "Allgatherv", ra, rb, tot, it);

  const int an = n / 4;
  prep(bufn, seed);
  MPI_Alltoall(sa, an, MPI_INT, ra, an, MPI_INT, c->comm);
  PMPI_Alltoall(sb, an, MPI_INT, rb, an, MPI_INT, c->comm);
  check(c, "Alltoall", ra, rb, an * P, it);

  int so = 0, ro = 0;
  for (int j = 0; j < P; ++j) {
    counts[j] = (an + me + 2 * j) % (an + 3);  /* me -> j */
    rcounts[j] = (an + j + 2 * me) % (an + 3); /* j -> me */
    displs[j] = so;
    rdispls[j] = ro;
    so += counts[j] + 1;
    ro += rcounts[j] + 1;
  }
  prep(bufn, seed);
  MPI_Alltoallv(sa, counts, displs, MPI_INT, ra, rcounts, rdispls, MPI_INT, c->comm);
  PMPI_Alltoallv(sb, counts, displs, MPI_INT, rb, rcounts, rdispls, MPI_INT, c->comm);
  check(c, "Alltoallv", ra, rb, ro, it);
}

static double now(void) { return PMPI_Wtime(); }

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  PMPI_Comm_rank(MPI_COMM_WORLD, &wrank);
  PMPI_Comm_size(MPI_COMM_WORLD, &wsize);
  if (argc < 2 || wsize > MAXP) {
    if (!wrank) fprintf(stderr, "usage: soak STOPFILE [MAXSEC] (at most %d ranks)\n", MAXP);
    PMPI_Abort(MPI_COMM_WORLD, 2);
  }
  const double maxsec = argc > 2 ? atof(argv[2]) : 60;
  PMPI_Op_create(user_nc, 0, &op_nc);

  Comm comms[4];
  comms[0] = (Comm){MPI_COMM_WORLD, "world", wrank, wsize};
  MPI_Comm dup, parity, halves;
  MPI_Comm_dup(MPI_COMM_WORLD, &dup);
  MPI_Comm_split(MPI_COMM_WORLD, wrank % 2, wsize - wrank, &parity);
  MPI_Comm_split(MPI_COMM_WORLD, wrank < wsize / 2, wrank, &halves);
  comms[1] = (Comm){dup, "dup", 0, 0};
  comms[2] = (Comm){parity, "parity", 0, 0};
  comms[3] = (Comm){halves, "halves", 0, 0};
  for (int i = 1; i < 4; ++i) {
    PMPI_Comm_rank(comms[i].comm, &comms[i].rank);
    PMPI_Comm_size(comms[i].comm, &comms[i].size);
  }

  const double t0 = now();
  long it = 0;
  for (;; ++it) {
    int stop = 0;
    if (wrank == 0) stop = access(argv[1], F_OK) == 0 || now() - t0 > maxsec;
    PMPI_Bcast(&stop, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (stop) break;
    /* The communicators in an order that varies with the iteration (same on every rank). */
    for (int k = 0; k < 4; ++k) round_of(&comms[(k + it) % 4], it);
  }

  long tot[3] = {it, ncalls, nerrors}, sum[3];
  PMPI_Reduce(tot, sum, 3, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  if (!wrank) printf("soak rank 0: %ld iterations, %ld calls, %ld errors\n", sum[0] / wsize, sum[1], sum[2]);
  fflush(stdout);
  MPI_Comm_free(&dup);
  MPI_Comm_free(&parity);
  MPI_Comm_free(&halves);
  PMPI_Op_free(&op_nc);
  MPI_Finalize();
  return 0;
}
