/* The validation programs' emulated compute: a timed sleep, so that the host's two loaded cores do
 * not decide how long a rank computes (only when it wakes up). */
#ifndef SITEMPI_VALIDATION_EMULATE_H
#define SITEMPI_VALIDATION_EMULATE_H
#include <time.h>

static void compute(long us) {
  if (us <= 0) return;
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

#endif
