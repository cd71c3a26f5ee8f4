// Barrier: site barrier, a dissemination barrier among the leaders (ceil(log2 S) zero-byte
// messages per leader, the only cross-site traffic), site barrier.
#include "coll/common.h"

namespace sitempi::coll {

int barrier_site(Ctx& x) {
  SiteCache& c = x.c();
  const bool alone = x.g().count(x.site()) == 1;
  if (!alone) SITEMPI_RC(PMPI_Barrier(c.local));
  if (c.leader()) {
    const int S = x.g().S, s = x.site();
    for (int d = 1; d < S; d <<= 1) {
      SITEMPI_RC(x.irecv_site(nullptr, 0, MPI_BYTE, (s - d + S) % S, kTagBarrier));
      SITEMPI_RC(x.isend_site(nullptr, 0, MPI_BYTE, (s + d) % S, kTagBarrier));
      SITEMPI_RC(x.waitall());
    }
  }
  if (!alone) SITEMPI_RC(PMPI_Barrier(c.local));
  return MPI_SUCCESS;
}

}  // namespace sitempi::coll
