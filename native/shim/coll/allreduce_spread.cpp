// Allreduce spread over the sites' members (alg kAlgSitePairwise): no leader. Each site cuts the
// vector into one chunk per member (core::rsag_offset over the site's size). A member
//   1. gets every other member's part of its chunk, straight from their input, and folds them in
//      local-rank order (a site reduce-scatter in one hop, where the leaders' tree takes two);
//   2. swaps its chunk's site partial with the members of the other sites whose chunks overlap it
//      (one WAN crossing, every member's link busy at once: no segment waits for the site's
//      reduce of the one before), and folds the sites' partials in site order;
//   3. sends the result to every member of its site (an allgather in one hop).
// Cross-site bytes: (S-1)·V out of every site, as the leaders' exchange. Every element is folded
// once per site, by its owner, in local-rank then site order (MPI's rank order where sites are
// contiguous), so all ranks get the same bits.
#include "coll/common.h"

namespace sitempi::coll {

namespace {

// Chunk i of a site of n members: [lo, lo + len).
struct Chunk {
  int lo = 0, len = 0;
  Chunk(int count, int n, int i)
      : lo(int(core::rsag_offset(uint64_t(count), n, i))), len(int(core::rsag_chunk(uint64_t(count), n, i))) {}
};

}  // namespace

int allreduce_spread(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int S = g.S, s = x.site(), n = g.count(s), k = g.local_rank[size_t(x.me())];
  const bool in_place = sendbuf == MPI_IN_PLACE;
  const void* input = in_place ? recvbuf : sendbuf;
  const TypeInfo ti(t);
  const Chunk mine(count, n, k);
  // 1. The members' parts of my chunk; my own part where the result goes.
  std::vector<TypedBuf> contrib(static_cast<size_t>(n));
  std::vector<void*> parts(static_cast<size_t>(n));
  const size_t site_from = x.posted();
  for (int i = 0; i < n; ++i) {
    if (i == k) {
      parts[size_t(i)] = at(recvbuf, mine.lo, ti.extent);
      continue;
    }
    contrib[size_t(i)].reset(mine.len, ti);
    parts[size_t(i)] = contrib[size_t(i)].get();
    if (mine.len) SITEMPI_RC(x.irecv(parts[size_t(i)], mine.len, t, g.of(s)[i], kTagAllreduce));
  }
  const size_t site_to = x.posted();
  // The other sites' partials of my chunk, posted now: they may come before my site is done.
  std::vector<TypedBuf> from(static_cast<size_t>(S));
  for (int u = 0; u < S && mine.len; ++u) {
    if (u == s) continue;
    from[size_t(u)].reset(mine.len, ti);
    for (int j = 0; j < g.count(u); ++j) {
      const core::ChunkOverlap v = core::chunk_overlap(uint64_t(count), n, k, g.count(u), j);
      if (v.lo < v.hi)
        SITEMPI_RC(x.irecv(at(from[size_t(u)].get(), MPI_Aint(v.lo) - mine.lo, ti.extent), int(v.hi - v.lo), t,
                           g.of(u)[j], kTagAllreduce));
    }
  }
  for (int i = 0; i < n; ++i) {
    const Chunk theirs(count, n, i);
    if (i != k && theirs.len)
      SITEMPI_RC(x.isend(at(input, theirs.lo, ti.extent), theirs.len, t, g.of(s)[i], kTagAllreduce));
  }
  if (!in_place && mine.len)
    SITEMPI_RC(copy_typed(at(input, mine.lo, ti.extent), parts[size_t(k)], mine.len, t, c.priv));
  SITEMPI_RC(x.wait(site_from, site_to));  // not the other sites': they wait for this site's partials
  if (mine.len) SITEMPI_RC(fold_ordered(parts, k, mine.len, t, op, c.priv));
  // 2. My chunk's site partial to the overlapping members of every other site.
  x.pace(rate_pace_for(n, S - 1, uint64_t(S - 1) * ti.bytes(mine.len)));
  for (int u = 0; u < S && mine.len; ++u) {
    if (u == s) continue;
    for (int j = 0; j < g.count(u); ++j) {
      const core::ChunkOverlap v = core::chunk_overlap(uint64_t(count), n, k, g.count(u), j);
      if (v.lo < v.hi)
        SITEMPI_RC(x.isend(at(recvbuf, MPI_Aint(v.lo), ti.extent), int(v.hi - v.lo), t, g.of(u)[j], kTagAllreduce));
    }
  }
  SITEMPI_RC(x.waitall());
  if (mine.len) {
    std::vector<void*> sites(static_cast<size_t>(S));
    for (int u = 0; u < S; ++u) sites[size_t(u)] = u == s ? parts[size_t(k)] : from[size_t(u)].get();
    SITEMPI_RC(fold_ordered(sites, s, mine.len, t, op, c.priv));
  }
  // 3. Every member's result to every other.
  for (int i = 0; i < n; ++i) {
    const Chunk theirs(count, n, i);
    if (i != k && theirs.len)
      SITEMPI_RC(x.irecv(at(recvbuf, theirs.lo, ti.extent), theirs.len, t, g.of(s)[i], kTagAllreduce));
  }
  for (int i = 0; i < n; ++i)
    if (i != k && mine.len) SITEMPI_RC(x.isend(parts[size_t(k)], mine.len, t, g.of(s)[i], kTagAllreduce));
  return x.waitall();
}

}  // namespace sitempi::coll
