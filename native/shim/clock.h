// Cheap timestamps for the hot path: raw TSC ticks on x86-64 (invariant TSC), converted to ns on
// the sender thread; CLOCK_MONOTONIC elsewhere (ticks are then ns).
#pragma once
#include <cstdint>
#include <ctime>

#include "core/wire.h"
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#pragma GCC visibility push(hidden)  // globals addressed directly, not through the GOT (thread_state.h)

namespace sitempi::shim {

inline uint64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

inline uint64_t ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return mono_ns();
#endif
}

// Maps ticks to ns since the origin (MPI_Init). The ratio is fixed on first use, at least 5 ms
// after the origin so that it is accurate to a few ppm.
class TickClock {
 public:
  void set_origin() {
    tick0_ = ticks();
    mono0_ = mono_ns();
  }
  uint64_t origin_ticks() const { return tick0_; }
  void calibrate();  // may sleep up to 5 ms; call from the sender thread or at Finalize
  uint64_t to_ns(uint64_t t) const {
    if (t <= tick0_) return 0;
    return uint64_t(double(t - tick0_) * ns_per_tick_);
  }
  uint64_t span_ns(uint64_t dt) const { return uint64_t(double(dt) * ns_per_tick_); }
  wire::TimeScale scale() const { return wire::TimeScale{tick0_, ns_per_tick_}; }

 private:
  uint64_t tick0_ = 0, mono0_ = 0;
  double ns_per_tick_ = 1.0;
  bool calibrated_ = false;
};

// The rank's clock: its origin is set at MPI_Init (lifecycle.cpp), the sender calibrates it.
extern TickClock g_clock;

}  // namespace sitempi::shim

#pragma GCC visibility pop
