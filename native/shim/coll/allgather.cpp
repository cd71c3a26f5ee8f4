// Allgather(v): site gather of packed blocks at the leader, leaders send their site's blocks to
// every other leader (each block crosses once per other site: (S-1) P m for Allgather, the lower
// bound), site broadcast of the whole packed vector, everyone unpacks. Large calls (coll/segments.h)
// broadcast the site's own blocks while the other sites' cross, and then those in segments as
// they arrive.
#include "coll/common.h"
#include "coll/segments.h"

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

}  // namespace sitempi::coll
