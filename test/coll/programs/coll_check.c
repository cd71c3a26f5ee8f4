/* Correctness of the site-aware collectives: every covered collective (blocking, and the
 * non-blocking Iallreduce and Ibcast completed by every kind of wait and test) over a grid of sizes,
 * datatypes (int, double, a strided vector, a struct with a true lower bound, and vector sent /
 * ints received), operations (built-in, user commutative, user non-commutative), every root,
 * in place or not, on MPI_COMM_WORLD and on a split communicator (reversed rank order). Each call
 * goes through MPI_ (the shim) and, on a copy of the same input, through PMPI_ (the reference,
 * not intercepted); receive buffers are compared byte for byte (doubles hold small integers, so
 * sums are exact in any order).
 *
 * Every intercepted collective is logged, one JSON line per call, to DIR/calls-<rank>.jsonl in
 * call order, with what the cost model needs to predict its cross-site traffic.
 * Usage: coll_check DIR [quick]
 * Prints "coll_check rank 0: N calls, E errors" and exits 0 (the test reads the counts). */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ops.h"

static int wrank, wsize;
static FILE *logf;
static long ncalls = 0, nerrors = 0;
static int quick = 0;

/* ---- datatypes ---- */
enum { T_INT, T_DOUBLE, T_VEC, T_STRUCT };
static MPI_Datatype tvec, tstruct;
static MPI_Aint ext_of[4] = {4, 8, 16, 16};
static int size_of[4] = {4, 8, 8, 12};

typedef struct {
  const char *name;
  int st, rt; /* type codes on the send and receive side */
  int rmul;   /* receive count = rmul * send count */
} TypeCase;
static const TypeCase kTypes[] = {
    {"int", T_INT, T_INT, 1},          {"double", T_DOUBLE, T_DOUBLE, 1}, {"vector", T_VEC, T_VEC, 1},
    {"struct", T_STRUCT, T_STRUCT, 1}, {"vector>int", T_VEC, T_INT, 2},
};
#define NTYPES 5
#define NREDTYPES 4 /* the first four are used for reductions */

static MPI_Datatype dt(int code) {
  switch (code) {
    case T_INT:
      return MPI_INT;
    case T_DOUBLE:
      return MPI_DOUBLE;
    case T_VEC:
      return tvec;
    default:
      return tstruct;
  }
}

static int ival(uint32_t seed, uint32_t k) { return (int)(hash3(seed, k, 1) % 100000007u); }
static double dval(uint32_t seed, uint32_t k) { return (double)(hash3(seed, k, 2) % 100000u); }

/* Fills n elements of type `code` at buf (holes keep whatever they had). */
static void fill(char *buf, int code, int n, uint32_t seed) {
  for (int k = 0; k < n; ++k) {
    char *e = buf + (MPI_Aint)k * ext_of[code];
    int i1 = ival(seed, 2 * k), i2 = ival(seed, 2 * k + 1);
    double d = dval(seed, k);
    switch (code) {
      case T_INT:
        memcpy(e, &i1, 4);
        break;
      case T_DOUBLE:
        memcpy(e, &d, 8);
        break;
      case T_VEC:
        memcpy(e, &i1, 4);
        memcpy(e + 8, &i2, 4);
        break;
      case T_STRUCT:
        memcpy(e + 4, &i1, 4);
        memcpy(e + 8, &d, 8);
        break;
    }
  }
}
static void pattern(char *buf, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; ++i) buf[i] = (char)(hash3(seed, (uint32_t)i, 3) & 0xff);
}

/* ---- user operations ---- */
/* Commutative: a sum (ints wrap). */
static void op_sum_int(const int *in, int *io) { *io = (int)((unsigned)*in + (unsigned)*io); }
static void user_sum(void *invec, void *inoutvec, int *len, MPI_Datatype *type) {
  char *in = invec, *io = inoutvec;
  MPI_Datatype t = *type;
  for (int k = 0; k < *len; ++k) {
    if (t == MPI_INT)
      op_sum_int((int *)in + k, (int *)io + k);
    else if (t == MPI_DOUBLE)
      ((double *)io)[k] += ((double *)in)[k];
    else if (t == tvec) {
      op_sum_int((int *)(in + 16 * k), (int *)(io + 16 * k));
      op_sum_int((int *)(in + 16 * k + 8), (int *)(io + 16 * k + 8));
    } else if (t == tstruct) {
      op_sum_int((int *)(in + 16 * k + 4), (int *)(io + 16 * k + 4));
      *(double *)(io + 16 * k + 8) += *(double *)(in + 16 * k + 8);
    }
  }
}
/* Non-commutative: matmul8 (check_ops.h) on the ints, io = in x io; doubles: io = in. */
static void user_nc(void *invec, void *inoutvec, int *len, MPI_Datatype *type) {
  char *in = invec, *io = inoutvec;
  MPI_Datatype t = *type;
  for (int k = 0; k < *len; ++k) {
    if (t == MPI_INT)
      matmul8((int *)in + k, (int *)io + k);
    else if (t == MPI_DOUBLE)
      ((double *)io)[k] = ((double *)in)[k];
    else if (t == tvec) {
      matmul8((int *)(in + 16 * k), (int *)(io + 16 * k));
      matmul8((int *)(in + 16 * k + 8), (int *)(io + 16 * k + 8));
    } else if (t == tstruct) {
      matmul8((int *)(in + 16 * k + 4), (int *)(io + 16 * k + 4));
      *(double *)(io + 16 * k + 8) = *(double *)(in + 16 * k + 8);
    }
  }
}
static MPI_Op op_usum, op_unc;

/* ---- bookkeeping ---- */
typedef struct {
  MPI_Comm comm;
  int id, rank, size;
  const char *name;
} Comm;

static void log_call(const Comm *c, const char *coll, int root, long m, const long *blocks, const long *matrix,
                     long elems, int commutative, const char *what) {
  fprintf(logf, "{\"comm\":%d,\"coll\":\"%s\",\"root\":%d,\"m\":%ld,\"elems\":%ld,\"commutative\":%s,\"what\":\"%s\"",
          c->id, coll, root, m, elems, commutative ? "true" : "false", what);
  if (blocks) {
    fprintf(logf, ",\"blocks\":[");
    for (int j = 0; j < c->size; ++j) fprintf(logf, "%s%ld", j ? "," : "", blocks[j]);
    fprintf(logf, "]");
  }
  if (matrix) {
    fprintf(logf, ",\"matrix\":[");
    for (int j = 0; j < c->size * c->size; ++j) fprintf(logf, "%s%ld", j ? "," : "", matrix[j]);
    fprintf(logf, "]");
  }
  fprintf(logf, "}\n");
  ++ncalls;
}

/* A communicator's members (world ranks; NULL: 0..n-1), logged before its calls. */
static void log_commdef(int id, const int *members, int n) {
  fprintf(logf, "{\"commdef\":%d,\"members\":[", id);
  for (int i = 0; i < n; ++i) fprintf(logf, "%s%d", i ? "," : "", members ? members[i] : i);
  fprintf(logf, "]}\n");
}

static void check(const Comm *c, const char *what, const char *a, const char *b, size_t n) {
  if (memcmp(a, b, n) == 0) return;
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  if (nerrors < 20)
    fprintf(stderr, "MISMATCH rank %d (%s rank %d): %s: first difference at byte %zu of %zu\n", wrank, c->name, c->rank,
            what, i, n);
  ++nerrors;
}

#define BUF (1u << 23)          /* the 1 MiB Allreduce: 16 bytes an element at most */
static char *sa, *sb, *ra, *rb; /* send / receive buffers: shim (a) and reference (b) */

static size_t cur = BUF; /* bytes of the buffers in use by the current call */
static void use(long elems) {
  cur = (size_t)(elems + 4) * 16;
  if (cur > BUF) {
    fprintf(stderr, "buffer too small\n");
    PMPI_Abort(MPI_COMM_WORLD, 3);
  }
}
static void setup_send(int code, int n, uint32_t seed) {
  pattern(sa, cur, seed ^ 0x5a5a);
  fill(sa, code, n, seed);
  memcpy(sb, sa, cur);
}
static void setup_recv(uint32_t seed) {
  pattern(ra, cur, seed ^ 0xa5a5);
  memcpy(rb, ra, cur);
}
static uint32_t seed_of(const Comm *c, int call) { return (uint32_t)(c->rank * 7919 + call * 104729 + 17); }

/* v-counts known to every rank */
/* v_empty: every third rank's block (from rank 1) is empty, the others uneven. */
static int v_empty = 0;
static int vcount(int count, int j) { return v_empty && j % 3 == 1 ? 0 : (count + 2 * j) % (count + 3); }
static int a2av(int count, int i, int j) { return (count + i + 2 * j) % (count + 3); }

static void desc(char *out, size_t n, const char *coll, const TypeCase *t, const char *op, int count, int root,
                 int inplace) {
  snprintf(out, n, "%s type=%s op=%s count=%d root=%d inplace=%d", coll, t->name, op, count, root, inplace);
}

/* One block per rank of a gather / scatter family call: rank j's block holds n[j] elements (count,
 * or vcount for the v variants, times mul) at displacement dis[j]; v blocks leave a gap of one.
 * bytes[j]: what rank j sends or receives, for the log; span: elements the blocks cover. */
typedef struct {
  int *n, *dis;
  long *bytes;
  int span;
} Blocks;

static Blocks blocks_of(const Comm *c, const TypeCase *t, int v, int count, int mul) {
  const int P = c->size;
  Blocks b = {malloc(sizeof(int) * P), malloc(sizeof(int) * P), malloc(sizeof(long) * P), 0};
  for (int j = 0; j < P; ++j) {
    const int sc = v ? vcount(count, j) : count;
    b.n[j] = sc * mul;
    b.dis[j] = v ? b.span : j * b.n[j];
    b.span += b.n[j] + 1;
    b.bytes[j] = (long)sc * size_of[t->st];
  }
  return b;
}
static void blocks_free(Blocks *b) {
  free(b->n);
  free(b->dis);
  free(b->bytes);
}
/* Logs a gather / scatter family call: the uniform size, or the per-rank blocks of a v variant. */
static void log_blocks(const Comm *c, const char *coll, int root, const TypeCase *t, int v, int count, const Blocks *b,
                       const char *what) {
  log_call(c, coll, root, v ? 0 : (long)count * size_of[t->st], v ? b->bytes : NULL, NULL, 0, 1, what);
}
/* Inputs of a (all)gather into the receive blocks b; in place (ip), the caller's own block is
 * already there: its send data, received with the receive type. Returns the caller's send count. */
static int gather_inputs(const Comm *c, const TypeCase *t, const Blocks *b, int v, int count, int ip, int call) {
  const int sc = v ? vcount(count, c->rank) : count;
  uint32_t seed = seed_of(c, call);
  use(b->span > sc ? b->span : sc);
  setup_send(t->st, sc, seed);
  setup_recv(seed);
  if (ip) {
    int pos = 0;
    char *tmp = malloc(cur); /* the packed block: at most cur bytes (16 an element) */
    PMPI_Pack(sa, sc, dt(t->st), tmp, (int)cur, &pos, c->comm);
    pos = 0;
    PMPI_Unpack(tmp, (int)cur, &pos, ra + (MPI_Aint)b->dis[c->rank] * ext_of[t->rt], b->n[c->rank], dt(t->rt), c->comm);
    free(tmp);
    memcpy(rb, ra, cur);
  }
  return sc;
}

/* ---- the collectives ---- */
static void t_barrier(const Comm *c) {
  log_call(c, "Barrier", -1, 0, NULL, NULL, 0, 1, "barrier");
  MPI_Barrier(c->comm);
}

static void t_bcast(const Comm *c, const TypeCase *t, int count, int root, int call) {
  char what[200];
  desc(what, sizeof what, "Bcast", t, "-", count, root, 0);
  MPI_Datatype T = dt(t->st);
  use(count);
  setup_send(t->st, count, seed_of(c, call) + (uint32_t)(c->rank == root ? 0 : 1000));
  log_call(c, "Bcast", root, (long)count * size_of[t->st], NULL, NULL, count, 1, what);
  MPI_Bcast(sa, count, T, root, c->comm);
  PMPI_Bcast(sb, count, T, root, c->comm);
  check(c, what, sa, sb, (size_t)(count + 1) * 16);
}

static void t_reduce(const Comm *c, const TypeCase *t, MPI_Op op, const char *opname, int comm_op, int count, int root,
                     int inplace, int all, int call) {
  char what[200];
  desc(what, sizeof what, all ? "Allreduce" : "Reduce", t, opname, count, root, inplace);
  MPI_Datatype T = dt(t->st);
  uint32_t seed = seed_of(c, call);
  use(count);
  setup_send(t->st, count, seed);
  setup_recv(seed);
  const int me_in_place = inplace && (all || c->rank == root);
  if (me_in_place) {
    fill(ra, t->st, count, seed);
    memcpy(rb, ra, cur);
  }
  log_call(c, all ? "Allreduce" : "Reduce", all ? -1 : root, (long)count * size_of[t->st], NULL, NULL, count, comm_op,
           what);
  const void *sA = me_in_place ? MPI_IN_PLACE : sa, *sB = me_in_place ? MPI_IN_PLACE : sb;
  if (all) {
    MPI_Allreduce(sA, ra, count, T, op, c->comm);
    PMPI_Allreduce(sB, rb, count, T, op, c->comm);
  } else {
    MPI_Reduce(sA, ra, count, T, op, root, c->comm);
    PMPI_Reduce(sB, rb, count, T, op, root, c->comm);
  }
  if (all || c->rank == root) check(c, what, ra, rb, (size_t)(count + 1) * 16);
}

static void t_gather(const Comm *c, const TypeCase *t, int v, int count, int root, int inplace, int call) {
  char what[200];
  const char *name = v ? "Gatherv" : "Gather";
  desc(what, sizeof what, name, t, "-", count, root, inplace);
  MPI_Datatype ST = dt(t->st), RT = dt(t->rt);
  Blocks b = blocks_of(c, t, v, count, t->rmul);
  const int ip = inplace && c->rank == root;
  const int sc = gather_inputs(c, t, &b, v, count, ip, call);
  log_blocks(c, name, root, t, v, count, &b, what);
  const void *sA = ip ? MPI_IN_PLACE : sa, *sB = ip ? MPI_IN_PLACE : sb;
  if (v) {
    MPI_Gatherv(sA, sc, ST, ra, b.n, b.dis, RT, root, c->comm);
    PMPI_Gatherv(sB, sc, ST, rb, b.n, b.dis, RT, root, c->comm);
  } else {
    MPI_Gather(sA, sc, ST, ra, b.n[0], RT, root, c->comm);
    PMPI_Gather(sB, sc, ST, rb, b.n[0], RT, root, c->comm);
  }
  if (c->rank == root) check(c, what, ra, rb, (size_t)(b.span + 1) * 16);
  blocks_free(&b);
}

static void t_scatter(const Comm *c, const TypeCase *t, int v, int count, int root, int inplace, int call) {
  char what[200];
  const char *name = v ? "Scatterv" : "Scatter";
  desc(what, sizeof what, name, t, "-", count, root, inplace);
  MPI_Datatype ST = dt(t->st), RT = dt(t->rt);
  Blocks b = blocks_of(c, t, v, count, 1);
  uint32_t seed = seed_of(c, call);
  use(b.span * 2);
  setup_send(t->st, b.span, seed);
  setup_recv(seed);
  const int ip = inplace && c->rank == root;
  const int rcount = (v ? vcount(count, c->rank) : count) * t->rmul;
  log_blocks(c, name, root, t, v, count, &b, what);
  void *rA = ip ? MPI_IN_PLACE : ra, *rB = ip ? MPI_IN_PLACE : rb;
  if (v) {
    MPI_Scatterv(sa, b.n, b.dis, ST, rA, rcount, RT, root, c->comm);
    PMPI_Scatterv(sb, b.n, b.dis, ST, rB, rcount, RT, root, c->comm);
  } else {
    MPI_Scatter(sa, b.n[0], ST, rA, rcount, RT, root, c->comm);
    PMPI_Scatter(sb, b.n[0], ST, rB, rcount, RT, root, c->comm);
  }
  check(c, what, ra, rb, (size_t)(rcount + 1) * 16);
  check(c, what, sa, sb, (size_t)(b.span + 1) * 16);
  blocks_free(&b);
}

static void t_allgather(const Comm *c, const TypeCase *t, int v, int count, int inplace, int call) {
  char what[200];
  const char *name = v ? "Allgatherv" : "Allgather";
  desc(what, sizeof what, name, t, "-", count, -1, inplace);
  MPI_Datatype ST = dt(t->st), RT = dt(t->rt);
  Blocks b = blocks_of(c, t, v, count, t->rmul);
  const int sc = gather_inputs(c, t, &b, v, count, inplace, call);
  log_blocks(c, name, -1, t, v, count, &b, what);
  const void *sA = inplace ? MPI_IN_PLACE : sa, *sB = inplace ? MPI_IN_PLACE : sb;
  if (v) {
    MPI_Allgatherv(sA, sc, ST, ra, b.n, b.dis, RT, c->comm);
    PMPI_Allgatherv(sB, sc, ST, rb, b.n, b.dis, RT, c->comm);
  } else {
    MPI_Allgather(sA, sc, ST, ra, b.n[0], RT, c->comm);
    PMPI_Allgather(sB, sc, ST, rb, b.n[0], RT, c->comm);
  }
  check(c, what, ra, rb, (size_t)(b.span + 1) * 16);
  blocks_free(&b);
}

static void t_alltoall(const Comm *c, const TypeCase *t, int v, int count, int inplace, int call) {
  char what[200];
  desc(what, sizeof what, v ? "Alltoallv" : "Alltoall", t, "-", count, -1, inplace);
  const int P = c->size, me = c->rank;
  /* In place, send and receive use the receive type: keep the plain types there. */
  const int st = inplace ? t->rt : t->st, rmul = inplace ? 1 : t->rmul;
  MPI_Datatype ST = dt(st), RT = dt(t->rt);
  int *scn = malloc(sizeof(int) * P), *sd = malloc(sizeof(int) * P), *rc = malloc(sizeof(int) * P),
      *rd = malloc(sizeof(int) * P);
  /* cnt(i, j): elements rank i sends to rank j (in place, MPI needs it symmetric) */
#define CNT(i, j) (v ? (inplace ? (count + (i) + (j)) % (count + 3) : a2av(count, (i), (j))) : count)
  long *matrix = malloc(sizeof(long) * P * P);
  for (int i = 0; i < P; ++i)
    for (int j = 0; j < P; ++j) matrix[i * P + j] = (long)CNT(i, j) * size_of[st];
  int so = 0, ro = 0;
  for (int j = 0; j < P; ++j) {
    scn[j] = CNT(me, j);
    rc[j] = CNT(j, me) * rmul;
    sd[j] = v ? so : j * scn[j];
    rd[j] = v ? ro : j * rc[j];
    so += scn[j] + 1;
    ro += rc[j] + 1;
  }
#undef CNT
  uint32_t seed = seed_of(c, call);
  use(so > ro ? so : ro);
  setup_send(st, so, seed);
  setup_recv(seed);
  if (inplace) {
    fill(ra, t->rt, ro, seed + 1);
    memcpy(rb, ra, cur);
  }
  log_call(c, v ? "Alltoallv" : "Alltoall", -1, v ? 0 : (long)count * size_of[st], NULL, v ? matrix : NULL, 0, 1, what);
  if (inplace) {
    if (v) {
      MPI_Alltoallv(MPI_IN_PLACE, NULL, NULL, MPI_DATATYPE_NULL, ra, rc, rd, RT, c->comm);
      PMPI_Alltoallv(MPI_IN_PLACE, NULL, NULL, MPI_DATATYPE_NULL, rb, rc, rd, RT, c->comm);
    } else {
      MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ra, rc[0], RT, c->comm);
      PMPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, rb, rc[0], RT, c->comm);
    }
  } else if (v) {
    MPI_Alltoallv(sa, scn, sd, ST, ra, rc, rd, RT, c->comm);
    PMPI_Alltoallv(sb, scn, sd, ST, rb, rc, rd, RT, c->comm);
  } else {
    MPI_Alltoall(sa, scn[0], ST, ra, rc[0], RT, c->comm);
    PMPI_Alltoall(sb, scn[0], ST, rb, rc[0], RT, c->comm);
  }
  check(c, what, ra, rb, (size_t)(ro + 1) * 16);
  free(scn);
  free(sd);
  free(rc);
  free(rd);
  free(matrix);
}

/* Reduce_scatter_block (block) or Reduce_scatter (v counts): rank j's block holds rc[j] elements. */
static void t_reduce_scatter(const Comm *c, const TypeCase *t, MPI_Op op, const char *opname, int comm_op, int count,
                             int inplace, int block, int call) {
  char what[200];
  const char *name = block ? "Reduce_scatter_block" : "Reduce_scatter";
  desc(what, sizeof what, name, t, opname, count, -1, inplace);
  MPI_Datatype T = dt(t->st);
  const int P = c->size;
  int *rc = malloc(sizeof(int) * P), n = 0;
  long *bytes = malloc(sizeof(long) * P);
  for (int j = 0; j < P; ++j) {
    rc[j] = block ? count : vcount(count, j);
    bytes[j] = (long)rc[j] * size_of[t->st];
    n += rc[j];
  }
  uint32_t seed = seed_of(c, call);
  use(n);
  setup_send(t->st, n, seed);
  setup_recv(seed);
  if (inplace) {
    fill(ra, t->st, n, seed);
    memcpy(rb, ra, cur);
  }
  log_call(c, name, -1, block ? bytes[0] : (long)n * size_of[t->st], block ? NULL : bytes, NULL,
           block ? (long)count * P : n, comm_op, what);
  const void *sA = inplace ? MPI_IN_PLACE : sa, *sB = inplace ? MPI_IN_PLACE : sb;
  if (block) {
    MPI_Reduce_scatter_block(sA, ra, count, T, op, c->comm);
    PMPI_Reduce_scatter_block(sB, rb, count, T, op, c->comm);
  } else {
    MPI_Reduce_scatter(sA, ra, rc, T, op, c->comm);
    PMPI_Reduce_scatter(sB, rb, rc, T, op, c->comm);
  }
  /* In place, the rest of the buffer is the library's scratch: compare the block only. */
  const int mine = rc[c->rank];
  check(c, what, ra, rb, inplace ? (size_t)mine * ext_of[t->st] : (size_t)(mine + 1) * 16);
  free(rc);
  free(bytes);
}

/* Completes `req` as call number `call` says: MPI_Wait, MPI_Test polling, MPI_Waitall or MPI_Waitany
 * loops mixed with a point-to-point pair to this rank itself, or MPI_Testsome polling. */
static void complete(const Comm *c, MPI_Request req, int call) {
  int flag = 0, self = 0, got = 0;
  MPI_Request rs[3] = {req, MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  switch (call % 5) {
    case 0:
      MPI_Wait(&req, MPI_STATUS_IGNORE);
      return;
    case 1:
      while (!flag) MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
      return;
    default:
      break;
  }
  PMPI_Irecv(&got, 1, MPI_INT, c->rank, 77, c->comm, &rs[1]);
  PMPI_Isend(&self, 1, MPI_INT, c->rank, 77, c->comm, &rs[2]);
  if (call % 5 == 2) {
    MPI_Waitall(3, rs, MPI_STATUSES_IGNORE);
  } else if (call % 5 == 3) {
    for (int k = 0; k < 3; ++k) {
      int idx;
      MPI_Waitany(3, rs, &idx, MPI_STATUS_IGNORE);
    }
  } else {
    int left = 3, out, idx[3];
    while (left > 0) {
      MPI_Testsome(3, rs, &out, idx, MPI_STATUSES_IGNORE);
      if (out != MPI_UNDEFINED) left -= out;
    }
  }
}

static void t_iallreduce(const Comm *c, const TypeCase *t, MPI_Op op, const char *opname, int comm_op, int count,
                         int inplace, int call) {
  char what[200];
  desc(what, sizeof what, "Iallreduce", t, opname, count, -1, inplace);
  MPI_Datatype T = dt(t->st);
  uint32_t seed = seed_of(c, call);
  use(count);
  setup_send(t->st, count, seed);
  setup_recv(seed);
  if (inplace) {
    fill(ra, t->st, count, seed);
    memcpy(rb, ra, cur);
  }
  log_call(c, "Iallreduce", -1, (long)count * size_of[t->st], NULL, NULL, count, comm_op, what);
  MPI_Request req;
  MPI_Iallreduce(inplace ? MPI_IN_PLACE : sa, ra, count, T, op, c->comm, &req);
  complete(c, req, call);
  PMPI_Allreduce(inplace ? MPI_IN_PLACE : sb, rb, count, T, op, c->comm);
  check(c, what, ra, rb, (size_t)(count + 1) * 16);
}

static void t_ibcast(const Comm *c, const TypeCase *t, int count, int root, int call) {
  char what[200];
  desc(what, sizeof what, "Ibcast", t, "-", count, root, 0);
  MPI_Datatype T = dt(t->st);
  use(count);
  setup_send(t->st, count, seed_of(c, call) + (uint32_t)(c->rank == root ? 0 : 1000));
  log_call(c, "Ibcast", root, (long)count * size_of[t->st], NULL, NULL, count, 1, what);
  MPI_Request req;
  MPI_Ibcast(sa, count, T, root, c->comm, &req);
  complete(c, req, call);
  PMPI_Bcast(sb, count, T, root, c->comm);
  check(c, what, sa, sb, (size_t)(count + 1) * 16);
}

/* Several non-blocking collectives in flight at once, completed in an order that differs between
 * ranks (even ranks first to last, odd ranks last to first): each rank's chains must advance
 * while it waits for another. */
static void t_inflight(const Comm *c, int count, int call) {
  enum { K = 4 };
  char what[200];
  int *in = malloc(sizeof(int) * count * K), *out = malloc(sizeof(int) * count * K),
      *ref = malloc(sizeof(int) * count * K);
  MPI_Request req[K];
  for (int k = 0; k < count * K; ++k) in[k] = ival(seed_of(c, call), (uint32_t)k);
  memcpy(ref, in, sizeof(int) * count * K);
  for (int k = 0; k < K; ++k) {
    snprintf(what, sizeof what, "%s in flight %d of %d count=%d", k % 2 ? "Ibcast" : "Iallreduce", k + 1, K, count);
    if (k % 2) {
      log_call(c, "Ibcast", k % c->size, (long)count * 4, NULL, NULL, count, 1, what);
      memcpy(out + k * count, in + k * count, sizeof(int) * count);
      MPI_Ibcast(out + k * count, count, MPI_INT, k % c->size, c->comm, &req[k]);
    } else {
      log_call(c, "Iallreduce", -1, (long)count * 4, NULL, NULL, count, 1, what);
      MPI_Iallreduce(in + k * count, out + k * count, count, MPI_INT, MPI_SUM, c->comm, &req[k]);
    }
  }
  for (int k = 0; k < K; ++k) MPI_Wait(&req[c->rank % 2 ? K - 1 - k : k], MPI_STATUS_IGNORE);
  for (int k = 0; k < K; ++k)
    if (k % 2)
      PMPI_Bcast(ref + k * count, count, MPI_INT, k % c->size, c->comm);
    else
      PMPI_Allreduce(MPI_IN_PLACE, ref + k * count, count, MPI_INT, MPI_SUM, c->comm);
  snprintf(what, sizeof what, "non-blocking collectives in flight, count=%d", count);
  check(c, what, (char *)out, (char *)ref, sizeof(int) * count * K);
  free(in);
  free(out);
  free(ref);
}

/* A rank waiting for a point-to-point message whose sender sends it only after its own wait for
 * an Iallreduce (pairs 0-1, 2-3, ...): the first rank's chain must advance in its MPI_Wait for the
 * library's request, its partner's chain may need it (a leader's step). */
static void t_wait_other(const Comm *c, int count, int call) {
  char what[200];
  snprintf(what, sizeof what, "Iallreduce while waiting for a message sent after it, count=%d", count);
  int *in = malloc(sizeof(int) * count), *out = malloc(sizeof(int) * count), *ref = malloc(sizeof(int) * count);
  for (int k = 0; k < count; ++k) in[k] = ival(seed_of(c, call), (uint32_t)k);
  const int partner = c->rank ^ 1;
  int msg = 0;
  MPI_Request req, r2;
  log_call(c, "Iallreduce", -1, (long)count * 4, NULL, NULL, count, 1, what);
  MPI_Iallreduce(in, out, count, MPI_INT, MPI_SUM, c->comm, &req);
  if (partner >= c->size) {
    MPI_Wait(&req, MPI_STATUS_IGNORE);
  } else if (c->rank % 2 == 0) {
    PMPI_Irecv(&msg, 1, MPI_INT, partner, 78, c->comm, &r2);
    MPI_Wait(&r2, MPI_STATUS_IGNORE);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
  } else {
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    PMPI_Send(&msg, 1, MPI_INT, partner, 78, c->comm);
  }
  PMPI_Allreduce(in, ref, count, MPI_INT, MPI_SUM, c->comm);
  check(c, what, (char *)out, (char *)ref, sizeof(int) * count);
  free(in);
  free(out);
  free(ref);
}

static void run_comm(const Comm *c) {
  static const int counts_full[] = {0, 1, 7, 300};
  static const int counts_quick[] = {0, 7};
  const int *counts = quick ? counts_quick : counts_full;
  const int ncounts = quick ? 2 : 4;
  const int P = c->size;
  int call = 0;
  t_barrier(c);
  for (int ti = 0; ti < NTYPES; ++ti) {
    const TypeCase *t = &kTypes[ti];
    for (int ci = 0; ci < ncounts; ++ci) {
      const int count = counts[ci];
      for (int root = 0; root < P; ++root) {
        t_bcast(c, t, count, root, ++call);
        if (root == 0 || root == P / 2 || root == P - 1) t_ibcast(c, t, count, root, ++call);
        for (int ip = 0; ip < 2; ++ip) {
          for (int v = 0; v < 2; ++v) {
            t_gather(c, t, v, count, root, ip, ++call);
            t_scatter(c, t, v, count, root, ip, ++call);
          }
        }
      }
      for (int ip = 0; ip < 2; ++ip)
        for (int v = 0; v < 2; ++v) {
          t_allgather(c, t, v, count, ip, ++call);
          t_alltoall(c, t, v, count, ip, ++call);
        }
      if (ti >= NREDTYPES) continue;
      struct {
        MPI_Op op;
        const char *name;
        int comm;
      } ops[3] = {{MPI_SUM, "sum", 1}, {op_usum, "user-sum", 1}, {op_unc, "user-noncomm", 0}};
      for (int oi = 0; oi < 3; ++oi) {
        if (oi == 0 && t->st >= T_VEC) continue; /* built-in operations: built-in types only */
        for (int ip = 0; ip < 2; ++ip) {
          t_reduce(c, t, ops[oi].op, ops[oi].name, ops[oi].comm, count, -1, ip, 1, ++call);
          t_iallreduce(c, t, ops[oi].op, ops[oi].name, ops[oi].comm, count, ip, ++call);
          for (int block = 0; block < 2; ++block)
            t_reduce_scatter(c, t, ops[oi].op, ops[oi].name, ops[oi].comm, count, ip, block, ++call);
          for (int root = 0; root < P; ++root)
            t_reduce(c, t, ops[oi].op, ops[oi].name, ops[oi].comm, count, root, ip, 0, ++call);
        }
      }
    }
  }
  /* Larger messages: allreduce (for 3+ sites, above m* when SITEMPI_COLL_ALPHA_US is small),
   * bcast, alltoall. */
  const int big = quick ? 600 : 4000;
  for (int oi = 0; oi < 2; ++oi) {
    t_reduce(c, &kTypes[0], oi ? op_unc : MPI_SUM, oi ? "user-noncomm" : "sum", !oi, big, -1, 0, 1, ++call);
    t_reduce(c, &kTypes[1], oi ? op_unc : op_usum, oi ? "user-noncomm" : "user-sum", !oi, big, -1, 1, 1, ++call);
    t_reduce(c, &kTypes[2], op_usum, "user-sum", 1, big / 2, -1, 0, 1, ++call);
  }
  for (int oi = 0; oi < 2; ++oi) {
    t_iallreduce(c, &kTypes[oi], oi ? op_unc : MPI_SUM, oi ? "user-noncomm" : "sum", !oi, big, oi, ++call);
    t_reduce_scatter(c, &kTypes[2 * oi], oi ? op_unc : op_usum, oi ? "user-noncomm" : "user-sum", !oi, big / P, 0, oi,
                     ++call);
  }
  t_ibcast(c, &kTypes[3], big, 0, ++call);
  t_inflight(c, 5, ++call);
  t_inflight(c, big / 4, ++call);
  t_wait_other(c, 5, ++call);
  t_wait_other(c, big, ++call);
  t_bcast(c, &kTypes[1], big, P - 1, ++call);
  /* A rooted Reduce and a Gather whose crossings (a leader's, towards the root) are large enough
   * to be paced where the round trip is short (SITEMPI_COLL_ALPHA_US, core::rate_pace). */
  t_reduce(c, &kTypes[0], MPI_SUM, "sum", 1, big, P - 1, 0, 0, ++call);
  t_gather(c, &kTypes[0], 0, big / 2, 0, 0, ++call);
  t_alltoall(c, &kTypes[3], 0, big / P, 0, ++call);
  t_allgather(c, &kTypes[0], 1, big / P, 0, ++call);
  /* Allgather(v) with blocks of 4 KiB and more on average (coll/allgather.cpp's in-place form): in
   * the receive buffer itself (int, vector>int) and through a buffer in rank order (v blocks with
   * gaps, a vector type). */
  for (int ip = 0; ip < 2; ++ip) {
    t_allgather(c, &kTypes[0], 0, 1100, ip, ++call);
    t_allgather(c, &kTypes[4], 0, 600, ip, ++call);
    t_allgather(c, &kTypes[0], 1, 5000, ip, ++call);
    t_allgather(c, &kTypes[2], 1, 2600, ip, ++call);
  }
  /* Allgather from 16 KiB per rank (spread over the sites' members, coll/allgather.cpp): in the
   * receive buffer (int, vector>int) and through a buffer in rank order (a vector type). */
  for (int ip = 0; ip < 2 && !quick; ++ip) {
    t_allgather(c, &kTypes[0], 0, 5000, ip, ++call);
    t_allgather(c, &kTypes[4], 0, 2600, ip, ++call);
    t_allgather(c, &kTypes[2], 0, 2600, ip, ++call);
  }
  /* Allreduce from 32 KiB (spread over the sites' members, coll/allreduce_spread.cpp): counts the
   * members do not divide evenly, in place and not, built-in, user and non-commutative operations
   * (PMPI unless sites are contiguous), a vector type. */
  for (int oi = 0; oi < 2 && !quick; ++oi) {
    t_reduce(c, &kTypes[0], oi ? op_unc : MPI_SUM, oi ? "user-noncomm" : "sum", !oi, 9001, -1, oi, 1, ++call);
    t_reduce(c, &kTypes[1], oi ? op_unc : op_usum, oi ? "user-noncomm" : "user-sum", !oi, 4999, -1, !oi, 1, ++call);
    t_reduce(c, &kTypes[2], op_usum, "user-sum", 1, 4501, -1, oi, 1, ++call);
  }
  /* Allreduce of 1 MiB and more, in the quick run too: spread where the sites span nodes, the
   * leaders where every site lies within one node (core::spread_allreduce_max); counts the members
   * do not divide evenly, in place and not. */
  t_reduce(c, &kTypes[0], MPI_SUM, "sum", 1, 270001, -1, 0, 1, ++call);
  t_reduce(c, &kTypes[1], op_usum, "user-sum", 1, 140001, -1, 1, 1, ++call);
  /* Reduce from 64 to 256 KiB and Gather from 16 KiB to 1 MiB per rank, in the quick run too:
   * spread where the sites span nodes (coll/reduce_spread.cpp, gather.cpp), the leaders where every
   * site lies within one node or the call is larger (a 1.1 MB Reduce); roots on either site, counts
   * the members do not divide evenly, non-contiguous types, in place and not, user and
   * non-commutative operations (PMPI unless sites are contiguous). Bcasts of the same sizes. */
  {
    const int roots[3] = {0, P / 2, P - 1};
    for (int r = 0; r < 3; ++r) {
      t_bcast(c, &kTypes[0], 20001, roots[r], ++call);
      t_reduce(c, &kTypes[0], MPI_SUM, "sum", 1, 20001, roots[r], r == 1, 0, ++call);
    }
    t_bcast(c, &kTypes[2], 9001, P - 1, ++call);
    t_bcast(c, &kTypes[3], 7001, P / 2, ++call);
    t_bcast(c, &kTypes[1], 140001, 0, ++call);
    t_reduce(c, &kTypes[1], op_usum, "user-sum", 1, 140001, P / 2, 1, 0, ++call);
    t_reduce(c, &kTypes[2], op_usum, "user-sum", 1, 9001, P - 1, 0, 0, ++call);
    t_reduce(c, &kTypes[3], op_unc, "user-noncomm", 0, 7001, 0, 1, 0, ++call);
    /* Gather from 64 KiB per rank (spread: every block straight to the root), in place and not,
     * into a contiguous and a non-contiguous receive type, send and receive types that differ. */
    for (int ip = 0; ip < 2; ++ip) {
      t_gather(c, &kTypes[0], 0, 17000, ip ? P - 1 : 0, ip, ++call);
      t_gather(c, &kTypes[3], 0, 7001, P / 2, ip, ++call);
      t_gather(c, &kTypes[4], 0, 8200, ip ? 0 : P - 1, ip, ++call);
    }
  }
  /* Gather and Scatter with blocks of 4 KiB and more (coll/gather.cpp, scatter.cpp: forwarded
   * block by block): contiguous types land in (leave from) the root's buffer itself, the others go
   * through a buffer in rank order; roots on either site, in place or not, every type. */
  for (int ti = 0; ti < NTYPES; ++ti)
    for (int ip = 0; ip < 2; ++ip) {
      const int roots[3] = {0, P / 2, P - 1};
      for (int r = 0; r < 3; ++r) {
        t_gather(c, &kTypes[ti], 0, 1100, roots[r], ip, ++call);
        t_scatter(c, &kTypes[ti], 0, 1100, roots[r], ip, ++call);
      }
    }
  /* Reduce_scatter(_block) from 16 KiB per rank on average (spread over the sites' members,
   * coll/reduce_scatter_spread.cpp): int sum in place and not, a vector type with a user sum and a
   * non-commutative operation (PMPI unless sites are contiguous), v counts with empty blocks (not
   * in the quick run, whose reduce-scatters are all small). */
  for (int block = 0; block < 2 && !quick; ++block)
    for (int ip = 0; ip < 2; ++ip) {
      /* v counts (vcount) wrap: two blocks of about `count`, the others small */
      const int n = block ? 1 : 4;
      t_reduce_scatter(c, &kTypes[0], MPI_SUM, "sum", 1, 4200 * n, ip, block, ++call);
      t_reduce_scatter(c, &kTypes[2], ip ? op_unc : op_usum, ip ? "user-noncomm" : "user-sum", !ip, 2100 * n, ip, block,
                       ++call);
    }
  v_empty = 1;
  for (int ip = 0; ip < 2 && !quick; ++ip)
    t_reduce_scatter(c, &kTypes[1], op_usum, "user-sum", 1, 17000, ip, 0, ++call);
  v_empty = 0;
  /* Gatherv and Scatterv, uneven with empty blocks: each site forwarded or packed by its own
   * blocks' average (coll/layout.h: forwarded_site), both in one call where a site holds one of
   * the large blocks and another does not; displacements with gaps. */
  v_empty = 1;
  for (int ti = 0; ti < NTYPES; ti += 2)
    for (int ip = 0; ip < 2; ++ip) {
      const int roots[2] = {0, P - 1};
      for (int r = 0; r < 2; ++r)
        for (int k = 0; k < 2; ++k) {
          t_gather(c, &kTypes[ti], 1, k ? 5000 : 1100, roots[r], ip, ++call);
          t_scatter(c, &kTypes[ti], 1, k ? 5000 : 1100, roots[r], ip, ++call);
        }
    }
  v_empty = 0;
  t_barrier(c);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  PMPI_Comm_rank(MPI_COMM_WORLD, &wrank);
  PMPI_Comm_size(MPI_COMM_WORLD, &wsize);
  if (argc < 2) {
    if (!wrank) fprintf(stderr, "usage: coll_check DIR [quick]\n");
    PMPI_Abort(MPI_COMM_WORLD, 2);
  }
  quick = argc > 2 && !strcmp(argv[2], "quick");
  char path[4096];
  snprintf(path, sizeof path, "%s/calls-%d.jsonl", argv[1], wrank);
  logf = fopen(path, "w");
  if (!logf) {
    perror(path);
    PMPI_Abort(MPI_COMM_WORLD, 2);
  }
  sa = malloc(BUF);
  sb = malloc(BUF);
  ra = malloc(BUF);
  rb = malloc(BUF);

  MPI_Datatype v0, s0;
  PMPI_Type_vector(2, 1, 2, MPI_INT, &v0); /* ints at 0 and 8, extent 12 */
  PMPI_Type_create_resized(v0, 0, 16, &tvec);
  PMPI_Type_commit(&tvec);
  int bl[2] = {1, 1};
  MPI_Aint disp[2] = {4, 8};
  MPI_Datatype types[2] = {MPI_INT, MPI_DOUBLE};
  PMPI_Type_create_struct(2, bl, disp, types, &s0); /* true lb 4 */
  PMPI_Type_create_resized(s0, 0, 16, &tstruct);
  PMPI_Type_commit(&tstruct);
  PMPI_Type_free(&v0);
  PMPI_Type_free(&s0);
  PMPI_Op_create(user_sum, 1, &op_usum);
  PMPI_Op_create(user_nc, 0, &op_unc);

  /* world, then a split: two halves by parity with reversed rank order */
  Comm world = {MPI_COMM_WORLD, 0, wrank, wsize, "world"};
  log_commdef(0, NULL, wsize);
  run_comm(&world);

  MPI_Comm split;
  PMPI_Comm_split(MPI_COMM_WORLD, wrank % 2, wsize - wrank, &split);
  Comm sc = {split, 1, 0, 0, "split"};
  PMPI_Comm_rank(split, &sc.rank);
  PMPI_Comm_size(split, &sc.size);
  int *members = malloc(sizeof(int) * sc.size);
  PMPI_Allgather(&wrank, 1, MPI_INT, members, 1, MPI_INT, split);
  log_commdef(1, members, sc.size);
  run_comm(&sc);
  PMPI_Comm_free(&split);

  long tot[2] = {ncalls, nerrors}, sum[2];
  PMPI_Reduce(tot, sum, 2, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  if (!wrank) printf("coll_check rank 0: %ld calls, %ld errors\n", sum[0], sum[1]);
  fclose(logf);
  PMPI_Op_free(&op_usum);
  PMPI_Op_free(&op_unc);
  MPI_Finalize();
  return 0;
}
