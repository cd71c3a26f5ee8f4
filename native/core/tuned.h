// The algorithms Open MPI's coll/tuned runs for collectives the MPI library executes itself
// (Record.alg 0), from its fixed decision rules (ompi/mca/coll/tuned/coll_tuned_decision_fixed.c,
// v4.1.x) and the algorithms of ompi/mca/coll/base. Covered: Allreduce. Other families keep the
// flat coll/basic model (cost_model.cpp).
#pragma once
#include <cstdint>
#include <vector>

#include "cost_model.h"

namespace sitempi::core {

// coll/tuned's allreduce algorithm numbers (coll_tuned_allreduce_decision.c).
enum TunedAllreduce : int {
  kArLinear = 1,
  kArNonOverlapping = 2,
  kArRecursiveDoubling = 3,
  kArRing = 4,
  kArSegmentedRing = 5,
  kArRabenseifner = 6,
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

// Appends the flows rank r.me sends in the call as coll/tuned runs it; false when the family is
// not covered (the caller models it otherwise).
bool expand_tuned(const CollRecord& r, std::vector<Flow>& out);

}  // namespace sitempi::core
