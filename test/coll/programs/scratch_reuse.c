/* The site-aware collectives at sizes whose temporary buffers come from the shim's pool
 * (coll/scratch.h: 64 KiB and up), called again and again with new data each time: every result is
 * checked against its closed form, so that a buffer handed out again with an earlier call's
 * contents, or an algorithm that relied on zeroed temporaries, shows as wrong elements.
 * Prints "scratch_reuse rank R: C calls, E errors". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int P, me, errors, calls;

static int v(int r, long i, int salt) { return (int)((r * 7919L + i * 31L + salt * 104729L) % 100003L); }

static void expect(const int *got, long n, int (*want)(long, void *), void *ctx, const char *what) {
  long bad = 0;
  for (long i = 0; i < n; ++i) bad += got[i] != want(i, ctx);
  ++calls;
  if (bad) {
    ++errors;
    fprintf(stderr, "scratch_reuse rank %d: %s: %ld wrong elements\n", me, what, bad);
  }
}

struct ctx {
  int salt, blk, root;
};
static int sum_at(long i, void *c) {
  const struct ctx *x = c;
  int s = 0;
  for (int r = 0; r < P; ++r) s += v(r, i, x->salt);
  return s;
}
static int sum_mine(long k, void *c) { return sum_at(me * (long)((struct ctx *)c)->blk + k, c); }
static int gathered(long i, void *c) {
  const struct ctx *x = c;
  return v((int)(i / x->blk), i % x->blk, x->salt);
}
static int from_root(long i, void *c) { return v(((struct ctx *)c)->root, i, ((struct ctx *)c)->salt); }
/* Alltoall: rank r's block for rank j holds v(r * P + j, k). */
static int exchanged(long i, void *c) {
  const struct ctx *x = c;
  return v((int)(i / x->blk) * P + me, i % x->blk, x->salt);
}
static int scattered(long k, void *c) {
  const struct ctx *x = c;
  return v(x->root * P + me, k, x->salt);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_size(MPI_COMM_WORLD, &P);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  /* ints: 64 KiB, 273 KiB, 2.3 MiB (a Reduce in 19 segments, the last one short: coll/segments.h) */
  static const long counts[] = {16384, 70000, 600000};
  const long max = 600000;
  int *in = malloc(sizeof(int) * max * P), *out = malloc(sizeof(int) * max * P);
  memset(in, 0, sizeof(int) * max * P);
  memset(out, 0, sizeof(int) * max * P);
  for (int pass = 0; pass < 2; ++pass) {
    for (int ci = 0; ci < 3; ++ci) {
      const long n = counts[ci];
      const int blk = (int)(n / P);
      struct ctx x = {pass * 100 + ci * 10, blk, 0};
      for (long i = 0; i < n; ++i) in[i] = v(me, i, x.salt);
      MPI_Allreduce(in, out, (int)n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
      expect(out, n, sum_at, &x, "Allreduce");
      x.salt += 1;
      for (long i = 0; i < n; ++i) in[i] = v(me, i, x.salt);
      MPI_Reduce(in, out, (int)n, MPI_INT, MPI_SUM, P - 1, MPI_COMM_WORLD);
      if (me == P - 1) expect(out, n, sum_at, &x, "Reduce");
      x.salt += 1;
      for (long i = 0; i < (long)blk * P; ++i) in[i] = v(me, i, x.salt);
      MPI_Reduce_scatter_block(in, out, blk, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
      expect(out, blk, sum_mine, &x, "Reduce_scatter_block");
      x.salt += 1;
      for (long k = 0; k < blk; ++k) in[k] = v(me, k, x.salt);
      MPI_Allgather(in, blk, MPI_INT, out, blk, MPI_INT, MPI_COMM_WORLD);
      expect(out, (long)blk * P, gathered, &x, "Allgather");
      x.salt += 1;
      for (long k = 0; k < blk; ++k) out[(long)me * blk + k] = v(me, k, x.salt);
      MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, out, blk, MPI_INT, MPI_COMM_WORLD);
      expect(out, (long)blk * P, gathered, &x, "Allgather in place");
      x.salt += 1;
      for (long i = 0; i < (long)blk * P; ++i) in[i] = v(me * P + (int)(i / blk), i % blk, x.salt);
      MPI_Alltoall(in, blk, MPI_INT, out, blk, MPI_INT, MPI_COMM_WORLD);
      expect(out, (long)blk * P, exchanged, &x, "Alltoall");
      x.salt += 1;
      for (long i = 0; i < (long)blk * P; ++i) out[i] = v(me * P + (int)(i / blk), i % blk, x.salt);
      MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, out, blk, MPI_INT, MPI_COMM_WORLD);
      expect(out, (long)blk * P, exchanged, &x, "Alltoall in place");
      x.salt += 1, x.root = 1 % P;
      for (long k = 0; k < blk; ++k) in[k] = v(me, k, x.salt);
      MPI_Gather(in, blk, MPI_INT, out, blk, MPI_INT, x.root, MPI_COMM_WORLD);
      if (me == x.root) expect(out, (long)blk * P, gathered, &x, "Gather");
      x.salt += 1, x.root = 2 % P;
      for (long i = 0; i < (long)blk * P; ++i) in[i] = v(me * P + (int)(i / blk), i % blk, x.salt);
      MPI_Scatter(in, blk, MPI_INT, out, blk, MPI_INT, x.root, MPI_COMM_WORLD);
      expect(out, blk, scattered, &x, "Scatter");
      x.salt += 1, x.root = 1 % P;
      for (long i = 0; i < n; ++i) out[i] = me == x.root ? v(me, i, x.salt) : -1;
      MPI_Bcast(out, (int)n, MPI_INT, x.root, MPI_COMM_WORLD);
      expect(out, n, from_root, &x, "Bcast");
    }
  }
  printf("scratch_reuse rank %d: %d calls, %d errors\n", me, calls, errors);
  free(in);
  free(out);
  MPI_Finalize();
  return errors ? 1 : 0;
}
