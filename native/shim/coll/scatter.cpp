// Scatter(v): the root sends each other site's blocks to its leader in one message (every byte
// crosses once, S-1 messages), the leaders (and the root in its own site) scatter inside their
// site. Two ways to move them, one message structure (the cost model's):
// - forwarded (Scatter of at least kForwardMinBytes per rank): the root sends every block from its
//   place in the send buffer, site by site in member order, as pieces of the site's message; a
//   leader passes each member's block on the moment it has arrived. Nothing is packed or unpacked
//   where types are contiguous, and members receive while later blocks still cross;
// - packed (small blocks, Scatterv, or SITEMPI_COLL_PACKED=1): the root packs each site's blocks,
//   its leader receives them whole and scatters them.
#include "coll/common.h"

namespace sitempi::coll {

namespace {

int scatter_forward(Ctx& x, const void* sendbuf, const int* scounts, const int* displs, MPI_Datatype sendtype,
                    void* recvbuf, int recvcount, MPI_Datatype recvtype, int root, uint64_t m) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), sr = g.site[size_t(root)], n = g.count(s);
  const int mb = int(m);
  if (me == root) {
    const TypeInfo st(sendtype);
    const bool in_place = recvbuf == MPI_IN_PLACE;
    std::vector<uint64_t> block(static_cast<size_t>(g.P));
    for (int j = 0; j < g.P; ++j) block[size_t(j)] = st.bytes(scounts[j]);
    RootView v(const_cast<void*>(sendbuf), displs, sendtype, block);
    if (!v.direct)
      for (int j = 0; j < g.P; ++j)
        if (j != me || !in_place)
          SITEMPI_RC(pack(at(sendbuf, displs[j], st.extent), scounts[j], sendtype, v.base, int(v.off[size_t(j)]) + mb,
                          int(v.off[size_t(j)]), c.priv));
    for (int u = 0; u < g.S; ++u)  // the other sites first: each block from its place, in member order
      if (u != sr)
        for (int k = 0; k < g.count(u); ++k)
          SITEMPI_RC(x.isend(v.base + v.off[size_t(g.of(u)[k])], mb, MPI_BYTE, g.leader(u), kTagScatter, k > 0));
    if (n > 1) {
      std::vector<int> counts(static_cast<size_t>(n), mb), offs(static_cast<size_t>(n));
      for (int k = 0; k < n; ++k) offs[size_t(k)] = int(v.off[size_t(g.of(s)[k])]);
      SITEMPI_RC(PMPI_Scatterv(v.base, counts.data(), offs.data(), MPI_BYTE, MPI_IN_PLACE, 0, MPI_BYTE,
                               g.local_rank[size_t(root)], c.local));
    }
    if (!in_place)
      SITEMPI_RC(
          unpack(v.base, int(v.off[size_t(me)]) + mb, int(v.off[size_t(me)]), recvbuf, recvcount, recvtype, c.priv));
    return x.waitall();
  }
  // My block's bytes: straight into the receive buffer for a contiguous type, else staged.
  const TypeInfo rt(recvtype);
  std::vector<char> tmp;
  char* mine = static_cast<char*>(recvbuf) + rt.true_lb;
  if (!rt.contiguous()) {
    tmp.resize(size_t(mb) + 1);
    mine = tmp.data();
  }
  auto finish = [&] {
    return tmp.empty() ? MPI_SUCCESS : unpack(tmp.data(), mb, 0, recvbuf, recvcount, recvtype, c.priv);
  };
  if (s == sr) {
    SITEMPI_RC(
        PMPI_Scatterv(nullptr, nullptr, nullptr, MPI_BYTE, mine, mb, MPI_BYTE, g.local_rank[size_t(root)], c.local));
    return finish();
  }
  if (!c.leader()) {
    SITEMPI_RC(x.irecv(mine, mb, MPI_BYTE, g.leader(s), kTagScatter));
    SITEMPI_RC(x.waitall());
    return finish();
  }
  // A leader of another site: every block of its site arrives from the root in member order (its
  // own first); each member's is passed on as soon as it is here.
  std::vector<char> held(size_t(n - 1) * size_t(m) + 1);
  std::vector<size_t> mark(static_cast<size_t>(n) + 1);
  for (int k = 0; k < n; ++k) {
    mark[size_t(k)] = x.posted();
    SITEMPI_RC(x.irecv(k ? held.data() + size_t(k - 1) * m : mine, mb, MPI_BYTE, root, kTagScatter));
  }
  mark[size_t(n)] = x.posted();
  for (int k = 1; k < n; ++k) {
    SITEMPI_RC(x.wait(mark[size_t(k)], mark[size_t(k) + 1]));
    SITEMPI_RC(x.isend(held.data() + size_t(k - 1) * m, mb, MPI_BYTE, g.of(s)[k], kTagScatter));
  }
  SITEMPI_RC(x.waitall());
  return finish();
}

}  // namespace

int scatter_site(Ctx& x, const void* sendbuf, const int* scounts, const int* displs, MPI_Datatype sendtype,
                 void* recvbuf, int recvcount, MPI_Datatype recvtype, int root, uint64_t uniform_bytes) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), sr = g.site[size_t(root)];
  const bool alone = g.count(s) == 1;
  // The same on every rank: the block size (Scatter: equal everywhere) and the job's settings.
  if (uniform_bytes >= kForwardMinBytes && !g_coll_packed)
    return scatter_forward(x, sendbuf, scounts, displs, sendtype, recvbuf, recvcount, recvtype, root, uniform_bytes);
  if (me == root) {
    const TypeInfo st(sendtype);
    const bool in_place = recvbuf == MPI_IN_PLACE;
    std::vector<uint64_t> block(static_cast<size_t>(g.P));
    for (int j = 0; j < g.P; ++j) block[size_t(j)] = st.bytes(scounts[j]);
    const SiteLayout lay(g, block);
    const int total = int(lay.total);
    std::vector<char> buf(lay.total + 1);
    for (int j = 0; j < g.P; ++j) {
      if (j == me && in_place) continue;
      SITEMPI_RC(pack(at(sendbuf, displs[j], st.extent), scounts[j], sendtype, buf.data(), total,
                      int(lay.pos[size_t(j)]), c.priv));
    }
    for (int u = 0; u < g.S; ++u)
      if (u != sr && lay.site_bytes(u))
        SITEMPI_RC(x.isend(buf.data() + lay.site_off[size_t(u)], int(lay.site_bytes(u)), MPI_PACKED, g.leader(u),
                           kTagScatter));
    if (!alone) {
      const SiteBlocks own = root_site_blocks(g, lay, sr);
      SITEMPI_RC(PMPI_Scatterv(buf.data() + lay.site_off[size_t(sr)], own.counts.data(), own.offs.data(), MPI_PACKED,
                               MPI_IN_PLACE, 0, MPI_PACKED, g.local_rank[size_t(root)], c.local));
    }
    if (!in_place)
      SITEMPI_RC(unpack(buf.data(), total, int(lay.pos[size_t(me)]), recvbuf, recvcount, recvtype, c.priv));
    return x.waitall();
  }
  const TypeInfo rt(recvtype);
  const int mine = int(rt.bytes(recvcount));
  if (s == sr || !c.leader()) {
    if (s != sr) SITEMPI_RC(site_blocks(c, mine, uniform_bytes, nullptr));
    std::vector<char> tmp(static_cast<size_t>(mine) + 1);
    SITEMPI_RC(PMPI_Scatterv(nullptr, nullptr, nullptr, MPI_PACKED, tmp.data(), mine, MPI_PACKED,
                             s == sr ? g.local_rank[size_t(root)] : 0, c.local));
    return unpack(tmp.data(), mine, 0, recvbuf, recvcount, recvtype, c.priv);
  }
  // A leader of another site: learn the blocks' sizes, receive the site's blocks, scatter them.
  SiteBlocks site;
  SITEMPI_RC(site_blocks(c, mine, uniform_bytes, &site));
  std::vector<char> buf(static_cast<size_t>(site.total) + 1);
  if (site.total) {
    SITEMPI_RC(x.irecv(buf.data(), site.total, MPI_PACKED, root, kTagScatter));
    SITEMPI_RC(x.waitall());
  }
  if (!alone)
    SITEMPI_RC(PMPI_Scatterv(buf.data(), site.counts.data(), site.offs.data(), MPI_PACKED, MPI_IN_PLACE, 0, MPI_PACKED,
                             0, c.local));
  return unpack(buf.data(), site.total, 0, recvbuf, recvcount, recvtype, c.priv);
}

}  // namespace sitempi::coll
