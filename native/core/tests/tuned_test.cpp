// native/core/tuned: the algorithms Open MPI's coll/tuned runs for library collectives
// (coll_tuned_decision_fixed.c and coll_base_allreduce.c of v4.1.x), counted by hand.
#include <map>

#include "check.h"
#include "core/cost_model.h"
#include "core/tuned.h"

using namespace sitempi::core;

namespace {

// Every rank's record of a library-run Allreduce of m bytes (elems elements, 0: guessed).
std::vector<Flow> allreduce(int P, uint64_t m, uint64_t elems = 0) {
  std::vector<Flow> out;
  for (int me = 0; me < P; ++me) {
    CollRecord r{Coll::Allreduce, kAlgLibrary, me, -1, P, m};
    r.elems = elems;
    expand(r, out);
  }
  return out;
}
struct Sent {
  uint64_t bytes = 0, msgs = 0;
};
std::map<int, Sent> by_src(const std::vector<Flow>& flows) {
  std::map<int, Sent> s;
  for (const Flow& f : flows) {
    s[f.src].bytes += f.bytes;
    s[f.src].msgs += f.msgs;
  }
  return s;
}
Sent total(const std::vector<Flow>& flows) {
  Sent t;
  for (const Flow& f : flows) {
    t.bytes += f.bytes;
    t.msgs += f.msgs;
  }
  return t;
}

}  // namespace

TEST(tuned_allreduce_rules) {
  CHECK_EQ(tuned_allreduce_rule(4, 8), int(kArRing));                 // the table says ring below 16 B...
  CHECK_EQ(tuned_allreduce_alg(4, 8, 1), int(kArRecursiveDoubling));  // ...which falls back with 1 < 4 elements
  CHECK_EQ(tuned_allreduce_alg(4, 64, 8), int(kArRecursiveDoubling));
  CHECK_EQ(tuned_allreduce_alg(4, 1 << 20, 1 << 17), int(kArRabenseifner));
  CHECK_EQ(tuned_allreduce_alg(3, 4104, 513), int(kArRing));
  CHECK_EQ(tuned_allreduce_alg(2, 100000, 12500), int(kArRing));  // segmented ring, segment size 0: the ring
  CHECK_EQ(tuned_allreduce_alg(64, 1024, 128), int(kArRecursiveDoubling));
  CHECK_EQ(tuned_allreduce_alg(200, 1000, 125), int(kArNonOverlapping));
  CHECK_EQ(tuned_allreduce_alg(16, 1 << 20, 2), int(kArLinear));  // Rabenseifner with fewer elements than ranks
  CHECK_EQ(guess_elems(24), 3u);
  CHECK_EQ(guess_elems(12), 3u);
  CHECK_EQ(guess_elems(7), 7u);
}

// A 4-rank 8 B Allreduce is recursive doubling: each rank sends 8 B to rank^1, then to rank^2.
TEST(tuned_allreduce_recursive_doubling) {
  const std::vector<Flow> f = allreduce(4, 8);
  CHECK_EQ(f.size(), 8u);
  for (const auto& [src, s] : by_src(f)) {
    CHECK_EQ(s.msgs, 2u);
    CHECK_EQ(s.bytes, 16u);
  }
  std::map<std::pair<int, int>, uint64_t> pair;
  for (const Flow& x : f) pair[{x.src, x.dst}] += x.bytes;
  for (int r = 0; r < 4; ++r) {
    CHECK_EQ(pair[std::make_pair(r, r ^ 1)], 8u);
    CHECK_EQ(pair[std::make_pair(r, r ^ 2)], 8u);
    CHECK_EQ(pair.count(std::make_pair(r, r ^ 3)), 0u);
  }
  // 6 ranks: 0 and 2 fold into 1 and 3, four ranks exchange twice, 1 and 3 send the result back
  const std::vector<Flow> g = allreduce(6, 1000);
  const auto s = by_src(g);
  CHECK_EQ(s.at(0).msgs, 1u);
  CHECK_EQ(s.at(1).msgs, 3u);
  CHECK_EQ(s.at(4).msgs, 2u);
  CHECK_EQ(total(g).msgs, 12u);
  CHECK_EQ(total(g).bytes, 12000u);
}

// Ring: 3 ranks, 513 doubles (blocks of 171): each rank sends 2*513 - 171 - 171 elements to rank+1
// in 2(P-1) messages; in all 2(P-1)/P of the vector per rank.
TEST(tuned_allreduce_ring) {
  const std::vector<Flow> f = allreduce(3, 4104);
  CHECK_EQ(f.size(), 3u);
  for (const Flow& x : f) {
    CHECK_EQ(x.dst, (x.src + 1) % 3);
    CHECK_EQ(x.msgs, 4u);
    CHECK_EQ(x.bytes, uint64_t(2 * 513 - 2 * 171) * 8);
  }
  // uneven blocks: 2 ranks, 12501 elements of 8 B: blocks of 6251 and 6250
  const auto s = by_src(allreduce(2, 100008, 12501));
  CHECK_EQ(s.at(0).bytes, uint64_t(2 * 12501 - 6250 - 6251) * 8);
  CHECK_EQ(s.at(0).msgs, 2u);
}

// Rabenseifner: 4 ranks, 2^17 doubles: halves then quarters out, quarters then halves back.
TEST(tuned_allreduce_rabenseifner) {
  const uint64_t e = 1 << 17, m = e * 8;
  for (const auto& [src, s] : by_src(allreduce(4, m))) {
    CHECK_EQ(s.msgs, 4u);
    CHECK_EQ(s.bytes, (e / 2 + e / 4) * 2 * 8);
  }
  // 6 ranks: 1 and 3 fold in (2e between them, 2 messages each), 0 and 2 send e/2 + 3e/4 + 3e/4 + e,
  // 4 and 5 3e/2: 11e in all
  const std::vector<Flow> f = allreduce(6, m);
  CHECK_EQ(total(f).bytes, 11 * e * 8);
  CHECK_EQ(total(f).msgs, 24u);
  const auto s = by_src(f);
  CHECK_EQ(s.at(1).bytes, e * 8);
  CHECK_EQ(s.at(0).bytes, 3 * e * 8);
  CHECK_EQ(s.at(5).bytes, 3 * e / 2 * 8);
}

namespace {

// Every rank's record of a library-run collective `c` of m bytes (the rank's block) on P ranks.
std::vector<Flow> call(Coll c, int P, uint64_t m, int root = 0) {
  std::vector<Flow> out;
  for (int me = 0; me < P; ++me) expand(CollRecord{c, kAlgLibrary, me, root, P, m}, out);
  return out;
}
// bytes per directed pair
std::map<std::pair<int, int>, uint64_t> pairs(const std::vector<Flow>& flows) {
  std::map<std::pair<int, int>, uint64_t> p;
  for (const Flow& f : flows) p[{f.src, f.dst}] += f.bytes;
  return p;
}
using Pairs = std::map<std::pair<int, int>, uint64_t>;

}  // namespace

// Bcast at 4 ranks: 4 KiB binomial (0 -> 1, 2; 1 -> 3), 100 KB linear, 2 MB one chain; at 8 ranks
// 1000 B knomial of radix 4 (0 -> 1, 2, 3, 4; 4 -> 5, 6, 7); a root elsewhere shifts the tree.
TEST(tuned_bcast) {
  CHECK_EQ(tuned_table::bcast::rule(4, 4096), tuned_table::bcast::kBinomial);
  CHECK(pairs(call(Coll::Bcast, 4, 4096)) == (Pairs{{{0, 1}, 4096}, {{0, 2}, 4096}, {{1, 3}, 4096}}));
  CHECK(pairs(call(Coll::Bcast, 4, 100000)) == (Pairs{{{0, 1}, 100000}, {{0, 2}, 100000}, {{0, 3}, 100000}}));
  CHECK(pairs(call(Coll::Bcast, 4, 2 << 20)) == (Pairs{{{0, 1}, 2 << 20}, {{1, 2}, 2 << 20}, {{2, 3}, 2 << 20}}));
  CHECK_EQ(tuned_table::bcast::rule(8, 1000), tuned_table::bcast::kKnomial);
  const uint64_t m = 1000;
  CHECK(pairs(call(Coll::Bcast, 8, m)) ==
        (Pairs{{{0, 4}, m}, {{0, 1}, m}, {{0, 2}, m}, {{0, 3}, m}, {{4, 5}, m}, {{4, 6}, m}, {{4, 7}, m}}));
  CHECK(pairs(call(Coll::Bcast, 4, 4096, 2)) == (Pairs{{{2, 3}, 4096}, {{2, 0}, 4096}, {{3, 1}, 4096}}));
  // 6 ranks, 1000 B: Open MPI's binary tree (level order: 0 -> 1, 2; 1 -> 3, 5; 2 -> 4)
  CHECK(pairs(call(Coll::Bcast, 6, m)) == (Pairs{{{0, 1}, m}, {{0, 2}, m}, {{1, 3}, m}, {{1, 5}, m}, {{2, 4}, m}}));
  CHECK_EQ(total(call(Coll::Bcast, 37, 5000)).bytes, 36u * 5000);  // any tree: P - 1 copies
  // 5 ranks, 80 B: binomial, whose children stop at the first past the last rank (1 -> 3 only)
  CHECK(pairs(call(Coll::Bcast, 5, 80)) == (Pairs{{{0, 1}, 80}, {{0, 2}, 80}, {{0, 4}, 80}, {{1, 3}, 80}}));
}

// Reduce at 4 ranks: 1000 B binary tree, 20 KB one chain towards the root.
TEST(tuned_reduce) {
  CHECK(pairs(call(Coll::Reduce, 4, 1000)) == (Pairs{{{1, 0}, 1000}, {{2, 0}, 1000}, {{3, 1}, 1000}}));
  CHECK(pairs(call(Coll::Reduce, 4, 20000)) == (Pairs{{{1, 0}, 20000}, {{2, 1}, 20000}, {{3, 2}, 20000}}));
  CHECK(pairs(call(Coll::Reduce, 4, 20000, 3)) == (Pairs{{{0, 3}, 20000}, {{1, 0}, 20000}, {{2, 1}, 20000}}));
}

// Gather and scatter at 8 ranks: in-order binomial trees (the parent clears the lowest bit)
// carrying whole subtrees (4 holds 4 to 7).
TEST(tuned_gather_scatter) {
  const uint64_t m = 100;
  CHECK(pairs(call(Coll::Gather, 8, m)) ==
        (Pairs{{{1, 0}, m}, {{2, 0}, 2 * m}, {{4, 0}, 4 * m}, {{3, 2}, m}, {{5, 4}, m}, {{6, 4}, 2 * m}, {{7, 6}, m}}));
  CHECK(pairs(call(Coll::Scatter, 8, m)) ==
        (Pairs{{{0, 1}, m}, {{0, 2}, 2 * m}, {{0, 4}, 4 * m}, {{2, 3}, m}, {{4, 5}, m}, {{4, 6}, 2 * m}, {{6, 7}, m}}));
  // 4 ranks, 5000 B: linear gather (each block straight to the root)
  CHECK(pairs(call(Coll::Gather, 4, 5000, 1)) == (Pairs{{{0, 1}, 5000}, {{2, 1}, 5000}, {{3, 1}, 5000}}));
}

// Allgather at 6 ranks (recursive doubling, not a power of two: bruck) and at 8 (recursive
// doubling); alltoall at 16 ranks, 100 B: modified bruck, 8 blocks to me + 1, 2, 4, 8.
TEST(tuned_allgather_alltoall) {
  const uint64_t m = 10;
  const auto six = pairs(call(Coll::Allgather, 6, m));
  CHECK_EQ(six.size(), 18u);
  CHECK_EQ(six.at({0, 5}), m);
  CHECK_EQ(six.at({0, 4}), 2 * m);
  CHECK_EQ(six.at({0, 2}), 2 * m);  // distance 4: the 2 blocks left
  const auto eight = pairs(call(Coll::Allgather, 8, m));
  CHECK_EQ(eight.size(), 24u);
  CHECK_EQ(eight.at({5, 4}), m);
  CHECK_EQ(eight.at({5, 7}), 2 * m);
  CHECK_EQ(eight.at({5, 1}), 4 * m);
  CHECK_EQ(total(call(Coll::Allgather, 8, m)).bytes, 8u * 7 * m);
  const auto a = call(Coll::Alltoall, 16, 100);
  CHECK_EQ(a.size(), 64u);
  for (const Flow& f : a) {
    const int d = (f.dst - f.src + 16) % 16;
    CHECK(d == 1 || d == 2 || d == 4 || d == 8);
    CHECK_EQ(f.bytes, 800u);
  }
  // 20 ranks: 10, 10, 8, 8 and 4 of the 20 block indices have bit 1, 2, 4, 8, 16
  for (const auto& [src, s] : by_src(call(Coll::Alltoall, 20, 100))) CHECK_EQ(s.bytes, 40u * 100);
}

// Barrier: linear at 5 ranks (fan-in and fan-out at 0), recursive doubling at 8 and at 12 (4 extra
// ranks hand over to 0-3 and get the release back).
TEST(tuned_barrier) {
  const auto five = call(Coll::Barrier, 5, 0);
  CHECK_EQ(total(five).msgs, 8u);
  for (const Flow& f : five) CHECK(f.src == 0 || f.dst == 0);
  const auto eight = pairs(call(Coll::Barrier, 8, 0));
  CHECK_EQ(eight.size(), 24u);
  CHECK_EQ(eight.count({3, 0}), 0u);
  CHECK_EQ(eight.count({3, 7}), 1u);
  const auto twelve = call(Coll::Barrier, 12, 0);
  CHECK_EQ(total(twelve).msgs, 8u * 3 + 4 + 4);
  CHECK_EQ(pairs(twelve).count({9, 1}), 1u);
  CHECK_EQ(pairs(twelve).count({1, 9}), 1u);
}

namespace {
// The flows of rank me's record alone.
Pairs one(Coll c, int P, uint64_t m, int me) {
  std::vector<Flow> out;
  expand(CollRecord{c, kAlgLibrary, me, -1, P, m}, out);
  return pairs(out);
}
}  // namespace

// Reduce_scatter_block (coll_base_reduce_scatter_block.c): at 4 ranks, 100 B per rank is the
// butterfly (half the vector to rank^1, a block to rank^2), 8 B recursive doubling (every block
// outside the own subtree); at 5 ranks, 4 B recursive halving with rank 0 folded into rank 1,
// which sends 2 core blocks to 3, one to 2 and rank 0's block back.
TEST(tuned_reduce_scatter_block) {
  CHECK(one(Coll::ReduceScatterBlock, 4, 100, 0) == (Pairs{{{0, 1}, 200}, {{0, 2}, 100}}));
  CHECK(one(Coll::ReduceScatterBlock, 4, 8, 2) == (Pairs{{{2, 3}, 24}, {{2, 0}, 16}}));
  CHECK(one(Coll::ReduceScatterBlock, 5, 4, 0) == (Pairs{{{0, 1}, 20}}));
  CHECK(one(Coll::ReduceScatterBlock, 5, 4, 1) == (Pairs{{{1, 3}, 8}, {{1, 2}, 4}, {{1, 0}, 4}}));
  CHECK_EQ(total(call(Coll::ReduceScatterBlock, 4, 0)).msgs, 0u);  // rcount 0: nothing at all
}

// Reduce_scatter: the record's whole vector; 280000 B at 4 ranks is the ring, 3 blocks to rank + 1.
TEST(tuned_reduce_scatter) {
  std::vector<Flow> out;
  expand(CollRecord{Coll::ReduceScatter, kAlgLibrary, 2, -1, 4, 280000}, out);
  CHECK_EQ(out.size(), 1u);
  CHECK_EQ(out[0].dst, 3);
  CHECK_EQ(out[0].bytes, 210000u);
  CHECK_EQ(out[0].msgs, 3u);
}

// Allgatherv: the path of the record's own block. 5 ranks, 5000 B: ring (j -> j+1 -> ... 4 hops);
// 4 ranks, 1000 B: neighbour exchange (block 1 to 0, then the pair 0-1 on to 3 and to 2).
TEST(tuned_allgatherv) {
  CHECK(one(Coll::Allgatherv, 5, 5000, 3) == (Pairs{{{3, 4}, 5000}, {{4, 0}, 5000}, {{0, 1}, 5000}, {{1, 2}, 5000}}));
  CHECK(one(Coll::Allgatherv, 4, 1000, 1) == (Pairs{{{1, 0}, 1000}, {{0, 3}, 1000}, {{1, 2}, 1000}}));
  // every block reaches every other rank once: P (P - 1) block copies
  CHECK_EQ(total(call(Coll::Allgatherv, 6, 20000)).bytes, 30u * 20000);
  CHECK_EQ(total(call(Coll::Allgatherv, 6, 1000)).bytes, 30u * 1000);
}
