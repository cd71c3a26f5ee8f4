// Bcast: the root sends the buffer once to each other site's leader ((S-1)m across sites, the
// lower bound), then every site broadcasts from its root or leader.
#include "coll/common.h"

namespace sitempi::coll {

int bcast_site(Ctx& x, void* buf, int count, MPI_Datatype t, int root) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int sr = g.site[size_t(root)], s = x.site();
  if (x.me() == root)
    for (int u = 0; u < g.S; ++u) if (u != sr) SITEMPI_RC(x.isend(buf, count, t, g.leader(u), kTagBcast));
  if (s == sr) {
    if (g.count(s) > 1) SITEMPI_RC(PMPI_Bcast(buf, count, t, g.local_rank[size_t(root)], c.local));
  } else {
    if (c.leader()) {
      SITEMPI_RC(x.irecv(buf, count, t, root, kTagBcast));
      SITEMPI_RC(x.waitall());
    }
    if (g.count(s) > 1) SITEMPI_RC(PMPI_Bcast(buf, count, t, 0, c.local));
  }
  return x.waitall();
}

}  // namespace sitempi::coll
