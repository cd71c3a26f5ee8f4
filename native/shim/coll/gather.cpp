// Gather(v): every other site's blocks reach the root through its leader, one message per site:
// every byte crosses once, S-1 messages ((P - n_root_site) m for Gather, the lower bound). Two
// ways to move them, one message structure (the cost model's):
// - forwarded (Gather of at least kForwardMinBytes per rank): members send their blocks to their
//   leader, which forwards each, in member order, the moment it has it (its own first), as pieces
//   of its site's message; the root receives every block straight into its final place in the
//   receive buffer and its own site gathers there too. Nothing is packed or unpacked where types
//   are contiguous, and the WAN is busy while the site's blocks still arrive at the leader;
// - packed (small blocks, Gatherv, or SITEMPI_COLL_PACKED=1): site blocks packed at the leader (the
//   root's site at the root), one packed message per site, the root unpacks the whole vector.
#include "coll/common.h"

namespace sitempi::coll {

namespace {

int gather_forward(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int* rcounts,
                   const int* displs, MPI_Datatype recvtype, int root, uint64_t m) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), sr = g.site[size_t(root)], n = g.count(s);
  const int mb = int(m);
  if (me == root) {
    const TypeInfo rt(recvtype);
    std::vector<uint64_t> block(static_cast<size_t>(g.P));
    for (int j = 0; j < g.P; ++j) block[size_t(j)] = rt.bytes(rcounts[j]);
    RootView v(recvbuf, displs, recvtype, block);
    for (int u = 0; u < g.S; ++u)  // the other sites' blocks, in member order, from their leaders
      if (u != sr)
        for (int k = 0; k < g.count(u); ++k)
          SITEMPI_RC(x.irecv(v.base + v.off[size_t(g.of(u)[k])], mb, MPI_BYTE, g.leader(u), kTagGather));
    const bool in_place = sendbuf == MPI_IN_PLACE;
    const int mine_end = int(v.off[size_t(me)]) + mb;
    if (!in_place) SITEMPI_RC(pack(sendbuf, sendcount, sendtype, v.base, mine_end, int(v.off[size_t(me)]), c.priv));
    if (n > 1) {
      std::vector<int> counts(static_cast<size_t>(n), mb), offs(static_cast<size_t>(n));
      for (int k = 0; k < n; ++k) offs[size_t(k)] = int(v.off[size_t(g.of(s)[k])]);
      SITEMPI_RC(PMPI_Gatherv(MPI_IN_PLACE, 0, MPI_BYTE, v.base, counts.data(), offs.data(), MPI_BYTE,
                              g.local_rank[size_t(root)], c.local));
    }
    SITEMPI_RC(x.waitall());
    if (v.direct) return MPI_SUCCESS;
    for (int j = 0; j < g.P; ++j)
      if (j != me || !in_place)
        SITEMPI_RC(unpack(v.base, int(v.off[size_t(j)]) + mb, int(v.off[size_t(j)]), at(recvbuf, displs[j], rt.extent),
                          rcounts[j], recvtype, c.priv));
    return MPI_SUCCESS;
  }
  std::vector<char> tmp;
  const char* mine = nullptr;
  SITEMPI_RC(block_bytes(sendbuf, sendcount, sendtype, &tmp, &mine, c.priv));
  if (s == sr)
    return PMPI_Gatherv(mine, mb, MPI_BYTE, nullptr, nullptr, nullptr, MPI_BYTE, g.local_rank[size_t(root)], c.local);
  if (!c.leader()) {
    SITEMPI_RC(x.isend(mine, mb, MPI_BYTE, g.leader(s), kTagGather));
    return x.waitall();
  }
  // A leader of another site: its own block leaves at once, each member's as soon as it is here.
  std::vector<char> held(size_t(n - 1) * size_t(m) + 1);
  std::vector<size_t> mark(static_cast<size_t>(n));
  for (int k = 1; k < n; ++k) {
    mark[size_t(k)] = x.posted();
    SITEMPI_RC(x.irecv(held.data() + size_t(k - 1) * m, mb, MPI_BYTE, g.of(s)[k], kTagGather));
  }
  SITEMPI_RC(x.isend(mine, mb, MPI_BYTE, root, kTagGather));
  for (int k = 1; k < n; ++k) {
    SITEMPI_RC(x.wait(mark[size_t(k)], mark[size_t(k)] + 1));
    SITEMPI_RC(x.isend(held.data() + size_t(k - 1) * m, mb, MPI_BYTE, root, kTagGather, true));
  }
  return x.waitall();
}

}  // namespace

int gather_site(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int* rcounts,
                const int* displs, MPI_Datatype recvtype, int root, uint64_t uniform_bytes) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), sr = g.site[size_t(root)];
  const bool alone = g.count(s) == 1;
  // The same on every rank: the block size (Gather: equal everywhere) and the job's settings.
  if (uniform_bytes >= kForwardMinBytes && !g_coll_packed)
    return gather_forward(x, sendbuf, sendcount, sendtype, recvbuf, rcounts, displs, recvtype, root, uniform_bytes);
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
