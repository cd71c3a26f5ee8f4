// Handing the cores over after the crossings. Where ranks share cores (more ranks than cores on a
// node, or virtual nodes on one host), the ranks that wake first at a collective run their whole
// start before the others get a core: in a spread Allgather, their site-local sends (copies
// through the local network stack, on the sender's core) delay the late ranks' crossings by
// milliseconds, and the crossing, not the site, is the call's critical path. So after posting what
// crosses (the spread Allgather's own block; the pairwise Alltoall's other sites' blocks; the
// spread Reduce_scatter's parts of the blocks whose partials cross) a rank sleeps briefly, and the
// ranks sharing its cores post theirs before it goes on; its site-local part waits under the WAN
// latency. Only where the MPI library yields when idle (Open MPI's mpi_yield_when_idle as the
// launcher passes it, or else a node with more of the job's ranks than CPUs, where Open MPI sets it
// itself): with a core per rank there is nothing to hand over. Likewise a rank whose paced sends
// (coll/paced.h) wait for their time yields while it has nothing else to progress (yield_core).
#pragma once
#include <cstdint>

namespace sitempi::coll {

// At MPI_Init: `us` as SITEMPI_COLL_HANDOFF_US says, at most a quarter of the one-way WAN latency
// the choices assume (SITEMPI_COLL_ALPHA_US); 0 where the library does not yield when idle.
// `yield_when_idle`, `local_ranks`: as Config has them (config.h). Returns what is in force.
uint32_t handoff_configure(uint32_t us, uint32_t alpha_us, int yield_when_idle, int local_ranks);

// Sleeps for the hand-off in force (nothing when none).
void hand_off_cores();

// Where the hand-off is in force, yields the core once (sched_yield): for a rank whose paced
// sends wait for their time with nothing else of the call to progress. Its spin on MPI_Testall of
// completed requests makes no progress call, so never the library's own yield, and kept the ranks
// sharing its core from running. A yield, not a sleep: a sleeper wakes late on a busy host, and
// its next pieces with it.
void yield_core();

}  // namespace sitempi::coll
