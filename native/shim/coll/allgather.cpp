// Allgather(v): site gather at the leader, leaders send their site's blocks to every other leader
// (each block crosses once per other site: (S-1) P m for Allgather, the lower bound), site
// broadcast of what arrived; or, from 16 KiB per rank (core::kSpreadAllgatherMin), spread over the
// members (allgather_spread). Large calls (coll/segments.h) broadcast the site's own blocks while the
// other sites' cross, and then those in segments as they arrive.
// Two ways to hold the blocks, one message structure:
// - in place (blocks of at least kInPlaceMinAvg bytes on average): every phase works on the
//   application's receive buffer itself (or, on a rank whose receive type is not one run of bytes,
//   a buffer in rank order unpacked once at the end); blocks cross as runs of ranks that are
//   consecutive in the communicator and in one site, and site broadcasts cover them with an
//   hindexed datatype, so nothing is packed or copied at the leaders;
// - packed (small blocks, or SITEMPI_COLL_PACKED=1): blocks packed site by site, one message per
//   site pair whatever the placement, everyone unpacks the whole vector.
#include <algorithm>
#include <climits>

#include "coll/common.h"
#include "coll/handoff.h"
#include "coll/segments.h"

namespace sitempi::coll {

namespace {

// Runs at the leaders cost one MPI header each on the WAN (interleaved sites: one per block);
// below this average block size that is more than ~2% of the bytes and the packed path sends one.
constexpr uint64_t kInPlaceMinAvg = 4096;

int allgather_packed(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf,
                     const int* rcounts, const int* displs, MPI_Datatype recvtype, const std::vector<uint64_t>& block) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), S = g.S;
  const bool alone = g.count(s) == 1;
  const bool in_place = sendbuf == MPI_IN_PLACE;
  const TypeInfo rt(recvtype);
  const SiteLayout lay(g, block);
  const int total = int(lay.total);
  Scratch buf(lay.total);
  char* site_buf = buf.data() + lay.site_off[size_t(s)];
  const int my_pos = int(lay.pos[size_t(me)]);
  if (in_place)
    SITEMPI_RC(pack(at(recvbuf, displs[me], rt.extent), rcounts[me], recvtype, buf.data(), total, my_pos, c.priv));
  else
    SITEMPI_RC(pack(sendbuf, sendcount, sendtype, buf.data(), total, my_pos, c.priv));
  if (!alone) {
    if (c.leader()) {
      std::vector<int> counts(static_cast<size_t>(g.count(s))), offs(static_cast<size_t>(g.count(s)));
      for (int k = 0; k < g.count(s); ++k) {
        const int j = g.of(s)[k];
        counts[size_t(k)] = int(block[size_t(j)]);
        offs[size_t(k)] = int(lay.pos[size_t(j)] - lay.site_off[size_t(s)]);
      }
      SITEMPI_RC(
          PMPI_Gatherv(MPI_IN_PLACE, 0, MPI_PACKED, site_buf, counts.data(), offs.data(), MPI_PACKED, 0, c.local));
    } else {
      SITEMPI_RC(PMPI_Gatherv(buf.data() + my_pos, int(block[size_t(me)]), MPI_PACKED, nullptr, nullptr, nullptr,
                              MPI_PACKED, 0, c.local));
    }
  }
  // Each site's packed blocks cross whole, or in segments when the call is large.
  const bool cut = g_segment_bytes && lay.total >= 2 * g_segment_bytes;
  std::vector<Segments> segs;
  for (int u = 0; u < S; ++u) segs.emplace_back(int(lay.site_bytes(u)), 1, cut);
  std::vector<std::vector<size_t>> received(static_cast<size_t>(S));  // marks: segment k of site u
  if (c.leader()) {
    for (int u = 0; u < S; ++u) {
      if (u == s) continue;
      for (int k = 0; k < segs[size_t(u)].n; ++k) {
        received[size_t(u)].push_back(x.posted());
        if (segs[size_t(u)].size(k))
          SITEMPI_RC(x.irecv_site(buf.data() + lay.site_off[size_t(u)] + segs[size_t(u)].first(k),
                                  segs[size_t(u)].size(k), MPI_PACKED, u, kTagAllgather));
      }
      received[size_t(u)].push_back(x.posted());
    }
    for (int u = 0; u < S; ++u)
      if (u != s)
        for (int k = 0; k < segs[size_t(s)].n; ++k)
          if (segs[size_t(s)].size(k))
            SITEMPI_RC(x.isend_site(site_buf + segs[size_t(s)].first(k), segs[size_t(s)].size(k), MPI_PACKED, u,
                                    kTagAllgather, k > 0));
    if (!cut) SITEMPI_RC(x.waitall());
  }
  if (!cut) {
    if (!alone && total) SITEMPI_RC(PMPI_Bcast(buf.data(), total, MPI_PACKED, 0, c.local));
  } else {
    if (!alone && lay.site_bytes(s)) SITEMPI_RC(PMPI_Bcast(site_buf, int(lay.site_bytes(s)), MPI_PACKED, 0, c.local));
    for (int u = 0; u < S; ++u) {
      if (u == s) continue;
      const Segments& sg = segs[size_t(u)];
      for (int k = 0; k < sg.n; ++k) {
        if (c.leader()) SITEMPI_RC(x.wait(received[size_t(u)][size_t(k)], received[size_t(u)][size_t(k) + 1]));
        if (!alone && sg.size(k))
          SITEMPI_RC(
              PMPI_Bcast(buf.data() + lay.site_off[size_t(u)] + sg.first(k), sg.size(k), MPI_PACKED, 0, c.local));
      }
    }
    SITEMPI_RC(x.waitall());
  }
  return unpack_blocks(buf.data(), total, lay, recvbuf, rcounts, displs, recvtype, in_place ? me : -1, c.priv);
}

// A run of bytes of the view: part of a site's blocks.
struct Piece {
  uint64_t off, len;
};

// Site u's blocks as one stream (its runs of consecutive comm ranks, in rank order), cut like a
// packed site block (coll/segments.h): the pieces of the view each segment covers. Depends on
// the block sizes and the grouping only: the same on every rank.
std::vector<std::vector<Piece>> site_segments(const core::Grouping& g, int u, const std::vector<uint64_t>& off,
                                              const std::vector<uint64_t>& block, bool cut) {
  std::vector<Piece> runs;  // the site's runs in the view, in stream order
  uint64_t total = 0;
  for (int k = 0; k < g.count(u); ++k) {
    const int j = g.of(u)[k];
    total += block[size_t(j)];
    if (k > 0 && g.of(u)[k - 1] == j - 1)
      runs.back().len += block[size_t(j)];
    else
      runs.push_back(Piece{off[size_t(j)], block[size_t(j)]});
  }
  const Segments sg(int(total), 1, cut);
  std::vector<std::vector<Piece>> out(static_cast<size_t>(sg.n));
  size_t r = 0;
  uint64_t r_start = 0;  // stream offset of runs[r]
  for (int k = 0; k < sg.n; ++k) {
    uint64_t a = uint64_t(sg.first(k));
    const uint64_t b = a + uint64_t(sg.size(k));
    while (a < b) {
      while (r_start + runs[r].len <= a) r_start += runs[r++].len;
      const uint64_t end = std::min(b, r_start + runs[r].len);
      out[size_t(k)].push_back(Piece{runs[r].off + (a - r_start), end - a});
      a = end;
    }
  }
  return out;
}

// One site broadcast of the pieces, in place: a byte run, or an hindexed datatype over them.
int bcast_pieces(char* view, const std::vector<Piece>& pieces, MPI_Comm comm) {
  if (pieces.empty()) return MPI_SUCCESS;
  if (pieces.size() == 1) return PMPI_Bcast(view + pieces[0].off, int(pieces[0].len), MPI_BYTE, 0, comm);
  std::vector<int> lens;
  std::vector<MPI_Aint> displs;
  for (const Piece& p : pieces) {
    lens.push_back(int(p.len));
    displs.push_back(MPI_Aint(p.off));
  }
  MPI_Datatype t;
  SITEMPI_RC(PMPI_Type_create_hindexed(int(pieces.size()), lens.data(), displs.data(), MPI_BYTE, &t));
  int rc = PMPI_Type_commit(&t);
  if (rc == MPI_SUCCESS) rc = PMPI_Bcast(view, 1, t, 0, comm);
  PMPI_Type_free(&t);
  return rc;
}

// The in-place form. `view`: where block j's bytes lie (view + off[j]); a run of consecutive comm
// ranks of one site is one run of bytes there. Cross-site messages go piece by piece (one logical
// message per site pair); site broadcasts cover whole segments, as in the packed form.
int allgather_runs(Ctx& x, char* view, const std::vector<uint64_t>& off, const std::vector<uint64_t>& block,
                   uint64_t total) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), S = g.S;
  const bool alone = g.count(s) == 1;
  if (!alone) {  // the site's blocks into place at its leader
    std::vector<int> counts(static_cast<size_t>(g.count(s))), offs(static_cast<size_t>(g.count(s)));
    for (int k = 0; k < g.count(s); ++k) {
      const int j = g.of(s)[k];
      counts[size_t(k)] = int(block[size_t(j)]);
      offs[size_t(k)] = int(off[size_t(j)]);
    }
    if (c.leader())
      SITEMPI_RC(PMPI_Gatherv(MPI_IN_PLACE, 0, MPI_BYTE, view, counts.data(), offs.data(), MPI_BYTE, 0, c.local));
    else
      SITEMPI_RC(PMPI_Gatherv(view + off[size_t(me)], int(block[size_t(me)]), MPI_BYTE, nullptr, nullptr, nullptr,
                              MPI_BYTE, 0, c.local));
  }
  const bool cut = g_segment_bytes && total >= 2 * g_segment_bytes;
  std::vector<std::vector<std::vector<Piece>>> segs(static_cast<size_t>(S));
  for (int u = 0; u < S; ++u) segs[size_t(u)] = site_segments(g, u, off, block, cut);
  std::vector<std::vector<size_t>> received(static_cast<size_t>(S));  // marks: segment k of site u
  if (c.leader()) {
    for (int u = 0; u < S; ++u) {
      if (u == s) continue;
      for (const std::vector<Piece>& seg : segs[size_t(u)]) {
        received[size_t(u)].push_back(x.posted());
        for (const Piece& p : seg) SITEMPI_RC(x.irecv_site(view + p.off, int(p.len), MPI_BYTE, u, kTagAllgather));
      }
      received[size_t(u)].push_back(x.posted());
    }
    for (int u = 0; u < S; ++u) {
      if (u == s) continue;
      bool first = true;  // pieces of one logical message (Ctx: `continues`)
      for (const std::vector<Piece>& seg : segs[size_t(s)])
        for (const Piece& p : seg) {
          SITEMPI_RC(x.isend_site(view + p.off, int(p.len), MPI_BYTE, u, kTagAllgather, !first));
          first = false;
        }
    }
  }
  if (!alone) {
    std::vector<Piece> own;
    for (const std::vector<Piece>& seg : segs[size_t(s)]) own.insert(own.end(), seg.begin(), seg.end());
    SITEMPI_RC(bcast_pieces(view, own, c.local));
  }
  for (int u = 0; u < S; ++u) {
    if (u == s) continue;
    for (size_t k = 0; k < segs[size_t(u)].size(); ++k) {
      if (c.leader()) SITEMPI_RC(x.wait(received[size_t(u)][k], received[size_t(u)][k + 1]));
      if (!alone) SITEMPI_RC(bcast_pieces(view, segs[size_t(u)][k], c.local));
    }
  }
  return x.waitall();
}

// The spread form (alg kAlgSitePairwise, Allgather of large blocks): no leader. Each block crosses
// once to every other site, straight from its rank to its owner there (core::spread_owner), who
// passes it to the rest of its site segment by segment (coll/segments.h) as each has arrived, so
// that its site's copies overlap the rest of the crossing instead of following it; every rank
// passes its own block to its site once its crossings are posted (and, where ranks share cores,
// the others have had the cores to post theirs: coll/handoff.h). Cross-site: (S-1)·P·m, the
// bound, over every member's link instead of the leader's, and no rank forwards more than its share.
int allgather_spread(Ctx& x, char* view, const std::vector<uint64_t>& off, const std::vector<uint64_t>& block) {
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), S = g.S, P = g.P, n = g.count(s);
  auto len = [&](int j) { return int(block[size_t(j)]); };
  // How block j crosses and passes on: the same cut on every rank (block sizes are known everywhere).
  auto cut = [&](int j) { return Segments(len(j), 1, true); };
  // The other sites' blocks `o` passes on in this site, ascending (the order it sends them in).
  auto passed_on = [&](int o, std::vector<int>& out) {
    out.clear();
    for (int j = 0; j < P; ++j)
      if (g.site[size_t(j)] != s && block[size_t(j)] && core::spread_owner(g, j, s) == o) out.push_back(j);
  };
  std::vector<int> mine, theirs;
  passed_on(me, mine);
  std::vector<size_t> arrived;  // marks: before each segment of each block this rank passes on, then the end
  for (int j : mine) {
    const Segments sg = cut(j);
    for (int k = 0; k < sg.n; ++k) {
      arrived.push_back(x.posted());
      SITEMPI_RC(x.irecv(view + off[size_t(j)] + sg.first(k), sg.size(k), MPI_BYTE, j, kTagAllgather));
    }
  }
  arrived.push_back(x.posted());
  for (int i = 0; i < n; ++i) {  // from each other member: its own block, then those it passes on
    const int o = g.of(s)[i];
    if (o == me) continue;
    if (len(o)) SITEMPI_RC(x.irecv(view + off[size_t(o)], len(o), MPI_BYTE, o, kTagAllgather));
    passed_on(o, theirs);
    for (int j : theirs) {
      const Segments sg = cut(j);
      for (int k = 0; k < sg.n; ++k)
        SITEMPI_RC(x.irecv(view + off[size_t(j)] + sg.first(k), sg.size(k), MPI_BYTE, o, kTagAllgather));
    }
  }
  auto to_site = [&](const char* data, int bytes) {
    for (int i = 0; i < n; ++i)
      if (g.of(s)[i] != me) SITEMPI_RC(x.isend(data, bytes, MPI_BYTE, g.of(s)[i], kTagAllgather));
    return MPI_SUCCESS;
  };
  // The waits below release the paced crossings (coll/paced.h) while blocks arrive and pass on.
  x.pace(rate_pace_for(g.count(s), S - 1, uint64_t(len(me)) * uint64_t(S - 1), spread_pace_limit(x.c())));
  if (len(me)) {
    const Segments sg = cut(me);
    for (int u = 0; u < S; ++u)
      if (u != s)
        for (int k = 0; k < sg.n; ++k)
          SITEMPI_RC(x.isend(view + off[size_t(me)] + sg.first(k), sg.size(k), MPI_BYTE, core::spread_owner(g, me, u),
                             kTagAllgather, k > 0));
    hand_off_cores();  // the ranks sharing this rank's cores post their crossings first (coll/handoff.h)
    SITEMPI_RC(to_site(view + off[size_t(me)], len(me)));
  }
  size_t a = 0;
  for (int j : mine) {
    const Segments sg = cut(j);
    for (int k = 0; k < sg.n; ++k, ++a) {
      SITEMPI_RC(x.wait(arrived[a], arrived[a + 1]));
      SITEMPI_RC(to_site(view + off[size_t(j)] + sg.first(k), sg.size(k)));
    }
  }
  return x.waitall();
}

}  // namespace

int allgather_site(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int* rcounts,
                   const int* displs, MPI_Datatype recvtype, uint32_t alg) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), P = g.P;
  const TypeInfo rt(recvtype);
  std::vector<uint64_t> block(static_cast<size_t>(P));
  uint64_t total = 0;
  for (int j = 0; j < P; ++j) total += block[size_t(j)] = rt.bytes(rcounts[j]);
  // The same on every rank: block sizes (MPI requires equal recvcounts) and the job's settings.
  const bool spread = alg == core::kAlgSitePairwise;  // chosen for large blocks only (core::choose_alg)
  if (!spread && (g_coll_packed || total < kInPlaceMinAvg * uint64_t(P) || total > uint64_t(INT_MAX)))
    return allgather_packed(x, sendbuf, sendcount, sendtype, recvbuf, rcounts, displs, recvtype, block);
  // This rank's view: the receive buffer when every run of a site's consecutive ranks is one run of
  // bytes there (a contiguous type, blocks in rank order: always for Allgather), else a buffer in
  // rank order. Offsets fit an int (the site gather addresses them so).
  std::vector<uint64_t> off(static_cast<size_t>(P));
  bool direct = rt.contiguous();
  for (int j = 0; j < P && direct; ++j) {
    const int64_t o = int64_t(displs[j]) * int64_t(rt.extent);
    direct = o >= 0 && uint64_t(o) + block[size_t(j)] <= uint64_t(INT_MAX) &&
             (j == 0 || g.site[size_t(j)] != g.site[size_t(j - 1)] ||
              uint64_t(o) == off[size_t(j - 1)] + block[size_t(j - 1)]);
    off[size_t(j)] = uint64_t(o);
  }
  const bool in_place = sendbuf == MPI_IN_PLACE;
  if (direct) {
    char* view = static_cast<char*>(recvbuf) + rt.true_lb;
    if (!in_place)
      SITEMPI_RC(pack(sendbuf, sendcount, sendtype, view, int(off[size_t(me)] + block[size_t(me)]),
                      int(off[size_t(me)]), c.priv));
    return spread ? allgather_spread(x, view, off, block) : allgather_runs(x, view, off, block, total);
  }
  for (int j = 0; j < P; ++j) off[size_t(j)] = j ? off[size_t(j - 1)] + block[size_t(j - 1)] : 0;
  Scratch buf(total);
  if (in_place)
    SITEMPI_RC(pack(at(recvbuf, displs[me], rt.extent), rcounts[me], recvtype, buf.data(), int(total),
                    int(off[size_t(me)]), c.priv));
  else
    SITEMPI_RC(pack(sendbuf, sendcount, sendtype, buf.data(), int(total), int(off[size_t(me)]), c.priv));
  SITEMPI_RC(spread ? allgather_spread(x, buf.data(), off, block) : allgather_runs(x, buf.data(), off, block, total));
  for (int j = 0; j < P; ++j) {
    if (j == me && in_place) continue;
    SITEMPI_RC(unpack(buf.data(), int(total), int(off[size_t(j)]), at(recvbuf, displs[j], rt.extent), rcounts[j],
                      recvtype, c.priv));
  }
  return MPI_SUCCESS;
}

}  // namespace sitempi::coll
