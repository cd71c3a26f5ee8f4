#include "coll/handoff.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace sitempi::coll {

namespace {

uint32_t g_handoff_us = 0;

// Open MPI's mpi_yield_when_idle as the launcher passes it to the ranks (--mca or the environment);
// where it is not set, Open MPI's own rule: the node has more of the job's ranks than CPUs. Not read
// through the tools interface (MPI_T): initializing and finalizing it inside MPI_Init changed the
// library's timing of point-to-point calls (docs/sites.md, "Tried and not kept").
bool library_yields_when_idle(int local_ranks) {
  if (const char* v = getenv("OMPI_MCA_mpi_yield_when_idle"))
    return !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on");
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return local_ranks > 0 && cpus > 0 && local_ranks > cpus;
}

}  // namespace

uint32_t handoff_configure(uint32_t us, uint32_t alpha_us, int local_ranks) {
  g_handoff_us = us && library_yields_when_idle(local_ranks) ? std::min(us, alpha_us / 4) : 0;
  return g_handoff_us;
}

void hand_off_cores() {
  if (!g_handoff_us) return;
  timespec ts{time_t(g_handoff_us / 1000000), long(g_handoff_us % 1000000) * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace sitempi::coll
