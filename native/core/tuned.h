// The algorithms Open MPI's coll/tuned runs for collectives the MPI library executes itself
// (Record.alg 0), from its fixed decision rules (ompi/mca/coll/tuned/coll_tuned_decision_fixed.c,
// v4.1.x; the table is build/generated/tuned_table.h, from native/shim/gen/tuned_rules.mjs, which the
// replay shares) and the algorithms of ompi/mca/coll/base. Covered: Allreduce (here), Barrier,
// Bcast, Reduce, Gather, Scatter, Allgather and Alltoall (tuned_coll.cpp), Allgatherv and the
// reduce-scatters (tuned_vector.cpp). Gatherv, Scatterv, Scan and Exscan have no tuned rules:
// coll/basic's linear algorithms run them (tuned_vector.cpp for the v-variants, which send nothing
// for an empty block; cost_model.cpp's chain for the scans); Alltoallv's flows are its part
// records whichever of its two algorithms runs.
#pragma once
#include <cstdint>
#include <vector>

#include "cost_model.h"
#include "tuned_table.h"

namespace sitempi::core {

// coll/tuned's allreduce algorithm numbers (coll_tuned_allreduce_decision.c).
enum TunedAllreduce : int {
  kArLinear = tuned_table::allreduce::kBasicLinear,
  kArNonOverlapping = tuned_table::allreduce::kNonoverlapping,
  kArRecursiveDoubling = tuned_table::allreduce::kRecursiveDoubling,
  kArRing = tuned_table::allreduce::kRing,
  kArSegmentedRing = tuned_table::allreduce::kSegmentedRing,
  kArRabenseifner = tuned_table::allreduce::kRabenseifner,
};

// The algorithm the fixed rules pick for `bytes` (count x type size) on `size` ranks. The records
// do not say whether the op commutes: the commutative table (MPI_SUM, MAX, MIN...).
int tuned_allreduce_rule(int size, uint64_t bytes);
// What actually runs: the rule, then the algorithms' own fallbacks (ring with fewer elements than
// ranks: recursive doubling; Rabenseifner with fewer elements than the largest power of two <=
// size: linear; the segmented ring with the rules' segment size 0: the plain ring).
int tuned_allreduce_alg(int size, uint64_t bytes, uint64_t elems);

// The element count of a reduction record without one: the size of the element is not recorded,
// so it is taken as 8 bytes (double, int64) when `bytes` is a multiple of 8, else 4, else 1.
uint64_t guess_elems(uint64_t bytes);

// Rabenseifner's allreduce of `elems` elements of `esize` bytes: the flows rank `me` of P sends
// (coll/base's, and libnbc's Iallreduce, which sends the same).
void allreduce_rabenseifner(int me, int P, uint64_t elems, uint64_t esize, std::vector<Flow>& out);

// Appends the flows rank r.me sends in the call as coll/tuned runs it; false when the family is
// not covered (the caller models it otherwise).
bool expand_tuned(const CollRecord& r, std::vector<Flow>& out);
// The same for the families of tuned_coll.cpp (not Allreduce), then of tuned_vector.cpp.
bool expand_tuned_coll(const CollRecord& r, std::vector<Flow>& out);
bool expand_tuned_vector(const CollRecord& r, std::vector<Flow>& out);

}  // namespace sitempi::core
