#include "coll/handoff.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace sitempi::coll {

namespace {

uint32_t g_handoff_us = 0;

// Open MPI's mpi_yield_when_idle as the launcher passes it to the ranks; where it is not given, a
// node with more of the job's ranks than CPUs (where Open MPI turns it on itself). Not read through
// the tools interface (MPI_T): initializing and finalizing that inside MPI_Init changed how the
// job ran (a test's verdict flipped; docs/sites.md, "Tried and not kept").
bool library_yields_when_idle(int yield_when_idle, int local_ranks) {
  if (yield_when_idle >= 0) return yield_when_idle == 1;
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return local_ranks > 0 && cpus > 0 && local_ranks > cpus;
}

}  // namespace

uint32_t handoff_configure(uint32_t us, uint32_t alpha_us, int yield_when_idle, int local_ranks) {
  g_handoff_us = us && library_yields_when_idle(yield_when_idle, local_ranks) ? std::min(us, alpha_us / 4) : 0;
  return g_handoff_us;
}

void hand_off_cores() {
  if (!g_handoff_us) return;
  timespec ts{time_t(g_handoff_us / 1000000), long(g_handoff_us % 1000000) * 1000};
  nanosleep(&ts, nullptr);
}

void yield_core() {
  if (g_handoff_us) sched_yield();
}

}  // namespace sitempi::coll
