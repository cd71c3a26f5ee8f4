// Communicator and window bookkeeping: members as world ranks (to translate peers), a job-wide
// id, and a rank-local id announced to the monitor (CommDef) before the first record that uses it.
// Kept as MPI attributes so that they are freed with the communicator.
#pragma once
#include <mpi.h>

#include <atomic>
#include <cstdint>
#include <vector>

#pragma GCC visibility push(hidden)  // globals addressed directly, not through the GOT (thread_state.h)

namespace sitempi::shim {

struct CommInfo {
  uint32_t local_id = 0;
  uint64_t global_id = 0;
  bool inter = false;
  std::vector<int> members;         // world rank of each (local-group) rank
  std::vector<int> remote_members;  // intercommunicators: the remote group
  std::atomic<bool> announced{false};
  uint64_t children = 0;       // communicators created from this one, for child ids
  void* site_cache = nullptr;  // the site-aware collectives' per-communicator state
};

void comms_init(int world_rank);  // after PMPI_Init
// Set by the site-aware collectives (coll/cache.cpp): frees CommInfo::site_cache with its
// communicator.
extern void (*g_site_cache_free)(MPI_Comm comm, void* cache);
CommInfo* comm_info(MPI_Comm comm);  // creates it lazily; nullptr for COMM_NULL
// After a communicator-creating call: register the new communicator with an id derived from the
// parent (the same on every member, since members create communicators in the same order).
void comm_created(MPI_Comm parent, MPI_Comm child, uint64_t salt = 0);
CommInfo* win_info(MPI_Win win);
void win_created(MPI_Comm comm, MPI_Win win);

// What the recording rules ask of a communicator or window, fast paths inline. MPI_COMM_WORLD's
// are one load: g_world_ready is the world's size once MPI_COMM_WORLD is announced, 0 before (the
// slow paths answer the same for it, and announce it).
extern int g_world_ready;
uint32_t comm_local_id_slow(MPI_Comm comm);
int comm_world_rank_slow(MPI_Comm comm, int rank);

// The communicator's rank-local id; announces the communicator on first use.
inline uint32_t comm_local_id(MPI_Comm comm) {
  if (comm == MPI_COMM_WORLD && __builtin_expect(g_world_ready != 0, 1)) return 1;
  return comm_local_id_slow(comm);
}
// World rank of a communicator rank (the remote group's on an intercommunicator): -1 for
// PROC_NULL, ANY_SOURCE, out of range.
inline int comm_world_rank(MPI_Comm comm, int rank) {
  if (comm == MPI_COMM_WORLD && __builtin_expect(unsigned(rank) < unsigned(g_world_ready), 1)) return rank;
  if (rank < 0) return -1;
  return comm_world_rank_slow(comm, rank);
}
int comm_rank(MPI_Comm comm);
int comm_size(MPI_Comm comm);
int win_world_rank(MPI_Win win, int rank);
uint32_t win_local_id(MPI_Win win);

}  // namespace sitempi::shim

#pragma GCC visibility pop
