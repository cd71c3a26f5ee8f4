/*
 * wanemu-bulk — one bulk TCP transfer for the wanemu benchmark and test (bench/wanemu.ts,
 * test/testbed/wanemu.test.ts), run inside two testbed nodes.
 *
 *   wanemu-bulk recv PORT             accepts one connection, reads to EOF, checks every byte
 *                                     against the sender's pattern; prints "LISTENING" first and
 *                                     "RECV bytes=N seconds=S ok=1|0" at the end
 *   wanemu-bulk send HOST PORT BYTES  sends BYTES of the pattern, then waits for the receiver to
 *                                     close; prints "SEND bytes=N seconds=S"
 *   wanemu-bulk echo PORT N           echoes N UDP datagrams (prints "LISTENING" first)
 *   wanemu-bulk ping HOST PORT N      N round trips of a 64-byte UDP datagram, one at a time;
 *                                     prints "PING n=N lost=L min_us=X median_us=Y"
 *
 * The pattern's period (1 MiB + 13 bytes) is no multiple of any segment size, so a segment that
 * arrives corrupted, twice or in the wrong place shows as a mismatch.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PERIOD ((1 << 20) + 13)
#define CHUNK (1 << 20)

static unsigned char *pattern; /* PERIOD + CHUNK bytes: any window of CHUNK at offset < PERIOD */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void make_pattern(void) {
  pattern = malloc(PERIOD + CHUNK);
  if (!pattern) die("malloc");
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < PERIOD; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    pattern[i] = (unsigned char)x;
  }
  memcpy(pattern + PERIOD, pattern, CHUNK);
}

static int do_recv(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = INADDR_ANY};
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0) die("bind/listen");
  printf("LISTENING\n");
  fflush(stdout);
  int s = accept(l, NULL, NULL);
  if (s < 0) die("accept");
  unsigned char *buf = malloc(CHUNK);
  if (!buf) die("malloc");
  uint64_t total = 0;
  int ok = 1;
  double t0 = now_s();
  for (;;) {
    ssize_t r = read(s, buf, CHUNK);
    if (r < 0) die("read");
    if (r == 0) break;
    if (ok && memcmp(buf, pattern + total % PERIOD, (size_t)r) != 0) ok = 0;
    total += (uint64_t)r;
  }
  printf("RECV bytes=%llu seconds=%.6f ok=%d\n", (unsigned long long)total, now_s() - t0, ok);
  close(s);
  close(l);
  return ok ? 0 : 3;
}

static int do_send(const char *host, int port, uint64_t bytes) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    fprintf(stderr, "bad address %s\n", host);
    return 2;
  }
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  double t0 = now_s();
  uint64_t sent = 0;
  while (sent < bytes) {
    size_t n = bytes - sent < CHUNK ? (size_t)(bytes - sent) : CHUNK;
    ssize_t w = write(s, pattern + sent % PERIOD, n);
    if (w < 0) die("write");
    sent += (uint64_t)w;
  }
  shutdown(s, SHUT_WR);
  char b[64];
  while (read(s, b, sizeof b) > 0) {
  }
  printf("SEND bytes=%llu seconds=%.6f\n", (unsigned long long)sent, now_s() - t0);
  close(s);
  return 0;
}

static int do_echo(int port, int n) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = INADDR_ANY};
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  printf("LISTENING\n");
  fflush(stdout);
  char b[2048];
  for (int i = 0; i < n; i++) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(s, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
    if (r < 0) die("recvfrom");
    sendto(s, b, (size_t)r, 0, (struct sockaddr *)&from, fl);
  }
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int do_ping(const char *host, int port, int n) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || n < 1) return 2;
  struct timeval tv = {.tv_sec = 1};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  double *rtt = calloc((size_t)n, sizeof(double));
  if (!rtt) die("calloc");
  int got = 0;
  for (int i = 0; i < n; i++) {
    char b[64] = {0}, r[64];
    memcpy(b, &i, sizeof i);
    double t0 = now_s();
    if (sendto(s, b, sizeof b, 0, (struct sockaddr *)&a, sizeof a) < 0) die("sendto");
    for (;;) {
      ssize_t k = recv(s, r, sizeof r, 0);
      if (k < 0) break; /* lost (1 s) */
      if (k == (ssize_t)sizeof r && memcmp(r, b, sizeof b) == 0) {
        rtt[got++] = (now_s() - t0) * 1e6;
        break;
      }
    }
  }
  qsort(rtt, (size_t)got, sizeof(double), cmp_double);
  printf("PING n=%d lost=%d min_us=%.1f median_us=%.1f\n", n, n - got, got ? rtt[0] : 0.0, got ? rtt[got / 2] : 0.0);
  return 0;
}

int main(int argc, char **argv) {
  make_pattern();
  if (argc == 3 && strcmp(argv[1], "recv") == 0) return do_recv(atoi(argv[2]));
  if (argc == 5 && strcmp(argv[1], "send") == 0) return do_send(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
  if (argc == 4 && strcmp(argv[1], "echo") == 0) return do_echo(atoi(argv[2]), atoi(argv[3]));
  if (argc == 5 && strcmp(argv[1], "ping") == 0) return do_ping(argv[2], atoi(argv[3]), atoi(argv[4]));
  fprintf(stderr, "usage: wanemu-bulk recv PORT | send HOST PORT BYTES | echo PORT N | ping HOST PORT N\n");
  return 2;
}
