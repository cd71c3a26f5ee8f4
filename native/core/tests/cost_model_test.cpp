// native/core/cost_model: the flat model of the library's algorithms, the site-aware schedules
// against the lower bounds of crossing bytes, records that add up to their call, and the choice.
#include <array>
#include <algorithm>
#include <random>
#include <utility>

#include "check.h"
#include "core/cost_model.h"
#include "core/sites.h"

using namespace sitempi::core;

namespace {

struct Totals {
  uint64_t bytes = 0, msgs = 0, cross_bytes = 0, cross_msgs = 0;
};
Totals totals(const std::vector<Flow>& flows, const std::vector<int32_t>& site_of) {
  Totals t;
  for (const Flow& f : flows) {
    t.bytes += f.bytes;
    t.msgs += f.msgs;
    if (site_of[size_t(f.src)] != site_of[size_t(f.dst)]) {
      t.cross_bytes += f.bytes;
      t.cross_msgs += f.msgs;
    }
  }
  return t;
}
// Every rank's record of a library-run call, expanded and summed.
std::vector<Flow> expand_all(Coll c, uint32_t alg, int root, int P, uint64_t m, const int32_t* site_of = nullptr) {
  std::vector<Flow> out;
  for (int me = 0; me < P; ++me) {
    CollRecord r{c, alg, me, root, P, m};
    r.site_of = site_of;
    expand(r, out);
  }
  return out;
}
// The shape of a call on grouping g: m bytes (uniform calls), elems elements (reductions).
CallShape shape_of(Coll c, uint32_t alg, int root, const Grouping& g, uint64_t m = 0, uint64_t elems = 0) {
  CallShape sh;
  sh.coll = c;
  sh.alg = alg;
  sh.root = root;
  sh.g = &g;
  sh.m = m;
  sh.elems = elems;
  return sh;
}
std::vector<int32_t> random_sites(std::mt19937& rng, int P, int S) {
  std::vector<int32_t> s(static_cast<size_t>(P));
  for (int i = 0; i < P; ++i) s[size_t(i)] = i < S ? i : int32_t(rng() % uint32_t(S));  // every site used
  std::shuffle(s.begin(), s.end(), rng);
  return s;
}

}  // namespace

TEST(cost_library_algorithms) {
  const int P = 6;
  const uint64_t m = 1000;
  const std::vector<int32_t> one(P, 0);
  Totals t = totals(expand_all(Coll::Bcast, kAlgLibrary, 2, P, m), one);
  CHECK_EQ(t.msgs, uint64_t(P - 1));  // root to each
  CHECK_EQ(t.bytes, (P - 1) * m);
  // coll/tuned's recursive doubling (tuned.h): 0, 2 fold into 1, 3; 4 ranks exchange twice; back
  t = totals(expand_all(Coll::Allreduce, kAlgLibrary, -1, P, m), one);
  CHECK_EQ(t.msgs, 12u);
  CHECK_EQ(t.bytes, 12 * m);
  t = totals(expand_all(Coll::Alltoall, kAlgLibrary, -1, P, m), one);
  CHECK_EQ(t.bytes, uint64_t(P * (P - 1)) * m);
  t = totals(expand_all(Coll::Barrier, kAlgLibrary, -1, P, 0), one);
  CHECK_EQ(t.msgs, uint64_t(2 * (P - 1)));
  CHECK_EQ(t.bytes, 0u);
  // coll/tuned's bruck (its recursive doubling falls back to it at 6 ranks): each rank gets the
  // P - 1 other blocks in 3 messages
  t = totals(expand_all(Coll::Allgather, kAlgLibrary, -1, P, m), one);
  CHECK_EQ(t.bytes, (P - 1) * uint64_t(P) * m);
  CHECK_EQ(t.msgs, uint64_t(3 * P));
  t = totals(expand_all(Coll::Scan, kAlgLibrary, -1, P, m), one);
  CHECK_EQ(t.msgs, uint64_t(P - 1));
}

TEST(cost_expand_rejects_bad_records) {
  std::vector<Flow> out;
  expand(CollRecord{Coll::Bcast, kAlgLibrary, 0, -1, 4, 8}, out);     // rooted call without a root
  expand(CollRecord{Coll::Bcast, kAlgLibrary, 0, 4, 4, 8}, out);      // root out of range
  expand(CollRecord{Coll::Alltoall, kAlgLibrary, 4, -1, 4, 8}, out);  // me out of range
  expand(CollRecord{Coll::Bcast, kAlgSiteLeaders, 0, 0, 4, 8}, out);  // site-aware without sites
  expand(CollRecord{Coll::Neighbor, kAlgLibrary, 0, -1, 4, 8}, out);
  CHECK(out.empty());
}

// The site-aware algorithms move each byte across sites as often as the lower bounds allow.
TEST(cost_site_schedules_meet_the_crossing_bounds) {
  std::mt19937 rng(1);
  for (int round = 0; round < 200; ++round) {
    const int S = 2 + int(rng() % 4), P = S + 1 + int(rng() % 12);
    const std::vector<int32_t> site_of = random_sites(rng, P, S);
    const Grouping g = group_sites(site_of.data(), P);
    CHECK_EQ(g.S, S);
    const int root = int(rng() % uint32_t(P));
    int n_root = 0;
    for (int i = 0; i < P; ++i) n_root += site_of[size_t(i)] == site_of[size_t(root)];
    uint64_t sum_ns = 0;  // Σ n_s (P − n_s)
    for (int s = 0; s < S; ++s) {
      const uint64_t n = uint64_t(g.count(s));
      sum_ns += n * (uint64_t(P) - n);
    }
    const uint64_t m = 64 * (1 + rng() % 100);
    auto crossing = [&](Coll c, uint32_t alg, uint64_t elems = 0) {
      std::vector<Flow> flows;
      schedule(shape_of(c, alg, root, g, m, elems), flows);
      return totals(flows, site_of);
    };
    CHECK_EQ(crossing(Coll::Bcast, kAlgSiteLeaders).cross_bytes, uint64_t(S - 1) * m);
    CHECK_EQ(crossing(Coll::Reduce, kAlgSiteLeaders).cross_bytes, uint64_t(S - 1) * m);
    // Spread: the same bytes, one message per member of another site (its chunk's partial to the
    // root); a site's members pass each other their parts of the chunks.
    const Totals reduce_spread = crossing(Coll::Reduce, kAlgSitePairwise, m / 8);
    CHECK_EQ(reduce_spread.cross_bytes, uint64_t(S - 1) * m);
    CHECK_EQ(reduce_spread.cross_msgs, uint64_t(P - n_root));
    uint64_t site_copies = 0;  // Σ over sites of (n_s - 1) m: the site phases
    for (int s = 0; s < S; ++s) site_copies += uint64_t(g.count(s) - 1) * m;
    CHECK_EQ(reduce_spread.bytes,
             site_copies + uint64_t(S) * m - 8 * rsag_chunk(m / 8, n_root, g.local_rank[size_t(root)]));
    CHECK_EQ(crossing(Coll::Gather, kAlgSiteLeaders).cross_bytes, uint64_t(P - n_root) * m);
    CHECK_EQ(crossing(Coll::Gather, kAlgSitePairwise).cross_bytes, uint64_t(P - n_root) * m);
    CHECK_EQ(crossing(Coll::Gather, kAlgSitePairwise).cross_msgs, uint64_t(P - n_root));
    CHECK_EQ(crossing(Coll::Gather, kAlgSitePairwise).bytes, uint64_t(P - 1) * m);
    CHECK_EQ(crossing(Coll::Scatter, kAlgSiteLeaders).cross_bytes, uint64_t(P - n_root) * m);
    CHECK_EQ(crossing(Coll::Allgather, kAlgSiteLeaders).cross_bytes, uint64_t(S - 1) * uint64_t(P) * m);
    // Spread: the same bytes, one message per block and other site; every rank gets every block.
    CHECK_EQ(crossing(Coll::Allgather, kAlgSitePairwise).cross_bytes, uint64_t(S - 1) * uint64_t(P) * m);
    CHECK_EQ(crossing(Coll::Allgather, kAlgSitePairwise).cross_msgs, uint64_t(S - 1) * uint64_t(P));
    CHECK_EQ(crossing(Coll::Allgather, kAlgSitePairwise).bytes, uint64_t(P) * uint64_t(P - 1) * m);
    CHECK_EQ(crossing(Coll::Alltoall, kAlgSiteLeaders).cross_bytes, sum_ns * m);
    CHECK_EQ(crossing(Coll::Alltoall, kAlgSiteLeaders).cross_msgs, uint64_t(S * (S - 1)));
    // Pairwise: the same bytes, one message per pair of ranks on different sites.
    CHECK_EQ(crossing(Coll::Alltoall, kAlgSitePairwise).cross_bytes, sum_ns * m);
    CHECK_EQ(crossing(Coll::Alltoall, kAlgSitePairwise).cross_msgs, sum_ns);
    CHECK_EQ(crossing(Coll::Alltoall, kAlgSitePairwise).bytes, uint64_t(P) * uint64_t(P - 1) * m);
    CHECK_EQ(crossing(Coll::Barrier, kAlgSiteLeaders).cross_bytes, 0u);
    // Reduce_scatter_block: each site's part of every other site's blocks crosses once, (S-1)Pm,
    // through the leaders (one message per pair of sites) or spread (one per block and other site).
    const uint64_t rs_bound = uint64_t(S - 1) * uint64_t(P) * m;
    CHECK_EQ(crossing(Coll::ReduceScatterBlock, kAlgSiteLeaders).cross_bytes, rs_bound);
    CHECK_EQ(crossing(Coll::ReduceScatterBlock, kAlgSiteLeaders).cross_msgs, uint64_t(S * (S - 1)));
    CHECK_EQ(crossing(Coll::ReduceScatterBlock, kAlgSitePairwise).cross_bytes, rs_bound);
    CHECK_EQ(crossing(Coll::ReduceScatterBlock, kAlgSitePairwise).cross_msgs, uint64_t(S - 1) * uint64_t(P));
    // Allreduce: leaders exchange partials (S(S-1)m) or reduce-scatter + allgather (2(S-1)m).
    CHECK_EQ(crossing(Coll::Allreduce, kAlgSiteLeaders).cross_bytes, uint64_t(S * (S - 1)) * m);
    CHECK_EQ(crossing(Coll::Allreduce, kAlgSiteRsAg, m / 8).cross_bytes, 2 * uint64_t(S - 1) * m);
  }
}

// Summed over the records of every member, the flows are the call's whole traffic.
TEST(cost_records_add_up_to_the_schedule) {
  std::mt19937 rng(2);
  const std::pair<Coll, uint32_t> uniform[] = {{Coll::Barrier, kAlgSiteLeaders},
                                               {Coll::Bcast, kAlgSiteLeaders},
                                               {Coll::Reduce, kAlgSiteLeaders},
                                               {Coll::Reduce, kAlgSitePairwise},
                                               {Coll::Allreduce, kAlgSiteLeaders},
                                               {Coll::Gather, kAlgSiteLeaders},
                                               {Coll::Gather, kAlgSitePairwise},
                                               {Coll::Scatter, kAlgSiteLeaders},
                                               {Coll::Allgather, kAlgSiteLeaders},
                                               {Coll::Alltoall, kAlgSiteLeaders},
                                               {Coll::Alltoall, kAlgSitePairwise},
                                               {Coll::Allgather, kAlgSitePairwise},
                                               {Coll::ReduceScatterBlock, kAlgSiteLeaders},
                                               {Coll::ReduceScatterBlock, kAlgSitePairwise}};
  for (int round = 0; round < 100; ++round) {
    const int S = 2 + int(rng() % 3), P = S + 1 + int(rng() % 10);
    const std::vector<int32_t> site_of = random_sites(rng, P, S);
    const Grouping g = group_sites(site_of.data(), P);
    const int root = int(rng() % uint32_t(P));
    const uint64_t m = 8 * (1 + rng() % 50);
    for (const auto& [c, alg] : uniform) {
      const CallShape sh = shape_of(c, alg, root, g, m, m);
      std::vector<Flow> whole;
      schedule(sh, whole);
      const Totals a = totals(whole, site_of);
      const Totals b = totals(expand_all(c, alg, root, P, m, site_of.data()), site_of);
      CHECK_EQ(a.bytes, b.bytes);
      CHECK_EQ(a.msgs, b.msgs);
      CHECK_EQ(a.cross_bytes, b.cross_bytes);
      CrossCounts cc;
      predict_cross(sh, cc);
      uint64_t xb = 0, xm = 0;
      for (int i = 0; i < P; ++i) {
        xb += cc.bytes[size_t(i)];
        xm += cc.msgs[size_t(i)];
      }
      CHECK_EQ(xb, a.cross_bytes);
      CHECK_EQ(xm, a.cross_msgs);
    }
    // Gatherv: one record per rank, each with its own block; together the call's crossing bytes.
    std::vector<uint64_t> blocks(static_cast<size_t>(P));
    for (auto& b : blocks) b = rng() % 3 ? 8 * (rng() % 40) : 0;
    CallShape sh = shape_of(Coll::Gatherv, kAlgSiteLeaders, root, g);
    sh.blocks = blocks.data();
    std::vector<Flow> whole, parts;
    schedule(sh, whole);
    for (int me = 0; me < P; ++me) {
      CollRecord r{Coll::Gatherv, kAlgSiteLeaders, me, root, P, blocks[size_t(me)]};
      r.site_of = site_of.data();
      expand(r, parts);
    }
    CHECK_EQ(totals(parts, site_of).cross_bytes, totals(whole, site_of).cross_bytes);
  }
}

TEST(cost_choose_alg) {
  const int32_t one_site[4] = {0, 0, 0, 0}, per_rank[4] = {0, 1, 2, 3}, two[4] = {0, 0, 1, 1},
                interleaved[4] = {0, 1, 0, 1}, three[6] = {0, 0, 1, 1, 2, 2};
  CollChoice p;
  p.m = 64;
  p.elems = 16;
  CHECK_EQ(choose_alg(Coll::Bcast, group_sites(one_site, 4), p), uint32_t(kAlgLibrary));
  CHECK_EQ(choose_alg(Coll::Bcast, group_sites(per_rank, 4), p), uint32_t(kAlgLibrary));
  CHECK_EQ(choose_alg(Coll::Bcast, group_sites(two, 4), p), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose_alg(Coll::Scan, group_sites(two, 4), p), uint32_t(kAlgLibrary));  // not covered
  p.commutative = false;  // MPI's rank order holds only where each site's ranks are contiguous
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(two, 4), p), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(interleaved, 4), p), uint32_t(kAlgLibrary));
  p.commutative = true;
  p.m = kAlltoallGroupMax;  // grouping an alltoall pays only for small blocks
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(two, 4), p), uint32_t(kAlgSitePairwise));
  p.m = kAlltoallGroupMax - 1;
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(two, 4), p), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose_alg(Coll::Alltoallv, group_sites(two, 4), p), uint32_t(kAlgSiteLeaders));
  p.alltoall = kAlltoallPairwise;  // SITEMPI_COLL_ALLTOALL forces one, for every size
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(two, 4), p), uint32_t(kAlgSitePairwise));
  CHECK_EQ(choose_alg(Coll::Alltoallv, group_sites(two, 4), p), uint32_t(kAlgSitePairwise));
  p.alltoall = kAlltoallLibrary;
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(two, 4), p), uint32_t(kAlgLibrary));
  p.alltoall = kAlltoallGrouped;
  p.m = 1 << 20;
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(two, 4), p), uint32_t(kAlgSiteLeaders));
  p.alltoall = kAlltoallAuto;
  // Blocks over a WAN: pairwise while the library's exchange would spend most of its time waiting
  // a latency per crossing step (grouping copies every row twice at the leaders); the library
  // once the wire time dominates and pairwise is no longer 1.5x better in the model.
  const int32_t inter8[8] = {0, 1, 0, 1, 0, 1, 0, 1}, halves8[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  for (uint64_t m : {uint64_t(4096), uint64_t(65536), uint64_t(262144)}) {
    p.m = m;
    CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(two, 4), p), uint32_t(kAlgSitePairwise));
  }
  for (uint64_t m : {uint64_t(4096), uint64_t(65536)}) {
    p.m = m;
    CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(inter8, 8), p), uint32_t(kAlgSitePairwise));
    CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(halves8, 8), p), uint32_t(kAlgSitePairwise));
    const AlltoallCosts t = alltoall_costs(group_sites(inter8, 8), m, 0.005, 125e6);
    CHECK(t.pairwise < t.library && t.pairwise < t.grouped);
  }
  // Beyond one round trip's worth of the busiest link (16 m on 4 + 4 ranks > 2 alpha B = 1.25 MB)
  // pairwise paces its sends, while the library's linear exchange posts all 4 MiB at once and
  // risks a retransmission timeout: pairwise (on the testbed 55-68 ms against 63-305).
  p.m = 262144;
  for (const int32_t* s : {inter8, halves8}) {
    CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(s, 8), p), uint32_t(kAlgSitePairwise));
    const AlltoallCosts t = alltoall_costs(group_sites(s, 8), p.m, 0.005, 125e6);
    CHECK(t.pairwise < 0.1 && t.library > 0.2);  // four latencies and the wire; the wire and a timeout
  }
  // At 1 MiB the library's pairwise steps (a block per rank, 4 MiB on the link) risk the timeout
  // too: pairwise. At 4 MiB its linear exchange pays the timeout and three latencies a step, and
  // the model still gives pairwise less than its margin: the library (both timed: below).
  p.m = uint64_t(1) << 20;
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(inter8, 8), p), uint32_t(kAlgSitePairwise));
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(halves8, 8), p), uint32_t(kAlgSitePairwise));
  p.m = uint64_t(4) << 20;
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(inter8, 8), p), uint32_t(kAlgLibrary));
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(halves8, 8), p), uint32_t(kAlgLibrary));
  // Where pairwise and the library are modelled within the 1.5x margin of each other (1 and 4 MiB
  // per pair on 4 + 4, both with a timeout), the shim times both; elsewhere the model's choice is
  // final.
  p.m = uint64_t(4) << 20;
  const AlltoallCandidates unsure = alltoall_candidates(group_sites(halves8, 8), p);
  CHECK(unsure.uncertain);
  CHECK_EQ(unsure.first, choose_alg(Coll::Alltoall, group_sites(halves8, 8), p));
  CHECK_EQ(unsure.first, uint32_t(kAlgLibrary));
  CHECK_EQ(unsure.second, uint32_t(kAlgSitePairwise));
  p.m = uint64_t(1) << 20;
  CHECK(alltoall_candidates(group_sites(halves8, 8), p).uncertain);
  for (uint64_t m : {uint64_t(4096), uint64_t(65536)}) {
    p.m = m;
    CHECK(!alltoall_candidates(group_sites(halves8, 8), p).uncertain);
  }
  // 256 KiB: the model gives pairwise 5x, all of it the library's timeout (its linear burst of 4 MiB
  // overflows the link): a risk, so timed, the model's choice first.
  p.m = uint64_t(256) << 10;
  const AlltoallCosts t256 = alltoall_costs(group_sites(halves8, 8), p.m, p.alpha_s, p.bandwidth_Bps);
  CHECK(t256.library_timeout);
  CHECK(t256.library > 4 * t256.pairwise);
  const AlltoallCandidates risky = alltoall_candidates(group_sites(halves8, 8), p);
  CHECK(risky.uncertain);
  CHECK_EQ(risky.first, uint32_t(kAlgSitePairwise));
  CHECK_EQ(risky.second, uint32_t(kAlgLibrary));
  // Below kAlltoallGroupMax (bytes not held to the bound): grouped timed against the library.
  for (uint64_t m : {uint64_t(8), kAlltoallGroupMax - 1}) {
    p.m = m;
    for (const int32_t* s : {inter8, halves8}) {
      const AlltoallCandidates small = alltoall_candidates(group_sites(s, 8), p);
      CHECK(small.uncertain);
      CHECK_EQ(small.first, uint32_t(kAlgSiteLeaders));
      CHECK_EQ(small.second, uint32_t(kAlgLibrary));
    }
  }
  p.m = 0;
  CHECK(!alltoall_candidates(group_sites(halves8, 8), p).uncertain);
  p.m = uint64_t(4) << 20;
  CHECK(!alltoall_candidates(group_sites(one_site, 4), p).uncertain);
  p.alltoall = kAlltoallModel;  // the model's choice alone: never timed
  CHECK(!alltoall_candidates(group_sites(halves8, 8), p).uncertain);
  p.m = 512;
  CHECK(!alltoall_candidates(group_sites(halves8, 8), p).uncertain);
  p.m = uint64_t(4) << 20;
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(halves8, 8), p), unsure.first);
  int force = -1;
  CHECK(parse_alltoall_force("model", force) && force == kAlltoallModel);
  p.alltoall = kAlltoallAuto;
  // Pairwise paces each rank at three round trips' worth of the link (2 alpha B = 1.25 MB) shared
  // by the ranks of the largest site.
  CHECK_EQ(alltoall_pace_bytes(group_sites(halves8, 8), 0.005, 125e6), 937500);
  const int32_t one_and_three[4] = {0, 1, 1, 1};
  CHECK_EQ(alltoall_pace_bytes(group_sites(one_and_three, 4), 0.005, 125e6), 1250000);
  // A short link: a switch's queue of 1 MiB in all, shared by the site's 2 ranks.
  CHECK_EQ(alltoall_pace_bytes(group_sites(two, 4), 10e-6, 125e6), 524288);
  CHECK_EQ(alltoall_pace_bytes(group_sites(two, 4), 0, 125e6), 524288);
  // Uneven sites: the lone rank's exchange crosses at every step.
  const int32_t lone[4] = {0, 1, 1, 1};
  p.m = 12000;
  CHECK_EQ(choose_alg(Coll::Alltoall, group_sites(lone, 4), p), uint32_t(kAlgSitePairwise));
  // On a LAN-like link (1 us) the library's steps cost nothing more; only the risk of its burst
  // sets them apart: timed. Pairwise paces at what a switch queues (1 MiB) shared by 2 ranks.
  p.alpha_s = 1e-6;
  p.bandwidth_Bps = 1.25e9;
  p.m = 1 << 20;
  const AlltoallCosts lan = alltoall_costs(group_sites(interleaved, 4), p.m, p.alpha_s, p.bandwidth_Bps);
  CHECK(lan.library_timeout && lan.pairwise < 1.01 * (lan.library - 0.2));
  CHECK(alltoall_candidates(group_sites(interleaved, 4), p).uncertain);
  CHECK_EQ(alltoall_pace_bytes(group_sites(interleaved, 4), p.alpha_s, p.bandwidth_Bps), 524288);
  p.alpha_s = 0.005;
  p.bandwidth_Bps = 125e6;
  force = -1;
  CHECK(parse_alltoall_force("", force) && force == kAlltoallAuto);
  CHECK(parse_alltoall_force("pairwise", force) && force == kAlltoallPairwise);
  CHECK(parse_alltoall_force("library", force) && force == kAlltoallLibrary);
  CHECK(!parse_alltoall_force("Pairwise", force) && force == kAlltoallAuto);
  p.m = 1 << 20;
  p.elems = p.m / 4;
  p.rsag_min = rsag_threshold(3, 0.005, 125e6);
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(three, 6), p), uint32_t(kAlgSiteRsAg));
  p.m = p.rsag_min - 1;  // below m* the leaders exchange; spread across nodes
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(three, 6), p), uint32_t(kAlgSitePairwise));
  p.spread = false;
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(three, 6), p), uint32_t(kAlgSiteLeaders));
  p.spread = true;
  // Two sites: spread at every size where sites span nodes, below 1 MiB where each is one node.
  const int32_t halves[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  p.rsag_min = ~0ull;
  p.m = 1 << 20;
  p.elems = p.m / 4;
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(halves, 8), p), uint32_t(kAlgSitePairwise));
  p.node_sites = true;
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(halves, 8), p), uint32_t(kAlgSiteLeaders));
  p.m = (1 << 20) - 8;
  p.elems = p.m / 4;
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(halves, 8), p), uint32_t(kAlgSitePairwise));
  p.node_sites = false;
  p.m = 64 << 20;
  p.elems = p.m / 4;
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(halves, 8), p), uint32_t(kAlgSitePairwise));
  p.spread = false;  // SITEMPI_COLL_SPREAD=0
  CHECK_EQ(choose_alg(Coll::Allreduce, group_sites(halves, 8), p), uint32_t(kAlgSiteLeaders));
  p.spread = true;
  // Reduce and Gather: spread between their thresholds where sites span nodes, blocking calls only;
  // Bcast never.
  struct Range {
    Coll c;
    uint64_t least, most;
  };
  for (const Range& r : {Range{Coll::Reduce, kSpreadReduceMin, kSpreadReduceMax},
                         Range{Coll::Gather, kSpreadGatherMin, kSpreadGatherMax}}) {
    const Grouping g = group_sites(halves, 8);
    auto at = [&](uint64_t m) {
      p.m = m;
      p.elems = m / 4;
      return choose_alg(r.c, g, p);
    };
    CHECK_EQ(at(r.least - 4), uint32_t(kAlgSiteLeaders));
    CHECK_EQ(at(r.least), uint32_t(kAlgSitePairwise));
    CHECK_EQ(at(r.most), uint32_t(kAlgSitePairwise));
    CHECK_EQ(at(r.most + 4), uint32_t(kAlgSiteLeaders));
    p.node_sites = true;
    CHECK_EQ(at(r.least), uint32_t(kAlgSiteLeaders));
    p.node_sites = false;
    p.blocking = false;
    CHECK_EQ(at(r.least), uint32_t(kAlgSiteLeaders));
    p.blocking = true;
    p.spread = false;
    CHECK_EQ(at(r.least), uint32_t(kAlgSiteLeaders));
    p.spread = true;
    CHECK_EQ(choose_alg(Coll::Bcast, g, p), uint32_t(kAlgSiteLeaders));
  }
}

TEST(cost_calibrated_choice) {
  const AlltoallCandidates lib_first{true, kAlgLibrary, kAlgSitePairwise};
  const AlltoallCandidates pairwise_first{true, kAlgSitePairwise, kAlgLibrary};
  const AlltoallCandidates site_first{true, kAlgSiteLeaders, kAlgLibrary};
  const AlltoallCandidates neither{true, kAlgSiteLeaders, kAlgSitePairwise};
  using T = std::array<double, 5>;
  const T lib{1, 1, 1, 1, 1}, site_wins{0.8, 1.1, 0.8, 0.8, 0.8}, close{0.92, 0.93, 0.99, 0.95, 0.9};
  const T steady{1.05, 1.05, 1.05, 1.05, 1.05}, broken{0.85, 0, 0.85, 0.85, 0.85};
  struct Trial {
    const char* why;
    AlltoallCandidates k;
    T first, second;
    uint32_t chosen;
  };
  const Trial trials[] = {
      // Between pairwise and the library, the other must beat the model's choice by 10% in the
      // mean of the rounds' ratios.
      {"wins by 14% on average", lib_first, lib, site_wins, kAlgSitePairwise},
      {"within 10%", lib_first, lib, close, kAlgLibrary},
      {"library wins by 14%, pairwise first", pairwise_first, lib, site_wins, kAlgLibrary},
      {"library within 10%, pairwise first", pairwise_first, lib, close, kAlgSitePairwise},
      {"library 5% slower, pairwise first", pairwise_first, lib, steady, kAlgSitePairwise},
      // Grouped (below 1 KiB) must beat the library by 10% though the model chose it.
      {"wins, site-aware first", site_first, site_wins, lib, kAlgSiteLeaders},
      {"within 10%, site-aware first", site_first, close, lib, kAlgLibrary},
      // One retransmission timeout of the library among rounds it wins by 1.3x decides nothing.
      {"one timeout", lib_first, {1, 1, 6, 1, 1}, {1.3, 1.3, 1.3, 1.3, 1.3}, kAlgLibrary},
      // A library whose calls mostly pay one (bimodal) loses; with timeouts in two rounds of five
      // too, where the median ratio (1.05) would keep it.
      {"bimodal, three timeouts", lib_first, {2.1, 2.1, 1, 2.1, 1}, steady, kAlgSitePairwise},
      {"bimodal, two timeouts", lib_first, {2.1, 1, 1, 2.1, 1}, steady, kAlgSitePairwise},
      // Ratios, round by round: a slow spell of the host that lands in one round on both sides
      // weighs as one round (in sums, 15.2 against 14, it would decide).
      {"a slow spell", lib_first, {1, 10, 1, 1, 1}, {0.8, 12, 0.8, 0.8, 0.8}, kAlgSitePairwise},
      // Two site-aware candidates: the faster in the mean ratio, no margin.
      {"no library, second faster", neither, lib, close, kAlgSitePairwise},
      {"no library, first faster", neither, close, lib, kAlgSiteLeaders},
      // A time that is not positive: the model's choice.
      {"broken time, site-aware first", site_first, site_wins, broken, kAlgSiteLeaders},
      {"broken time, library first", lib_first, lib, broken, kAlgLibrary},
  };
  for (const Trial& t : trials)
    if (calibrated_choice(t.k, t.first.data(), t.second.data(), 5) != t.chosen)
      sitempi::test::fail(__FILE__, __LINE__, std::string("calibrated_choice: ") + t.why);
  CHECK_EQ(calibrated_choice(lib_first, lib.data(), site_wins.data(), 0), uint32_t(kAlgLibrary));  // no rounds
}

TEST(cost_rate_pace) {
  // 2 sites of 4, 10 ms RTT, 1 Gbit/s: one round trip is 1.25 MB on the link.
  // 1 MiB per rank from each of 4 members: the site's 4 MiB is 3.4 round trips: 1.05 B/4 each
  // after an eighth of a round trip (half of one for the site).
  RatePace p = rate_pace(4, 1, 1 << 20, 0.005, 125e6);
  CHECK_EQ(p.rate_Bps, kRatePaceHeadroom * 125e6 / 4);
  CHECK_EQ(p.burst_bytes, kRatePaceBurstRtts * 1.25e6 / 4);
  CHECK(p.rate_Bps > 125e6 / 4 && p.burst_bytes < 1.25e6 / 4);  // headroom, and half the queue at once
  // 256 KiB: 1 MiB in all fits one round trip: at once. 4 MiB: 13.4 round trips: at once.
  CHECK_EQ(rate_pace(4, 1, 256 << 10, 0.005, 125e6).rate_Bps, 0.0);
  CHECK_EQ(rate_pace(4, 1, 4 << 20, 0.005, 125e6).rate_Bps, 0.0);
  // The edges: more than one round trip's worth, at most kRatePaceMaxRtts of them.
  CHECK_EQ(rate_pace(4, 1, 312500, 0.005, 125e6).rate_Bps, 0.0);
  CHECK(rate_pace(4, 1, 312501, 0.005, 125e6).rate_Bps > 0);
  CHECK(rate_pace(4, 1, uint64_t(kRatePaceMaxRtts * 312500), 0.005, 125e6).rate_Bps > 0);
  CHECK_EQ(rate_pace(4, 1, uint64_t(kRatePaceMaxRtts * 312500) + 1, 0.005, 125e6).rate_Bps, 0.0);
  // The spread forms pace at any length: the 4 MiB above, and a thousand times more.
  CHECK_EQ(rate_pace(4, 1, 4 << 20, 0.005, 125e6, kRatePaceAnyLength).rate_Bps, kRatePaceHeadroom * 125e6 / 4);
  CHECK(rate_pace(4, 1, uint64_t(4) << 30, 0.005, 125e6, kRatePaceAnyLength).rate_Bps > 0);
  CHECK_EQ(rate_pace(4, 1, 312500, 0.005, 125e6, kRatePaceAnyLength).rate_Bps, 0.0);  // still not below a round trip
  // A lone sender (a leader's 4 MiB Allreduce exchange) paces alone: all of the link's rate.
  p = rate_pace(1, 1, 4 << 20, 0.005, 125e6);
  CHECK_EQ(p.rate_Bps, kRatePaceHeadroom * 125e6);
  CHECK_EQ(p.burst_bytes, kRatePaceBurstRtts * 1.25e6);
  CHECK_EQ(rate_pace(1, 1, 1 << 20, 0.005, 125e6).rate_Bps, 0.0);  // less than a round trip
  // No sender, no link, or no WAN figures: nothing to pace.
  CHECK_EQ(rate_pace(0, 1, 1 << 20, 0.005, 125e6).rate_Bps, 0.0);
  CHECK_EQ(rate_pace(4, 0, 1 << 20, 0.005, 125e6).rate_Bps, 0.0);
  CHECK_EQ(rate_pace(4, 1, 1 << 20, 0, 125e6).rate_Bps, 0.0);
  CHECK_EQ(rate_pace(4, 1, 1 << 20, 0.005, 0).rate_Bps, 0.0);
  // The correctness grid's paced case (test/coll/alternatives.test.ts: 2 sites of 2, alpha 50 us,
  // a round trip of 12.5 kB): its spread Allgather of 5000 ints per rank is paced.
  CHECK(rate_pace(2, 1, 20000, 50e-6, 125e6).rate_Bps > 0);
  // Three sites: a rank's bytes go over two links, each shared by its site's senders.
  p = rate_pace(2, 2, 2 << 20, 0.005, 125e6);
  CHECK_EQ(p.rate_Bps, 2 * kRatePaceHeadroom * 125e6 / 2);
  CHECK_EQ(p.burst_bytes, 2 * kRatePaceBurstRtts * 1.25e6 / 2);
}

TEST(cost_rsag_threshold_and_chunks) {
  CHECK_EQ(rsag_threshold(2, 0.005, 125e6), ~0ull);                            // never with two sites
  CHECK_EQ(rsag_threshold(3, 0.005, 125e6), uint64_t(0.005 * 3 * 125e6 / 2));  // α·S·B/((S−1)(S−2))
  CHECK(rsag_threshold(5, 0.005, 125e6) < rsag_threshold(4, 0.005, 125e6));
  CHECK_EQ(rsag_threshold(3, -1, 125e6), ~0ull);
  for (uint64_t elems : {0ull, 1ull, 7ull, 100ull, 1000003ull})
    for (int S = 1; S <= 7; ++S) {
      uint64_t sum = 0;
      for (int j = 0; j < S; ++j) {
        CHECK_EQ(rsag_offset(elems, S, j), sum);  // chunks are contiguous, in order
        sum += rsag_chunk(elems, S, j);
      }
      CHECK_EQ(sum, elems);
    }
  CHECK_EQ(dissemination_rounds(1), 0);
  CHECK_EQ(dissemination_rounds(2), 1);
  CHECK_EQ(dissemination_rounds(4), 2);
  CHECK_EQ(dissemination_rounds(5), 3);
}

TEST(cost_calls_run_the_library_butterfly_where_it_crosses_as_little) {
  // XOR butterfly distances that cross: contiguous 4 + 4 only 4, alternating only 1, pairs of
  // ranks alternating only 2; 3 + 5 at 1, 2 and 4; 6 ranks: not a power of two.
  const int32_t contiguous[8] = {0, 0, 0, 0, 1, 1, 1, 1}, alternating[8] = {0, 1, 0, 1, 0, 1, 0, 1},
                pairs[8] = {0, 0, 1, 1, 0, 0, 1, 1}, uneven[8] = {0, 0, 0, 1, 1, 1, 1, 1}, six[6] = {0, 0, 0, 1, 1, 1},
                four_sites[8] = {0, 0, 1, 1, 2, 2, 3, 3};
  CHECK_EQ(xor_cross_distances(group_sites(contiguous, 8)), int64_t(4));
  CHECK_EQ(xor_cross_distances(group_sites(alternating, 8)), int64_t(1));
  CHECK_EQ(xor_cross_distances(group_sites(pairs, 8)), int64_t(2));
  CHECK_EQ(xor_cross_distances(group_sites(uneven, 8)), int64_t(7));
  CHECK_EQ(xor_cross_distances(group_sites(six, 6)), int64_t(-1));
  CHECK_EQ(xor_cross_distances(group_sites(four_sites, 8)), int64_t(6));
  // Open MPI 4.1's fixed rules at 8 ranks: recursive doubling / halving for small calls
  CHECK(library_runs_butterfly(Coll::Barrier, 8, 0));
  CHECK(library_runs_butterfly(Coll::Allreduce, 8, 512));
  CHECK(!library_runs_butterfly(Coll::Allreduce, 8, 16384));  // Rabenseifner
  CHECK(library_runs_butterfly(Coll::Allgather, 8, 64));
  CHECK(library_runs_butterfly(Coll::ReduceScatterBlock, 8, 512));
  CHECK(!library_runs_butterfly(Coll::Bcast, 8, 8));  // a tree
  auto choose = [](Coll c, const int32_t* sites, int P, uint64_t m, bool node_sites = false) {
    CollChoice p;
    p.m = m;
    p.elems = m / 4 ? m / 4 : 1;
    p.node_sites = node_sites;
    const Grouping g = group_sites(sites, P);
    p.xor_cross = xor_cross_distances(g);
    return choose_alg(c, g, p);
  };
  for (const int32_t* sites : {contiguous, alternating, pairs}) {
    CHECK_EQ(choose(Coll::Allreduce, sites, 8, 512), uint32_t(kAlgLibrary));
    CHECK_EQ(choose(Coll::Barrier, sites, 8, 0), uint32_t(kAlgLibrary));
    CHECK_EQ(choose(Coll::Allgather, sites, 8, 8), uint32_t(kAlgLibrary));
    CHECK_EQ(choose(Coll::ReduceScatterBlock, sites, 8, 64), uint32_t(kAlgLibrary));
    CHECK_EQ(choose(Coll::ReduceScatter, sites, 8, 8 * 64), uint32_t(kAlgLibrary));  // the whole vector
    CHECK_EQ(choose(Coll::Allreduce, sites, 8, 1024), uint32_t(kAlgSiteLeaders));    // the bytes count
    CHECK_EQ(choose(Coll::Bcast, sites, 8, 8), uint32_t(kAlgSiteLeaders));           // no butterfly
  }
  // Sites of one node each: small calls keep the site-aware algorithms (shared-memory site steps);
  // the single-block rule from 1 KiB still holds.
  for (const int32_t* sites : {contiguous, alternating}) {
    CHECK_EQ(choose(Coll::Barrier, sites, 8, 0, true), uint32_t(kAlgSiteLeaders));
    CHECK_EQ(choose(Coll::Allreduce, sites, 8, 512, true), uint32_t(kAlgSiteLeaders));
    CHECK_EQ(choose(Coll::Allgather, sites, 8, 8, true), uint32_t(kAlgSiteLeaders));
  }
  CHECK_EQ(choose(Coll::Allgather, alternating, 8, 4096, true), uint32_t(kAlgLibrary));
  // from 1 KiB: only where the crossing round sends single blocks (sites alternating rank by rank)
  CHECK_EQ(choose(Coll::Allgather, alternating, 8, 4096), uint32_t(kAlgLibrary));
  CHECK_EQ(choose(Coll::Allgather, contiguous, 8, 4096), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose(Coll::Allgather, pairs, 8, 4096), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose(Coll::ReduceScatterBlock, alternating, 8, 16384), uint32_t(kAlgLibrary));
  CHECK_EQ(choose(Coll::ReduceScatterBlock, alternating, 8, 65536), uint32_t(kAlgSitePairwise));  // measured
  CHECK_EQ(choose(Coll::Allgather, alternating, 8, 65536), uint32_t(kAlgSitePairwise));
  // Allgather: spread from kSpreadAllgatherMin per rank (4 MiB and up too), else the leaders.
  CHECK_EQ(choose(Coll::Allgather, contiguous, 8, kSpreadAllgatherMin - 1), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose(Coll::Allgather, contiguous, 8, kSpreadAllgatherMin), uint32_t(kAlgSitePairwise));
  CHECK_EQ(choose(Coll::Allgather, contiguous, 8, 4u << 20), uint32_t(kAlgSitePairwise));
  CHECK_EQ(choose(Coll::ReduceScatterBlock, contiguous, 8, 16384), uint32_t(kAlgSitePairwise));
  // Reduce-scatters: through the leaders below kSpreadReduceScatterMin per rank, spread from it (the
  // v form by the whole vector's average).
  CHECK_EQ(choose(Coll::ReduceScatterBlock, contiguous, 8, 4096), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose(Coll::ReduceScatter, contiguous, 8, 8 * 4096), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose(Coll::ReduceScatter, contiguous, 8, 8 * kSpreadReduceScatterMin), uint32_t(kAlgSitePairwise));
  CHECK_EQ(choose(Coll::ReduceScatter, contiguous, 8, 8 * kSpreadReduceScatterMin - 8), uint32_t(kAlgSiteLeaders));
  {  // SITEMPI_COLL_SPREAD=0: the leaders at every size
    CollChoice p;
    p.m = 65536;
    p.elems = p.m / 4;
    p.spread = false;
    const Grouping g = group_sites(contiguous, 8);
    p.xor_cross = xor_cross_distances(g);
    CHECK_EQ(choose_alg(Coll::Allgather, g, p), uint32_t(kAlgSiteLeaders));
    CHECK_EQ(choose_alg(Coll::ReduceScatterBlock, g, p), uint32_t(kAlgSiteLeaders));
    p.spread = true;
    CHECK_EQ(choose_alg(Coll::ReduceScatterBlock, g, p), uint32_t(kAlgSitePairwise));
  }
  for (const int n : {kSpreadMaxSite, kSpreadMaxSite + 1}) {  // two sites of n
    std::vector<int32_t> halves(static_cast<size_t>(2 * n));
    for (int i = 0; i < 2 * n; ++i) halves[size_t(i)] = i < n ? 0 : 1;
    const uint32_t want = n > kSpreadMaxSite ? kAlgSiteLeaders : kAlgSitePairwise;
    CHECK_EQ(choose(Coll::ReduceScatterBlock, halves.data(), 2 * n, 65536), want);
    CHECK_EQ(choose(Coll::Allgather, halves.data(), 2 * n, 65536), want);
  }
  CHECK_EQ(choose(Coll::Allreduce, alternating, 8, 4096), uint32_t(kAlgSiteLeaders));  // P blocks cross
  // the library's butterfly crosses three times, the leaders once: site-aware
  CHECK_EQ(choose(Coll::Allreduce, uneven, 8, 8), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose(Coll::Barrier, uneven, 8, 0), uint32_t(kAlgSiteLeaders));
  CHECK_EQ(choose(Coll::Allreduce, six, 6, 8), uint32_t(kAlgSiteLeaders));
  // four sites: the leaders' phase takes two rounds too
  CHECK_EQ(choose(Coll::Allreduce, four_sites, 8, 8), uint32_t(kAlgLibrary));
  // SITEMPI_COLL_SMALL=0 and unknown distances never step aside, at any size
  CollChoice p;
  p.m = 8;
  p.elems = 2;
  p.small_bytes = 0;
  const Grouping g = group_sites(contiguous, 8);
  p.xor_cross = xor_cross_distances(g);
  CHECK_EQ(choose_alg(Coll::Allreduce, g, p), uint32_t(kAlgSiteLeaders));
  const Grouping ga = group_sites(alternating, 8);
  p.xor_cross = xor_cross_distances(ga);
  p.m = 4096;
  CHECK_EQ(choose_alg(Coll::Allgather, ga, p), uint32_t(kAlgSiteLeaders));
  p.m = 8;
  p.xor_cross = xor_cross_distances(g);
  p.small_bytes = kSmallCallBytes;
  p.xor_cross = -1;
  CHECK_EQ(choose_alg(Coll::Allreduce, g, p), uint32_t(kAlgSiteLeaders));
}
