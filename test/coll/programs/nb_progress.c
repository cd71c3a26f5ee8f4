/* Valid programs in which one rank of each pair blocks in another MPI call while its partner waits
 * for a non-blocking collective that needs the blocked rank's chain advanced (a site's leader, or
 * Ibcast's forwarding leader): the blocked call returns only after the partner's MPI_Wait has.
 * Ranks pair up as (2k, 2k+1): the even rank blocks, the odd one waits first. Every scenario runs
 * COLL (iallreduce or ibcast, root 1) on MPI_COMM_WORLD, then:
 *   even: start; X (needs the odd rank's later call); MPI_Wait
 *   odd:  start; MPI_Wait; the call that lets X return
 * with X one of recv, ssend, probe, sendrecv, waitall (an Irecv of another request), barrier,
 * bcast, allreduce, scan (the library's only), split (MPI_Comm_split), or a collective over
 * another communicator (a duplicate of MPI_COMM_WORLD on which no non-blocking collective ever
 * started): barrier-other, bcast-other, allreduce-other (site-aware), allgather-other (site-aware),
 * dup-other (MPI_Comm_dup), fence-other (MPI_Win_fence on a window over it). Last, "orphan": the collective on a
 * duplicate that every rank frees before waiting (MPI: the call completes normally). Results are checked exactly.
 * Prints "nb_progress ok SCENARIO" from rank 0 after each scenario, and at the end "nb_progress done errors=E". Usage:
 * nb_progress iallreduce|ibcast COUNT */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size, count;
static MPI_Comm other; /* no non-blocking collective ever starts on it */
static MPI_Win win;    /* over other */
static int win_buf;
static double *buf, *res;
static long errors;

static void start(int ibcast, MPI_Request *req) {
  if (ibcast) {
    for (int i = 0; i < count; ++i) buf[i] = rank == 1 ? 1000.0 + i : -1.0;
    MPI_Ibcast(buf, count, MPI_DOUBLE, 1, MPI_COMM_WORLD, req);
  } else {
    for (int i = 0; i < count; ++i) buf[i] = rank + i;
    memset(res, 0, sizeof(double) * (size_t)count);
    MPI_Iallreduce(buf, res, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, req);
  }
}

static void check(int ibcast, const char *what) {
  for (int i = 0; i < count; ++i) {
    const double want = ibcast ? 1000.0 + i : (double)size * i + size * (size - 1) / 2.0;
    const double got = ibcast ? buf[i] : res[i];
    if (got != want) {
      if (errors++ < 5) fprintf(stderr, "rank %d %s: element %d is %g, expected %g\n", rank, what, i, got, want);
      return;
    }
  }
}

static void expect_int(int got, int want, const char *what) {
  if (got != want && errors++ < 5) fprintf(stderr, "rank %d %s: %d, expected %d\n", rank, what, got, want);
}

static void scenario(int ibcast, const char *x) {
  const int even = rank % 2 == 0, peer = even ? rank + 1 : rank - 1;
  const int paired = peer < size;
  MPI_Request req;
  int v = rank, got = -1, r = 0;
  start(ibcast, &req);
  if (even && paired) {
    if (!strcmp(x, "recv")) {
      MPI_Recv(&got, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      expect_int(got, peer, "recv");
    } else if (!strcmp(x, "ssend")) {
      MPI_Ssend(&v, 1, MPI_INT, peer, 7, MPI_COMM_WORLD);
    } else if (!strcmp(x, "probe")) {
      MPI_Status st;
      MPI_Probe(peer, 7, MPI_COMM_WORLD, &st);
      expect_int(st.MPI_SOURCE, peer, "probe source");
      MPI_Recv(&got, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      expect_int(got, peer, "probe");
    } else if (!strcmp(x, "sendrecv")) {
      MPI_Sendrecv(&v, 1, MPI_INT, peer, 7, &got, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      expect_int(got, peer, "sendrecv");
    } else if (!strcmp(x, "waitall")) {
      MPI_Request other;
      MPI_Irecv(&got, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, &other);
      MPI_Waitall(1, &other, MPI_STATUSES_IGNORE);
      expect_int(got, peer, "waitall");
    }
  }
  const char *dash = strchr(x, '-');
  const int on_other = dash != NULL;
  const MPI_Comm comm = on_other ? other : MPI_COMM_WORLD;
  const size_t len = on_other ? (size_t)(dash - x) : strlen(x);
#define IS(name) (len == strlen(name) && !strncmp(x, name, len))
  const int collective = on_other || IS("barrier") || IS("bcast") || IS("allreduce") || IS("scan") || IS("split");
  if (!even) MPI_Wait(&req, MPI_STATUS_IGNORE);
  if (collective) { /* the even ranks block in it before their wait, the odd ones enter after theirs */
    if (IS("barrier")) {
      MPI_Barrier(comm);
    } else if (IS("bcast")) {
      got = rank == 0 ? 42 : -1;
      MPI_Bcast(&got, 1, MPI_INT, 0, comm);
      expect_int(got, 42, "bcast");
    } else if (IS("allreduce")) {
      MPI_Allreduce(&v, &got, 1, MPI_INT, MPI_SUM, comm);
      expect_int(got, size * (size - 1) / 2, "allreduce");
    } else if (IS("allgather")) {
      int *all = malloc(sizeof(int) * (size_t)size);
      MPI_Allgather(&v, 1, MPI_INT, all, 1, MPI_INT, comm);
      for (int i = 0; i < size; ++i) expect_int(all[i], i, "allgather");
      free(all);
    } else if (IS("scan")) {
      MPI_Scan(&v, &got, 1, MPI_INT, MPI_SUM, comm);
      expect_int(got, rank * (rank + 1) / 2, "scan");
    } else if (IS("fence")) {
      MPI_Win_fence(0, win);
    } else if (IS("dup")) {
      MPI_Comm d;
      MPI_Comm_dup(comm, &d);
      MPI_Comm_rank(d, &r);
      expect_int(r, rank, "dup");
      MPI_Comm_free(&d);
    } else {
      MPI_Comm half;
      MPI_Comm_split(comm, rank % 2, rank, &half);
      MPI_Comm_rank(half, &r);
      expect_int(r, rank / 2, "split");
      MPI_Comm_free(&half);
    }
  } else if (!even && paired) {
    if (!strcmp(x, "ssend")) {
      MPI_Recv(&got, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      expect_int(got, peer, "ssend");
    } else if (!strcmp(x, "sendrecv")) {
      MPI_Sendrecv(&v, 1, MPI_INT, peer, 7, &got, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      expect_int(got, peer, "sendrecv");
    } else {
      MPI_Send(&v, 1, MPI_INT, peer, 7, MPI_COMM_WORLD);
    }
  }
  if (even) MPI_Wait(&req, MPI_STATUS_IGNORE);
  check(ibcast, x);
#undef IS
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 3) {
    if (!rank) fprintf(stderr, "usage: nb_progress iallreduce|ibcast COUNT\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const int ibcast = !strcmp(argv[1], "ibcast");
  count = atoi(argv[2]);
  buf = malloc(sizeof(double) * (size_t)count);
  res = malloc(sizeof(double) * (size_t)count);
  MPI_Comm_dup(MPI_COMM_WORLD, &other);
  MPI_Win_create(&win_buf, sizeof win_buf, sizeof win_buf, MPI_INFO_NULL, other, &win);
  static const char *xs[] = {
      "recv",      "ssend",      "probe", "sendrecv",      "waitall",     "barrier",         "bcast",
      "allreduce", "scan",       "split", "barrier-other", "bcast-other", "allreduce-other", "allgather-other",
      "dup-other", "fence-other"};
  const int only = argc > 3; /* one scenario, by name */
  for (size_t k = 0; k < sizeof xs / sizeof *xs; ++k) {
    if (only && strcmp(argv[3], xs[k])) continue;
    scenario(ibcast, xs[k]);
    PMPI_Barrier(MPI_COMM_WORLD); /* not intercepted: the next scenario starts together */
    if (!rank) printf("nb_progress ok %s\n", xs[k]), fflush(stdout);
  }
  if (!only || !strcmp(argv[3], "orphan")) {
    MPI_Comm dup;
    MPI_Request req;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    for (int i = 0; i < count; ++i) buf[i] = ibcast ? (rank == 1 ? 1000.0 + i : -1.0) : rank + i;
    if (ibcast)
      MPI_Ibcast(buf, count, MPI_DOUBLE, 1, dup, &req);
    else
      MPI_Iallreduce(buf, res, count, MPI_DOUBLE, MPI_SUM, dup, &req);
    MPI_Comm_free(&dup);
    MPI_Barrier(MPI_COMM_WORLD); /* the chains advance here, their communicator already freed */
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    check(ibcast, "orphan");
    PMPI_Barrier(MPI_COMM_WORLD);
    if (!rank) printf("nb_progress ok orphan\n"), fflush(stdout);
  }
  MPI_Win_free(&win);
  MPI_Comm_free(&other);
  long all = 0;
  MPI_Allreduce(&errors, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (!rank) printf("nb_progress done errors=%ld\n", all);
  MPI_Finalize();
  return all ? 1 : 0;
}
