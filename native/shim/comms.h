// Communicator and window bookkeeping: members as world ranks (to translate peers), a job-wide
// id, and a rank-local id announced to the monitor (CommDef) before the first record that uses it.
// Kept as MPI attributes so that they are freed with the communicator.
#pragma once
#include <mpi.h>

#include <atomic>
#include <cstdint>
#include <vector>

namespace sitempi::shim {

struct CommInfo {
  uint32_t local_id = 0;
  uint64_t global_id = 0;
  bool inter = false;
  std::vector<int> members;          // world rank of each (local-group) rank
  std::vector<int> remote_members;   // intercommunicators: the remote group
  std::atomic<bool> announced{false};
  uint64_t children = 0;             // communicators created from this one, for child ids
  void* site_cache = nullptr;        // the site-aware collectives' per-communicator state
};

void comms_init(int world_rank, int world_size);   // after PMPI_Init
// The site-aware collectives (coll/cache.cpp): coll_init runs at the end of comms_init (reads the
// site map); g_site_cache_free, once set, frees CommInfo::site_cache with its communicator.
void coll_init(int world_rank, int world_size);
extern void (*g_site_cache_free)(MPI_Comm comm, void* cache);
CommInfo* comm_info(MPI_Comm comm);                // creates it lazily; nullptr for COMM_NULL
// After a communicator-creating call: register the new communicator with an id derived from the
// parent (the same on every member, since members create communicators in the same order).
void comm_created(MPI_Comm parent, MPI_Comm child, uint64_t salt = 0);
CommInfo* win_info(MPI_Win win);
void win_created(MPI_Comm comm, MPI_Win win);

}  // namespace sitempi::shim
