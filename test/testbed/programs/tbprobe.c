/* tbprobe: MPI probes for the sitempi testbed tests.
 *
 *   tbprobe hello                  every rank reports its host; rank 0 prints
 *                                  "HELLO size=N sum=S hosts=h0,h1,..."
 *   tbprobe pingpong ITERS BYTES   ranks 0 and 1 ping-pong; rank 0 prints
 *                                  "PINGPONG median_us=.. min_us=.. max_us=.."
 *   tbprobe stream COUNT BYTES     rank 0 streams COUNT messages of BYTES to rank 1 (WINDOW
 *                                  of them in flight); rank 1 prints
 *                                  "STREAM window=.. bytes=.. seconds=.. mbps=.." and then one
 *                                  "T <us since start> <cumulative bytes>" line per message
 *   tbprobe pingloop SECONDS       ranks 0 and 1 ping-pong 8 B for SECONDS; rank 0 prints
 *                                  "STARTED" when the first exchange is done, then at the end
 *                                  one "S <realtime start us> <rtt us>" line per exchange
 *   tbprobe race ITERS START_MS LAG_US POLL_US
 *                                  ranks 0 and 1, not yet connected, each send the other their
 *                                  first message: rank 0 at realtime START_MS (ms since the
 *                                  epoch), rank 1 LAG_US later, progressing MPI from POLL_US
 *                                  (below), so that their TCP connects cross; then they
 *                                  ping-pong 8 B ITERS times; rank 0 prints "RACE late_us=a,b
 *                                  got=1 median_us=.. max_us=.." (late: how long after its
 *                                  instant each rank sent)
 *   tbprobe tick                   every rank reads Open MPI's mpi_event_tick_rate as the library
 *                                  holds it (MPI_T; -2: no such variable); rank 0 prints
 *                                  "TICK v0,v1,..."
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int64_t realtime_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static int hello(int rank, int size) {
  char name[MPI_MAX_PROCESSOR_NAME] = {0};
  int len;
  MPI_Get_processor_name(name, &len);
  char* all = NULL;
  if (rank == 0) all = calloc((size_t)size, MPI_MAX_PROCESSOR_NAME);
  MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, MPI_COMM_WORLD);
  long v = rank + 1, sum = 0;
  MPI_Allreduce(&v, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) {
    printf("HELLO size=%d sum=%ld hosts=", size, sum);
    for (int i = 0; i < size; i++) printf("%s%s", i ? "," : "", all + (size_t)i * MPI_MAX_PROCESSOR_NAME);
    printf("\n");
    free(all);
  }
  return 0;
}

static int pingpong(int rank, int iters, int bytes) {
  char* buf = calloc(1, (size_t)bytes > 0 ? (size_t)bytes : 1);
  double* t = calloc((size_t)iters, sizeof(double));
  int warm = 10;
  for (int i = -warm; i < iters; i++) {
    if (rank == 0) {
      double t0 = now_s();
      MPI_Send(buf, bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buf, bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (i >= 0) t[i] = (now_s() - t0) * 1e6;
    } else if (rank == 1) {
      MPI_Recv(buf, bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buf, bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    }
  }
  if (rank == 0) {
    qsort(t, (size_t)iters, sizeof(double), cmp_double);
    printf("PINGPONG iters=%d bytes=%d median_us=%.1f min_us=%.1f max_us=%.1f\n", iters, bytes, t[iters / 2], t[0],
           t[iters - 1]);
  }
  free(buf);
  free(t);
  return 0;
}

/* Windowed so that MPI's rendezvous round trips overlap with data: up to WINDOW messages are
 * outstanding on both sides, each in its own buffer. */
#define WINDOW 4
static int stream(int rank, int count, int bytes) {
  char* buf[WINDOW];
  MPI_Request req[WINDOW];
  for (int w = 0; w < WINDOW; w++) {
    buf[w] = malloc((size_t)bytes);
    memset(buf[w], rank + w, (size_t)bytes);
    req[w] = MPI_REQUEST_NULL;
  }
  double* at = calloc((size_t)count, sizeof(double));
  char ack = 0;
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = now_s();
  if (rank == 0) {
    for (int i = 0; i < count; i++) {
      MPI_Wait(&req[i % WINDOW], MPI_STATUS_IGNORE);
      MPI_Isend(buf[i % WINDOW], bytes, MPI_CHAR, 1, 1, MPI_COMM_WORLD, &req[i % WINDOW]);
    }
    MPI_Waitall(WINDOW, req, MPI_STATUSES_IGNORE);
    MPI_Recv(&ack, 1, MPI_CHAR, 1, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  } else if (rank == 1) {
    for (int i = 0; i < count && i < WINDOW; i++) MPI_Irecv(buf[i], bytes, MPI_CHAR, 0, 1, MPI_COMM_WORLD, &req[i]);
    for (int i = 0; i < count; i++) {
      MPI_Wait(&req[i % WINDOW], MPI_STATUS_IGNORE);
      at[i] = now_s() - t0;
      if (i + WINDOW < count) MPI_Irecv(buf[i % WINDOW], bytes, MPI_CHAR, 0, 1, MPI_COMM_WORLD, &req[i % WINDOW]);
    }
    MPI_Send(&ack, 1, MPI_CHAR, 0, 2, MPI_COMM_WORLD);
    double total = (double)count * bytes;
    printf("STREAM window=%d bytes=%.0f seconds=%.6f mbps=%.3f\n", WINDOW, total, at[count - 1],
           total * 8 / at[count - 1] / 1e6);
    for (int i = 0; i < count; i++) printf("T %.0f %.0f\n", at[i] * 1e6, (double)(i + 1) * bytes);
  }
  for (int w = 0; w < WINDOW; w++) free(buf[w]);
  free(at);
  return 0;
}

static int pingloop(int rank, double seconds) {
  int cap = 1 << 20, n = 0;
  int64_t* st = rank == 0 ? malloc(sizeof(int64_t) * (size_t)cap) : NULL;
  float* rtt = rank == 0 ? malloc(sizeof(float) * (size_t)cap) : NULL;
  double end = now_s() + seconds;
  int msg[2] = {0, 0};
  for (;;) {
    if (rank == 0) {
      int stop = now_s() >= end || n >= cap;
      msg[0] = stop;
      int64_t rs = realtime_us();
      double t0 = now_s();
      MPI_Send(msg, 2, MPI_INT, 1, 0, MPI_COMM_WORLD);
      if (stop) break;
      MPI_Recv(msg, 2, MPI_INT, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      st[n] = rs;
      rtt[n] = (float)((now_s() - t0) * 1e6);
      if (n == 0) {
        printf("STARTED\n");
        fflush(stdout);
      }
      n++;
    } else if (rank == 1) {
      MPI_Recv(msg, 2, MPI_INT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (msg[0]) break;
      MPI_Send(msg, 2, MPI_INT, 0, 0, MPI_COMM_WORLD);
    } else {
      break;
    }
  }
  if (rank == 0) {
    printf("PINGLOOP samples=%d\n", n);
    for (int i = 0; i < n; i++) printf("S %lld %.1f\n", (long long)st[i], rtt[i]);
    free(st);
    free(rtt);
  }
  return 0;
}

/* Sleeps, then spins, until realtime `at` (us): both ranks act within a few hundred us of it. */
static void sleep_until_us(int64_t at) {
  int64_t now;
  while ((now = realtime_us()) < at) {
    int64_t left = at - now;
    if (left > 1000) {
      struct timespec ts = {(time_t)((left - 500) / 1000000), (long)((left - 500) % 1000000 * 1000)};
      nanosleep(&ts, NULL);
    }
  }
}

/* Open MPI's TCP BTL connects on a pair's first message, and a process counts its TCP
 * connections to know whether to read TCP on every progress call or once per
 * mpi_event_tick_rate. Where the higher-named process accepts the lower one's connection while
 * its own connect is still under way, it closes its own and lowers the count for a connection
 * that never raised it: with no other TCP peer it then reads TCP once per tick. Rank 1 reads
 * TCP only when it progresses, every tick while its count is 0: so rank 0 sends at START_MS,
 * rank 1 progresses (a receive posted, MPI_Test) from POLL_US after that and sends at LAG_US.
 * With one-way delay d, rank 0's connection is ready at rank 1 from 3d; rank 1's own connect
 * runs from LAG_US for 2d. */
static int race(int rank, int iters, int64_t start_ms, int64_t lag_us, int64_t poll_us) {
  const int peer = 1 - rank;
  const int64_t t0 = start_ms * 1000;
  int out = rank, in = -1;
  int64_t late = 0;
  if (rank <= 1) {
    MPI_Request r[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    const int64_t send_at = t0 + (rank == 1 ? lag_us : 0);
    if (rank == 1 && poll_us < lag_us) {
      sleep_until_us(t0 + poll_us);
      MPI_Irecv(&in, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, &r[0]);
      for (int done = 0; realtime_us() < send_at;) {  // an application waiting, not spinning
        MPI_Test(&r[0], &done, MPI_STATUS_IGNORE);
        const struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
      }
    } else {
      sleep_until_us(send_at);
      MPI_Irecv(&in, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, &r[0]);
    }
    late = realtime_us() - send_at;
    MPI_Isend(&out, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, &r[1]);
    MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
  }
  double* t = calloc((size_t)iters, sizeof(double));
  char buf[8] = {0};
  for (int i = 0; i < iters && rank <= 1; i++) {
    if (rank == 0) {
      double s = now_s();
      MPI_Send(buf, 8, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buf, 8, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      t[i] = (now_s() - s) * 1e6;
    } else {
      MPI_Recv(buf, 8, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buf, 8, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    }
  }
  int64_t late1 = 0;
  if (rank == 1) MPI_Send(&late, 1, MPI_INT64_T, 0, 8, MPI_COMM_WORLD);
  if (rank == 0) {
    MPI_Recv(&late1, 1, MPI_INT64_T, 1, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    qsort(t, (size_t)iters, sizeof(double), cmp_double);
    printf("RACE late_us=%lld,%lld got=%d median_us=%.1f max_us=%.1f\n", (long long)late, (long long)late1, in,
           t[iters / 2], t[iters - 1]);
  }
  free(t);
  return 0;
}

static int tick(int rank, int size) {
  int provided, idx, count, v = -2;
  MPI_T_init_thread(MPI_THREAD_SINGLE, &provided);
  if (MPI_T_cvar_get_index("mpi_event_tick_rate", &idx) == MPI_SUCCESS) {
    MPI_T_cvar_handle h;
    if (MPI_T_cvar_handle_alloc(idx, NULL, &h, &count) == MPI_SUCCESS) {
      MPI_T_cvar_read(h, &v);
      MPI_T_cvar_handle_free(&h);
    }
  }
  MPI_T_finalize();
  int* all = malloc(sizeof(int) * (size_t)size);
  MPI_Gather(&v, 1, MPI_INT, all, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    printf("TICK ");
    for (int i = 0; i < size; i++) printf(i ? ",%d" : "%d", all[i]);
    printf("\n");
  }
  free(all);
  return 0;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size, rc = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const char* mode = argc > 1 ? argv[1] : "hello";
  if (strcmp(mode, "hello") == 0) {
    rc = hello(rank, size);
  } else if (strcmp(mode, "tick") == 0) {
    rc = tick(rank, size);
  } else if (size < 2) {
    if (rank == 0) fprintf(stderr, "tbprobe %s needs 2 ranks\n", mode);
    rc = 2;
  } else if (strcmp(mode, "pingpong") == 0 && argc == 4) {
    rc = pingpong(rank, atoi(argv[2]), atoi(argv[3]));
  } else if (strcmp(mode, "stream") == 0 && argc == 4) {
    rc = stream(rank, atoi(argv[2]), atoi(argv[3]));
  } else if (strcmp(mode, "race") == 0 && argc == 6 && atoi(argv[2]) > 0) {
    rc = race(rank, atoi(argv[2]), atoll(argv[3]), atoll(argv[4]), atoll(argv[5]));
  } else if (strcmp(mode, "pingloop") == 0 && argc == 3) {
    rc = pingloop(rank, atof(argv[2]));
  } else {
    if (rank == 0)
      fprintf(stderr,
              "usage: tbprobe hello|tick|pingpong ITERS BYTES|stream COUNT BYTES|pingloop SECONDS|race ITERS START_MS "
              "LAG_US POLL_US\n");
    rc = 2;
  }
  fflush(stdout);
  MPI_Finalize();
  return rc;
}
