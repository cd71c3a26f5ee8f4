// The shim's defaults for the MPI library's settings (library_defaults.h).
#include "library_defaults.h"

#include <cstdlib>
#include <string>

#include "config.h"

namespace sitempi::shim {

namespace {
unsigned g_tick_set_us = 0;
}  // namespace

void apply_library_defaults() noexcept {
  try {
    const Config& c = config();
    if (c.disabled || c.tcp_tick_us == 0) return;
    // One node for the whole job: no TCP between the job's ranks, nothing to bound.
    if (c.local_ranks > 0 && c.world_ranks > 0 && c.local_ranks >= c.world_ranks) return;
    const char* name = "OMPI_MCA_mpi_event_tick_rate";
    const char* set = getenv(name);
    if (set && *set) return;
    // Before MPI_Init the shim runs no thread of its own that could read the environment meanwhile.
    if (setenv(name, std::to_string(c.tcp_tick_us).c_str(), 0) == 0) g_tick_set_us = c.tcp_tick_us;
  } catch (...) {
  }
}

unsigned library_tick_set_us() noexcept { return g_tick_set_us; }

}  // namespace sitempi::shim
