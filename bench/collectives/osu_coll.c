/*
 * osu_coll — sitempi's OSU-style collective latency benchmark.
 *
 * For each collective and message size:
 *   1. warm-up: W barrier-separated calls (an Alltoall at least --alltoall-warmup, the calls in
 *      which sitempi calibrates it, and the library's own Alltoall of a paired loop at least
 *      --library-alltoall-warmup); every rank times "barrier + call" and the slowest iteration
 *      anywhere (max over ranks) sizes the time slot of one timed iteration, leaving out the first
 *      two calls of a variant that warms up longer (a size's first calls pay for warming TCP to it);
 *   2. timed loop: I iterations (I adapted to the size: budget / slot, clamped to
 *      [min-iters, iters], and cut to max-point-ms / slot, at least 1, for very slow calls), each one
 *      barrier-separated AND started on a common clock: after the barrier, every rank sleeps until
 *      T_i = T0 + i*slot (clock_nanosleep to an absolute CLOCK_MONOTONIC time) and then calls.
 *      On the sitempi testbed every virtual node is a namespace of one kernel, so CLOCK_MONOTONIC
 *      is one clock for all ranks, and the latency of iteration i is
 *          lat_i = max_r(end_r) - min_r(start_r)
 *      from the common start (the first rank's entry, a few µs after T_i) to the moment the last
 *      rank left the call. (With plain barrier
 *      separation, ranks leave the barrier up to one WAN latency apart, so per-rank times are
 *      wrong by up to that much; a collective can even look faster than the WAN allows.) On a
 *      loaded machine some ranks wake up late; that delay is inside lat_i (an overestimate, never
 *      an underestimate), and reported separately as wake_* (max_r(start_r) - T_i), together
 *      with last_entry_* = max_r(end_r) - max_r(start_r). A point whose slowest warm-up call took
 *      UNCLOCKED_S or more ("clocked":false; the info line's "unclocked_us") starts as the barrier
 *      releases the ranks, and wake_* is the spread of their entries (inside lat_i, a few percent
 *      of such a call). When the ranks do not share a kernel (different
 *      /proc/sys/kernel/random/boot_id), the program falls back to OSU's definition,
 *      lat_i = max_r(end_r - start_r) after a barrier ("sync":"barrier"); it is always reported
 *      as local_*. "overruns" counts iterations where a rank left the barrier after T_i.
 *      Result: median over iterations (and min, quartiles, max);
 *      With --paired the loop alternates MPI_X and PMPI_X (under an LD_PRELOADed shim: the shim's
 *      call and the library's own, past the shim), iteration by iteration, each with the warm-up and
 *      the iterations of an unpaired loop. The result is MPI_X's, plus the library's median and the
 *      median over adjacent pairs of lat_2k / lat_2k+1: both calls met the same state of the host,
 *      which a comparison of two jobs run minutes apart cannot promise on a shared machine;
 *   3. check: one call on known integer data, verified on every rank ("ok" in the output);
 *   4. counted phase (with --sync-dir and --count > 0): exactly C back-to-back calls between two
 *      file handshakes with the harness, which snapshots the WAN emulator's counters while every
 *      rank is parked (no MPI traffic) right before and right after the C calls; the harness
 *      divides the counter delta by C. The handshake uses files in a directory shared by all
 *      ranks (same host), so it adds no network traffic:
 *        rank r creates  DIR/ready.K.r  (rank 0 writes the phase as JSON into it), waits for DIR/go.K
 *        C calls
 *        rank r creates  DIR/done.K.r,  waits for DIR/next.K
 *
 * Output: JSON lines on rank 0's stdout ("type":"info" | "placement" | "result" | "phase" | "end").
 *
 * Buffers follow each collective's semantics, for message size m:
 *   Bcast m; Reduce/Allreduce m bytes of MPI_INT (m/4 ints, MPI_SUM); Gather/Allgather m per rank
 *   (receive buffer P*m); Alltoall m per pair (send and receive buffers P*m); Reduce_scatter_block
 *   m bytes of MPI_INT per rank's block (send buffer P*m, MPI_SUM); Barrier no data.
 *   Roots are rank 0.
 *
 * Usage: osu_coll [--colls barrier,bcast,reduce,allreduce,gather,allgather,alltoall,reduce_scatter]
 *                 [--sizes 8,64,4k,1m | --min 8 --max 4m --factor 4]
 *                 [--warmup 2] [--alltoall-warmup 0] [--library-alltoall-warmup N]
 *                 [--iters 20] [--min-iters 3] [--budget-ms 800] [--max-point-ms 0]
 *                 [--sync auto|global|barrier] [--sync-dir DIR --count 4 [--count-budget-ms 400]]
 *                 [--no-check] [--paired] [--print-iters] [--timeout-s 300]
 * --print-iters adds every iteration's latency in time order ("iters_us", both variants of a
 * paired loop interleaved) and rank 0's warm-up calls ("warmup_us", barrier + call), for studies of
 * how a size's calls warm up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { C_BARRIER, C_BCAST, C_REDUCE, C_ALLREDUCE, C_GATHER, C_ALLGATHER, C_ALLTOALL, C_REDUCE_SCATTER, C_COUNT };
static const char *coll_names[C_COUNT] = {"barrier", "bcast",     "reduce",   "allreduce",
                                          "gather",  "allgather", "alltoall", "reduce_scatter"};

static int rank, nprocs;
/* Seconds: a point whose slowest warm-up call took this long is timed without the common clock. */
#define UNCLOCKED_S 0.25

static struct {
  int colls[C_COUNT];
  int ncolls;
  long sizes[64];
  int nsizes;
  int warmup, alltoall_warmup, library_alltoall_warmup, iters, min_iters;
  double budget_ms;
  int sync; /* 0 auto, 1 global, 2 barrier */
  const char *sync_dir;
  int count;
  double count_budget_ms;
  double max_point_ms;
  int check;
  int paired;
  int print_iters;
  double timeout_s;
} opt;

static void die(const char *msg) {
  fprintf(stderr, "osu_coll[%d]: %s\n", rank, msg);
  MPI_Abort(MPI_COMM_WORLD, 2);
  exit(2);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_until(double t) {
  struct timespec ts;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

static long parse_size(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) return -1;
  switch (*end) {
    case 'k':
    case 'K':
      v *= 1024;
      end++;
      break;
    case 'm':
    case 'M':
      v *= 1024 * 1024;
      end++;
      break;
    case 'g':
    case 'G':
      v *= 1024.0 * 1024 * 1024;
      end++;
      break;
    default:
      break;
  }
  if (*end == 'i' || *end == 'I') end++;
  if (*end == 'b' || *end == 'B') end++;
  if (*end != 0) return -1;
  return (long)v;
}

static int parse_coll(const char *s) {
  for (int c = 0; c < C_COUNT; c++)
    if (strcmp(s, coll_names[c]) == 0) return c;
  return -1;
}

static void parse_args(int argc, char **argv) {
  long min = 8, max = 4L << 20, factor = 4;
  opt.warmup = 2;
  opt.library_alltoall_warmup = -1; /* unset: as --alltoall-warmup */
  opt.iters = 20;
  opt.min_iters = 3;
  opt.budget_ms = 800;
  opt.count = 4;
  opt.count_budget_ms = 400;
  opt.check = 1;
  opt.timeout_s = 300;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV()                          \
  do {                                   \
    if (!v) die("option needs a value"); \
    i++;                                 \
  } while (0)
    if (strcmp(a, "--colls") == 0) {
      NEEDV();
      char *copy = strdup(v), *save = NULL;
      for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int c = parse_coll(t);
        if (c < 0) die("unknown collective in --colls");
        opt.colls[opt.ncolls++] = c;
        if (opt.ncolls > C_COUNT) die("too many collectives");
      }
      free(copy);
    } else if (strcmp(a, "--sizes") == 0) {
      NEEDV();
      char *copy = strdup(v), *save = NULL;
      for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        long s = parse_size(t);
        if (s < 1 || opt.nsizes >= 64) die("bad --sizes");
        opt.sizes[opt.nsizes++] = s;
      }
      free(copy);
    } else if (strcmp(a, "--min") == 0) {
      NEEDV();
      min = parse_size(v);
    } else if (strcmp(a, "--max") == 0) {
      NEEDV();
      max = parse_size(v);
    } else if (strcmp(a, "--factor") == 0) {
      NEEDV();
      factor = atol(v);
    } else if (strcmp(a, "--warmup") == 0) {
      NEEDV();
      opt.warmup = atoi(v);
    } else if (strcmp(a, "--alltoall-warmup") == 0) {
      NEEDV();
      opt.alltoall_warmup = atoi(v);
    } else if (strcmp(a, "--library-alltoall-warmup") == 0) {
      NEEDV();
      opt.library_alltoall_warmup = atoi(v);
    } else if (strcmp(a, "--iters") == 0) {
      NEEDV();
      opt.iters = atoi(v);
    } else if (strcmp(a, "--min-iters") == 0) {
      NEEDV();
      opt.min_iters = atoi(v);
    } else if (strcmp(a, "--budget-ms") == 0) {
      NEEDV();
      opt.budget_ms = atof(v);
    } else if (strcmp(a, "--sync") == 0) {
      NEEDV();
      opt.sync = strcmp(v, "global") == 0 ? 1 : strcmp(v, "barrier") == 0 ? 2 : strcmp(v, "auto") == 0 ? 0 : -1;
      if (opt.sync < 0) die("--sync auto|global|barrier");
    } else if (strcmp(a, "--sync-dir") == 0) {
      NEEDV();
      opt.sync_dir = v;
    } else if (strcmp(a, "--count") == 0) {
      NEEDV();
      opt.count = atoi(v);
    } else if (strcmp(a, "--count-budget-ms") == 0) {
      NEEDV();
      opt.count_budget_ms = atof(v);
    } else if (strcmp(a, "--max-point-ms") == 0) {
      NEEDV();
      opt.max_point_ms = atof(v);
    } else if (strcmp(a, "--no-check") == 0)
      opt.check = 0;
    else if (strcmp(a, "--paired") == 0)
      opt.paired = 1;
    else if (strcmp(a, "--print-iters") == 0)
      opt.print_iters = 1;
    else if (strcmp(a, "--timeout-s") == 0) {
      NEEDV();
      opt.timeout_s = atof(v);
    } else
      die("unknown option (see the comment at the top of osu_coll.c)");
#undef NEEDV
  }
  if (opt.ncolls == 0) {
    for (int c = 0; c < C_COUNT; c++) opt.colls[opt.ncolls++] = c;
  }
  if (opt.nsizes == 0) {
    if (min < 1 || max < min || factor < 2) die("bad --min/--max/--factor");
    for (long s = min; s <= max && opt.nsizes < 64; s *= factor) opt.sizes[opt.nsizes++] = s;
  }
  if (opt.warmup < 1) opt.warmup = 1;
  if (opt.library_alltoall_warmup < 0) opt.library_alltoall_warmup = opt.alltoall_warmup;
  if (opt.iters < 1) opt.iters = 1;
  if (opt.min_iters < 1) opt.min_iters = 1;
  if (opt.min_iters > opt.iters) opt.min_iters = opt.iters;
}

/* ------------------------------------------------------------------ buffers and calls */

static char *sbuf, *rbuf;
static size_t buf_bytes;

static void ensure_buffers(size_t bytes) {
  if (bytes <= buf_bytes) return;
  free(sbuf);
  free(rbuf);
  sbuf = malloc(bytes);
  rbuf = malloc(bytes);
  if (!sbuf || !rbuf) die("out of memory");
  memset(sbuf, rank & 0x7f, bytes);
  memset(rbuf, 0, bytes);
  buf_bytes = bytes;
}

static size_t buffer_need(int c, long m) {
  switch (c) {
    case C_GATHER:
    case C_ALLGATHER:
    case C_ALLTOALL:
    case C_REDUCE_SCATTER:
      return (size_t)m * (size_t)nprocs;
    case C_BARRIER:
      return 16;
    default:
      return (size_t)m;
  }
}

/* One call of collective c on m bytes: MPI_X, or with lib set PMPI_X, the library's own (past an
   LD_PRELOADed shim: --paired). */
#define CALL(f, ...) (lib ? P##f(__VA_ARGS__) : f(__VA_ARGS__))
static int call(int c, long m, int lib) {
  int ints = (int)(m / 4);
  if (ints < 1) ints = 1;
  switch (c) {
    case C_BARRIER:
      return CALL(MPI_Barrier, MPI_COMM_WORLD);
    case C_BCAST:
      return CALL(MPI_Bcast, sbuf, (int)m, MPI_BYTE, 0, MPI_COMM_WORLD);
    case C_REDUCE:
      return CALL(MPI_Reduce, sbuf, rbuf, ints, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    case C_ALLREDUCE:
      return CALL(MPI_Allreduce, sbuf, rbuf, ints, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    case C_GATHER:
      return CALL(MPI_Gather, sbuf, (int)m, MPI_BYTE, rbuf, (int)m, MPI_BYTE, 0, MPI_COMM_WORLD);
    case C_ALLGATHER:
      return CALL(MPI_Allgather, sbuf, (int)m, MPI_BYTE, rbuf, (int)m, MPI_BYTE, MPI_COMM_WORLD);
    case C_ALLTOALL:
      return CALL(MPI_Alltoall, sbuf, (int)m, MPI_BYTE, rbuf, (int)m, MPI_BYTE, MPI_COMM_WORLD);
    case C_REDUCE_SCATTER:
      return CALL(MPI_Reduce_scatter_block, sbuf, rbuf, ints, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  }
  return MPI_ERR_OTHER;
}
#undef CALL

/* One call on known data; returns 1 if this rank's result is right. Reinitialises buffers. */
static int check_once(int c, long m) {
  int ok = 1;
  size_t P = (size_t)nprocs;
  int ints = (int)(m / 4);
  if (ints < 1) ints = 1;
  switch (c) {
    case C_BARRIER:
      MPI_Barrier(MPI_COMM_WORLD);
      break;
    case C_BCAST:
      for (long i = 0; i < m; i++) sbuf[i] = rank == 0 ? (char)(i * 7 + 3) : 0;
      MPI_Bcast(sbuf, (int)m, MPI_BYTE, 0, MPI_COMM_WORLD);
      for (long i = 0; i < m && ok; i++) ok = sbuf[i] == (char)(i * 7 + 3);
      break;
    case C_REDUCE:
    case C_ALLREDUCE: {
      int *s = (int *)sbuf, *r = (int *)rbuf;
      for (int i = 0; i < ints; i++) {
        s[i] = rank * 1000 + i;
        r[i] = -1;
      }
      if (c == C_REDUCE)
        MPI_Reduce(s, r, ints, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
      else
        MPI_Allreduce(s, r, ints, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
      if (c == C_ALLREDUCE || rank == 0) {
        long base = 1000L * (long)nprocs * (nprocs - 1) / 2;
        for (int i = 0; i < ints && ok; i++) ok = r[i] == (int)(base + (long)nprocs * i);
      }
      break;
    }
    case C_GATHER:
    case C_ALLGATHER:
      for (long i = 0; i < m; i++) sbuf[i] = (char)(rank * 31 + i);
      memset(rbuf, 0xff, (size_t)m * P);
      if (c == C_GATHER)
        MPI_Gather(sbuf, (int)m, MPI_BYTE, rbuf, (int)m, MPI_BYTE, 0, MPI_COMM_WORLD);
      else
        MPI_Allgather(sbuf, (int)m, MPI_BYTE, rbuf, (int)m, MPI_BYTE, MPI_COMM_WORLD);
      if (c == C_ALLGATHER || rank == 0)
        for (size_t r = 0; r < P && ok; r++)
          for (long i = 0; i < m && ok; i++) ok = rbuf[r * (size_t)m + (size_t)i] == (char)((long)r * 31 + i);
      break;
    case C_ALLTOALL:
      for (size_t d = 0; d < P; d++)
        for (long i = 0; i < m; i++) sbuf[d * (size_t)m + (size_t)i] = (char)(rank * 13 + (long)d * 5 + i);
      memset(rbuf, 0xff, (size_t)m * P);
      MPI_Alltoall(sbuf, (int)m, MPI_BYTE, rbuf, (int)m, MPI_BYTE, MPI_COMM_WORLD);
      for (size_t s = 0; s < P && ok; s++)
        for (long i = 0; i < m && ok; i++) ok = rbuf[s * (size_t)m + (size_t)i] == (char)((long)s * 13 + rank * 5 + i);
      break;
    case C_REDUCE_SCATTER: { /* element k of the vector from rank q: q * 1000 + k; my block starts at rank * ints */
      int *s = (int *)sbuf, *r = (int *)rbuf;
      for (size_t k = 0; k < P * (size_t)ints; k++) s[k] = rank * 1000 + (int)k;
      for (int i = 0; i < ints; i++) r[i] = -1;
      MPI_Reduce_scatter_block(s, r, ints, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
      long base = 1000L * (long)nprocs * (nprocs - 1) / 2;
      for (int i = 0; i < ints && ok; i++) ok = r[i] == (int)(base + (long)nprocs * ((long)rank * ints + i));
      break;
    }
  }
  return ok;
}

/* ------------------------------------------------------------------ bookkeeping over point-to-point

   The benchmark's own bookkeeping (agreeing on slot sizes and start times, collecting times and
   check results) uses point-to-point messages only: the collectives under test (Open MPI's
   modules, HAN, or the sitempi shim while it is being written) must not decide what we report. */

enum { TAG_INFRA = 4242 };

static void p2p_bcast(void *buf, int n, MPI_Datatype t) {
  if (rank == 0) {
    for (int r = 1; r < nprocs; r++) MPI_Send(buf, n, t, r, TAG_INFRA, MPI_COMM_WORLD);
  } else {
    MPI_Recv(buf, n, t, 0, TAG_INFRA, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
}

/* Element-wise max (sign = 1) or min (sign = -1) of doubles at rank 0. */
static void p2p_reduce_d(const double *in, double *out, int n, int sign) {
  if (rank != 0) {
    MPI_Send(in, n, MPI_DOUBLE, 0, TAG_INFRA, MPI_COMM_WORLD);
    return;
  }
  double *tmp = malloc((size_t)n * sizeof(double));
  if (!tmp) die("out of memory");
  memcpy(out, in, (size_t)n * sizeof(double));
  for (int r = 1; r < nprocs; r++) {
    MPI_Recv(tmp, n, MPI_DOUBLE, r, TAG_INFRA, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (int i = 0; i < n; i++)
      if (sign > 0 ? tmp[i] > out[i] : tmp[i] < out[i]) out[i] = tmp[i];
  }
  free(tmp);
}

static double p2p_allmax(double v) {
  double out = v;
  p2p_reduce_d(&v, &out, 1, 1);
  p2p_bcast(&out, 1, MPI_DOUBLE);
  return out;
}

/* ------------------------------------------------------------------ file handshake */

static void touch(const char *name, const char *content) {
  char path[PATH_MAX], tmp[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", opt.sync_dir, name);
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", opt.sync_dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die("cannot create a file in --sync-dir");
  if (content) {
    size_t n = strlen(content);
    if (write(fd, content, n) != (ssize_t)n) die("write to --sync-dir failed");
  }
  close(fd);
  if (rename(tmp, path) != 0) die("rename in --sync-dir failed");
}

static void wait_file(const char *name) {
  char path[PATH_MAX];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", opt.sync_dir, name);
  double deadline = now_s() + opt.timeout_s;
  struct timespec ts = {0, 500000}; /* 0.5 ms */
  while (stat(path, &st) != 0) {
    if (now_s() > deadline) die("timed out waiting for the harness (--sync-dir)");
    nanosleep(&ts, NULL);
  }
}

static int phase_no;

static void counted_phase(int c, long m, int calls) {
  char name[64], content[256];
  int k = phase_no++;
  snprintf(name, sizeof name, "ready.%d.%d", k, rank);
  snprintf(content, sizeof content, "{\"phase\":%d,\"coll\":\"%s\",\"bytes\":%ld,\"calls\":%d}\n", k, coll_names[c], m,
           calls);
  touch(name, rank == 0 ? content : NULL);
  snprintf(name, sizeof name, "go.%d", k);
  wait_file(name);
  double t0 = now_s();
  for (int i = 0; i < calls; i++) call(c, m, 0);
  double t1 = now_s();
  snprintf(name, sizeof name, "done.%d.%d", k, rank);
  touch(name, NULL);
  snprintf(name, sizeof name, "next.%d", k);
  wait_file(name);
  if (rank == 0)
    printf("{\"type\":\"phase\",\"phase\":%d,\"coll\":\"%s\",\"bytes\":%ld,\"calls\":%d,\"rank0_s\":%.6f}\n", k,
           coll_names[c], m, calls, t1 - t0);
}

/* ------------------------------------------------------------------ measurement */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, int n, double q) {
  if (n == 0) return 0;
  double pos = q * (n - 1);
  int lo = (int)pos;
  int hi = lo + 1 < n ? lo + 1 : lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/* Every `stride`-th value of `all` from `first` (one variant of a paired loop), sorted into `tmp`. */
static void pick_sorted(const double *all, int n, int first, int stride, double *tmp) {
  int k = 0;
  for (int i = first; i < n; i += stride) tmp[k++] = all[i];
  qsort(tmp, (size_t)k, sizeof(double), cmp_double);
}

static void measure(int c, long m, int global_clock) {
  ensure_buffers(buffer_need(c, m));
  /* --paired: iterations alternate MPI_X (the shim's, under LD_PRELOAD) and PMPI_X (the library's),
     so that both meet the same state of a noisy host; each variant gets the warm-up and the
     iterations an unpaired run gives one. */
  const int variants = opt.paired ? 2 : 1;
  /* Warm-up: barrier-separated calls; the slowest "barrier + call" anywhere sizes the slot. */
  double worst = 0;
  int warmup = m >= (1L << 20) && opt.warmup > 1 ? opt.warmup / 2 : opt.warmup; /* big messages: fewer */
  /* sitempi settles an Alltoall its model is unsure of by timing its first calls of a size
   * (coll/alltoall_calibration.h; the runner passes how many): they stay out of the timed loop.
   * The library's own Alltoall (PMPI in a paired loop) calibrates nothing and gets the untimed
   * calls the shim gives each candidate before timing it (the runner passes that too). */
  int warmup_lib = warmup;
  if (c == C_ALLTOALL) {
    if (warmup < opt.alltoall_warmup) warmup = opt.alltoall_warmup;
    if (warmup_lib < opt.library_alltoall_warmup) warmup_lib = opt.library_alltoall_warmup;
    if (warmup_lib > warmup) warmup_lib = warmup;
  }
  if (variants == 1) warmup_lib = 0;
  /* MPI_X's warm-up, the library's interleaved with its last calls so that both end next to the
     timed loop. Only each variant's last two warm-up calls size the slot, and never the first two
     of a variant that warms up longer: those pay for warming TCP to the size (the library's first
     256 KiB Alltoalls took up to 308 ms on the testbed, the later ones 60-84), and a slot sized by
     them made the timed loop pay again. A variant's longer warm-up (the shim's Alltoall
     calibrating) must not size its slot either: the slowest of 12 calls is longer than the slowest
     of 2, and a longer slot made the calls slower (Open MPI's 8-byte Alltoall on 8x1 took
     6.5-6.8 ms in slots of 50 ms against 5.9-6.1 in its own of 19 ms; docs/benchmarks.md). */
  double warm_us[256]; /* --print-iters: rank 0's "barrier + call" in call order, the first 256 */
  int nwarm = 0;
  for (int i = 0; i < warmup; i++) {
    for (int v = 0; v < variants; v++) {
      const int k = v == 0 ? i : i - (warmup - warmup_lib); /* this variant's k-th warm-up call */
      if (k < 0) continue;
      double t0 = now_s();
      MPI_Barrier(MPI_COMM_WORLD);
      call(c, m, v);
      double t = now_s() - t0;
      const int calls = v == 0 ? warmup : warmup_lib; /* this variant's warm-up calls */
      const int sizes_slot = k >= calls - 2 && !(calls > 2 && k < 2);
      if (sizes_slot && t > worst) worst = t;
      if (nwarm < 256) warm_us[nwarm] = t * 1e6;
      nwarm++;
    }
  }
  double w = p2p_allmax(worst);
  double slot = w * 1.3 + 0.004;
  int iters = (int)(opt.budget_ms * 1e-3 / slot);
  if (iters > opt.iters) iters = opt.iters;
  if (iters < opt.min_iters) iters = opt.min_iters;
  /* A very slow point (seconds per call) gets fewer iterations, at least one, so that one slow
     collective cannot blow the run's time budget. */
  if (opt.max_point_ms > 0 && iters * slot > opt.max_point_ms * 1e-3) {
    iters = (int)(opt.max_point_ms * 1e-3 / slot);
    if (iters < 1) iters = 1;
  }
  const int n = iters * variants; /* iteration i runs variant i % variants */
  /* A point whose slowest warm-up call took UNCLOCKED_S or more starts each iteration as the
     barrier releases it instead of at T_i: the ranks leave a barrier a few ms apart (reported as
     wake: the spread of their entries), a few percent of such a call at most and inside lat, while
     slots sized by a slow (often cold) warm-up call left the host idle for about 3 of a full run's 24
     minutes. */
  const int clocked = global_clock && w < UNCLOCKED_S;

  double *start = calloc((size_t)n, sizeof(double));
  double *end = calloc((size_t)n, sizeof(double));
  double *local = calloc((size_t)n, sizeof(double));
  double *t_start_max = calloc((size_t)n, sizeof(double));
  double *t_start_min = calloc((size_t)n, sizeof(double));
  double *t_end_max = calloc((size_t)n, sizeof(double));
  double *t_local_max = calloc((size_t)n, sizeof(double));
  if (!start || !end || !local || !t_start_max || !t_start_min || !t_end_max || !t_local_max) die("out of memory");

  double t0 = 0;
  if (clocked) {
    t0 = now_s() + 0.002 + w; /* everyone has it before then: the bcast takes < one warm-up call */
    p2p_bcast(&t0, 1, MPI_DOUBLE);
  }
  int overrun_mine = 0, overruns = 0;
  for (int i = 0; i < n; i++) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (clocked) {
      if (now_s() > t0 + i * slot) overrun_mine++; /* the slot was too short: this start is late */
      sleep_until(t0 + i * slot);
    }
    start[i] = now_s();
    call(c, m, i % variants);
    end[i] = now_s();
    local[i] = end[i] - start[i];
  }
  p2p_reduce_d(start, t_start_max, n, 1);
  p2p_reduce_d(start, t_start_min, n, -1);
  p2p_reduce_d(end, t_end_max, n, 1);
  p2p_reduce_d(local, t_local_max, n, 1);
  overruns = (int)p2p_allmax((double)overrun_mine);

  int ok = 1;
  if (opt.check) {
    /* 1 when every rank got the right result (min over ranks). */
    ok = p2p_allmax(check_once(c, m) ? 0.0 : 1.0) == 0.0;
    memset(sbuf, rank & 0x7f, buf_bytes);
  }

  if (rank == 0) {
    /* lat: from the first rank's entry (all were scheduled to enter at T_i) to the last rank's
       exit (global clock), or OSU's max_r(end_r - start_r) after a barrier. last: from the last
       rank's entry to the last exit. wake: how late the last rank actually entered (wake-up
       delay on a loaded machine). */
    double *lat = calloc((size_t)n, sizeof(double));
    double *last = calloc((size_t)n, sizeof(double));
    double *wk = calloc((size_t)n, sizeof(double));
    double *tmp = calloc((size_t)n, sizeof(double));
    if (!lat || !last || !wk || !tmp) die("out of memory");
    for (int i = 0; i < n; i++) {
      double ti = t0 + i * slot;
      if (global_clock) {
        lat[i] = t_end_max[i] - t_start_min[i];
        last[i] = t_end_max[i] - t_start_max[i];
        wk[i] = clocked ? t_start_max[i] - ti : t_start_max[i] - t_start_min[i];
      } else {
        lat[i] = t_local_max[i];
        last[i] = t_local_max[i];
        wk[i] = 0;
      }
    }
    /* The main figures: variant 0 (MPI_X). */
    pick_sorted(lat, n, 0, variants, tmp);
    const double q0 = tmp[0], q25 = quantile(tmp, iters, 0.25), q50 = quantile(tmp, iters, 0.5),
                 q75 = quantile(tmp, iters, 0.75), q100 = quantile(tmp, iters, 1.0);
    pick_sorted(last, n, 0, variants, tmp);
    const double last50 = quantile(tmp, iters, 0.5);
    pick_sorted(t_local_max, n, 0, variants, tmp);
    const double loc50 = quantile(tmp, iters, 0.5);
    pick_sorted(wk, n, 0, variants, tmp);
    const double wk50 = quantile(tmp, iters, 0.5), wk100 = quantile(tmp, iters, 1.0);
    printf(
        "{\"type\":\"result\",\"coll\":\"%s\",\"bytes\":%ld,\"iters\":%d,\"warmup\":%d,\"sync\":\"%s\","
        "\"median_us\":%.1f,\"min_us\":%.1f,\"p25_us\":%.1f,\"p75_us\":%.1f,\"max_us\":%.1f,"
        "\"last_entry_median_us\":%.1f,\"local_median_us\":%.1f,\"wake_median_us\":%.1f,\"wake_max_us\":%.1f,"
        "\"warmup_worst_us\":%.1f,\"slot_us\":%.1f,\"clocked\":%s,\"overruns\":%d,\"ok\":%s",
        coll_names[c], c == C_BARRIER ? 0L : m, iters, warmup, global_clock ? "global" : "barrier", q50 * 1e6, q0 * 1e6,
        q25 * 1e6, q75 * 1e6, q100 * 1e6, last50 * 1e6, loc50 * 1e6, wk50 * 1e6, wk100 * 1e6, w * 1e6, slot * 1e6,
        clocked ? "true" : "false", overruns, ok ? "true" : "false");
    if (opt.paired) {
      /* The library's iterations, and each pair's ratio (iteration 2k over 2k + 1, adjacent in time). */
      pick_sorted(lat, n, 1, 2, tmp);
      const double p25 = quantile(tmp, iters, 0.25), p50 = quantile(tmp, iters, 0.5), p75 = quantile(tmp, iters, 0.75);
      pick_sorted(wk, n, 1, 2, tmp);
      const double pwk50 = quantile(tmp, iters, 0.5);
      for (int k = 0; k < iters; k++) tmp[k] = lat[2 * k + 1] > 0 ? lat[2 * k] / lat[2 * k + 1] : 1.0;
      qsort(tmp, (size_t)iters, sizeof(double), cmp_double);
      printf(
          ",\"paired\":true,\"pmpi_warmup\":%d,\"pmpi_median_us\":%.1f,\"pmpi_p25_us\":%.1f,\"pmpi_p75_us\":%.1f,"
          "\"pmpi_wake_median_us\":%.1f,\"paired_ratio_median\":%.4f,\"paired_ratio_p25\":%.4f,"
          "\"paired_ratio_p75\":%.4f",
          warmup_lib, p50 * 1e6, p25 * 1e6, p75 * 1e6, pwk50 * 1e6, quantile(tmp, iters, 0.5),
          quantile(tmp, iters, 0.25), quantile(tmp, iters, 0.75));
    }
    if (opt.print_iters) {
      printf(",\"warmup_us\":[");
      for (int i = 0; i < nwarm && i < 256; i++) printf("%s%.1f", i ? "," : "", warm_us[i]);
      printf("],\"iters_us\":[");
      for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", lat[i] * 1e6);
      printf("]");
    }
    printf("}\n");
    fflush(stdout);
    free(tmp);
    free(wk);
    free(last);
    free(lat);
  }
  free(start);
  free(end);
  free(local);
  free(t_start_max);
  free(t_start_min);
  free(t_end_max);
  free(t_local_max);

  if (opt.sync_dir && opt.count > 0) {
    /* As many calls as fit the count budget (all ranks computed the same w), at least one. */
    int calls = (int)(opt.count_budget_ms * 1e-3 / (w > 1e-6 ? w : 1e-6));
    if (calls > opt.count) calls = opt.count;
    if (calls < 1) calls = 1;
    counted_phase(c, m, calls);
  }
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
  parse_args(argc, argv);

  /* Placement: host names in rank order (the harness checks them against the site map). */
  char host[MPI_MAX_PROCESSOR_NAME] = {0};
  int hl = 0;
  MPI_Get_processor_name(host, &hl);
  /* Point-to-point on purpose: the collectives under test must not decide what we report. */
  char *hosts = NULL;
  if (rank == 0) {
    hosts = calloc((size_t)nprocs, MPI_MAX_PROCESSOR_NAME);
    if (!hosts) die("out of memory");
    memcpy(hosts, host, MPI_MAX_PROCESSOR_NAME);
    for (int r = 1; r < nprocs; r++)
      MPI_Recv(hosts + (size_t)r * MPI_MAX_PROCESSOR_NAME, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, r, 77, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
  } else {
    MPI_Send(host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, 77, MPI_COMM_WORLD);
  }

  /* One kernel for all ranks (the testbed) means one CLOCK_MONOTONIC: synchronized starts. */
  char boot[64] = {0};
  FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
  if (f) {
    if (!fgets(boot, sizeof boot, f)) boot[0] = 0;
    fclose(f);
  }
  char boot0[64];
  memcpy(boot0, boot, sizeof boot);
  p2p_bcast(boot0, sizeof boot0, MPI_CHAR);
  int same = boot[0] != 0 && strcmp(boot, boot0) == 0;
  int all_same = p2p_allmax(same ? 0.0 : 1.0) == 0.0;
  int global_clock = opt.sync == 1 || (opt.sync == 0 && all_same);
  if (opt.sync == 1 && !all_same && rank == 0)
    fprintf(stderr, "osu_coll: warning: --sync global, but the ranks do not share one kernel clock\n");

  if (rank == 0) {
    printf(
        "{\"type\":\"info\",\"program\":\"osu_coll\",\"version\":1,\"ranks\":%d,\"sync\":\"%s\",\"warmup\":%d,"
        "\"iters\":%d,\"min_iters\":%d,\"budget_ms\":%.0f,\"count\":%d,\"unclocked_us\":%.0f}\n",
        nprocs, global_clock ? "global" : "barrier", opt.warmup, opt.iters, opt.min_iters, opt.budget_ms,
        opt.sync_dir ? opt.count : 0, UNCLOCKED_S * 1e6);
    printf("{\"type\":\"placement\",\"hosts\":[");
    for (int r = 0; r < nprocs; r++) printf("%s\"%s\"", r ? "," : "", hosts + (size_t)r * MPI_MAX_PROCESSOR_NAME);
    printf("]}\n");
    fflush(stdout);
    free(hosts);
  }

  /* One untimed barrier first: what a communicator sets up at its first collective (the shim's
     site communicators, HAN's sub-communicators) must not size the first point's time slot. It
     did: the shim's setup in the first warm-up call left the Barrier point 3 iterations in slots of
     ~100 ms, against 12 in slots of ~10 ms for the other points and modes. */
  MPI_Barrier(MPI_COMM_WORLD);
  double t_all = now_s();
  for (int ci = 0; ci < opt.ncolls; ci++) {
    int c = opt.colls[ci];
    if (c == C_BARRIER) {
      measure(c, 0, global_clock);
      continue;
    }
    for (int si = 0; si < opt.nsizes; si++) measure(c, opt.sizes[si], global_clock);
  }
  if (rank == 0) {
    printf("{\"type\":\"end\",\"seconds\":%.3f}\n", now_s() - t_all);
    fflush(stdout);
  }
  free(sbuf);
  free(rbuf);
  MPI_Finalize();
  return 0;
}
