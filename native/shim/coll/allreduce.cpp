// Allreduce: site reduce to the leader; among leaders either the exchange (every leader sends its
// partial to every other: with two sites the optimal swap, 2(S-1)m in all; for S > 2, S(S-1)m in
// one step) or, for S > 2 and m >= m*, reduce-scatter + allgather (2(S-1)m in all, the lower
// bound, in two steps); then a site broadcast. Every leader folds the partials in site order, so
// all ranks get the same bits.
#include "coll/common.h"

namespace sitempi::coll {

namespace {

int leaders_exchange(Ctx& x, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, const TypeInfo& ti) {
  const int S = x.g().S, s = x.site();
  std::vector<TypedBuf> bufs(static_cast<size_t>(S));
  std::vector<void*> parts(static_cast<size_t>(S), nullptr);
  for (int u = 0; u < S; ++u) {
    if (u == s) { parts[size_t(u)] = recvbuf; continue; }
    bufs[size_t(u)].reset(count, ti);
    parts[size_t(u)] = bufs[size_t(u)].get();
    SITEMPI_RC(x.irecv_site(parts[size_t(u)], count, t, u, kTagAllreduce));
  }
  for (int u = 0; u < S; ++u) if (u != s) SITEMPI_RC(x.isend_site(recvbuf, count, t, u, kTagAllreduce));
  SITEMPI_RC(x.waitall());
  return fold_ordered(parts, s, count, t, op, x.c().priv);
}

int leaders_rsag(Ctx& x, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, const TypeInfo& ti) {
  const int S = x.g().S, s = x.site();
  const uint64_t n = uint64_t(count);
  auto off = [&](int u) { return MPI_Aint(core::rsag_offset(n, S, u)); };
  auto len = [&](int u) { return int(core::rsag_chunk(n, S, u)); };
  // Reduce-scatter: chunk u of my partial to leader u; the others' copies of my chunk to me.
  std::vector<TypedBuf> bufs(static_cast<size_t>(S));
  std::vector<void*> parts(static_cast<size_t>(S), nullptr);
  void* mine = at(recvbuf, off(s), ti.extent);
  for (int u = 0; u < S; ++u) {
    if (u == s) { parts[size_t(u)] = mine; continue; }
    bufs[size_t(u)].reset(len(s), ti);
    parts[size_t(u)] = bufs[size_t(u)].get();
    if (len(s)) SITEMPI_RC(x.irecv_site(parts[size_t(u)], len(s), t, u, kTagAllreduce));
  }
  for (int u = 0; u < S; ++u)
    if (u != s && len(u)) SITEMPI_RC(x.isend_site(at(recvbuf, off(u), ti.extent), len(u), t, u, kTagAllreduce));
  SITEMPI_RC(x.waitall());
  SITEMPI_RC(fold_ordered(parts, s, len(s), t, op, x.c().priv));
  // Allgather of the reduced chunks.
  for (int u = 0; u < S; ++u)
    if (u != s && len(u)) SITEMPI_RC(x.irecv_site(at(recvbuf, off(u), ti.extent), len(u), t, u, kTagAllreduce));
  for (int u = 0; u < S; ++u)
    if (u != s && len(s)) SITEMPI_RC(x.isend_site(mine, len(s), t, u, kTagAllreduce));
  return x.waitall();
}

}  // namespace

int allreduce_site(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, uint32_t alg) {
  SiteCache& c = x.c();
  const bool alone = x.g().count(x.site()) == 1;
  const bool in_place = sendbuf == MPI_IN_PLACE;
  if (!c.leader()) {
    SITEMPI_RC(PMPI_Reduce(in_place ? recvbuf : sendbuf, nullptr, count, t, op, 0, c.local));
    return PMPI_Bcast(recvbuf, count, t, 0, c.local);
  }
  if (!alone) {
    SITEMPI_RC(PMPI_Reduce(in_place ? MPI_IN_PLACE : sendbuf, recvbuf, count, t, op, 0, c.local));
  } else if (!in_place) {
    SITEMPI_RC(copy_typed(sendbuf, recvbuf, count, t, c.priv));
  }
  const TypeInfo ti(t);
  SITEMPI_RC(alg == core::kAlgSiteRsAg ? leaders_rsag(x, recvbuf, count, t, op, ti)
                                       : leaders_exchange(x, recvbuf, count, t, op, ti));
  if (!alone) SITEMPI_RC(PMPI_Bcast(recvbuf, count, t, 0, c.local));
  return MPI_SUCCESS;
}

}  // namespace sitempi::coll
