// The per-communicator state of the site-aware collectives, kept in CommInfo::site_cache (an MPI
// attribute, so it is freed with the communicator), and the job-wide switches read at Init.
//
// Relocation swaps a communicator's cache at one agreed call (coll/agreement.h): every collective
// enters through acquire() or, while the agreement runs, agree_acquire(), the only readers of
// CommInfo::site_cache; build_cache() makes a cache for a given world placement and
// replace_cache() swaps it in (the agreement's state moves along) and frees the old one.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "coll/alltoall_calibration.h"
#include "core/sites.h"

namespace sitempi::shim {
struct CommInfo;
// At MPI_Init, after comms_init (lifecycle.cpp): reads the site map and the collectives' settings.
void coll_init(int world_rank, int world_size);
}  // namespace sitempi::shim

namespace sitempi::coll {

struct Agreement;  // coll/agreement.cpp

struct SiteCache {
  bool active = false;               // false: this communicator runs everything as PMPI
  uint64_t epoch = 0;                // placement epoch it was built from (0: the static map)
  int me = 0;                        // rank in the communicator
  core::Grouping g;                  // ranks grouped by site (compact site indices, leaders)
  std::vector<uint32_t> site_of;     // placement site index of each comm rank
  uint64_t rsag_min = ~0ull;         // allreduce: leaders' RS+AG from this many bytes
  int64_t xor_cross = -1;            // core::xor_cross_distances (calls may run the library butterfly)
  bool node_sites = false;           // every site lies within one node (core/butterfly.h)
  MPI_Comm priv = MPI_COMM_NULL;     // private duplicate: the shim's own point-to-point traffic
  MPI_Comm local = MPI_COMM_NULL;    // my site's ranks (rank = local rank, leader is 0)
  MPI_Comm leaders = MPI_COMM_NULL;  // one rank per site, rank = compact site index; NULL if not a leader
  Agreement* ag = nullptr;           // the relocation agreement's state (monitor mode), owned
  // Non-blocking collectives (coll/nonblocking.h): calls started on the communicator (their tags),
  // those still pending. A cache freed with chains pending goes when the last one ends.
  uint32_t nb_seq = 0;
  int nb_pending = 0;
  bool nb_orphan = false, nb_free_comms = false;
  // Alltoall sizes whose algorithm is settled by timing (coll/alltoall_calibration.h).
  AlltoallCalibration alltoall_cal;

  int site() const { return g.site[size_t(me)]; }
  bool leader() const { return g.leader(site()) == me; }
};

// Job-wide: which collectives may run site-aware (bit per core::Coll); 0 means every collective
// goes straight to PMPI (no sites, one site, SITEMPI_COLL=off, a rejected map).
extern uint32_t g_coll_mask;
inline bool coll_enabled(core::Coll c) { return (g_coll_mask & core::coll_bit(c)) != 0; }
// Cross-site messages of the algorithms above this many bytes go in pieces (Ctx in common.h;
// SITEMPI_COLL_CHUNK_BYTES; 0: never).
extern uint64_t g_chunk_bytes;
// Large collectives are pipelined in segments of about this many bytes (coll/segments.h;
// SITEMPI_COLL_SEGMENT_BYTES; 0: never). Equal on every rank, like g_chunk_bytes.
extern uint64_t g_segment_bytes;
// At most this many segments in a Reduce above 1 MiB (SITEMPI_COLL_REDUCE_SEGMENTS); equal on every rank.
extern uint64_t g_reduce_segments;
// SITEMPI_COLL_PACKED (coll/allgather.cpp) and SITEMPI_COLL_ALLTOALL (core::AlltoallForce as an
// int; coll/alltoall.cpp); equal on every rank.
extern bool g_coll_packed;
extern bool g_coll_spread;
extern int g_alltoall_force;
// SITEMPI_COLL_SMALL (core::CollChoice::small_bytes); equal on every rank.
extern uint64_t g_small_bytes;
// The WAN the choices assume (SITEMPI_COLL_ALPHA_US: one-way seconds; SITEMPI_COLL_BANDWIDTH_MBPS:
// bytes per second).
extern double g_alpha_s, g_bandwidth;
// Pairwise Alltoall's pacing window per rank (SITEMPI_COLL_PACE_BYTES; 0: core::alltoall_pace_bytes).
// May differ between ranks: each paces its own sends.
extern uint64_t g_pace_bytes;
// SITEMPI_COLL_PACE_RATE: the spread algorithms, the pairwise Alltoall and the leaders' crossings
// pace their cross-site sends at a rate (core::rate_pace). May differ between ranks.
extern bool g_pace_rate;
// The rate for this rank's cross-site sends in those algorithms, `senders` of its site sending
// alike over `links` links (none where off or out of range: core::rate_pace).
core::RatePace rate_pace_for(int senders, int links, uint64_t cross_bytes, double max_rtts = core::kRatePaceMaxRtts);
// How long the spread Allgather's and Reduce_scatter's crossings are paced (core/cost_model.h):
// at any length where every site lies within one node, else up to kRatePaceMaxRtts round trips.
inline double spread_pace_limit(const SiteCache& c) {
  return c.node_sites ? core::kRatePaceAnyLength : core::kRatePaceMaxRtts;
}

// The communicator's cache, built at its first collective (a collective step over comm);
// nullptr: run PMPI.
SiteCache* acquire(MPI_Comm comm);

// For relocation: a cache for `comm` under a world placement (site index per world rank).
// Collective over comm; active on every rank of comm or on none (a rank whose setup fails
// makes the whole communicator run PMPI).
SiteCache* build_cache(MPI_Comm comm, const shim::CommInfo& info, const std::vector<uint32_t>* world_site_of,
                       uint64_t epoch);
void replace_cache(shim::CommInfo& info, SiteCache* fresh);
// A communicator's first cache: the static map or, in monitor mode, the newest placement any
// member holds (one MAXLOC reduction and a Bcast over comm). Collective over comm.
SiteCache* build_initial(MPI_Comm comm, shim::CommInfo* info);
void free_cache(SiteCache* c, bool free_comms);

// The static map in force (empty when none), for tests and diagnostics.
const core::SiteMap& static_site_map();

}  // namespace sitempi::coll
