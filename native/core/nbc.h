// The schedules Open MPI 4.1's coll/libnbc runs for the non-blocking collectives the MPI library
// executes itself (an MPI_I* call's record with alg 0; coll/tuned has no non-blocking entries, so
// libnbc, priority 10, runs them all). Its choice rules (ompi/mca/coll/libnbc/nbc_i*.c, v4.1.x, at
// the default MCA settings) and the messages of each schedule, every one a message even when it
// carries 0 bytes. The replay's steps (src/replay/nbc.ts) follow the same rules and schedules.
#pragma once
#include <cstdint>
#include <vector>

#include "cost_model.h"

namespace sitempi::core {

// The algorithms libnbc's rules pick (the ones a default setting can reach).
enum NbcAlg : int { kNbcLinear = 1, kNbcBinomial, kNbcChain, kNbcRabenseifner, kNbcRing };

// Ibcast: linear up to 4 ranks, else the binomial tree (ibcast_skip_dt_decision, on by default,
// leaves the size out of it).
int nbc_bcast_alg(int size);
// Iallreduce: the binomial tree (reduce to 0, bcast from it) under 4 ranks or 64 KiB, else
// Rabenseifner's reduce-scatter + allgather with at least one element per rank of the largest
// power of two, else the ring. Commutative operations, not MPI_IN_PLACE (the records say neither).
int nbc_allreduce_alg(int size, uint64_t bytes, uint64_t elems);
// Ireduce: Rabenseifner's reduce-scatter + gather on 3+ ranks with enough elements (as above),
// else the binomial tree on 5+ ranks or under 64 KiB, else a chain in fragments of 8 KiB.
int nbc_reduce_alg(int size, uint64_t bytes, uint64_t elems);

// Appends the flows rank r.me sends in the call as libnbc runs it; false for the families whose
// records are their own per-peer parts (Alltoallv/w, neighbourhood collectives).
bool expand_nbc(const CollRecord& r, std::vector<Flow>& out);

}  // namespace sitempi::core
