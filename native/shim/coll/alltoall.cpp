// Alltoall(v), two site-aware algorithms (the cost model chooses: core::choose_alg):
// - grouped: blocks aggregated per destination site at the leaders. Every rank packs its row
//   (blocks in destination-site order) and the site gathers the rows at its leader; leader s sends
//   leader t one message with every block from site s to site t (S(S-1) cross-site messages in
//   all, each byte once: sum n_s (P - n_s) m for Alltoall, the lower bound); each leader then
//   scatters to its members the blocks addressed to them. Few messages: for small blocks.
// - pairwise: every block straight to its rank, all posted at once, the other sites' first so the
//   WAN is busy from the start while this site's blocks move (and, where ranks share cores, once
//   the others have had the cores to post theirs: coll/handoff.h); cross-site blocks go as eager
//   pieces (Ctx), where the library's exchange waits a round trip per rendezvous and per step. The
//   same bytes, nothing copied: for large blocks. A rank whose cross-site share exceeds a few round
//   trips' worth of the link (core::alltoall_pace_bytes) releases it as its receivers match it
//   (coll/paced.h), so that the burst does not overflow the link's queue.
#include "coll/common.h"
#include "coll/handoff.h"

namespace sitempi::coll {

namespace {

int alltoall_grouped(Ctx& x, const void* sendbuf, const int* scounts, const int* sdispls, MPI_Datatype sendtype,
                     void* recvbuf, const int* rcounts, const int* rdispls, MPI_Datatype recvtype, bool uniform) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int P = g.P, S = g.S, s = x.site(), n = g.count(s);
  const bool in_place = sendbuf == MPI_IN_PLACE;
  if (in_place) {
    sendbuf = recvbuf;
    scounts = rcounts;
    sdispls = rdispls;
    sendtype = recvtype;
  }
  const TypeInfo st(sendtype), rt(recvtype);
  // My row, packed in destination-site order.
  std::vector<uint64_t> sb(static_cast<size_t>(P)), rb(static_cast<size_t>(P));
  for (int j = 0; j < P; ++j) {
    sb[size_t(j)] = st.bytes(scounts[j]);
    rb[size_t(j)] = rt.bytes(rcounts[j]);
  }
  const SiteLayout row_lay(g, sb);
  const int row_bytes = int(row_lay.total);
  Scratch row(row_lay.total);
  for (int j = 0; j < P; ++j)
    SITEMPI_RC(pack(at(sendbuf, sdispls[j], st.extent), scounts[j], sendtype, row.data(), row_bytes,
                    int(row_lay.pos[size_t(j)]), c.priv));
  // What I receive, in source-site order.
  const SiteLayout col_lay(g, rb);
  const int col_bytes = int(col_lay.total);
  Scratch col(col_lay.total);

  if (!c.leader()) {
    if (!uniform) {
      std::vector<uint64_t> sizes(sb);
      sizes.insert(sizes.end(), rb.begin(), rb.end());
      SITEMPI_RC(PMPI_Gather(sizes.data(), 2 * P, MPI_UINT64_T, nullptr, 2 * P, MPI_UINT64_T, 0, c.local));
    }
    SITEMPI_RC(PMPI_Gatherv(row.data(), row_bytes, MPI_PACKED, nullptr, nullptr, nullptr, MPI_PACKED, 0, c.local));
    SITEMPI_RC(PMPI_Scatterv(nullptr, nullptr, nullptr, MPI_PACKED, col.data(), col_bytes, MPI_PACKED, 0, c.local));
  } else {
    // Sizes of the site's rows and columns: S_[a][j] bytes member a sends to j, R_[a][i] bytes
    // member a receives from i (a: local rank).
    std::vector<uint64_t> sizes(static_cast<size_t>(n) * 2 * size_t(P));
    if (uniform || n == 1) {
      for (int a = 0; a < n; ++a)
        for (int j = 0; j < P; ++j) {
          sizes[size_t(a) * 2 * P + j] = sb[size_t(j)];
          sizes[size_t(a) * 2 * P + P + j] = rb[size_t(j)];
        }
    } else {
      std::vector<uint64_t> mine(sb);
      mine.insert(mine.end(), rb.begin(), rb.end());
      SITEMPI_RC(PMPI_Gather(mine.data(), 2 * P, MPI_UINT64_T, sizes.data(), 2 * P, MPI_UINT64_T, 0, c.local));
    }
    auto Sz = [&](int a, int j) { return sizes[size_t(a) * 2 * P + size_t(j)]; };
    auto Rz = [&](int a, int i) { return sizes[size_t(a) * 2 * P + size_t(P) + size_t(i)]; };
    // Rows of the site.
    std::vector<int> row_counts(static_cast<size_t>(n)), row_offs(static_cast<size_t>(n));
    uint64_t rows_total = 0;
    std::vector<uint64_t> row_base(static_cast<size_t>(n));
    for (int a = 0; a < n; ++a) {
      uint64_t b = 0;
      for (int j = 0; j < P; ++j) b += Sz(a, j);
      row_base[size_t(a)] = rows_total;
      row_counts[size_t(a)] = int(b);
      row_offs[size_t(a)] = int(rows_total);
      rows_total += b;
    }
    Scratch rows(rows_total);
    if (n > 1) {
      SITEMPI_RC(PMPI_Gatherv(row.data(), row_bytes, MPI_PACKED, rows.data(), row_counts.data(), row_offs.data(),
                              MPI_PACKED, 0, c.local));
    } else {
      std::copy_n(row.data(), size_t(row_bytes), rows.data());
    }
    // Segment of member a's row for destination site u: offset inside the row.
    auto seg_off = [&](int a, int u) {
      uint64_t o = 0;
      for (int v = 0; v < u; ++v)
        for (int k = 0; k < g.count(v); ++k) o += Sz(a, g.of(v)[k]);
      return o;
    };
    auto seg_len = [&](int a, int u) {
      uint64_t o = 0;
      for (int k = 0; k < g.count(u); ++k) o += Sz(a, g.of(u)[k]);
      return o;
    };
    // Outgoing per site u: for a in my site, a's segment for u. Incoming from u: for i in u (local
    // order), for j in my site (local order), the block i -> j; its size is R_[j][i].
    std::vector<Scratch> out(static_cast<size_t>(S)), in(static_cast<size_t>(S));
    for (int u = 0; u < S; ++u) {
      uint64_t len = 0;
      for (int a = 0; a < n; ++a) len += seg_len(a, u);
      out[size_t(u)].reset(len + 1);
      uint64_t o = 0;
      for (int a = 0; a < n; ++a) {
        const uint64_t l = seg_len(a, u);
        std::copy_n(rows.data() + row_base[size_t(a)] + seg_off(a, u), size_t(l), out[size_t(u)].data() + o);
        o += l;
      }
      if (u == s) continue;
      uint64_t inlen = 0;
      for (int k = 0; k < g.count(u); ++k)
        for (int a = 0; a < n; ++a) inlen += Rz(a, g.of(u)[k]);
      in[size_t(u)].reset(inlen + 1);
      if (inlen) SITEMPI_RC(x.irecv_site(in[size_t(u)].data(), int(inlen), MPI_PACKED, u, kTagAlltoall));
    }
    for (int u = 0; u < S; ++u)
      if (u != s && out[size_t(u)].size() > 1)
        SITEMPI_RC(x.isend_site(out[size_t(u)].data(), int(out[size_t(u)].size() - 1), MPI_PACKED, u, kTagAlltoall));
    SITEMPI_RC(x.waitall());
    // Columns: for member a, from every source i (site order, local order) the block i -> a.
    std::vector<int> col_counts(static_cast<size_t>(n)), col_offs(static_cast<size_t>(n));
    uint64_t cols_total = 0;
    for (int a = 0; a < n; ++a) {
      uint64_t b = 0;
      for (int i = 0; i < P; ++i) b += Rz(a, i);
      col_counts[size_t(a)] = int(b);
      col_offs[size_t(a)] = int(cols_total);
      cols_total += b;
    }
    Scratch cols(cols_total);
    std::vector<uint64_t> fill(col_offs.begin(), col_offs.end());
    for (int u = 0; u < S; ++u) {
      const char* src = u == s ? out[size_t(u)].data() : in[size_t(u)].data();
      uint64_t o = 0;
      for (int k = 0; k < g.count(u); ++k) {
        const int i = g.of(u)[k];
        for (int a = 0; a < n; ++a) {
          const uint64_t l = Rz(a, i);
          std::copy_n(src + o, size_t(l), cols.data() + fill[size_t(a)]);
          fill[size_t(a)] += l;
          o += l;
        }
      }
    }
    if (n > 1) {
      SITEMPI_RC(PMPI_Scatterv(cols.data(), col_counts.data(), col_offs.data(), MPI_PACKED, col.data(), col_bytes,
                               MPI_PACKED, 0, c.local));
    } else {
      std::copy_n(cols.data(), size_t(col_bytes), col.data());
    }
  }
  return unpack_blocks(col.data(), col_bytes, col_lay, recvbuf, rcounts, rdispls, recvtype, -1, c.priv);
}

int own_block(Ctx& x, const void* sendbuf, const int* scounts, const int* sdispls, MPI_Datatype sendtype, void* recvbuf,
              const int* rcounts, const int* rdispls, MPI_Datatype recvtype) {
  const int me = x.me();
  const TypeInfo st(sendtype), rt(recvtype);
  if (!rt.bytes(rcounts[me])) return MPI_SUCCESS;
  if (sendtype == recvtype)
    return copy_typed(at(sendbuf, sdispls[me], st.extent), at(recvbuf, rdispls[me], rt.extent), rcounts[me], recvtype,
                      x.c().priv);
  const int n = int(rt.bytes(rcounts[me]));
  Scratch tmp(static_cast<size_t>(n));
  SITEMPI_RC(pack(at(sendbuf, sdispls[me], st.extent), scounts[me], sendtype, tmp.data(), n, 0, x.c().priv));
  return unpack(tmp.data(), n, 0, at(recvbuf, rdispls[me], rt.extent), rcounts[me], recvtype, x.c().priv);
}

int alltoall_pairwise(Ctx& x, const void* sendbuf, const int* scounts, const int* sdispls, MPI_Datatype sendtype,
                      void* recvbuf, const int* rcounts, const int* rdispls, MPI_Datatype recvtype) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int P = g.P, me = x.me(), s = x.site();
  const TypeInfo rt(recvtype);
  const bool in_place = sendbuf == MPI_IN_PLACE;  // then on every rank (MPI)
  // In place, the blocks to send are packed before anything arrives over them; a packed message
  // matches the receiver's type (MPI_PACKED).
  std::vector<Scratch> packed(in_place ? size_t(P) : 0);
  if (in_place)
    for (int j = 0; j < P; ++j) {
      const int n = int(rt.bytes(rcounts[j]));
      if (j == me || !n) continue;
      packed[size_t(j)].reset(size_t(n));
      SITEMPI_RC(
          pack(at(recvbuf, rdispls[j], rt.extent), rcounts[j], recvtype, packed[size_t(j)].data(), n, 0, c.priv));
    }
  const TypeInfo st(in_place ? recvtype : sendtype);
  // A cross-site share beyond the window is paced (coll/paced.h), at a rate where the site's share
  // is a few round trips' worth (core::rate_pace); each rank decides for itself.
  uint64_t share = 0;
  for (int j = 0; j < P; ++j)
    if (g.site[size_t(j)] != s) share += in_place ? packed[size_t(j)].size() : st.bytes(scounts[j]);
  const uint64_t window = g_pace_bytes ? g_pace_bytes : uint64_t(core::alltoall_pace_bytes(g, g_alpha_s, g_bandwidth));
  const core::RatePace rate = rate_pace_for(g.count(s), g.S - 1, share);
  if (rate.rate_Bps > 0 && !g_pace_bytes)
    x.pace(rate);
  else if (share > window)
    x.pace(window);
  // Blocks of zero bytes are skipped on both sides (MPI: the sizes of a pair match).
  for (int pass = 0; pass < 2; ++pass) {       // 0: other sites, 1: this site
    if (pass == 1 && share) hand_off_cores();  // the ranks sharing this rank's cores post their crossings first
    for (int k = 1; k < P; ++k) {
      const int i = (me - k + P) % P, j = (me + k) % P;  // receive from i, send to j
      if ((g.site[size_t(i)] != s) == (pass == 0) && rt.bytes(rcounts[i]))
        SITEMPI_RC(x.irecv(at(recvbuf, rdispls[i], rt.extent), rcounts[i], recvtype, i, kTagAlltoall));
      if ((g.site[size_t(j)] != s) != (pass == 0)) continue;
      if (in_place) {
        if (!packed[size_t(j)].empty())
          SITEMPI_RC(x.isend(packed[size_t(j)].data(), int(packed[size_t(j)].size()), MPI_PACKED, j, kTagAlltoall));
      } else if (st.bytes(scounts[j])) {
        SITEMPI_RC(x.isend(at(sendbuf, sdispls[j], st.extent), scounts[j], sendtype, j, kTagAlltoall));
      }
    }
  }
  if (!in_place)  // my own block, while the others travel
    SITEMPI_RC(own_block(x, sendbuf, scounts, sdispls, sendtype, recvbuf, rcounts, rdispls, recvtype));
  return x.waitall();
}

}  // namespace

int alltoall_site(Ctx& x, const void* sendbuf, const int* scounts, const int* sdispls, MPI_Datatype sendtype,
                  void* recvbuf, const int* rcounts, const int* rdispls, MPI_Datatype recvtype, bool uniform,
                  uint32_t alg) {
  if (alg == core::kAlgSitePairwise)
    return alltoall_pairwise(x, sendbuf, scounts, sdispls, sendtype, recvbuf, rcounts, rdispls, recvtype);
  return alltoall_grouped(x, sendbuf, scounts, sdispls, sendtype, recvbuf, rcounts, rdispls, recvtype, uniform);
}

}  // namespace sitempi::coll
