// Reduce: each site reduces to its leader (the root's site to the root), the other leaders send
// their partial results to the root ((S-1)m across sites, the lower bound), the root combines
// them in site order (MPI's rank order when sites are contiguous, required for
// non-commutative operations). Large contiguous calls leave the other sites in segments
// (coll/segments.h): a site reduces the next segment while its leader's last one crosses.
#include "coll/common.h"
#include "coll/segments.h"

namespace sitempi::coll {

int reduce_site(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, int root,
                bool commutative) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int sr = g.site[size_t(root)], s = x.site(), S = g.S;
  const bool alone = g.count(s) == 1;
  const TypeInfo ti(t);
  // A site of two or more ranks sends its partial to the root in these segments.
  const Segments sg(count, uint64_t(ti.size), ti.contiguous());
  if (s != sr) {
    if (alone) {  // nothing to reduce in the site: send the input itself
      SITEMPI_RC(x.isend(sendbuf, count, t, root, kTagReduce));
      return x.waitall();
    }
    if (!c.leader()) {
      for (int k = 0; k < sg.n; ++k)
        SITEMPI_RC(PMPI_Reduce(at(sendbuf, sg.first(k), ti.extent), nullptr, sg.size(k), t, op, 0, c.local));
      return MPI_SUCCESS;
    }
    TypedBuf partial(count, ti);
    for (int k = 0; k < sg.n; ++k) {
      void* seg = at(partial.get(), sg.first(k), ti.extent);
      SITEMPI_RC(PMPI_Reduce(at(sendbuf, sg.first(k), ti.extent), seg, sg.size(k), t, op, 0, c.local));
      SITEMPI_RC(x.isend(seg, sg.size(k), t, root, kTagReduce, k > 0));
    }
    return x.waitall();
  }
  if (x.me() != root) return PMPI_Reduce(sendbuf, nullptr, count, t, op, g.local_rank[size_t(root)], c.local);
  // The root: post the receives of the other sites' partials, reduce its own site meanwhile.
  std::vector<TypedBuf> bufs(static_cast<size_t>(S));
  std::vector<void*> parts(static_cast<size_t>(S), nullptr);
  for (int u = 0; u < S; ++u) {
    if (u == sr) {
      parts[size_t(u)] = recvbuf;
      continue;
    }
    bufs[size_t(u)].reset(count, ti);
    parts[size_t(u)] = bufs[size_t(u)].get();
    if (g.count(u) == 1) {  // the input itself, whole
      SITEMPI_RC(x.irecv(parts[size_t(u)], count, t, g.leader(u), kTagReduce));
      continue;
    }
    for (int k = 0; k < sg.n; ++k)
      SITEMPI_RC(x.irecv(at(parts[size_t(u)], sg.first(k), ti.extent), sg.size(k), t, g.leader(u), kTagReduce));
  }
  if (!alone) {
    SITEMPI_RC(PMPI_Reduce(sendbuf, recvbuf, count, t, op, g.local_rank[size_t(root)], c.local));
  } else if (sendbuf != MPI_IN_PLACE) {
    SITEMPI_RC(copy_typed(sendbuf, recvbuf, count, t, c.priv));
  }
  SITEMPI_RC(x.waitall());
  if (commutative) {
    for (int u = 0; u < S; ++u)
      if (u != sr) SITEMPI_RC(PMPI_Reduce_local(parts[size_t(u)], recvbuf, count, t, op));
    return MPI_SUCCESS;
  }
  return fold_ordered(parts, sr, count, t, op, c.priv);
}

}  // namespace sitempi::coll
