// Reduce spread over the sites' members (alg kAlgSitePairwise), for sites that span nodes. Each
// site cuts the vector into one chunk per member (core::rsag_offset over the site's size). A member
//   1. gets every other member's part of its chunk, straight from their input, and folds them in
//      local-rank order (the site's reduce in one hop, as in the spread Allreduce);
//   2. sends its chunk's site partial to the root, segment by segment as each is folded, so that
//      a site's crossing leaves from all of its members at once, not from a leader that first
//      received the whole vector from its tree;
// and the root folds the sites' partials in site order once they are in. Cross-site bytes: the
// vector once from every other site, as through the leaders. Every element is folded in
// local-rank then site order: MPI's rank order where sites are contiguous (elsewhere choose_alg
// takes this only for commutative operations).
#include "coll/common.h"

namespace sitempi::coll {

int reduce_spread(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, int root,
                  bool commutative) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int S = g.S, s = x.site(), n = g.count(s), k = g.local_rank[size_t(x.me())];
  const int sr = g.site[size_t(root)], kr = g.local_rank[size_t(root)];
  const bool at_root = x.me() == root, in_place = at_root && sendbuf == MPI_IN_PLACE;
  const void* input = in_place ? recvbuf : sendbuf;
  const TypeInfo ti(t);
  auto chunk = [&](int site, int i) { return SiteChunk(count, g.count(site), i, ti.size, ti.contiguous()); };
  auto elem = [&](const void* b, int i) { return const_cast<void*>(at(b, MPI_Aint(i), ti.extent)); };
  const SiteChunk mine = chunk(s, k);
  const int K = mine.seg.n;
  // 1. The other members' parts of my chunk, segment by segment (segment q's requests are
  // [parts_in[q], parts_in[q+1])); posted first: the root's site members send the root these
  // before their partials, on the same tag.
  std::vector<TypedBuf> contrib;
  std::vector<size_t> parts_in;
  SITEMPI_RC(post_chunk_parts(x, mine, t, kTagReduce, contrib, parts_in));
  // The root: each site's partial, chunk by chunk from its owners; its own site's into the result
  // (once its input has left, where that is the result: in place).
  std::vector<TypedBuf> from(static_cast<size_t>(S));
  auto post_partials = [&](int u, void* into) {
    for (int i = 0; i < g.count(u); ++i) {
      const SiteChunk ch = chunk(u, i);
      for (int q = 0; q < ch.seg.n && ch.len && !(u == sr && i == kr); ++q)
        SITEMPI_RC(x.irecv(elem(into, ch.first(q)), ch.seg.size(q), t, g.of(u)[i], kTagReduce));
    }
    return MPI_SUCCESS;
  };
  if (at_root)
    for (int u = 0; u < S; ++u) {
      if (u == sr) {
        if (!in_place) SITEMPI_RC(post_partials(u, recvbuf));
        continue;
      }
      from[size_t(u)].reset(count, ti);
      SITEMPI_RC(post_partials(u, from[size_t(u)].get()));
    }
  // My parts of the other members' chunks.
  const size_t parts_from = x.posted();
  SITEMPI_RC(send_chunk_parts(x, input, count, t, ti.contiguous(), kTagReduce));
  const size_t parts_to = x.posted();
  // 2. My chunk's site partial: at the root in the result, elsewhere in scratch that crosses.
  TypedBuf partial;
  if (!at_root) partial.reset(mine.len, ti);
  void* result = at_root ? elem(recvbuf, mine.lo) : partial.get();
  if (!in_place && mine.len) SITEMPI_RC(copy_typed(elem(input, mine.lo), result, mine.len, t, c.priv));
  if (s != sr) x.pace(rate_pace_for(n, 1, ti.bytes(mine.len)));
  std::vector<void*> parts(static_cast<size_t>(n));
  for (int q = 0; q < K && mine.len; ++q) {
    SITEMPI_RC(x.wait(parts_in[size_t(q)], parts_in[size_t(q) + 1]));
    const int off = mine.seg.first(q), len = mine.seg.size(q);
    for (int i = 0; i < n; ++i) parts[size_t(i)] = i == k ? elem(result, off) : elem(contrib[size_t(i)].get(), off);
    SITEMPI_RC(fold_ordered(parts, k, len, t, op, c.priv));
    if (!at_root) SITEMPI_RC(x.isend(elem(result, off), len, t, root, kTagReduce, q > 0));
    SITEMPI_RC(x.release_due());
  }
  if (in_place) {
    SITEMPI_RC(x.wait(parts_from, parts_to));
    SITEMPI_RC(post_partials(sr, recvbuf));
  }
  // One segment may be non-contiguous data staged in pieces: waitall() unpacks it.
  SITEMPI_RC(x.waitall());
  if (!at_root) return MPI_SUCCESS;
  std::vector<void*> sites(static_cast<size_t>(S));
  for (int u = 0; u < S; ++u) sites[size_t(u)] = u == sr ? recvbuf : from[size_t(u)].get();
  return fold_at_root(sites, sr, count, t, op, commutative, c.priv);
}

}  // namespace sitempi::coll
