#include "coll/layout.h"

#include <mpi.h>

#include <climits>

#include "coll/common.h"

namespace sitempi::coll {

SiteLayout::SiteLayout(const core::Grouping& g, const std::vector<uint64_t>& block) {
  pos.assign(size_t(g.P), 0);
  site_off.assign(size_t(g.S) + 1, 0);
  uint64_t off = 0;
  for (int s = 0; s < g.S; ++s) {
    site_off[size_t(s)] = off;
    for (int k = 0; k < g.count(s); ++k) {
      const int j = g.of(s)[k];
      pos[size_t(j)] = off;
      off += block[size_t(j)];
    }
  }
  site_off[size_t(g.S)] = off;
  total = off;
}

int site_blocks(SiteCache& c, int mine, uint64_t uniform_bytes, SiteBlocks* at_leader) {
  if (!at_leader) return uniform_bytes ? MPI_SUCCESS : PMPI_Gather(&mine, 1, MPI_INT, nullptr, 1, MPI_INT, 0, c.local);
  const int n = c.g.count(c.site());
  SiteBlocks& b = *at_leader;
  b.counts.assign(size_t(n), int(uniform_bytes));
  b.offs.assign(size_t(n), 0);
  if (!uniform_bytes && n > 1) {
    const int rc = PMPI_Gather(&mine, 1, MPI_INT, b.counts.data(), 1, MPI_INT, 0, c.local);
    if (rc != MPI_SUCCESS) return rc;
  }
  b.counts[0] = mine;
  b.total = 0;
  for (int k = 0; k < n; ++k) {
    b.offs[size_t(k)] = b.total;
    b.total += b.counts[size_t(k)];
  }
  return MPI_SUCCESS;
}

RootView::RootView(void* buf, const int* displs, MPI_Datatype t, const std::vector<uint64_t>& block) {
  const TypeInfo ti(t);
  const size_t P = block.size();
  off.assign(P, 0);
  direct = ti.contiguous();
  for (size_t j = 0; j < P && direct; ++j) {
    const int64_t o = int64_t(displs[j]) * int64_t(ti.extent);
    direct = o >= 0 && uint64_t(o) + block[j] <= uint64_t(INT_MAX);
    off[j] = uint64_t(o);
  }
  if (direct) {
    base = static_cast<char*>(buf) + ti.true_lb;
    return;
  }
  uint64_t total = 0;
  for (size_t j = 0; j < P; ++j) {
    off[j] = total;
    total += block[j];
  }
  staging.reset(total);
  base = staging.data();
}

int block_bytes(const void* buf, int count, MPI_Datatype t, Scratch* tmp, const char** bytes, MPI_Comm comm) {
  const TypeInfo ti(t);
  if (ti.contiguous()) {
    *bytes = static_cast<const char*>(buf) + ti.true_lb;
    return MPI_SUCCESS;
  }
  const int n = int(ti.bytes(count));
  tmp->reset(size_t(n));
  *bytes = tmp->data();
  return pack(buf, count, t, tmp->data(), n, 0, comm);
}

}  // namespace sitempi::coll
