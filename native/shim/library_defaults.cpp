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
    // Not config(): it is read after PMPI_Init (config.h).
    if (env_flag("SITEMPI_DISABLE")) return;
    // Only where the launcher says the job spans nodes: one node has no TCP between its ranks, and
    // a process started alone (a singleton) has no peers yet.
    const int local = launcher_local_ranks(), world = launcher_world_ranks();
    if (local <= 0 || world <= local) return;
    const char* name = "OMPI_MCA_mpi_event_tick_rate";
    const char* set = getenv(name);
    if (set && *set) return;
    const uint32_t tick_us = env_u32("SITEMPI_TCP_TICK_US", 100, 0, 10000000);
    if (tick_us == 0) return;
    // Before MPI_Init the shim runs no thread of its own that could read the environment meanwhile.
    if (setenv(name, std::to_string(tick_us).c_str(), 0) == 0) g_tick_set_us = tick_us;
  } catch (...) {
  }
}

unsigned library_tick_set_us() noexcept { return g_tick_set_us; }

}  // namespace sitempi::shim
