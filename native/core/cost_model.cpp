#include "cost_model.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "nbc.h"
#include "sites.h"
#include "tuned.h"

namespace sitempi::core {
namespace {

void add(std::vector<Flow>& out, int src, int dst, uint64_t bytes, uint32_t msgs) {
  if (src != dst) out.push_back({src, dst, bytes, msgs});
}

// Flat algorithms of Open MPI's coll/basic. Each record accounts for the traffic its rank sends,
// except scatter-like calls, whose records account for what their rank receives from the root
// (the receiver knows its own block size; the root only knows the total).
void expand_linear(const CollRecord& r, std::vector<Flow>& out) {
  const int me = r.me, root = r.root, P = r.size;
  const uint64_t m = r.bytes;
  switch (r.coll) {
    case Coll::Barrier:  // fan-in to 0, fan-out from 0
      if (me != 0) {
        add(out, me, 0, 0, 1);
        add(out, 0, me, 0, 1);
      }
      break;
    case Coll::Bcast:
      if (me == root)
        for (int j = 0; j < P; ++j) add(out, root, j, m, 1);
      break;
    case Coll::Reduce:
    case Coll::Gather:
    case Coll::Gatherv:
      add(out, me, root, m, 1);
      break;
    case Coll::Scatter:
    case Coll::Scatterv:
      add(out, root, me, m, 1);
      break;
    case Coll::Allreduce:  // reduce to 0, then bcast from 0
      add(out, me, 0, m, 1);
      add(out, 0, me, m, 1);
      break;
    case Coll::Allgather:
    case Coll::Allgatherv:  // gather to 0, then 0 sends the whole vector to everyone
      add(out, me, 0, m, 1);
      for (int j = 1; j < P; ++j) add(out, 0, j, m, me == 0 ? 1 : 0);
      break;
    case Coll::Alltoall:
      for (int j = 0; j < P; ++j) add(out, me, j, m, 1);
      break;
    case Coll::ReduceScatterBlock:  // reduce of the whole vector (P blocks) to 0, scatter from 0
      add(out, me, 0, m * uint64_t(P), 1);
      add(out, 0, me, m, 1);
      break;
    case Coll::ReduceScatter:  // the record holds the whole vector; the scatter arrives as parts
      add(out, me, 0, m, 1);
      break;
    case Coll::Scan:
    case Coll::Exscan:  // linear chain
      if (me + 1 < P) add(out, me, me + 1, m, 1);
      break;
    default:  // Alltoallv/w and neighbourhood collectives arrive as per-peer part records
      break;
  }
}

// Flows of the site-aware algorithms (see schedule below).
void schedule_site(const CallShape& sh, std::vector<Flow>& out) {
  const Grouping& g = *sh.g;
  const int P = g.P, S = g.S;
  auto L = [&](int s) { return g.leader(s); };
  auto site = [&](int i) { return g.site[size_t(i)]; };
  auto block = [&](int i) -> uint64_t { return sh.blocks ? sh.blocks[i] : sh.m; };
  auto site_bytes = [&](int s) {
    uint64_t b = 0;
    for (int k = 0; k < g.count(s); ++k) b += block(g.of(s)[k]);
    return b;
  };
  const uint64_t m = sh.m;
  switch (sh.coll) {
    case Coll::Barrier:  // site barrier, leaders' dissemination barrier, site barrier
      for (int i = 0; i < P; ++i)
        if (i != L(site(i))) {
          add(out, i, L(site(i)), 0, 2);
          add(out, L(site(i)), i, 0, 2);
        }
      for (int s = 0; s < S; ++s)
        for (int d = 1; d < S; d <<= 1) add(out, L(s), L((s + d) % S), 0, 1);
      break;
    case Coll::Bcast: {  // root to every other site's leader, then each site from its root/leader
      const int sr = site(sh.root);
      for (int t = 0; t < S; ++t)
        if (t != sr) add(out, sh.root, L(t), m, 1);
      for (int i = 0; i < P; ++i) add(out, site(i) == sr ? sh.root : L(site(i)), i, m, 1);
      break;
    }
    case Coll::Reduce: {                 // site reduce (to the root in its site), leaders send partials to root
      if (sh.alg == kAlgSitePairwise) {  // spread: chunk owners reduce their site's parts, send them to the root
        const uint64_t elems = sh.elems ? sh.elems : m;
        const uint64_t esize = elems ? m / elems : 0;
        for (int s = 0; s < S; ++s)
          for (int k = 0; k < g.count(s); ++k) {
            const int o = g.of(s)[k];
            const uint64_t len = rsag_chunk(elems, g.count(s), k) * esize;
            if (!len) continue;
            for (int i = 0; i < g.count(s); ++i)
              if (i != k) add(out, g.of(s)[i], o, len, 1);
            add(out, o, sh.root, len, 1);
          }
        break;
      }
      const int sr = site(sh.root);
      for (int i = 0; i < P; ++i) add(out, i, site(i) == sr ? sh.root : L(site(i)), m, 1);
      for (int t = 0; t < S; ++t)
        if (t != sr) add(out, L(t), sh.root, m, 1);
      break;
    }
    case Coll::Allreduce:                // site reduce, leaders exchange (alg 1) or RS+AG (alg 2), site bcast
      if (sh.alg == kAlgSitePairwise) {  // spread: chunk owners reduce, swap across sites, send round
        const uint64_t elems = sh.elems ? sh.elems : m;
        const uint64_t esize = elems ? m / elems : 0;
        for (int s = 0; s < S; ++s) {
          const int n = g.count(s);
          for (int k = 0; k < n; ++k) {
            const int o = g.of(s)[k];
            const uint64_t len = rsag_chunk(elems, n, k);
            if (!len) continue;
            for (int i = 0; i < n; ++i)
              if (i != k) {
                add(out, g.of(s)[i], o, len * esize, 1);  // a member's part of the chunk
                add(out, o, g.of(s)[i], len * esize, 1);  // the result
              }
            for (int t = 0; t < S; ++t) {
              if (t == s) continue;
              for (int j = 0; j < g.count(t); ++j) {  // the site partial to overlapping chunks
                const ChunkOverlap v = chunk_overlap(elems, n, k, g.count(t), j);
                if (v.lo < v.hi) add(out, o, g.of(t)[j], (v.hi - v.lo) * esize, 1);
              }
            }
          }
        }
        break;
      }
      for (int i = 0; i < P; ++i)
        if (i != L(site(i))) {
          add(out, i, L(site(i)), m, 1);
          add(out, L(site(i)), i, m, 1);
        }
      if (sh.alg == kAlgSiteRsAg) {
        const uint64_t elems = sh.elems ? sh.elems : m;
        const uint64_t esize = elems ? m / elems : 0;
        for (int s = 0; s < S; ++s)
          for (int t = 0; t < S; ++t) {
            if (s == t) continue;
            const uint64_t ct = rsag_chunk(elems, S, t), cs = rsag_chunk(elems, S, s);
            if (ct) add(out, L(s), L(t), ct * esize, 1);  // reduce-scatter: chunk t to its owner
            if (cs) add(out, L(s), L(t), cs * esize, 1);  // allgather: my reduced chunk to all
          }
      } else {
        for (int s = 0; s < S; ++s)
          for (int t = 0; t < S; ++t)
            if (s != t) add(out, L(s), L(t), m, 1);
      }
      break;
    case Coll::Gather:
    case Coll::Gatherv: {                // site blocks packed at leaders, one message per site to the root
      if (sh.alg == kAlgSitePairwise) {  // spread: every block straight to the root
        for (int i = 0; i < P; ++i) add(out, i, sh.root, block(i), 1);
        break;
      }
      const int sr = site(sh.root);
      for (int i = 0; i < P; ++i) add(out, i, site(i) == sr ? sh.root : L(site(i)), block(i), 1);
      for (int t = 0; t < S; ++t) {
        const uint64_t b = site_bytes(t);
        if (t != sr && b) add(out, L(t), sh.root, b, 1);
      }
      break;
    }
    case Coll::Scatter:
    case Coll::Scatterv: {
      const int sr = site(sh.root);
      for (int t = 0; t < S; ++t) {
        const uint64_t b = site_bytes(t);
        if (t != sr && b) add(out, sh.root, L(t), b, 1);
      }
      for (int i = 0; i < P; ++i) add(out, site(i) == sr ? sh.root : L(site(i)), i, block(i), 1);
      break;
    }
    case Coll::Allgather:
    case Coll::Allgatherv: {             // site gather, leaders exchange site blocks, site bcast of the whole
      if (sh.alg == kAlgSitePairwise) {  // spread: each block to its owner in every other site, who passes it on
        for (int j = 0; j < P; ++j) {
          if (!block(j)) continue;
          for (int s = 0; s < S; ++s) {
            const int o = spread_owner(g, j, s);
            if (s != site(j)) add(out, j, o, block(j), 1);
            for (int a = 0; a < g.count(s); ++a) add(out, o, g.of(s)[a], block(j), 1);
          }
        }
        break;
      }
      uint64_t total = 0;
      for (int i = 0; i < P; ++i) total += block(i);
      for (int i = 0; i < P; ++i)
        if (i != L(site(i))) add(out, i, L(site(i)), block(i), 1);
      for (int s = 0; s < S; ++s) {
        const uint64_t b = site_bytes(s);
        if (b)
          for (int t = 0; t < S; ++t)
            if (t != s) add(out, L(s), L(t), b, 1);
      }
      for (int i = 0; i < P; ++i)
        if (i != L(site(i))) add(out, L(site(i)), i, total, 1);
      break;
    }
    case Coll::ReduceScatter:
    case Coll::ReduceScatterBlock: {     // site reduce of the vector, leaders send each site its blocks, site scatter
      if (sh.alg == kAlgSitePairwise) {  // spread: every block to its owner in each site, partials to their rank
        for (int j = 0; j < P; ++j) {
          if (!block(j)) continue;
          for (int s = 0; s < S; ++s) {
            const int o = spread_owner(g, j, s);
            for (int a = 0; a < g.count(s); ++a) add(out, g.of(s)[a], o, block(j), 1);
            if (s != site(j)) add(out, o, j, block(j), 1);
          }
        }
        break;
      }
      uint64_t total = 0;
      for (int i = 0; i < P; ++i) total += block(i);
      for (int i = 0; i < P; ++i)
        if (i != L(site(i))) add(out, i, L(site(i)), total, 1);
      for (int s = 0; s < S; ++s)
        for (int t = 0; t < S; ++t) {
          const uint64_t b = site_bytes(t);
          if (t != s && b) add(out, L(s), L(t), b, 1);
        }
      for (int i = 0; i < P; ++i) add(out, L(site(i)), i, block(i), 1);
      break;
    }
    case Coll::Alltoall:
    case Coll::Alltoallv: {  // rows to leaders, per-destination-site blocks between leaders, columns out
      auto M = [&](int i, int j) -> uint64_t { return sh.matrix ? sh.matrix[size_t(i) * size_t(P) + size_t(j)] : m; };
      if (sh.alg == kAlgSitePairwise) {  // each block straight to its rank
        for (int i = 0; i < P; ++i)
          for (int j = 0; j < P; ++j)
            if (M(i, j)) add(out, i, j, M(i, j), 1);
        break;
      }
      for (int i = 0; i < P; ++i) {
        if (i == L(site(i))) continue;
        uint64_t row = 0, col = 0;
        for (int j = 0; j < P; ++j) {
          row += M(i, j);
          col += M(j, i);
        }
        add(out, i, L(site(i)), row, 1);
        add(out, L(site(i)), i, col, 1);
      }
      for (int s = 0; s < S; ++s)
        for (int t = 0; t < S; ++t) {
          if (s == t) continue;
          uint64_t b = 0;
          for (int a = 0; a < g.count(s); ++a)
            for (int c = 0; c < g.count(t); ++c) b += M(g.of(s)[a], g.of(t)[c]);
          if (b) add(out, L(s), L(t), b, 1);
        }
      break;
    }
    default:
      break;
  }
}

// Constants of alltoall_costs: MPI and TCP/IP headers per message, the CPU of one more message
// to post and complete, a site-local phase (a Gatherv or Scatterv over the site), and the rate at
// which a leader copies (pack, unpack) on a host its ranks share.
constexpr double kHeaderBytes = 100, kPerMessageS = 2e-6, kSitePhaseS = 20e-6, kCopyBps = 1e9;
// Above this, Open MPI sends a block by rendezvous (btl_tcp_eager_limit): one more round trip.
constexpr uint64_t kEagerLimit = 65536 - 512;
// The model sees the WAN only. Pairwise's eager pieces cost more CPU per byte than the library's
// rendezvous (about 15% more at the leaders on one host), and on a host short of CPU the
// library's steps overlap more than α each: on the loaded testbed pairwise won where the model
// gave it 2.4x and more (64 and 256 KiB: 0.54-0.90x the default) and lost by 10-20% where it gave
// 1.4x (1 MiB). So pairwise must beat the library by this factor in the model.
constexpr double kPairwiseMargin = 1.5;
// A burst that exceeds what the busiest site link holds in flight, its round trip's worth (2 alpha
// B, the bandwidth-delay product) and a drop-tail queue of the usual size (as much again: the
// testbed's is max(BDP, 1 MiB)), loses a segment at the tail of a flow, and that costs a
// retransmission timeout (Linux: at least 200 ms). The bursts: grouped's leaders send the whole
// share at once; the library's linear algorithms (coll/tuned's rule for 8 ranks at every block
// size but 512 KiB to 1 MiB) post every block at once. Pairwise paces its cross-site sends
// (alltoall_pace_bytes): none. Measured on the testbed (8 ranks 4 + 4, 10 ms RTT, 1 Gbit/s;
// 2026-12-01, two runs of the four layouts, SITEMPI_COLL_ALLTOALL forced): 256 KiB per pair, the
// library 63-305 ms (a timeout in 3 of 8: 282-305); 1 MiB 166-443, 4 MiB 706-1449. (Grouped
// also pays its leaders' copies, far below the modelled 1 GB/s on a host whose cores serve every
// rank: 412-431 ms at 256 KiB on 8 x 1 contiguous, with no packet dropped.)
constexpr double kRetransmitTimeoutS = 0.2;

uint32_t choose_alltoall(Coll c, const Grouping& g, const CollChoice& p) {
  const uint64_t P = uint64_t(g.P);
  const bool grouped_fits = c == Coll::Alltoallv || (p.m && P * P * p.m <= uint64_t(INT_MAX));
  switch (p.alltoall) {
    case kAlltoallGrouped:
      return grouped_fits ? kAlgSiteLeaders : kAlgLibrary;
    case kAlltoallPairwise:
      return kAlgSitePairwise;
    case kAlltoallLibrary:
      return kAlgLibrary;
    default:
      break;
  }
  if (c == Coll::Alltoallv) return kAlgSiteLeaders;  // sizes unknown here: bytes first
  if (!p.m) return kAlgLibrary;
  // Below kAlltoallGroupMax the pairwise headers break the bytes bound (+10%): grouped.
  if (p.m < kAlltoallGroupMax) return grouped_fits ? kAlgSiteLeaders : kAlgLibrary;
  const AlltoallCosts t = alltoall_costs(g, p.m, p.alpha_s, p.bandwidth_Bps);
  if (grouped_fits && t.grouped < t.pairwise && t.grouped < t.library) return kAlgSiteLeaders;
  return t.pairwise * kPairwiseMargin < t.library ? kAlgSitePairwise : kAlgLibrary;
}

}  // namespace

bool parse_alltoall_force(const std::string& text, int& force) {
  force = kAlltoallAuto;
  if (text.empty() || text == "auto") return true;
  if (text == "model")
    force = kAlltoallModel;
  else if (text == "grouped")
    force = kAlltoallGrouped;
  else if (text == "pairwise")
    force = kAlltoallPairwise;
  else if (text == "library")
    force = kAlltoallLibrary;
  else
    return false;
  return true;
}

AlltoallCandidates alltoall_candidates(const Grouping& g, const CollChoice& p) {
  AlltoallCandidates k;
  k.first = choose_alg(Coll::Alltoall, g, p);
  // forced, one site, or no data: final
  if (p.alltoall != kAlltoallAuto || g.S <= 1 || g.S >= g.P || !p.m) return k;
  // Below kAlltoallGroupMax grouped keeps the bytes to the bound, which only counts from 1 KiB;
  // its two site phases against the library's one round are a matter of the host (paired on the
  // testbed, 64-512 B on contiguous placements: grouped 1.12-1.22x the library): timed.
  if (p.m < kAlltoallGroupMax) {
    if (k.first == kAlgSiteLeaders) {
      k.uncertain = true;
      k.second = kAlgLibrary;
    }
    return k;
  }
  // grouped above it only where it is the cheapest outright: final
  if (k.first == kAlgSiteLeaders) return k;
  const AlltoallCosts t = alltoall_costs(g, p.m, p.alpha_s, p.bandwidth_Bps);
  const double lo = std::min(t.pairwise, t.library), hi = std::max(t.pairwise, t.library);
  if (!(lo > 0)) return k;
  if (hi >= kPairwiseMargin * lo && !t.library_timeout) return k;
  k.uncertain = true;
  k.second = k.first == kAlgSitePairwise ? kAlgLibrary : kAlgSitePairwise;
  return k;
}

uint32_t calibrated_choice(const AlltoallCandidates& k, const double* t_first, const double* t_second, int rounds) {
  if (rounds <= 0) return k.first;
  // The one kept unless beaten: the model's choice, but the library against grouped.
  const bool first_kept = !(k.first == kAlgSiteLeaders && k.second == kAlgLibrary);
  const double* kept = first_kept ? t_first : t_second;
  const double* other = first_kept ? t_second : t_first;
  double sum = 0;  // of other / kept, round by round
  for (int r = 0; r < rounds; ++r) {
    if (!(kept[r] > 0) || !(other[r] > 0)) return k.first;
    sum += other[r] / kept[r];
  }
  const bool with_library = k.first == kAlgLibrary || k.second == kAlgLibrary;
  const bool beaten = sum / rounds < (with_library ? kCalibrationWin : 1.0);
  if (first_kept) return beaten ? k.second : k.first;
  return beaten ? k.first : k.second;
}

AlltoallCosts alltoall_costs(const Grouping& g, uint64_t m, double alpha_s, double bandwidth_Bps) {
  AlltoallCosts t;
  const double B = bandwidth_Bps > 0 ? bandwidth_Bps : 1;
  double link_bytes = 0, link_msgs = 0;  // the busiest directed site link: payload, messages
  int n_max = 0, n_min = g.P;
  for (int s = 0; s < g.S; ++s) {
    n_max = std::max(n_max, g.count(s));
    n_min = std::min(n_min, g.count(s));
    for (int u = 0; u < g.S; ++u)
      if (u != s && double(g.count(s)) * g.count(u) * double(m) > link_bytes) {
        link_bytes = double(g.count(s)) * g.count(u) * double(m);
        link_msgs = double(g.count(s)) * g.count(u);
      }
  }
  const double P = double(g.P), wire = link_bytes / B, bdp = 2 * alpha_s * B;
  // Steps that cross sites, for the rank of the smallest site (the last to finish): one per peer
  // of another site.
  const double crossing = P - double(n_min);
  auto timeout = [&](double burst) { return burst > 2 * bdp ? kRetransmitTimeoutS : 0.0; };
  t.grouped = alpha_s + (wire + kHeaderBytes / B) + 2 * kSitePhaseS + 4 * double(n_max) * P * double(m) / kCopyBps +
              timeout(link_bytes);
  const double headers = link_msgs * kHeaderBytes / B + (P - 1) * kPerMessageS;
  // Every block posted at once, the cross-site ones paced at several round trips' worth of the
  // link: it stays busy and its queue does not overflow.
  t.pairwise = alpha_s + wire + headers;
  // The library's exchange: an eager step waits one latency, a rendezvous step (above the eager
  // limit) three; coll/tuned's algorithm decides its burst (linear ones post every block at once,
  // pairwise a block per rank and step).
  const double latencies = m > kEagerLimit ? 3 : 1;
  const int rule = tuned_table::alltoall::rule(g.P, m);
  const double burst = rule == tuned_table::alltoall::kLinear || rule == tuned_table::alltoall::kLinearSync
                           ? link_bytes
                           : double(n_max) * double(m);
  t.library = crossing * latencies * alpha_s + wire + link_msgs * kHeaderBytes / B + timeout(burst);
  t.library_timeout = timeout(burst) > 0;
  return t;
}

int64_t alltoall_pace_bytes(const Grouping& g, double alpha_s, double bandwidth_Bps) {
  int n_max = 1;
  for (int s = 0; s < g.S; ++s) n_max = std::max(n_max, g.count(s));
  const double w = std::max(kAlltoallPaceRtts * 2 * alpha_s * bandwidth_Bps, kAlltoallPaceMinBytes) / double(n_max);
  if (!(w >= 1)) return 1;
  return w >= 9.2e18 ? INT64_MAX : int64_t(w);
}

RatePace rate_pace(int senders, int links, uint64_t cross_bytes, double alpha_s, double bandwidth_Bps,
                   double max_rtts) {
  if (senders < 1 || links < 1 || !(alpha_s > 0) || !(bandwidth_Bps > 0)) return {};
  const double rtt_bytes = 2 * alpha_s * bandwidth_Bps;
  const double site_share = double(senders) * double(cross_bytes) / double(links);  // of each link
  if (!(site_share > rtt_bytes) || site_share > max_rtts * rtt_bytes) return {};
  return {double(links) * kRatePaceHeadroom * bandwidth_Bps / double(senders),
          double(links) * kRatePaceBurstRtts * rtt_bytes / double(senders)};
}

uint64_t rsag_threshold(int S, double alpha_s, double bandwidth_Bps) {
  if (S <= 2) return ~0ull;
  const double m = alpha_s * double(S) * bandwidth_Bps / (double(S - 1) * double(S - 2));
  if (!(m >= 0)) return ~0ull;
  if (m >= 1.8e19) return ~0ull;
  return uint64_t(m);
}

namespace {
bool spread_fits(const Grouping& g) {
  for (int s = 0; s < g.S; ++s)
    if (g.count(s) > kSpreadMaxSite) return false;
  return true;
}
}  // namespace

uint32_t choose_alg(Coll c, const Grouping& g, const CollChoice& p) {
  if (g.S <= 1 || g.S >= g.P) return kAlgLibrary;  // one site, or one rank per site
  if (butterfly_to_library(c, g, p.m, p.xor_cross, p.small_bytes, p.node_sites)) return kAlgLibrary;
  const uint64_t P = uint64_t(g.P);
  switch (c) {
    case Coll::Barrier:
      return kAlgSiteLeaders;
    case Coll::Bcast:
      return p.m ? kAlgSiteLeaders : kAlgLibrary;
    case Coll::Allgather:
      if (!p.m || P * p.m > uint64_t(INT_MAX)) return kAlgLibrary;
      return p.spread && p.m >= kSpreadAllgatherMin && spread_fits(g) ? kAlgSitePairwise : kAlgSiteLeaders;
    case Coll::Gather:
      if (!p.m || P * p.m > uint64_t(INT_MAX)) return kAlgLibrary;
      return p.spread && p.blocking && !p.node_sites && p.m >= kSpreadGatherMin && p.m <= kSpreadGatherMax &&
                     spread_fits(g)
                 ? kAlgSitePairwise
                 : kAlgSiteLeaders;
    case Coll::Scatter:
      return p.m && P * p.m <= uint64_t(INT_MAX) ? kAlgSiteLeaders : kAlgLibrary;
    case Coll::Alltoall:
    case Coll::Alltoallv:
      return choose_alltoall(c, g, p);
    case Coll::Gatherv:
    case Coll::Scatterv:
    case Coll::Allgatherv:
      return kAlgSiteLeaders;
    case Coll::ReduceScatter:
    case Coll::ReduceScatterBlock: {  // p.elems: the whole vector (every rank's block); p.m its bytes (v form)
      if (p.elems > uint64_t(INT_MAX) || !p.m || !p.elems) return kAlgLibrary;
      if (!p.commutative && !g.contiguous) return kAlgLibrary;  // MPI's rank order must hold
      const uint64_t per_rank = c == Coll::ReduceScatter ? p.m / P : p.m;
      return p.spread && per_rank >= kSpreadReduceScatterMin && spread_fits(g) ? kAlgSitePairwise : kAlgSiteLeaders;
    }
    case Coll::Reduce:
    case Coll::Allreduce:
      if (!p.m || !p.elems) return kAlgLibrary;
      if (!p.commutative && !g.contiguous) return kAlgLibrary;  // MPI's rank order must hold
      if (c == Coll::Allreduce && g.S >= 3 && p.m >= p.rsag_min && p.elems >= uint64_t(g.S)) return kAlgSiteRsAg;
      if (c == Coll::Allreduce && p.spread && p.blocking && p.m >= kSpreadAllreduceMin &&
          p.m < spread_allreduce_max(p.node_sites) && spread_fits(g))
        return kAlgSitePairwise;
      if (c == Coll::Reduce && p.spread && p.blocking && !p.node_sites && p.m >= kSpreadReduceMin &&
          p.m <= kSpreadReduceMax && spread_fits(g))
        return kAlgSitePairwise;
      return kAlgSiteLeaders;
    default:
      return kAlgLibrary;
  }
}

void schedule(const CallShape& shape, std::vector<Flow>& out) {
  if (!shape.g || shape.alg == kAlgLibrary || shape.g->P <= 1) return;
  schedule_site(shape, out);
}

void predict_cross(const CallShape& shape, CrossCounts& out) {
  const int P = shape.g ? shape.g->P : 0;
  out.msgs.assign(size_t(P), 0);
  out.bytes.assign(size_t(P), 0);
  std::vector<Flow> flows;
  schedule(shape, flows);
  for (const Flow& f : flows) {
    if (shape.g->site[size_t(f.src)] == shape.g->site[size_t(f.dst)]) continue;
    out.msgs[size_t(f.src)] += f.msgs;
    out.bytes[size_t(f.src)] += f.bytes;
  }
}

void expand(const CollRecord& r, std::vector<Flow>& out) {
  if (r.size <= 1 || r.me < 0 || r.me >= r.size) return;
  if (r.root >= r.size || (r.root < 0 && has_root(r.coll))) return;
  if (r.alg == kAlgLibrary) {
    if (!(r.blocking ? expand_tuned(r, out) : expand_nbc(r, out))) expand_linear(r, out);
    return;
  }
  if (!r.site_of) return;
  const Grouping g = group_sites(r.site_of, r.size);
  CallShape sh;
  sh.coll = r.coll;
  sh.alg = r.alg;
  sh.root = r.root;
  sh.g = &g;
  std::vector<Flow> all;
  switch (r.coll) {
    case Coll::Barrier:
    case Coll::Bcast:
    case Coll::Reduce:
    case Coll::Allreduce:
    case Coll::Gather:
    case Coll::Scatter:
    case Coll::Allgather:
    case Coll::Alltoall:
    case Coll::ReduceScatterBlock:
      sh.m = r.bytes;
      sh.elems = r.elems ? r.elems : r.bytes;
      schedule(sh, all);
      for (const Flow& f : all)
        if (f.src == r.me) out.push_back(f);
      return;
    case Coll::ReduceScatter: {
      // The record holds the whole vector, not the blocks: taken as P equal blocks (total bytes
      // exact, the split between sites by their sizes).
      sh.m = r.bytes / uint64_t(r.size);
      std::vector<uint64_t> blocks(size_t(r.size), sh.m);
      blocks[0] += r.bytes % uint64_t(r.size);
      sh.blocks = blocks.data();
      schedule(sh, all);
      for (const Flow& f : all)
        if (f.src == r.me) out.push_back(f);
      return;
    }
    case Coll::Gatherv:
    case Coll::Scatterv:
    case Coll::Allgatherv:
    case Coll::Alltoallv: {
      std::vector<uint64_t> one;
      if (r.coll == Coll::Alltoallv) {
        if (!r.peer_bytes) return;
        one.assign(size_t(r.size) * size_t(r.size), 0);
        for (int j = 0; j < r.size; ++j) one[size_t(r.me) * size_t(r.size) + size_t(j)] = r.peer_bytes[j];
        sh.matrix = one.data();
      } else {
        one.assign(size_t(r.size), 0);
        one[size_t(r.me)] = r.bytes;
        sh.blocks = one.data();
      }
      schedule(sh, all);
      for (Flow f : all) {
        const bool mine = r.coll == Coll::Scatterv ? f.dst == r.me : f.src == r.me;
        if (!mine) f.msgs = 0;
        if (f.bytes || f.msgs) out.push_back(f);
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace sitempi::core
