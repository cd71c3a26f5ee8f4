// Which messages and bytes a collective call sends between ranks, per algorithm. Compiled into the
// shim (its site-aware collectives count what they send) and into the addon (the monitor expands
// collective records into pairwise traffic), so predictions and behaviour share one definition.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "facts.h"
#include "butterfly.h"

namespace sitempi::core {

// Collective families (enum class Coll; function ids map to one of these) and the algorithm ids
// carried in Record.alg (enum Alg): facts.h, generated from native/shim/gen/facts.mjs.
// Alg 0 is whatever the MPI library ran; the monitor models it
// with the algorithm Open MPI's coll/tuned picks for that size and communicator size where
// tuned.h covers the family (Allreduce), else with the flat algorithms of coll/basic; a non-blocking
// call with coll/libnbc's schedules (nbc.h). The others are the shim's
// site-aware algorithms (native/shim/coll/, docs/sites.md), whose flows `schedule` below describes exactly.

// One flow between communicator ranks.
struct Flow {
  int src, dst;
  uint64_t bytes;
  uint32_t msgs;
};

// One rank's record of a collective call: the part of the call's traffic that this record
// accounts for. Summed over the records of every member, the flows are the call's whole traffic,
// each pair counted once. `bytes` is what the shim recorded for this rank (docs/architecture.md,
// "Recording rules").
struct CollRecord {
  Coll coll;
  uint32_t alg;
  int me;    // this rank in the communicator
  int root;  // communicator rank of the root, -1 none
  int size;  // communicator size
  uint64_t bytes;
  // Needed for alg != 0 (the site-aware algorithms); records without them expand to nothing.
  const int32_t* site_of = nullptr;      // site of each communicator rank (size entries)
  uint64_t elems = 0;                    // reductions: element count (0: unknown, taken as bytes)
  const uint64_t* peer_bytes = nullptr;  // alltoallv: bytes this rank sends to each rank (size)
  // alg 0: the blocking call, which Open MPI runs with coll/tuned's algorithms (tuned.h); false: a
  // non-blocking one, which it runs with coll/libnbc's schedules (nbc.h).
  bool blocking = true;
};

// Appends the flows of `r` to out (self-flows never appear). Unknown or uncovered: nothing.
// For alg != 0 a record accounts for the flows its rank sends (uniform collectives: exact). For
// Gatherv/Allgatherv/Alltoallv it accounts for the path of its own block(s), for Scatterv of the
// block it receives; bytes are exact, and the messages of a site's aggregated block are counted
// once, in its leader's record.
void expand(const CollRecord& r, std::vector<Flow>& out);

// ---- Site-aware algorithms: choice and schedule (shared by the shim and the predictions) ----

struct Grouping;  // native/core/sites.h

// Where leaders switch allreduce from the simple exchange to reduce-scatter + allgather:
// m* = alpha*S*B / ((S-1)(S-2)) bytes (DESIGN.md), for S >= 3; never for S <= 2.
uint64_t rsag_threshold(int S, double alpha_s, double bandwidth_Bps);

// Grouping an Alltoall at the leaders saves messages, not bytes (DESIGN: the bound is
// Σ n_s(P−n_s)m either way). It pays while the headers of the pairwise exchange's messages (about
// 100 B of TCP/IP and MPI headers each, bench/results/collectives.md) add more than ~10% to the
// crossing bytes, i.e. below about 1 KiB per pair; above that the leaders' copies only add time.
// The v-variant cannot choose by size (each rank knows only its own counts): grouped unless forced.
constexpr uint64_t kAlltoallGroupMax = 1024;

// Spread over the sites' members (kAlgSitePairwise) instead of run through the leaders: a
// reduce-scatter from kSpreadReduceScatterMin bytes per rank's block (on average), an Allgather
// from kSpreadAllgatherMin per rank, where no site has more than kSpreadMaxSite ranks. Measured on
// the testbed (docs/sites.md): reduce-scatters spread take 0.6-0.9x the leaders' time from 16 KiB
// and 1.03-1.07x at 4 KiB on 8 nodes (more messages, each a wake-up on a host with fewer cores
// than ranks); Allgather 0.5-0.94x from 16 KiB to 1 MiB, and at 4 MiB 0.72-0.92x on sites with a
// kernel LAN (1.02-1.12x when same-site packets went through the WAN emulator too).
constexpr uint64_t kSpreadReduceScatterMin = 16 * 1024;
constexpr uint64_t kSpreadAllgatherMin = 16 * 1024;
// An Allreduce spread (reduce-scatter and allgather in the sites, the chunks' partials across)
// from kSpreadAllreduceMin bytes; where every site lies within one node, only below
// kSpreadAllreduceMaxNodeSites (spread_allreduce_max). Measured on the testbed, runs alternating
// with the leaders (docs/sites.md): 0.85-0.95x the leaders' time from 32 to 128 KiB on 8 nodes (two
// site steps where the leaders' trees take four, each a TCP message waiting for a busy-polling rank
// to be scheduled), even on 2 nodes of 4 (shared memory); at 16 KiB even. At 256 KiB, its chunks in
// segments (each crossing as soon as it is folded), 0.9x on 8 nodes and 0.97x on 2; at 1 MiB 1.07x
// on 2 nodes of 4 (the trees move the same site bytes through fewer ranks in shared memory). On 8
// nodes 0.62-0.94x at 1, 2 and 4 MiB in every round in a second machine state (2026-12-07), where an
// older shim in the first had found the leaders 5-20% ahead at 4 MiB.
constexpr uint64_t kSpreadAllreduceMin = 32 * 1024;
constexpr uint64_t kSpreadAllreduceMaxNodeSites = 1024 * 1024;
constexpr uint64_t spread_allreduce_max(bool node_sites) {
  return node_sites ? kSpreadAllreduceMaxNodeSites : ~uint64_t(0);
}
// A Reduce spread (a site reduce-scatter in one step, every member's chunk partial to the root)
// and a Gather spread (every block straight to the root, no site step) where a site spans nodes,
// between these sizes; where every site lies within one node, never (the leaders' trees run in
// shared memory there). Measured on the testbed (8 nodes, 2 sites; 2026-12-07, six rounds of
// alternating jobs against SITEMPI_COLL_SPREAD=0, docs/sites.md): the Reduce 0.91-0.94x the
// leaders' time at 64 and 256 KiB (spread faster in 22 of 24 rounds), 1.02-1.08x below 64 KiB,
// 1.14-1.16x at 1 MiB and 1.44-1.49x at 4 MiB; the Gather 0.91-0.96x from 16 to 64 KiB, 0.97-1.00x
// at 256 KiB and 1 MiB (where the leaders' times are bimodal), 1.02-1.04x at 4 MiB. A spread
// Bcast (the root's chunk to every member, a site allgather) was 1.06-1.12x the leaders' time below
// 64 KiB, even from 64 KiB to 1 MiB and 1.3x at 4 MiB, and was not kept.
constexpr uint64_t kSpreadReduceMin = 64 * 1024, kSpreadReduceMax = 256 * 1024;
constexpr uint64_t kSpreadGatherMin = 16 * 1024, kSpreadGatherMax = 1024 * 1024;
// Spread, a site phase sends every member's part (block) to its owner or from its owner to every
// member: n(n-1) messages and connections per block where the leaders' trees have n-1. Measured
// with sites of up to 7 ranks; larger sites than this keep the leaders.
constexpr int kSpreadMaxSite = 64;

// SITEMPI_COLL_ALLTOALL: the cost model's choice, calibrated where it is unsure (auto), the model's
// alone (model), or one algorithm forced (tests, measurements).
enum AlltoallForce : int {
  kAlltoallAuto = 0,
  kAlltoallGrouped = 1,
  kAlltoallPairwise = 2,
  kAlltoallLibrary = 3,
  kAlltoallModel = 4
};
// "" or "auto", "grouped", "pairwise", "library", "model" (case-sensitive); false (and auto) otherwise.
bool parse_alltoall_force(const std::string& text, int& force);

// Modelled time (seconds) of one Alltoall of m bytes per pair, per algorithm: the busiest site
// link's bytes and headers at `bandwidth_Bps` after one latency, plus what each algorithm adds
// (grouped: two site phases and the leaders' copies of every crossing row; pairwise: a send and
// receive per peer; the library's pairwise exchange (Open MPI's tuned for large blocks): one step
// per peer, each waiting a latency when it crosses sites, three above the eager limit).
// Grouped and the library's linear exchanges pay a retransmission timeout where their burst
// exceeds what the link holds in flight (cost_model.cpp); pairwise paces its sends
// (alltoall_pace_bytes) and pays none.
// choose_alg takes pairwise over the library only when the model gives it 1.5x.
struct AlltoallCosts {
  double grouped = 0, pairwise = 0, library = 0;
  bool library_timeout = false;  // the library's cost holds a retransmission timeout
};
AlltoallCosts alltoall_costs(const Grouping& g, uint64_t m, double alpha_s, double bandwidth_Bps);

// An Alltoall choice the model makes without confidence: pairwise and the library modelled within
// the 1.5x margin of each other (the model's error found by measurement, cost_model.cpp), either of
// them with a retransmission timeout in its cost (a risk the burst runs, not a certainty: the
// library's 256 KiB took 63-305 ms on the testbed, bimodal), or grouped below kAlltoallGroupMax
// (against the library). The shim then times both once per
// communicator and size and keeps the faster (coll/alltoall_calibration.h). `first` is always
// choose_alg's choice (the caller needs no second call), `second` the other; `uncertain` false:
// `first` is final (forced, grouped from kAlltoallGroupMax, one site).
struct AlltoallCandidates {
  bool uncertain = false;
  uint32_t first = 0, second = 0;
};
struct CollChoice;
AlltoallCandidates alltoall_candidates(const Grouping& g, const CollChoice& p);

// The choice after the shim timed both candidates in `rounds` rounds (coll/alltoall_calibration.h):
// t_first[r], t_second[r] the slowest rank's time of each in round r. Between the library and a
// site-aware candidate, the model's choice is the side to err on: the other replaces it only where
// the mean of the rounds' ratios (other / kept) is below kCalibrationWin; but grouped, whose two
// site phases cost more than its bytes save below 1 KiB, must always beat the library. Where the
// model chose pairwise over the library's burst, pairwise is the steadier of the two (measured:
// docs/sites.md, "Calibrated where the model is unsure"). Ratios, not sums, so that a
// slow spell of the host that lands on both calls of a round decides nothing; their mean, not
// their median, because a call's time can be bimodal: on the testbed the library's 1 MiB
// Alltoall took about 170 ms or, with a retransmission timeout, 350 (13 of 16 calls in one job),
// while pairwise took 160; the median of three rounds keeps the library whenever two rounds miss
// the timeout, and it did in 2 of 6 hand jobs (bench/results/alltoall-calibration-hand-jobs.md).
// A single timeout of the library (a ratio near 0.2) among five rounds where it wins clearly (1.3
// and up) still leaves the mean above 0.9. Without the library among them, the faster in the mean ratio.
// Times that are not positive: `first`.
constexpr double kCalibrationWin = 0.9;
uint32_t calibrated_choice(const AlltoallCandidates& k, const double* t_first, const double* t_second, int rounds);

// Pairwise Alltoall paces each rank's cross-site sends: at most this many bytes sent and not yet
// matched by their receiver (MPI_Issend) at a time: kAlltoallPaceRtts round trips' worth of the
// link (2 alpha B) shared by the ranks of the largest site. A rank whose cross-site share fits
// sends it at once.
// Measured on the testbed (8 ranks 4 + 4 interleaved, 10 ms RTT, 1 Gbit/s, a queue of one round
// trip; 2026-12-03, a prototype over PMPI, 4-6 calls each): 4 MiB per pair, windows of 0.6, 1.0,
// 1.3 and 2.6 MB per rank took 649-1065, 609-743, 616-825 and 611-1758 ms, the library 870-1900
// and every block at once 813-1011; 1 MiB, 1.3 MB: 176-238 ms against 307-406 and 166-449.
// On a link of short round trips, what a switch queues decides instead: at least kAlltoallPaceMinBytes
// in all.
constexpr double kAlltoallPaceRtts = 3, kAlltoallPaceMinBytes = 1 << 20;
int64_t alltoall_pace_bytes(const Grouping& g, double alpha_s, double bandwidth_Bps);

// Cross-site sends released at a rate instead of at once (coll/paced.h), so that a site's flows
// together fill a link without overflowing its queue (a drop-tail queue of about one round trip
// on the testbed, a WAN router's usual size). The senders: each member in the spread Allgather and
// Reduce_scatter and the pairwise Alltoall (there instead of its window, unless
// SITEMPI_COLL_PACE_BYTES sets one); the one leader or root that crosses in Allreduce, Bcast,
// Reduce and Gather. Each of a site's n senders sends its share of half a round trip's worth
// (alpha B / n per link) at once, then at most 1.05 B / n per link. Only where the site's share of
// a link is more than one round trip's worth (below, the queue holds it all) and, but for the
// spread forms (below), at most kRatePaceMaxRtts of them (above, the Alltoall's window; a lone
// flow's own recovery, where paced it was slower).
// Measured on the testbed (2 sites of 4 ranks, 10 ms RTT, 1 Gbit/s; 2026-12-04, second machine,
// alternating jobs): with a burst of a whole round trip and a rate of B / n, the spread 1 MiB
// Allgather took 51-57 ms against 56-68 unpaced, the Reduce_scatter 54-60 against 67-74, the
// pairwise 256 KiB Alltoall 45-61 against 66-69 with the window; the 4 MiB Allgather (13.4 round
// trips) 190-200 against 177-183. With a queue of 16 MB instead, unpaced: 48-50 and 172-177 ms,
// so the drops of the burst were the cost. A lone flow drops too: the 4 MiB Allreduce's leaders
// (3.4 round trips each way) lost 14% of their packets unpaced; paced with a burst of a whole
// round trip they took 47 ms in three jobs; with half of one (or a quarter) and 1.0-1.1 B,
// 40.2-42.0 ms in nine jobs of ten (one at 51.7, at B) and no drops; unpaced 41.7-61.2 (the bound
// 38.6).
// The spread Allgather and Reduce_scatter pace at any length (kRatePaceAnyLength) where every
// site lies within one node: there the site's crossing flows, one per member, leave one host
// together, and unpaced their 4 MiB calls (13.4 round trips) retransmitted 27-34% of their
// segments, against 6-7% from one rank per node. Measured on the testbed (2026-12-06, alternating
// jobs of 6-10 calls, the nodes' TCP counters of the collective benchmark), 2 sites x 4 ranks on
// one node each: paced 1-4% retransmitted, the Allgather's median 0-5% slower and its mean 7-10%
// faster (5 calls of 60 unpaced waited for a retransmission timeout, none paced), the
// Reduce_scatter's alike within the noise; one rank per node: the Allgather's median up to 8%
// slower paced, so kRatePaceMaxRtts holds there, as for the Alltoall (its window above) and a lone
// crossing rank (a Gather's root: 1-6% retransmitted unpaced, 5% slower paced).
constexpr double kRatePaceMaxRtts = 8, kRatePaceBurstRtts = 0.5, kRatePaceHeadroom = 1.05;
constexpr double kRatePaceAnyLength = 1e300;
struct RatePace {
  double rate_Bps = 0;  // 0: no pacing
  double burst_bytes = 0;
};
// For a rank sending `cross_bytes` in all, spread evenly over `links` links to other sites, with
// `senders` ranks of its site doing alike; paced up to `max_rtts` round trips' worth per link.
RatePace rate_pace(int senders, int links, uint64_t cross_bytes, double alpha_s, double bandwidth_Bps,
                   double max_rtts = kRatePaceMaxRtts);

struct CollChoice {
  uint64_t m = 0;                // uniform collectives: bytes per rank (alltoall: per pair); v: ignored
  uint64_t elems = 0;            // reductions: element count (reduce-scatter: of the whole vector)
  bool commutative = true;       // reductions
  bool variable = false;         // v-variant (sizes differ per rank: never short-circuited on m)
  uint64_t rsag_min = ~0ull;     // m* for this S (rsag_threshold)
  int alltoall = kAlltoallAuto;  // AlltoallForce
  double alpha_s = 0.005, bandwidth_Bps = 125e6;  // the WAN the choices assume
  int64_t xor_cross = -1;  // xor_cross_distances of the communicator (butterfly.h); -1: never steps aside
  uint64_t small_bytes = kSmallCallBytes;  // or SITEMPI_COLL_SMALL
  bool node_sites = false;                 // every site lies within one node (butterfly.h)
  bool spread = true;                      // false: SITEMPI_COLL_SPREAD=0 (the leaders at every size)
  bool blocking = true;  // false: Iallreduce, whose chain (shim coll/iallreduce.cpp) has no spread form
};
// The algorithm every rank of a communicator runs for a call: a function of values that all ranks
// agree on (grouping, uniform sizes, op commutativity), so all choose the same. 0: PMPI.
uint32_t choose_alg(Coll c, const Grouping& g, const CollChoice& p);

// The collectives with a root (the call's root argument names a rank of the communicator).
inline bool has_root(Coll c) {
  return c == Coll::Bcast || c == Coll::Reduce || c == Coll::Gather || c == Coll::Gatherv || c == Coll::Scatter ||
         c == Coll::Scatterv;
}

// A whole call: sizes of every rank's blocks, as all ranks together know them.
struct CallShape {
  Coll coll = Coll::None;
  uint32_t alg = kAlgLibrary;
  int root = -1;  // comm rank
  const Grouping* g = nullptr;
  uint64_t m = 0;                    // uniform: bytes (per rank / per pair)
  const uint64_t* blocks = nullptr;  // Gatherv/Scatterv/Allgatherv/ReduceScatter: bytes of each rank's block
  const uint64_t* matrix = nullptr;  // Alltoallv: matrix[i*P+j] bytes rank i sends to rank j
  uint64_t elems = 0;                // reductions (RS+AG chunking)
};
// Every message the site-aware algorithm `shape.alg` sends in the call (site phases modelled as
// flat trees inside the site; cross-site steps exactly as the shim sends them).
void schedule(const CallShape& shape, std::vector<Flow>& out);

// Per rank: the messages and bytes it sends to ranks of other sites in the call (what the shim
// reports in Record.cross_msgs / cross_bytes).
struct CrossCounts {
  std::vector<uint32_t> msgs;
  std::vector<uint64_t> bytes;
};
void predict_cross(const CallShape& shape, CrossCounts& out);

// RS+AG chunking: chunk j of S holds elems/S (+1 for j < elems%S) elements starting at offset.
inline uint64_t rsag_chunk(uint64_t elems, int S, int j) {
  return elems / uint64_t(S) + (uint64_t(j) < elems % uint64_t(S) ? 1 : 0);
}
inline uint64_t rsag_offset(uint64_t elems, int S, int j) {
  const uint64_t q = elems / uint64_t(S), r = elems % uint64_t(S);
  return q * uint64_t(j) + (uint64_t(j) < r ? uint64_t(j) : r);
}
// What chunk i of a site of na members and chunk j of a site of nb have in common (the spread
// Allreduce's crossing between their owners): elements [lo, hi), none where lo >= hi.
struct ChunkOverlap {
  uint64_t lo, hi;
};
inline ChunkOverlap chunk_overlap(uint64_t elems, int na, int i, int nb, int j) {
  const uint64_t a = rsag_offset(elems, na, i), b = rsag_offset(elems, nb, j);
  return {a > b ? a : b, std::min(a + rsag_chunk(elems, na, i), b + rsag_chunk(elems, nb, j))};
}
// Number of rounds of the leaders' dissemination barrier.
inline int dissemination_rounds(int S) {
  int k = 0;
  for (int d = 1; d < S; d <<= 1) ++k;
  return k;
}

}  // namespace sitempi::core
