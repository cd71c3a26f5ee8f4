// native/core/nbc: the schedules Open MPI 4.1's coll/libnbc runs for non-blocking collectives,
// counted by hand (test/monitor/nbc-flows.test.ts holds them to Open MPI's own counters).
#include <map>
#include <utility>

#include "check.h"
#include "core/cost_model.h"
#include "core/nbc.h"

using namespace sitempi::core;

namespace {

// Every rank's record of a non-blocking library-run collective; messages per directed pair.
std::map<std::pair<int, int>, uint64_t> sent(Coll c, int P, uint64_t m, int root = 0, bool bytes = false) {
  std::map<std::pair<int, int>, uint64_t> out;
  for (int me = 0; me < P; ++me) {
    CollRecord r{c, kAlgLibrary, me, root, P, m};
    r.blocking = false;
    std::vector<Flow> f;
    expand(r, f);
    for (const Flow& x : f) out[{x.src, x.dst}] += bytes ? x.bytes : x.msgs;
  }
  return out;
}
using Pairs = std::map<std::pair<int, int>, uint64_t>;

}  // namespace

TEST(nbc_rules) {
  CHECK_EQ(nbc_bcast_alg(4), int(kNbcLinear));
  CHECK_EQ(nbc_bcast_alg(5), int(kNbcBinomial));
  CHECK_EQ(nbc_allreduce_alg(3, 1 << 20, 1 << 17), int(kNbcBinomial));
  CHECK_EQ(nbc_allreduce_alg(8, 65535, 8191), int(kNbcBinomial));
  CHECK_EQ(nbc_allreduce_alg(8, 65536, 8192), int(kNbcRabenseifner));
  CHECK_EQ(nbc_allreduce_alg(8, 65536, 7), int(kNbcRing));
  CHECK_EQ(nbc_reduce_alg(3, 16, 2), int(kNbcRabenseifner));
  CHECK_EQ(nbc_reduce_alg(8, 56, 7), int(kNbcBinomial));
  CHECK_EQ(nbc_reduce_alg(2, 65536, 8192), int(kNbcChain));
}

// A small Iallreduce: the binomial tree, fan-in to 0 (3 -> 2 -> 0, 1 -> 0) and fan-out (0 -> 1, 2;
// 1 -> 3), not coll/tuned's recursive doubling nor the flat model.
TEST(nbc_allreduce_binomial) {
  CHECK(sent(Coll::Allreduce, 4, 8) ==
        (Pairs{{{1, 0}, 1}, {{2, 0}, 1}, {{3, 2}, 1}, {{0, 1}, 1}, {{0, 2}, 1}, {{1, 3}, 1}}));
}

// Ibcast on 6 ranks from 2: the binomial tree over ranks with 0 and the root swapped.
TEST(nbc_bcast_swapped_root) {
  CHECK(sent(Coll::Bcast, 6, 100, 2) == (Pairs{{{2, 1}, 1}, {{2, 0}, 1}, {{2, 4}, 1}, {{1, 3}, 1}, {{1, 5}, 1}}));
  CHECK(sent(Coll::Bcast, 6, 0, 2).empty());  // MPI_Ibcast of nothing returns at once
}

// Ibarrier: dissemination, ceil(log2 P) rounds; Iexscan sends its 0-byte chain, Iscan does not.
TEST(nbc_barrier_and_scans) {
  const Pairs b = sent(Coll::Barrier, 5, 0);
  CHECK_EQ(b.size(), 15u);
  CHECK_EQ(b.at({4, 3}), 1u);
  CHECK_EQ(sent(Coll::Exscan, 4, 0).size(), 3u);
  CHECK(sent(Coll::Scan, 4, 0).empty());
}

// Ireduce of 48 doubles on 6 ranks to the odd folded root 3: rank 0 hands its quarter to 3, which
// gathers the other quarters from core rank 2 (real 4) and the half of core rank 1 (real 2, with
// 5's quarter).
TEST(nbc_reduce_redscat_gather) {
  const Pairs b = sent(Coll::Reduce, 6, 48 * 8, 3, true);
  CHECK_EQ(b.at({0, 3}), 12u * 8);
  CHECK_EQ(b.at({4, 3}), 12u * 8);
  CHECK_EQ(b.at({2, 3}), 48u * 8);  // its fold-in half and its gathered half
  CHECK_EQ(b.at({1, 0}), 48u * 8);  // the fold-in: both halves
  CHECK_EQ(b.at({0, 1}), 24u * 8);
  uint64_t into_root = 0;
  for (const auto& [k, v] : b)
    if (k.second == 3 && k.first != 2 && k.first != 0 && k.first != 4) into_root += v;
  CHECK_EQ(into_root, 0u);
}

// Ireduce_scatter_block: the binomial reduce of every block to 0, then one block to each rank.
TEST(nbc_reduce_scatter_block) {
  const Pairs b = sent(Coll::ReduceScatterBlock, 5, 10, 0, true);
  CHECK(b == (Pairs{{{1, 0}, 50},
                    {{2, 0}, 50},
                    {{3, 2}, 50},
                    {{4, 0}, 50},
                    {{0, 1}, 10},
                    {{0, 2}, 10},
                    {{0, 3}, 10},
                    {{0, 4}, 10}}));
}
