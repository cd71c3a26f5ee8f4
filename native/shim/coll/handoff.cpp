#include "coll/handoff.h"

#include <mpi.h>
#include <time.h>

#include <algorithm>
#include <iterator>

namespace sitempi::coll {

namespace {

uint32_t g_handoff_us = 0;

// Open MPI's mpi_yield_when_idle through the tools interface (a bool, read into zeroed bytes that
// would hold any scalar); false where the library has no such variable.
bool library_yields_when_idle() {
  int provided = 0;
  if (PMPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) return false;
  alignas(16) unsigned char value[16] = {};
  int index = 0, count = 0;
  bool yes = false;
  MPI_T_cvar_handle h;
  if (PMPI_T_cvar_get_index("mpi_yield_when_idle", &index) == MPI_SUCCESS &&
      PMPI_T_cvar_handle_alloc(index, nullptr, &h, &count) == MPI_SUCCESS) {
    if (count == 1 && PMPI_T_cvar_read(h, value) == MPI_SUCCESS)
      yes = std::any_of(std::begin(value), std::end(value), [](unsigned char b) { return b != 0; });
    PMPI_T_cvar_handle_free(&h);
  }
  PMPI_T_finalize();
  return yes;
}

}  // namespace

uint32_t handoff_configure(uint32_t us, uint32_t alpha_us) {
  g_handoff_us = us && library_yields_when_idle() ? std::min(us, alpha_us / 4) : 0;
  return g_handoff_us;
}

void hand_off_cores() {
  if (!g_handoff_us) return;
  timespec ts{time_t(g_handoff_us / 1000000), long(g_handoff_us % 1000000) * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace sitempi::coll
