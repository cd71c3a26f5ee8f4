// Allgather(v): site gather of packed blocks at the leader, leaders send their site's blocks to
// every other leader (each block crosses once per other site: (S-1) P m for Allgather, the lower
// bound), site broadcast of the whole packed vector, everyone unpacks.
#include "coll/common.h"

namespace sitempi::coll {

int allgather_site(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int* rcounts,
                   const int* displs, MPI_Datatype recvtype) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), S = g.S;
  const bool alone = g.count(s) == 1;
  const bool in_place = sendbuf == MPI_IN_PLACE;
  const TypeInfo rt(recvtype);
  std::vector<uint64_t> block(static_cast<size_t>(g.P));
  for (int j = 0; j < g.P; ++j) block[size_t(j)] = rt.bytes(rcounts[j]);
  const SiteLayout lay(g, block);
  const int total = int(lay.total);
  std::vector<char> buf(lay.total + 1);
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
      SITEMPI_RC(PMPI_Gatherv(MPI_IN_PLACE, 0, MPI_PACKED, site_buf, counts.data(), offs.data(), MPI_PACKED, 0, c.local));
    } else {
      SITEMPI_RC(PMPI_Gatherv(buf.data() + my_pos, int(block[size_t(me)]), MPI_PACKED, nullptr, nullptr, nullptr,
                              MPI_PACKED, 0, c.local));
    }
  }
  if (c.leader()) {
    for (int u = 0; u < S; ++u)
      if (u != s && lay.site_bytes(u))
        SITEMPI_RC(x.irecv_site(buf.data() + lay.site_off[size_t(u)], int(lay.site_bytes(u)), MPI_PACKED, u, kTagAllgather));
    if (lay.site_bytes(s))
      for (int u = 0; u < S; ++u)
        if (u != s) SITEMPI_RC(x.isend_site(site_buf, int(lay.site_bytes(s)), MPI_PACKED, u, kTagAllgather));
    SITEMPI_RC(x.waitall());
  }
  if (!alone && total) SITEMPI_RC(PMPI_Bcast(buf.data(), total, MPI_PACKED, 0, c.local));
  for (int j = 0; j < g.P; ++j) {
    if (j == me && in_place) continue;
    SITEMPI_RC(unpack(buf.data(), total, int(lay.pos[size_t(j)]), at(recvbuf, displs[j], rt.extent), rcounts[j], recvtype,
                      c.priv));
  }
  return MPI_SUCCESS;
}

}  // namespace sitempi::coll
