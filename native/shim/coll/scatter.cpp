// Scatter(v): the root packs each other site's blocks into one message to that site's leader
// (every byte crosses once, S-1 messages), the leaders (and the root in its own site) scatter
// inside their site.
#include "coll/common.h"

namespace sitempi::coll {

int scatter_site(Ctx& x, const void* sendbuf, const int* scounts, const int* displs, MPI_Datatype sendtype,
                 void* recvbuf, int recvcount, MPI_Datatype recvtype, int root, uint64_t uniform_bytes) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), sr = g.site[size_t(root)];
  const bool alone = g.count(s) == 1;
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
