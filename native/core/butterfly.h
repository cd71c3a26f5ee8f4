// When Open MPI's own butterfly is as good across sites as the site-aware algorithm. Its
// butterflies (recursive doubling and halving, Open MPI's butterfly) pair rank r with r XOR 2^k in
// round k. On a regular placement only one or two of those distances join ranks of different
// sites, as few rounds across as the site-aware algorithm's leader phase, and the butterfly takes
// fewer rounds in all (no site gather and broadcast around the crossing). Then the library's
// algorithm runs (choose_alg) where it also sends no more across sites: below 1 KiB per rank,
// where a call's time on a WAN is its round trips; below 32 KiB per rank where the crossing round
// carries single blocks (sites alternating rank by rank, for Allgather's recursive doubling and the
// reduce-scatters' recursive halving, whose last round, distance 1, sends one block per rank:
// the bound's bytes). From 64 KiB per rank the site-aware algorithm was 1.3-1.7x faster on the
// testbed even at equal bytes across (docs/sites.md), hence the cap.
// The small-call part holds only where a site's members are on different nodes: where every site
// is one node, its site steps are shared-memory copies, and the library's butterfly, which sends
// every rank across, was the slower of the two (docs/sites.md, "Sites of one node").
#pragma once
#include <cstdint>

#include "facts.h"

namespace sitempi::core {

struct Grouping;  // sites.h

// Below this many bytes per rank (the collective's block: the buffer of an Allreduce, a rank's
// block of an Allgather or a reduce-scatter) a call is small: where the bytes count against the
// bound (from 1 KiB, docs/benchmarks.md), the butterfly must not send more than the bound.
// SITEMPI_COLL_SMALL overrides it (0: no call steps aside, at any size).
constexpr uint64_t kSmallCallBytes = 1024;
// Below this many bytes per rank, where the crossing round carries single blocks.
constexpr uint64_t kSingleBlockMaxBytes = 32 * 1024;

// The distances of an XOR butterfly over the communicator that join ranks of different sites:
// bit k set when some rank r and r XOR 2^k are on different sites. -1 when the size is not a power
// of two (Open MPI's butterflies then add fold-in steps this does not count).
int64_t xor_cross_distances(const Grouping& g);

// Whether Open MPI's coll/tuned runs an XOR butterfly for this call (its fixed rules for the
// communicator size and bytes): Barrier, Allreduce and Allgather by recursive doubling,
// Reduce_scatter_block by recursive doubling or halving or the butterfly, Reduce_scatter by
// recursive halving or the butterfly (`m`: for Reduce_scatter the whole vector, else per rank).
bool library_runs_butterfly(Coll c, int P, uint64_t m);

// The rule choose_alg applies first (see the top of this file). `xor_cross`: xor_cross_distances
// of the communicator (cached with it; -1 never steps aside); `small_bytes`: kSmallCallBytes or
// SITEMPI_COLL_SMALL; `node_sites`: every site of the communicator lies within one node.
bool butterfly_to_library(Coll c, const Grouping& g, uint64_t m, int64_t xor_cross, uint64_t small_bytes,
                          bool node_sites);

}  // namespace sitempi::core
