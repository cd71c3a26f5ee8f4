// Small collectives across sites: below a few hundred bytes per rank a call's time on a WAN is its
// round trips, not its bytes. Open MPI's butterflies (recursive doubling and halving, Open MPI's
// butterfly) pair rank r with r XOR 2^k in round k; on a regular placement only one or two of
// those rounds cross between sites, as few as the site-aware algorithm's leader phase, and they
// take fewer rounds in all (no site gather and broadcast around the crossing). There the library's
// algorithm runs (choose_alg), and the shim's site-aware one where the library's crosses more.
#pragma once
#include <cstdint>

#include "facts.h"

namespace sitempi::core {

struct Grouping;  // sites.h

// Below this many bytes per rank (the collective's block: the buffer of an Allreduce, a rank's
// block of an Allgather or a reduce-scatter) a call is small. Where the bytes count for the
// bound (from 1 KiB, docs/benchmarks.md) the site-aware algorithms keep the WAN bytes at it.
// SITEMPI_COLL_SMALL overrides it (0: never step aside).
constexpr uint64_t kSmallCallBytes = 1024;

// Rounds k (distance 2^k) of an XOR butterfly over the communicator in which some pair of ranks
// is on different sites; -1 when the size is not a power of two (Open MPI's butterflies then add
// fold-in steps this does not count).
int xor_cross_rounds(const Grouping& g);

// Whether Open MPI's coll/tuned runs an XOR butterfly for this call (its fixed rules for the
// communicator size and bytes), for the families where it can: Barrier, Allreduce, Allgather,
// Reduce_scatter_block, Reduce_scatter (`m`: for Reduce_scatter the whole vector, else per rank).
bool library_runs_butterfly(Coll c, int P, uint64_t m);

// The rule choose_alg applies first: a small call whose library butterfly crosses between sites
// in no more rounds than the leaders' phase of the site-aware algorithm (ceil(log2 S)).
// `xor_rounds`: xor_cross_rounds of the communicator (cached with it; -1 never steps aside).
bool small_call_to_library(Coll c, const Grouping& g, uint64_t m, int xor_rounds, uint64_t small_bytes);

}  // namespace sitempi::core
