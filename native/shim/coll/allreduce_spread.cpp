// Allreduce spread over the sites' members (alg kAlgSitePairwise): no leader. Each site cuts the
// vector into one chunk per member (core::rsag_offset over the site's size). A member
//   1. gets every other member's part of its chunk, straight from their input, and folds them in
//      local-rank order (a site reduce-scatter in one hop, where the leaders' tree takes two);
//   2. swaps its chunk's site partial with the members of the other sites whose chunks overlap it
//      (one WAN crossing, every member's link busy at once), and folds the sites' partials in site
//      order;
//   3. sends the result to every member of its site (an allgather in one hop).
// Where every site has as many members (so chunks pair off across sites) and the type is
// contiguous, a chunk runs in segments (coll/segments.h): a segment crosses as soon as its site
// partial is folded, and its result goes to the site as soon as the other sites' partials of it
// are in, so the site's steps overlap the crossing instead of bracketing it.
// Cross-site bytes: (S-1)·V out of every site, as the leaders' exchange. Every element is folded
// once per site, by its owner, in local-rank then site order (MPI's rank order where sites are
// contiguous), so all ranks get the same bits.
#include "coll/common.h"

namespace sitempi::coll {

namespace {

// A run of elements [lo, lo + len) of the vector to or from another site's member.
struct Crossing {
  int peer, lo, len;
};

}  // namespace

int allreduce_spread(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int S = g.S, s = x.site(), n = g.count(s), k = g.local_rank[size_t(x.me())];
  const bool in_place = sendbuf == MPI_IN_PLACE;
  const void* input = in_place ? recvbuf : sendbuf;
  const TypeInfo ti(t);
  bool paired = ti.contiguous();  // the same on every rank: sizes from the grouping, MPI's type signature
  for (int u = 0; u < S; ++u) paired = paired && g.count(u) == n;
  auto chunk = [&](int i) { return SiteChunk(count, n, i, ti.size, paired); };
  const SiteChunk mine = chunk(k);
  const int K = mine.seg.n;
  auto elem = [&](const void* b, int i) { return const_cast<void*>(at(b, MPI_Aint(i), ti.extent)); };
  // What crosses for segment q (both ways): with each other site's member of my local rank when
  // the chunks pair off, else (one segment) with the overlaps of every other site's chunks.
  std::vector<std::vector<Crossing>> crossings(static_cast<size_t>(K));
  for (int u = 0; u < S && mine.len; ++u) {
    if (u == s) continue;
    if (paired) {
      for (int q = 0; q < K; ++q) crossings[size_t(q)].push_back(Crossing{g.of(u)[k], mine.first(q), mine.seg.size(q)});
      continue;
    }
    for (int j = 0; j < g.count(u); ++j) {
      const core::ChunkOverlap v = core::chunk_overlap(uint64_t(count), n, k, g.count(u), j);
      if (v.lo < v.hi) crossings[0].push_back(Crossing{g.of(u)[j], int(v.lo), int(v.hi - v.lo)});
    }
  }
  // 1. The members' parts of my chunk, segment by segment; my own part where the result goes.
  // Marks: segment q's requests are [site[q], site[q+1]) (a message may go in pieces).
  std::vector<TypedBuf> contrib;
  std::vector<size_t> site, crossed(static_cast<size_t>(K) + 1);
  SITEMPI_RC(post_chunk_parts(x, mine, t, kTagAllreduce, contrib, site));
  // The other sites' partials of my chunk, posted now: they may come before my site is done.
  std::vector<TypedBuf> from(static_cast<size_t>(S));
  for (int u = 0; u < S; ++u)
    if (u != s) from[size_t(u)].reset(mine.len, ti);
  for (int q = 0; q < K; ++q) {
    crossed[size_t(q)] = x.posted();
    for (const Crossing& v : crossings[size_t(q)])
      SITEMPI_RC(
          x.irecv(elem(from[size_t(g.site[size_t(v.peer)])].get(), v.lo - mine.lo), v.len, t, v.peer, kTagAllreduce));
  }
  crossed[size_t(K)] = x.posted();
  // The other members' results, posted after their parts of my chunk (the same peer and tag: MPI
  // matches in the order posted, and each member sends its parts before its results).
  auto post_results = [&]() {
    for (int i = 0; i < n; ++i) {
      if (i == k) continue;
      const SiteChunk theirs = chunk(i);
      for (int q = 0; q < theirs.seg.n && theirs.len; ++q)
        SITEMPI_RC(x.irecv(elem(recvbuf, theirs.first(q)), theirs.seg.size(q), t, g.of(s)[i], kTagAllreduce));
    }
    return MPI_SUCCESS;
  };
  const size_t parts_from = x.posted();
  SITEMPI_RC(send_chunk_parts(x, input, count, t, paired, kTagAllreduce));
  const size_t parts_to = x.posted();
  void* result = elem(recvbuf, mine.lo);  // my chunk: my part, then the site's partial, then the result
  if (!in_place && mine.len) SITEMPI_RC(copy_typed(elem(input, mine.lo), result, mine.len, t, c.priv));
  // 2. Each segment's site partial across as soon as it is folded. Paced (coll/paced.h), its sends
  // may still be held when its final fold is due: then they go from a copy of the partial.
  const core::RatePace pace = rate_pace_for(n, S - 1, uint64_t(S - 1) * ti.bytes(mine.len));
  TypedBuf outgoing;
  if (pace.rate_Bps > 0) {
    x.pace(pace);
    outgoing.reset(mine.len, ti);
  }
  std::vector<size_t> sent(static_cast<size_t>(K) + 1);
  std::vector<void*> parts(static_cast<size_t>(n));
  for (int q = 0; q < K; ++q) {
    SITEMPI_RC(x.wait(site[size_t(q)], site[size_t(q) + 1]));
    const int off = mine.seg.first(q), len = mine.seg.size(q);
    for (int i = 0; i < n; ++i) parts[size_t(i)] = i == k ? elem(result, off) : elem(contrib[size_t(i)].get(), off);
    if (len) SITEMPI_RC(fold_ordered(parts, k, len, t, op, c.priv));
    if (outgoing.get()) SITEMPI_RC(copy_typed(elem(result, off), elem(outgoing.get(), off), len, t, c.priv));
    sent[size_t(q)] = x.posted();
    for (const Crossing& v : crossings[size_t(q)]) {
      const int rel = v.lo - mine.lo;  // within my chunk
      SITEMPI_RC(x.isend(elem(outgoing.get() ? outgoing.get() : result, rel), v.len, t, v.peer, kTagAllreduce, q > 0));
    }
  }
  sent[size_t(K)] = x.posted();
  // The results land in place once my parts of them have left (in place, they are my input); in
  // segments, before the first one is due, so that each lands straight there.
  SITEMPI_RC(x.wait(parts_from, parts_to));
  if (paired) SITEMPI_RC(post_results());
  // 3. Each segment's result, once the other sites' partials of it are in, to every other member.
  // Whole (one segment), waitall: non-contiguous data that crossed in pieces is unpacked there.
  if (!paired) SITEMPI_RC(x.waitall());
  std::vector<void*> sites(static_cast<size_t>(S));
  for (int q = 0; q < K && mine.len; ++q) {
    if (paired) SITEMPI_RC(x.wait(crossed[size_t(q)], crossed[size_t(q) + 1]));
    if (paired && !outgoing.get()) SITEMPI_RC(x.wait(sent[size_t(q)], sent[size_t(q) + 1]));  // folded over below
    const int off = mine.seg.first(q), len = mine.seg.size(q);
    for (int u = 0; u < S; ++u) sites[size_t(u)] = u == s ? elem(result, off) : elem(from[size_t(u)].get(), off);
    SITEMPI_RC(fold_ordered(sites, s, len, t, op, c.priv));
    for (int i = 0; i < n; ++i)
      if (i != k) SITEMPI_RC(x.isend(elem(result, off), len, t, g.of(s)[i], kTagAllreduce));
  }
  if (!paired) SITEMPI_RC(post_results());
  return x.waitall();
}

}  // namespace sitempi::coll
