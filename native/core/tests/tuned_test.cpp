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

// Non-blocking calls run libnbc's schedules, not coll/tuned's: the flat model (reduce to 0, bcast).
TEST(tuned_not_for_non_blocking) {
  std::vector<Flow> out;
  for (int me = 0; me < 4; ++me) {
    CollRecord r{Coll::Allreduce, kAlgLibrary, me, -1, 4, 8};
    r.blocking = false;
    expand(r, out);
  }
  CHECK_EQ(total(out).msgs, 6u);
  for (const Flow& f : out) CHECK(f.src == 0 || f.dst == 0);
}
