// Gather(v): every site packs its blocks at its leader (the root's site at the root), each other
// leader sends its site's blocks to the root in one message: every byte crosses once, S-1
// messages ((P - n_root_site) m for Gather, the lower bound).
#include "coll/common.h"

namespace sitempi::coll {

int gather_site(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int* rcounts,
                const int* displs, MPI_Datatype recvtype, int root, uint64_t uniform_bytes) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), sr = g.site[size_t(root)];
  const bool alone = g.count(s) == 1;
  if (me == root) {
    const TypeInfo rt(recvtype);
    const bool in_place = sendbuf == MPI_IN_PLACE;
    std::vector<uint64_t> block(static_cast<size_t>(g.P));
    for (int j = 0; j < g.P; ++j) block[size_t(j)] = rt.bytes(rcounts[j]);
    const SiteLayout lay(g, block);
    const int total = int(lay.total);
    std::vector<char> buf(lay.total + 1);
    for (int u = 0; u < g.S; ++u)
      if (u != sr && lay.site_bytes(u))
        SITEMPI_RC(
            x.irecv(buf.data() + lay.site_off[size_t(u)], int(lay.site_bytes(u)), MPI_PACKED, g.leader(u), kTagGather));
    if (!in_place) SITEMPI_RC(pack(sendbuf, sendcount, sendtype, buf.data(), total, int(lay.pos[size_t(me)]), c.priv));
    if (!alone) {
      const SiteBlocks own = root_site_blocks(g, lay, sr);
      SITEMPI_RC(PMPI_Gatherv(MPI_IN_PLACE, 0, MPI_PACKED, buf.data() + lay.site_off[size_t(sr)], own.counts.data(),
                              own.offs.data(), MPI_PACKED, g.local_rank[size_t(root)], c.local));
    }
    SITEMPI_RC(x.waitall());
    return unpack_blocks(buf.data(), total, lay, recvbuf, rcounts, displs, recvtype, in_place ? me : -1, c.priv);
  }
  // Everyone else: pack the own block.
  const TypeInfo st(sendtype);
  const int mine = int(st.bytes(sendcount));
  if (s == sr) {
    std::vector<char> tmp(static_cast<size_t>(mine) + 1);
    SITEMPI_RC(pack(sendbuf, sendcount, sendtype, tmp.data(), mine, 0, c.priv));
    return PMPI_Gatherv(tmp.data(), mine, MPI_PACKED, nullptr, nullptr, nullptr, MPI_PACKED, g.local_rank[size_t(root)],
                        c.local);
  }
  if (!c.leader()) {
    SITEMPI_RC(site_blocks(c, mine, uniform_bytes, nullptr));
    std::vector<char> tmp(static_cast<size_t>(mine) + 1);
    SITEMPI_RC(pack(sendbuf, sendcount, sendtype, tmp.data(), mine, 0, c.priv));
    return PMPI_Gatherv(tmp.data(), mine, MPI_PACKED, nullptr, nullptr, nullptr, MPI_PACKED, 0, c.local);
  }
  // A leader of another site: the sizes of its members' blocks, their blocks, one message to root.
  SiteBlocks site;
  SITEMPI_RC(site_blocks(c, mine, uniform_bytes, &site));
  std::vector<char> buf(static_cast<size_t>(site.total) + 1);
  SITEMPI_RC(pack(sendbuf, sendcount, sendtype, buf.data(), site.total, 0, c.priv));
  if (!alone)
    SITEMPI_RC(PMPI_Gatherv(MPI_IN_PLACE, 0, MPI_PACKED, buf.data(), site.counts.data(), site.offs.data(), MPI_PACKED,
                            0, c.local));
  if (site.total) SITEMPI_RC(x.isend(buf.data(), site.total, MPI_PACKED, root, kTagGather));
  return x.waitall();
}

}  // namespace sitempi::coll
