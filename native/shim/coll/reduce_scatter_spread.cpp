// Reduce_scatter(_block) spread over the sites' members (alg kAlgSitePairwise): no leader. Each
// member of a site reduces, over its site, its own block and its share of the other sites' blocks
// (core::spread_owner), the other members sending it their part of each block straight from their
// input. It sends each other site's block partial straight to the block's rank as soon as it is
// folded (those blocks travel first, so they cross while the member's own block is still being
// reduced), and every rank folds the sites' partials of its own block in site order (MPI's rank
// order when sites are contiguous). Cross-site: (S-1)·V, the bound, as through the leaders, but
// over every member's link in P(S-1) messages, and the reductions and copies the leader did alone
// are shared by its site.
#include "coll/common.h"
#include "coll/handoff.h"

namespace sitempi::coll {

namespace {

// The non-empty blocks `owner` reduces over site s: the other sites' first, its own last.
void share_of(const core::Grouping& g, int s, int owner, const int* rcounts, std::vector<int>& ranks) {
  ranks.clear();
  for (int j = 0; j < g.P; ++j)
    if (rcounts[j] && j != owner && core::spread_owner(g, j, s) == owner) ranks.push_back(j);
  if (rcounts[owner]) ranks.push_back(owner);
}

}  // namespace

int reduce_scatter_spread(Ctx& x, const void* sendbuf, void* recvbuf, const int* rcounts, MPI_Datatype t, MPI_Op op) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int P = g.P, S = g.S, s = x.site(), me = x.me(), n = g.count(s), own = rcounts[me];
  const int k = g.local_rank[size_t(me)];
  const void* input = sendbuf == MPI_IN_PLACE ? recvbuf : sendbuf;
  const TypeInfo ti(t);
  std::vector<int> displ(static_cast<size_t>(P), 0);  // block j starts at element displ[j]
  for (int j = 1; j < P; ++j) displ[size_t(j)] = displ[size_t(j) - 1] + rcounts[j - 1];
  // The other sites' partials of my block, posted first: they may come before my site is done.
  std::vector<TypedBuf> from(static_cast<size_t>(S));
  for (int u = 0; u < S; ++u) {
    if (u == s || !own) continue;
    from[size_t(u)].reset(own, ti);
    SITEMPI_RC(x.irecv(from[size_t(u)].get(), own, t, core::spread_owner(g, me, u), kTagReduceScatter));
  }
  // My share, laid out block after block: parts[i] holds member i's part of it (mine: the fold).
  std::vector<int> mine, ranks;
  share_of(g, s, me, rcounts, mine);
  std::vector<int> pos(mine.size() + 1, 0);
  for (size_t b = 0; b < mine.size(); ++b) pos[b + 1] = pos[b] + rcounts[mine[b]];
  std::vector<TypedBuf> contrib(static_cast<size_t>(n));
  std::vector<void*> parts(static_cast<size_t>(n));
  std::vector<std::pair<size_t, size_t>> arrived(mine.size());  // each block's site receives
  if (n > 1 && !mine.empty()) {
    for (int i = 0; i < n; ++i) {
      contrib[size_t(i)].reset(pos.back(), ti);
      parts[size_t(i)] = contrib[size_t(i)].get();
    }
    for (size_t b = 0; b < mine.size(); ++b) {
      arrived[b].first = x.posted();
      for (int i = 0; i < n; ++i)
        if (i != k)
          SITEMPI_RC(
              x.irecv(at(parts[size_t(i)], pos[b], ti.extent), rcounts[mine[b]], t, g.of(s)[i], kTagReduceScatter));
      arrived[b].second = x.posted();
      SITEMPI_RC(copy_typed(at(input, displ[size_t(mine[b])], ti.extent), at(parts[size_t(k)], pos[b], ti.extent),
                            rcounts[mine[b]], t, c.priv));
    }
  }
  if (n > 1) {
    // To every other member, its other sites' blocks first: those cross once folded.
    for (int i = 0; i < n; ++i) {
      if (i == k) continue;
      const int o = g.of(s)[i];
      share_of(g, s, o, rcounts, ranks);
      for (int j : ranks)
        if (j != o) SITEMPI_RC(x.isend(at(input, displ[size_t(j)], ti.extent), rcounts[j], t, o, kTagReduceScatter));
    }
    // Then, once the ranks sharing this rank's cores have posted theirs (coll/handoff.h), each
    // member's own block (last in its share, as it receives them), folded only after the crossing.
    hand_off_cores();
    for (int i = 0; i < n; ++i) {
      const int o = g.of(s)[i];
      if (i != k && rcounts[o])
        SITEMPI_RC(x.isend(at(input, displ[size_t(o)], ti.extent), rcounts[o], t, o, kTagReduceScatter));
    }
  }
  // Fold block by block as each arrives; the other sites' blocks leave at once (a site of one
  // sends them straight from its input), or paced (coll/paced.h), released by the waits.
  uint64_t cross = 0;
  for (int j : mine)
    if (j != me) cross += ti.bytes(rcounts[j]);
  x.pace(rate_pace_for(n, S - 1, cross, spread_pace_limit(x.c())));
  std::vector<void*> at_b(static_cast<size_t>(n));
  for (size_t b = 0; b < mine.size(); ++b) {
    const void* partial = at(input, displ[size_t(mine[b])], ti.extent);
    if (n > 1) {
      SITEMPI_RC(x.wait(arrived[b].first, arrived[b].second));
      for (int i = 0; i < n; ++i) at_b[size_t(i)] = at(parts[size_t(i)], pos[b], ti.extent);
      SITEMPI_RC(fold_ordered(at_b, k, rcounts[mine[b]], t, op, c.priv));
      partial = at_b[size_t(k)];
    }
    if (mine[b] != me) SITEMPI_RC(x.isend(partial, rcounts[mine[b]], t, mine[b], kTagReduceScatter));
  }
  // Every send from the input has completed before recvbuf (which may be the input) is written.
  SITEMPI_RC(x.waitall());
  if (!own) return MPI_SUCCESS;
  const void* site_partial =
      n > 1 ? at(parts[size_t(k)], pos[mine.size() - 1], ti.extent) : at(input, displ[size_t(me)], ti.extent);
  SITEMPI_RC(copy_typed(site_partial, recvbuf, own, t, c.priv));
  std::vector<void*> sites(static_cast<size_t>(S));
  for (int u = 0; u < S; ++u) sites[size_t(u)] = u == s ? recvbuf : from[size_t(u)].get();
  return fold_ordered(sites, s, own, t, op, c.priv);
}

}  // namespace sitempi::coll
