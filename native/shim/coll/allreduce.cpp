// Allreduce: site reduce to the leader; among leaders either the exchange (every leader sends its
// partial to every other: with two sites the optimal swap, 2(S-1)m in all; for S > 2, S(S-1)m in
// one step) or, for S > 2 and m >= m*, reduce-scatter + allgather (2(S-1)m in all, the lower
// bound, in two steps); then a site broadcast. Every leader folds the partials in site order, so
// all ranks get the same bits. Large contiguous calls with the exchange run in segments
// (coll/segments.h): the site reduces one segment while another crosses, and broadcasts each
// result while later ones still arrive.
#include "coll/common.h"
#include "coll/segments.h"

namespace sitempi::coll {

namespace {

int leaders_exchange(Ctx& x, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, const TypeInfo& ti) {
  const int S = x.g().S, s = x.site();
  std::vector<TypedBuf> bufs(static_cast<size_t>(S));
  std::vector<void*> parts(static_cast<size_t>(S), nullptr);
  for (int u = 0; u < S; ++u) {
    if (u == s) {
      parts[size_t(u)] = recvbuf;
      continue;
    }
    bufs[size_t(u)].reset(count, ti);
    parts[size_t(u)] = bufs[size_t(u)].get();
    SITEMPI_RC(x.irecv_site(parts[size_t(u)], count, t, u, kTagAllreduce));
  }
  for (int u = 0; u < S; ++u)
    if (u != s) SITEMPI_RC(x.isend_site(recvbuf, count, t, u, kTagAllreduce));
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
    if (u == s) {
      parts[size_t(u)] = mine;
      continue;
    }
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

// The exchange in segments. The site reduces the segments one after the other (Open MPI's
// blocking algorithms: its non-blocking ones are slower on the site's links); a leader sends each
// reduced segment to the other leaders at once, so the WAN carries one segment while the site
// reduces the next. Then, segment by segment as the other sites' partials arrive, the leader
// folds them in and the site broadcasts the result.
int allreduce_segmented(Ctx& x, const void* sendbuf, void* recvbuf, MPI_Datatype t, MPI_Op op, const TypeInfo& ti,
                        const Segments& sg) {
  SiteCache& c = x.c();
  const int S = x.g().S, s = x.site(), K = sg.n;
  const bool alone = x.g().count(s) == 1;
  const bool in_place = sendbuf == MPI_IN_PLACE;
  auto seg = [&](const void* b, int k) { return const_cast<void*>(at(b, sg.first(k), ti.extent)); };
  if (!c.leader()) {
    for (int k = 0; k < K; ++k)
      SITEMPI_RC(PMPI_Reduce(seg(in_place ? recvbuf : sendbuf, k), nullptr, sg.size(k), t, op, 0, c.local));
    for (int k = 0; k < K; ++k) SITEMPI_RC(PMPI_Bcast(seg(recvbuf, k), sg.size(k), t, 0, c.local));
    return MPI_SUCCESS;
  }
  if (alone && !in_place) SITEMPI_RC(copy_typed(sendbuf, recvbuf, sg.count, t, c.priv));
  // The other sites' partials, received straight into place. Marks: segment k's requests are
  // [received[k], received[k+1]) and [sent[k], sent[k+1]) (a message may go in several pieces).
  std::vector<TypedBuf> bufs(static_cast<size_t>(S));
  for (int u = 0; u < S; ++u)
    if (u != s) bufs[size_t(u)].reset(sg.count, ti);
  std::vector<size_t> received(static_cast<size_t>(K) + 1), sent(static_cast<size_t>(K) + 1);
  // Paced (coll/paced.h), a segment's sends may still be held when its fold is due: they go from
  // a copy of the site's partial, so that the fold need not wait for them.
  const core::RatePace pace = rate_pace_for(1, S - 1, uint64_t(sg.count) * uint64_t(ti.size) * uint64_t(S - 1));
  TypedBuf outgoing;
  if (pace.rate_Bps > 0) {
    x.pace(pace);
    outgoing.reset(sg.count, ti);
  }
  for (int k = 0; k < K; ++k) {
    received[size_t(k)] = x.posted();
    for (int u = 0; u < S; ++u)
      if (u != s) SITEMPI_RC(x.irecv_site(seg(bufs[size_t(u)].get(), k), sg.size(k), t, u, kTagAllreduce));
  }
  received[size_t(K)] = x.posted();
  for (int k = 0; k < K; ++k) {
    if (!alone)
      SITEMPI_RC(
          PMPI_Reduce(in_place ? MPI_IN_PLACE : seg(sendbuf, k), seg(recvbuf, k), sg.size(k), t, op, 0, c.local));
    sent[size_t(k)] = x.posted();
    void* partial = seg(recvbuf, k);
    if (outgoing.get()) {
      SITEMPI_RC(copy_typed(partial, seg(outgoing.get(), k), sg.size(k), t, c.priv));
      partial = seg(outgoing.get(), k);
    }
    for (int u = 0; u < S; ++u)
      if (u != s) SITEMPI_RC(x.isend_site(partial, sg.size(k), t, u, kTagAllreduce, k > 0));
    SITEMPI_RC(x.release_due());
  }
  sent[size_t(K)] = x.posted();
  std::vector<void*> parts(static_cast<size_t>(S));
  for (int k = 0; k < K; ++k) {
    SITEMPI_RC(x.wait(received[size_t(k)], received[size_t(k) + 1]));
    if (!outgoing.get()) SITEMPI_RC(x.wait(sent[size_t(k)], sent[size_t(k) + 1]));  // the partial is folded over below
    for (int u = 0; u < S; ++u) parts[size_t(u)] = seg(u == s ? recvbuf : bufs[size_t(u)].get(), k);
    SITEMPI_RC(fold_ordered(parts, s, sg.size(k), t, op, c.priv));
    if (!alone) SITEMPI_RC(PMPI_Bcast(seg(recvbuf, k), sg.size(k), t, 0, c.local));
  }
  return x.waitall();
}

}  // namespace

int allreduce_site(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, uint32_t alg) {
  SiteCache& c = x.c();
  const bool alone = x.g().count(x.site()) == 1;
  const bool in_place = sendbuf == MPI_IN_PLACE;
  const TypeInfo ti(t);
  if (alg != core::kAlgSiteRsAg) {
    const Segments sg(count, uint64_t(ti.size), ti.contiguous());
    if (sg.cut()) return allreduce_segmented(x, sendbuf, recvbuf, t, op, ti, sg);
  }
  if (!c.leader()) {
    SITEMPI_RC(PMPI_Reduce(in_place ? recvbuf : sendbuf, nullptr, count, t, op, 0, c.local));
    return PMPI_Bcast(recvbuf, count, t, 0, c.local);
  }
  if (!alone) {
    SITEMPI_RC(PMPI_Reduce(in_place ? MPI_IN_PLACE : sendbuf, recvbuf, count, t, op, 0, c.local));
  } else if (!in_place) {
    SITEMPI_RC(copy_typed(sendbuf, recvbuf, count, t, c.priv));
  }
  SITEMPI_RC(alg == core::kAlgSiteRsAg ? leaders_rsag(x, recvbuf, count, t, op, ti)
                                       : leaders_exchange(x, recvbuf, count, t, op, ti));
  if (!alone) SITEMPI_RC(PMPI_Bcast(recvbuf, count, t, 0, c.local));
  return MPI_SUCCESS;
}

}  // namespace sitempi::coll
