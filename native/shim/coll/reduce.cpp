// Reduce: each site reduces to its leader (the root's site to the root), the other leaders send
// their partial results to the root ((S-1)m across sites, the lower bound), the root combines
// them in site order (MPI's rank order when sites are contiguous, required for
// non-commutative operations).
#include "coll/common.h"

namespace sitempi::coll {

int reduce_site(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, int root,
                bool commutative) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int sr = g.site[size_t(root)], s = x.site(), S = g.S;
  const bool alone = g.count(s) == 1;
  const TypeInfo ti(t);
  if (s != sr) {
    if (!c.leader()) return PMPI_Reduce(sendbuf, nullptr, count, t, op, 0, c.local);
    if (alone) {  // nothing to reduce in the site: send the input itself
      SITEMPI_RC(x.isend(sendbuf, count, t, root, kTagReduce));
      return x.waitall();
    }
    TypedBuf partial(count, ti);
    SITEMPI_RC(PMPI_Reduce(sendbuf, partial.get(), count, t, op, 0, c.local));
    SITEMPI_RC(x.isend(partial.get(), count, t, root, kTagReduce));
    return x.waitall();
  }
  if (x.me() != root) return PMPI_Reduce(sendbuf, nullptr, count, t, op, g.local_rank[size_t(root)], c.local);
  // The root: post the receives of the other sites' partials, reduce its own site meanwhile.
  std::vector<TypedBuf> bufs(static_cast<size_t>(S));
  std::vector<void*> parts(static_cast<size_t>(S), nullptr);
  for (int u = 0; u < S; ++u) {
    if (u == sr) { parts[size_t(u)] = recvbuf; continue; }
    bufs[size_t(u)].reset(count, ti);
    parts[size_t(u)] = bufs[size_t(u)].get();
    SITEMPI_RC(x.irecv(parts[size_t(u)], count, t, g.leader(u), kTagReduce));
  }
  if (!alone) {
    SITEMPI_RC(PMPI_Reduce(sendbuf, recvbuf, count, t, op, g.local_rank[size_t(root)], c.local));
  } else if (sendbuf != MPI_IN_PLACE) {
    SITEMPI_RC(copy_typed(sendbuf, recvbuf, count, t, c.priv));
  }
  SITEMPI_RC(x.waitall());
  if (commutative) {
    for (int u = 0; u < S; ++u) if (u != sr) SITEMPI_RC(PMPI_Reduce_local(parts[size_t(u)], recvbuf, count, t, op));
    return MPI_SUCCESS;
  }
  return fold_ordered(parts, sr, count, t, op, c.priv);
}

}  // namespace sitempi::coll
