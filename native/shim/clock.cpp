#include "clock.h"

#include <chrono>
#include <thread>

namespace sitempi::shim {

TickClock g_clock;

void TickClock::calibrate() {
  if (calibrated_) return;
  uint64_t elapsed = mono_ns() - mono0_;
  if (elapsed < 5000000) std::this_thread::sleep_for(std::chrono::nanoseconds(5000000 - elapsed));
  const uint64_t t = ticks(), m = mono_ns();
  if (t > tick0_ && m > mono0_) ns_per_tick_ = double(m - mono0_) / double(t - tick0_);
  calibrated_ = true;
}

}  // namespace sitempi::shim
