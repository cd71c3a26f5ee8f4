// Bcast: the root sends the buffer once to each other site's leader ((S-1)m across sites, the
// lower bound), then every site broadcasts from its root or leader. Large calls reach the other
// sites in segments (coll/segments.h), each broadcast in its site as soon as it has arrived, while
// the next one is still crossing; the root's site broadcasts in the same segments. Segments are
// cut by bytes (ranks may describe the same bytes with different datatypes); non-contiguous
// buffers are staged packed.
#include <climits>

#include "coll/common.h"
#include "coll/segments.h"

namespace sitempi::coll {

namespace {

// The root's site: the root sends to the other sites' leaders, then its site broadcasts.
int bcast_root_site(Ctx& x, void* buf, int count, MPI_Datatype t, int root, const Segments& sg, char* bytes) {
  const core::Grouping& g = x.g();
  const int sr = g.site[size_t(root)];
  if (x.me() == root) {
    x.pace(rate_pace_for(1, g.S - 1, TypeInfo(t).bytes(count) * uint64_t(g.S - 1)));
    for (int u = 0; u < g.S; ++u) {
      if (u == sr) continue;
      if (!sg.cut()) {
        SITEMPI_RC(x.isend(buf, count, t, g.leader(u), kTagBcast));
        continue;
      }
      for (int k = 0; k < sg.n; ++k)
        SITEMPI_RC(x.isend(bytes + sg.first(k), sg.size(k), MPI_BYTE, g.leader(u), kTagBcast, k > 0));
    }
  }
  // The site broadcasts in the same segments, and the root releases its paced sends between them
  // (in one blocking broadcast over a site's TCP, the link would idle once the burst is out).
  const int root_local = g.local_rank[size_t(root)];
  if (g.count(sr) > 1 && sg.cut())
    for (int k = 0; k < sg.n; ++k) {
      SITEMPI_RC(x.release_due());
      SITEMPI_RC(PMPI_Bcast(bytes + sg.first(k), sg.size(k), MPI_BYTE, root_local, x.c().local));
    }
  else if (g.count(sr) > 1) {
    SITEMPI_RC(x.release_due());
    SITEMPI_RC(PMPI_Bcast(buf, count, t, root_local, x.c().local));
  }
  return x.waitall();
}

// Another site: its leader receives from the root; the site broadcasts, segment by segment.
int bcast_other_site(Ctx& x, void* buf, int count, MPI_Datatype t, int root, const Segments& sg, char* bytes) {
  SiteCache& c = x.c();
  const bool alone = x.g().count(x.site()) == 1;
  if (!sg.cut()) {
    if (c.leader()) {
      SITEMPI_RC(x.irecv(buf, count, t, root, kTagBcast));
      SITEMPI_RC(x.waitall());
    }
    return alone ? MPI_SUCCESS : PMPI_Bcast(buf, count, t, 0, c.local);
  }
  std::vector<size_t> received(static_cast<size_t>(sg.n) + 1, 0);
  if (c.leader()) {
    for (int k = 0; k < sg.n; ++k) {
      received[size_t(k)] = x.posted();
      SITEMPI_RC(x.irecv(bytes + sg.first(k), sg.size(k), MPI_BYTE, root, kTagBcast));
    }
    received[size_t(sg.n)] = x.posted();
  }
  for (int k = 0; k < sg.n; ++k) {
    if (c.leader()) SITEMPI_RC(x.wait(received[size_t(k)], received[size_t(k) + 1]));
    if (!alone) SITEMPI_RC(PMPI_Bcast(bytes + sg.first(k), sg.size(k), MPI_BYTE, 0, c.local));
  }
  return x.waitall();
}

}  // namespace

int bcast_site(Ctx& x, void* buf, int count, MPI_Datatype t, int root) {
  const TypeInfo ti(t);
  const uint64_t total = ti.bytes(count);
  const Segments sg(total <= uint64_t(INT_MAX) ? int(total) : 0, 1, true);
  // The bytes the segments address: the buffer itself when contiguous, else a packed copy.
  Scratch staged;
  char* bytes = static_cast<char*>(buf) + ti.true_lb;
  const bool at_root = x.me() == root, in_root_site = x.site() == x.g().site[size_t(root)];
  const bool stage = sg.cut() && !ti.contiguous();
  if (stage) {
    staged.reset(total);
    bytes = staged.data();
    if (at_root) SITEMPI_RC(pack(buf, count, t, bytes, int(total), 0, x.c().priv));
  }
  SITEMPI_RC(in_root_site ? bcast_root_site(x, buf, count, t, root, sg, bytes)
                          : bcast_other_site(x, buf, count, t, root, sg, bytes));
  return stage && !at_root ? unpack(bytes, int(total), 0, buf, count, t, x.c().priv) : MPI_SUCCESS;
}

}  // namespace sitempi::coll
