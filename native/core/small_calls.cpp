#include "small_calls.h"

#include "cost_model.h"
#include "sites.h"
#include "tuned_table.h"

namespace sitempi::core {

namespace tt = tuned_table;

int xor_cross_rounds(const Grouping& g) {
  const int P = g.P;
  if (P < 2 || (P & (P - 1)) != 0) return -1;
  int rounds = 0;
  for (int d = 1; d < P; d <<= 1) {
    for (int r = 0; r < P; ++r) {
      if (g.site[size_t(r)] != g.site[size_t(r ^ d)]) {
        ++rounds;
        break;
      }
    }
  }
  return rounds;
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

bool small_call_to_library(Coll c, const Grouping& g, uint64_t m, int xor_rounds, uint64_t small_bytes) {
  if (xor_rounds < 0 || g.S < 2) return false;
  const uint64_t per_rank = c == Coll::ReduceScatter ? m / uint64_t(g.P) : m;
  if (per_rank >= small_bytes) return false;
  if (xor_rounds > dissemination_rounds(g.S)) return false;
  return library_runs_butterfly(c, g.P, m);
}

}  // namespace sitempi::core
