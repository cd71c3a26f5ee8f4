// Reduce_scatter(_block): each site reduces the whole vector to its leader; leader s sends leader t
// the blocks of t's ranks (one message: an indexed datatype over its partial, so nothing is copied
// when t's ranks are consecutive); every leader folds the other sites' partials of its own site's
// blocks in site order (MPI's rank order when sites are contiguous) and scatters them in its site.
// Cross-site: (S-1) times the vector in all, in one step. That is the lower bound: every site's
// contribution to the blocks of each other site must leave it, at least their size each.
#include "coll/common.h"

namespace sitempi::coll {

namespace {

// A derived datatype freed at the end of the call (MPI lets sends that use it complete).
struct OwnedType {
  MPI_Datatype t = MPI_DATATYPE_NULL;
  ~OwnedType() {
    if (t != MPI_DATATYPE_NULL) PMPI_Type_free(&t);
  }
};

}  // namespace

int reduce_scatter_site(Ctx& x, const void* sendbuf, void* recvbuf, const int* rcounts, MPI_Datatype t, MPI_Op op) {
  SiteCache& c = x.c();
  const core::Grouping& g = x.g();
  const int P = g.P, S = g.S, s = x.site(), me = x.me();
  const void* input = sendbuf == MPI_IN_PLACE ? recvbuf : sendbuf;
  const TypeInfo ti(t);
  std::vector<int> displ(static_cast<size_t>(P) + 1, 0);  // block j starts at element displ[j]
  for (int j = 0; j < P; ++j) displ[size_t(j) + 1] = displ[size_t(j)] + rcounts[j];
  const int N = displ[size_t(P)];
  if (!c.leader()) {
    SITEMPI_RC(PMPI_Reduce(input, nullptr, N, t, op, 0, c.local));
    return PMPI_Scatterv(nullptr, nullptr, nullptr, t, recvbuf, rcounts[me], t, 0, c.local);
  }
  TypedBuf partial(N, ti);
  if (g.count(s) == 1) {
    SITEMPI_RC(copy_typed(input, partial.get(), N, t, c.priv));
  } else {
    SITEMPI_RC(PMPI_Reduce(input, partial.get(), N, t, op, 0, c.local));
  }
  // Site u's blocks, in member order: lengths and displacements in the vector.
  auto site_blocks = [&](int u, std::vector<int>& lens, std::vector<int>& offs) {
    lens.clear();
    offs.clear();
    int total = 0;
    for (int k = 0; k < g.count(u); ++k) {
      const int j = g.of(u)[k];
      lens.push_back(rcounts[j]);
      offs.push_back(displ[size_t(j)]);
      total += rcounts[j];
    }
    return total;
  };
  std::vector<int> mine_lens, mine_offs, lens, offs;
  const int mine = site_blocks(s, mine_lens, mine_offs);
  std::vector<TypedBuf> bufs(static_cast<size_t>(S));
  for (int u = 0; u < S; ++u) {
    if (u == s || !mine) continue;
    bufs[size_t(u)].reset(mine, ti);
    SITEMPI_RC(x.irecv_site(bufs[size_t(u)].get(), mine, t, u, kTagReduceScatter));
  }
  std::vector<OwnedType> types(static_cast<size_t>(S));
  for (int u = 0; u < S; ++u) {
    if (u == s || !site_blocks(u, lens, offs)) continue;
    MPI_Datatype& ty = types[size_t(u)].t;
    SITEMPI_RC(PMPI_Type_indexed(int(lens.size()), lens.data(), offs.data(), t, &ty));
    SITEMPI_RC(PMPI_Type_commit(&ty));
    SITEMPI_RC(x.isend_site(partial.get(), 1, ty, u, kTagReduceScatter));
  }
  SITEMPI_RC(x.waitall());
  // Fold block by block: the received partials hold my site's blocks back to back.
  std::vector<void*> parts(static_cast<size_t>(S));
  int off = 0;
  for (size_t k = 0; k < mine_lens.size(); off += mine_lens[k], ++k) {
    if (!mine_lens[k]) continue;
    for (int u = 0; u < S; ++u)
      parts[size_t(u)] =
          u == s ? at(partial.get(), mine_offs[k], ti.extent) : at(bufs[size_t(u)].get(), off, ti.extent);
    SITEMPI_RC(fold_ordered(parts, s, mine_lens[k], t, op, c.priv));
  }
  if (g.count(s) == 1)
    return copy_typed(at(partial.get(), displ[size_t(me)], ti.extent), recvbuf, rcounts[me], t, c.priv);
  return PMPI_Scatterv(partial.get(), mine_lens.data(), mine_offs.data(), t, recvbuf, rcounts[me], t, 0, c.local);
}

}  // namespace sitempi::coll
