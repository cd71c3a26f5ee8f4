// Gather(v): every other site's blocks reach the root through its leader, one message per site:
// every byte crosses once, S-1 messages ((P - n_root_site) m for Gather, the lower bound). Members
// send their blocks to their leader (those of the root's site gather at the root, straight into
// the blocks' places in the receive buffer where its type is contiguous). Each other site's
// blocks cross one of two ways, one message structure (the cost model's), chosen per site from
// its block sizes, which its leader and the root both know (forwarded_site in layout.h):
// - forwarded (blocks of at least kForwardMinBytes on average): the leader forwards each block, in
//   member order, the moment it has it (its own first), as pieces of its site's message; the root
//   receives every block straight into its final place. Nothing is packed or unpacked where types
//   are contiguous, and the WAN is busy while the site's blocks still arrive at the leader;
// - packed (small blocks, or SITEMPI_COLL_PACKED=1): the leader receives its members' blocks side
//   by side and sends them as one message, which the root unpacks.
// Spread (alg kAlgSitePairwise, Gather only, where sites span nodes): no leader; every rank sends
// its block straight to the root, which receives each into its place: the same bytes cross, in
// one message per rank of another site, with no site step before them.
#include "coll/common.h"

namespace sitempi::coll {

namespace {

// The root: every block into its place (RootView), other sites' packed messages unpacked.
int gather_root(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int* rcounts,
                const int* displs, MPI_Datatype recvtype, bool spread) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), sr = x.site(), n = g.count(sr);
  const TypeInfo rt(recvtype);
  const bool in_place = sendbuf == MPI_IN_PLACE;
  std::vector<uint64_t> block(static_cast<size_t>(g.P));
  for (int j = 0; j < g.P; ++j) block[size_t(j)] = rt.bytes(rcounts[j]);
  const SiteLayout lay(g, block);
  RootView v(recvbuf, displs, recvtype, block);
  Scratch packed;  // the packed sites' messages, at their layout offsets
  std::vector<bool> in_view(static_cast<size_t>(g.P), true);
  for (int u = 0; u < g.S; ++u) {
    if ((u == sr && !spread) || !lay.site_bytes(u)) continue;
    if (spread || forwarded_site(lay.site_bytes(u), g.count(u))) {
      for (int k = 0; k < g.count(u); ++k) {  // in member order, from the leader (spread: from the member)
        const int j = g.of(u)[k];
        if (block[size_t(j)] && j != me)
          SITEMPI_RC(x.irecv(v.base + v.off[size_t(j)], int(block[size_t(j)]), MPI_BYTE, spread ? j : g.leader(u),
                             kTagGather));
      }
      continue;
    }
    if (packed.empty()) packed.reset(lay.total);
    for (int k = 0; k < g.count(u); ++k) in_view[size_t(g.of(u)[k])] = false;
    SITEMPI_RC(
        x.irecv(packed.data() + lay.site_off[size_t(u)], int(lay.site_bytes(u)), MPI_PACKED, g.leader(u), kTagGather));
  }
  const int mine_end = int(v.off[size_t(me)] + block[size_t(me)]);
  if (!in_place) SITEMPI_RC(pack(sendbuf, sendcount, sendtype, v.base, mine_end, int(v.off[size_t(me)]), c.priv));
  if (n > 1 && !spread) {
    std::vector<int> counts(static_cast<size_t>(n)), offs(static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) {
      counts[size_t(k)] = int(block[size_t(g.of(sr)[k])]);
      offs[size_t(k)] = int(v.off[size_t(g.of(sr)[k])]);
    }
    SITEMPI_RC(PMPI_Gatherv(MPI_IN_PLACE, 0, MPI_BYTE, v.base, counts.data(), offs.data(), MPI_BYTE,
                            g.local_rank[size_t(me)], c.local));
  }
  SITEMPI_RC(x.waitall());
  for (int j = 0; j < g.P; ++j) {
    if (j == me && in_place) continue;
    void* dst = at(recvbuf, displs[j], rt.extent);
    if (!in_view[size_t(j)])
      SITEMPI_RC(unpack(packed.data(), int(lay.total), int(lay.pos[size_t(j)]), dst, rcounts[j], recvtype, c.priv));
    else if (!v.direct)
      SITEMPI_RC(unpack(v.base, int(v.off[size_t(j)] + block[size_t(j)]), int(v.off[size_t(j)]), dst, rcounts[j],
                        recvtype, c.priv));
  }
  return MPI_SUCCESS;
}

// A leader of another site: its members' blocks (sizes from site_blocks), forwarded or packed.
int gather_leader(Ctx& x, const char* mine, int mb, int root, uint64_t uniform_bytes) {
  SiteCache& c = x.c();
  const int n = x.g().count(x.site());
  SiteBlocks site;
  SITEMPI_RC(site_blocks(c, mb, uniform_bytes, &site));
  Scratch held(static_cast<size_t>(site.total));  // block k at site.offs[k]
  std::vector<size_t> mark(static_cast<size_t>(n) + 1);
  for (int k = 1; k < n; ++k) {
    mark[size_t(k)] = x.posted();
    if (site.counts[size_t(k)])
      SITEMPI_RC(x.irecv(held.data() + site.offs[size_t(k)], site.counts[size_t(k)], MPI_BYTE, x.g().of(x.site())[k],
                         kTagGather));
  }
  mark[size_t(n)] = x.posted();
  x.pace(rate_pace_for(1, 1, uint64_t(site.total)));
  if (!forwarded_site(uint64_t(site.total), n)) {
    std::copy_n(mine, size_t(mb), held.data());
    SITEMPI_RC(x.waitall());
    if (site.total) SITEMPI_RC(x.isend(held.data(), site.total, MPI_PACKED, root, kTagGather));
    return x.waitall();
  }
  // Its own block leaves at once, each member's as soon as it is here: one message in pieces.
  bool first = true;
  if (mb) {
    SITEMPI_RC(x.isend(mine, mb, MPI_BYTE, root, kTagGather));
    first = false;
  }
  for (int k = 1; k < n; ++k) {
    if (!site.counts[size_t(k)]) continue;
    SITEMPI_RC(x.wait(mark[size_t(k)], mark[size_t(k) + 1]));
    SITEMPI_RC(x.isend(held.data() + site.offs[size_t(k)], site.counts[size_t(k)], MPI_BYTE, root, kTagGather, !first));
    first = false;
  }
  return x.waitall();
}

}  // namespace

int gather_site(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int* rcounts,
                const int* displs, MPI_Datatype recvtype, int root, uint64_t uniform_bytes, uint32_t alg) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int me = x.me(), s = x.site(), sr = g.site[size_t(root)];
  const bool spread = alg == core::kAlgSitePairwise;
  if (me == root) return gather_root(x, sendbuf, sendcount, sendtype, recvbuf, rcounts, displs, recvtype, spread);
  // Everyone else: the own block as bytes (the buffer itself for a contiguous type).
  Scratch tmp;
  const char* mine = nullptr;
  SITEMPI_RC(block_bytes(sendbuf, sendcount, sendtype, &tmp, &mine, c.priv));
  const int mb = int(TypeInfo(sendtype).bytes(sendcount));
  if (spread) {  // straight to the root, paced as one of the site's senders
    if (s != sr) x.pace(rate_pace_for(g.count(s), 1, uint64_t(mb)));
    if (mb) SITEMPI_RC(x.isend(mine, mb, MPI_BYTE, root, kTagGather));
    return x.waitall();
  }
  if (s == sr)
    return PMPI_Gatherv(mine, mb, MPI_BYTE, nullptr, nullptr, nullptr, MPI_BYTE, g.local_rank[size_t(root)], c.local);
  if (c.leader()) return gather_leader(x, mine, mb, root, uniform_bytes);
  SITEMPI_RC(site_blocks(c, mb, uniform_bytes, nullptr));
  if (mb) SITEMPI_RC(x.isend(mine, mb, MPI_BYTE, g.leader(s), kTagGather));
  return x.waitall();
}

}  // namespace sitempi::coll
