// Scatter(v): the root sends each other site's blocks to its leader in one message (every byte
// crosses once, S-1 messages), the leaders pass them on to their members (the root scatters to
// its own site straight from the blocks' places in the send buffer where its type is
// contiguous). Each other site's blocks cross one of two ways, one message structure (the cost
// model's), chosen per site from its block sizes, which its leader and the root both know
// (forwarded_site in layout.h):
// - forwarded (blocks of at least kForwardMinBytes on average): the root sends every block from
//   its place in the send buffer, in member order, as pieces of the site's message; the leader
//   passes each member's block on the moment it has arrived. Nothing is packed or unpacked where
//   types are contiguous, and members receive while later blocks still cross;
// - packed (small blocks, or SITEMPI_COLL_PACKED=1): the root packs the site's blocks, its leader
//   receives them whole and sends each member its block from there.
#include "coll/common.h"

namespace sitempi::coll {

namespace {

int scatter_root(Ctx& x, const void* sendbuf, const int* scounts, const int* displs, MPI_Datatype sendtype,
                 void* recvbuf, int recvcount, MPI_Datatype recvtype) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), sr = x.site(), n = g.count(sr);
  const TypeInfo st(sendtype);
  const bool in_place = recvbuf == MPI_IN_PLACE;
  std::vector<uint64_t> block(static_cast<size_t>(g.P));
  for (int j = 0; j < g.P; ++j) block[size_t(j)] = st.bytes(scounts[j]);
  const SiteLayout lay(g, block);
  RootView v(const_cast<void*>(sendbuf), displs, sendtype, block);
  if (!v.direct)
    for (int j = 0; j < g.P; ++j)
      if (j != me || !in_place)
        SITEMPI_RC(pack(at(sendbuf, displs[j], st.extent), scounts[j], sendtype, v.base,
                        int(v.off[size_t(j)] + block[size_t(j)]), int(v.off[size_t(j)]), c.priv));
  Scratch packed;                  // the packed sites' messages, at their layout offsets
  for (int u = 0; u < g.S; ++u) {  // the other sites first
    if (u == sr || !lay.site_bytes(u)) continue;
    if (!forwarded_site(lay.site_bytes(u), g.count(u))) {
      if (packed.empty()) packed.reset(lay.total);
      char* msg = packed.data() + lay.site_off[size_t(u)];
      for (int k = 0; k < g.count(u); ++k) {
        const int j = g.of(u)[k];
        std::copy_n(v.base + v.off[size_t(j)], size_t(block[size_t(j)]), packed.data() + lay.pos[size_t(j)]);
      }
      SITEMPI_RC(x.isend(msg, int(lay.site_bytes(u)), MPI_PACKED, g.leader(u), kTagScatter));
      continue;
    }
    bool first = true;  // each block from its place, in member order
    for (int k = 0; k < g.count(u); ++k) {
      const int j = g.of(u)[k];
      if (!block[size_t(j)]) continue;
      SITEMPI_RC(x.isend(v.base + v.off[size_t(j)], int(block[size_t(j)]), MPI_BYTE, g.leader(u), kTagScatter, !first));
      first = false;
    }
  }
  if (n > 1) {
    std::vector<int> counts(static_cast<size_t>(n)), offs(static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) {
      counts[size_t(k)] = int(block[size_t(g.of(sr)[k])]);
      offs[size_t(k)] = int(v.off[size_t(g.of(sr)[k])]);
    }
    SITEMPI_RC(PMPI_Scatterv(v.base, counts.data(), offs.data(), MPI_BYTE, MPI_IN_PLACE, 0, MPI_BYTE,
                             g.local_rank[size_t(me)], c.local));
  }
  if (!in_place)
    SITEMPI_RC(unpack(v.base, int(v.off[size_t(me)] + block[size_t(me)]), int(v.off[size_t(me)]), recvbuf, recvcount,
                      recvtype, c.priv));
  return x.waitall();
}

// A leader of another site: its site's blocks from the root (sizes from site_blocks), its own
// into `mine`, each member's passed on as soon as it is here (forwarded) or once all are.
int scatter_leader(Ctx& x, char* mine, int mb, int root, uint64_t uniform_bytes) {
  SiteCache& c = x.c();
  const int n = x.g().count(x.site());
  SiteBlocks site;
  SITEMPI_RC(site_blocks(c, mb, uniform_bytes, &site));
  Scratch held(static_cast<size_t>(site.total));  // block k at site.offs[k]
  if (!forwarded_site(uint64_t(site.total), n)) {
    if (site.total) SITEMPI_RC(x.irecv(held.data(), site.total, MPI_PACKED, root, kTagScatter));
    SITEMPI_RC(x.waitall());
    std::copy_n(held.data(), size_t(mb), mine);
    for (int k = 1; k < n; ++k)
      if (site.counts[size_t(k)])
        SITEMPI_RC(x.isend(held.data() + site.offs[size_t(k)], site.counts[size_t(k)], MPI_BYTE, x.g().of(x.site())[k],
                           kTagScatter));
    return x.waitall();
  }
  std::vector<size_t> mark(static_cast<size_t>(n) + 1);
  for (int k = 0; k < n; ++k) {
    mark[size_t(k)] = x.posted();
    if (site.counts[size_t(k)])
      SITEMPI_RC(
          x.irecv(k ? held.data() + site.offs[size_t(k)] : mine, site.counts[size_t(k)], MPI_BYTE, root, kTagScatter));
  }
  mark[size_t(n)] = x.posted();
  for (int k = 1; k < n; ++k) {
    if (!site.counts[size_t(k)]) continue;
    SITEMPI_RC(x.wait(mark[size_t(k)], mark[size_t(k) + 1]));
    SITEMPI_RC(x.isend(held.data() + site.offs[size_t(k)], site.counts[size_t(k)], MPI_BYTE, x.g().of(x.site())[k],
                       kTagScatter));
  }
  return x.waitall();
}

}  // namespace

int scatter_site(Ctx& x, const void* sendbuf, const int* scounts, const int* displs, MPI_Datatype sendtype,
                 void* recvbuf, int recvcount, MPI_Datatype recvtype, int root, uint64_t uniform_bytes) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), sr = g.site[size_t(root)];
  if (me == root) return scatter_root(x, sendbuf, scounts, displs, sendtype, recvbuf, recvcount, recvtype);
  // My block's bytes: straight into the receive buffer for a contiguous type, else staged.
  const TypeInfo rt(recvtype);
  const int mb = int(rt.bytes(recvcount));
  Scratch tmp;
  char* mine = static_cast<char*>(recvbuf) + rt.true_lb;
  if (!rt.contiguous()) {
    tmp.reset(size_t(mb));
    mine = tmp.data();
  }
  if (s == sr)
    SITEMPI_RC(
        PMPI_Scatterv(nullptr, nullptr, nullptr, MPI_BYTE, mine, mb, MPI_BYTE, g.local_rank[size_t(root)], c.local));
  else if (c.leader())
    SITEMPI_RC(scatter_leader(x, mine, mb, root, uniform_bytes));
  else {
    SITEMPI_RC(site_blocks(c, mb, uniform_bytes, nullptr));
    if (mb) SITEMPI_RC(x.irecv(mine, mb, MPI_BYTE, g.leader(s), kTagScatter));
    SITEMPI_RC(x.waitall());
  }
  return tmp.empty() ? MPI_SUCCESS : unpack(tmp.data(), mb, 0, recvbuf, recvcount, recvtype, c.priv);
}

}  // namespace sitempi::coll
