// Reduce: each site reduces to its leader (the root's site to the root), the other leaders send
// their partial results to the root ((S-1)m across sites, the lower bound), the root combines
// them in site order (MPI's rank order when sites are contiguous, required for
// non-commutative operations). Large contiguous calls cross in segments (coll/segments.h): a
// site reduces the next segment while its leader's last one crosses, and the root folds each
// segment in as soon as it has arrived, so only the last one's fold follows the last byte.
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
  // Every other site's partial (a site of one rank: its input) reaches the root in these
  // segments, and the root's site reduces in them too.
  const Segments sg(count, uint64_t(ti.size), ti.contiguous(), Cut::kReduce);
  auto seg = [&](const void* b, int k) { return const_cast<void*>(at(b, sg.first(k), ti.extent)); };
  if (s != sr) {
    x.pace(rate_pace_for(1, 1, uint64_t(count) * uint64_t(ti.size)));
    if (alone) {  // nothing to reduce in the site: send the input itself
      for (int k = 0; k < sg.n; ++k) SITEMPI_RC(x.isend(seg(sendbuf, k), sg.size(k), t, root, kTagReduce, k > 0));
      return x.waitall();
    }
    if (!c.leader()) {
      for (int k = 0; k < sg.n; ++k) SITEMPI_RC(PMPI_Reduce(seg(sendbuf, k), nullptr, sg.size(k), t, op, 0, c.local));
      return MPI_SUCCESS;
    }
    TypedBuf partial(count, ti);
    for (int k = 0; k < sg.n; ++k) {
      void* mine = seg(partial.get(), k);
      SITEMPI_RC(PMPI_Reduce(seg(sendbuf, k), mine, sg.size(k), t, op, 0, c.local));
      SITEMPI_RC(x.isend(mine, sg.size(k), t, root, kTagReduce, k > 0));
      SITEMPI_RC(x.release_due());
    }
    return x.waitall();
  }
  // The root's site reduces in the same segments, one before each of the others' is folded in:
  // it is not on the critical path, so it leaves the CPU to the sites whose first segments are.
  const int root_local = g.local_rank[size_t(root)];
  if (x.me() != root) {
    for (int k = 0; k < sg.n; ++k)
      SITEMPI_RC(PMPI_Reduce(seg(sendbuf, k), nullptr, sg.size(k), t, op, root_local, c.local));
    return MPI_SUCCESS;
  }
  // The root: post the receives of the other sites' partials (segment k's requests are
  // [received[k], received[k+1])), then segment by segment reduce its own site and fold them in.
  std::vector<TypedBuf> bufs(static_cast<size_t>(S));
  std::vector<size_t> received(static_cast<size_t>(sg.n) + 1);
  for (int u = 0; u < S; ++u)
    if (u != sr) bufs[size_t(u)].reset(count, ti);
  for (int k = 0; k < sg.n; ++k) {
    received[size_t(k)] = x.posted();
    for (int u = 0; u < S; ++u)
      if (u != sr) SITEMPI_RC(x.irecv(seg(bufs[size_t(u)].get(), k), sg.size(k), t, g.leader(u), kTagReduce));
  }
  received[size_t(sg.n)] = x.posted();
  if (alone && sendbuf != MPI_IN_PLACE) SITEMPI_RC(copy_typed(sendbuf, recvbuf, count, t, c.priv));
  std::vector<void*> parts(static_cast<size_t>(S));
  for (int k = 0; k < sg.n; ++k) {
    if (!alone)
      SITEMPI_RC(PMPI_Reduce(sendbuf == MPI_IN_PLACE ? MPI_IN_PLACE : seg(sendbuf, k), seg(recvbuf, k), sg.size(k), t,
                             op, root_local, c.local));
    // One segment may be non-contiguous data staged in pieces: waitall() unpacks it.
    SITEMPI_RC(sg.cut() ? x.wait(received[size_t(k)], received[size_t(k) + 1]) : x.waitall());
    for (int u = 0; u < S; ++u) parts[size_t(u)] = u == sr ? seg(recvbuf, k) : seg(bufs[size_t(u)].get(), k);
    SITEMPI_RC(fold_at_root(parts, sr, sg.size(k), t, op, commutative, c.priv));
  }
  return x.waitall();
}

}  // namespace sitempi::coll
