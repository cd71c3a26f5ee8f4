#include "butterfly.h"

#include "cost_model.h"
#include "sites.h"
#include "tuned_table.h"

namespace sitempi::core {

namespace tt = tuned_table;

int64_t xor_cross_distances(const Grouping& g) {
  const int P = g.P;
  if (P < 2 || (P & (P - 1)) != 0) return -1;
  int64_t mask = 0;
  for (int k = 0; (1 << k) < P; ++k)
    for (int r = 0; r < P; ++r)
      if (g.site[size_t(r)] != g.site[size_t(r ^ (1 << k))]) {
        mask |= int64_t(1) << k;
        break;
      }
  return mask;
}

bool library_runs_butterfly(Coll c, int P, uint64_t m) {
  switch (c) {
    case Coll::Barrier:
      return tt::barrier::rule(P, 0) == tt::barrier::kRecursiveDoubling;
    case Coll::Allreduce:
      return tt::allreduce::rule(P, m) == tt::allreduce::kRecursiveDoubling;
    case Coll::Allgather:
      return tt::allgather::rule(P, m) == tt::allgather::kRecursiveDoubling;
    case Coll::ReduceScatterBlock: {
      const int a = tt::reduceScatterBlock::rule(P, m);
      return a == tt::reduceScatterBlock::kRecursiveDoubling || a == tt::reduceScatterBlock::kRecursiveHalving ||
             a == tt::reduceScatterBlock::kButterfly;
    }
    case Coll::ReduceScatter: {
      const int a = tt::reduceScatter::rule(P, m);
      return a == tt::reduceScatter::kRecursiveHalving || a == tt::reduceScatter::kButterfly;
    }
    default:
      return false;
  }
}

namespace {

int popcount(int64_t x) { return __builtin_popcountll(uint64_t(x)); }

// Two sites alternating rank by rank (only distance 1 crosses): the butterflies whose distance-1
// round sends one block per rank send exactly the bound across, (S-1) P m.
bool single_blocks_cross(Coll c, const Grouping& g, uint64_t m) {
  switch (c) {
    case Coll::Allgather:  // recursive doubling: 2^k blocks at distance 2^k
      return tt::allgather::rule(g.P, m) == tt::allgather::kRecursiveDoubling;
    case Coll::ReduceScatterBlock:  // recursive halving: the farthest first, one block at distance 1
      return tt::reduceScatterBlock::rule(g.P, m) == tt::reduceScatterBlock::kRecursiveHalving;
    case Coll::ReduceScatter:
      return tt::reduceScatter::rule(g.P, m) == tt::reduceScatter::kRecursiveHalving;
    default:
      return false;
  }
}

}  // namespace

bool butterfly_to_library(Coll c, const Grouping& g, uint64_t m, int64_t xor_cross, uint64_t small_bytes,
                          bool node_sites) {
  if (small_bytes == 0 || xor_cross < 0 || g.S < 2) return false;  // SITEMPI_COLL_SMALL=0: never
  if (popcount(xor_cross) > dissemination_rounds(g.S)) return false;
  // the size tests before the rules' table: a large call (most calls that get here) leaves at once
  const uint64_t per_rank = c == Coll::ReduceScatter ? m / uint64_t(g.P) : m;
  if (per_rank < small_bytes) return !node_sites && library_runs_butterfly(c, g.P, m);
  return g.S == 2 && xor_cross == 1 && per_rank < kSingleBlockMaxBytes && single_blocks_cross(c, g, m);
}

}  // namespace sitempi::core
