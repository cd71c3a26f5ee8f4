// Alltoall(v): blocks aggregated per destination site at the leaders. Every rank packs its row
// (blocks in destination-site order) and the site gathers the rows at its leader; leader s sends
// leader t one message with every block from site s to site t (S(S-1) cross-site messages in all,
// each byte once: sum n_s (P - n_s) m for Alltoall, the lower bound); each leader then scatters
// to its members the blocks addressed to them.
#include "coll/common.h"

namespace sitempi::coll {

int alltoall_site(Ctx& x, const void* sendbuf, const int* scounts, const int* sdispls, MPI_Datatype sendtype,
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
  std::vector<char> row(row_lay.total + 1);
  for (int j = 0; j < P; ++j)
    SITEMPI_RC(pack(at(sendbuf, sdispls[j], st.extent), scounts[j], sendtype, row.data(), row_bytes,
                    int(row_lay.pos[size_t(j)]), c.priv));
  // What I receive, in source-site order.
  const SiteLayout col_lay(g, rb);
  const int col_bytes = int(col_lay.total);
  std::vector<char> col(col_lay.total + 1);

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
    std::vector<char> rows(rows_total + 1);
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
    std::vector<std::vector<char>> out(static_cast<size_t>(S)), in(static_cast<size_t>(S));
    for (int u = 0; u < S; ++u) {
      uint64_t len = 0;
      for (int a = 0; a < n; ++a) len += seg_len(a, u);
      out[size_t(u)].resize(len + 1);
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
      in[size_t(u)].resize(inlen + 1);
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
    std::vector<char> cols(cols_total + 1);
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

}  // namespace sitempi::coll
