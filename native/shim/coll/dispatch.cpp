// The site-aware collectives' entry points (called by the generated C wrappers). Each checks, in
// this order: the relocation agreement (coll/agreement.h; monitor mode only: counts the call and,
// at a checkpoint, may switch the cache), the job-wide switch (one load), the communicator's
// cache (one cached lookup; nullptr for communicators with no usable sites), then the algorithm
// choice shared with the cost model (core::choose_alg). Anything not covered runs as PMPI and is
// still recorded by the wrapper.
// No exception leaves this file.
#include "coll/dispatch.h"

#include <new>
#include <vector>

#include "coll/agreement.h"
#include "coll/common.h"
#include "coll/nonblocking.h"
#include "coll/progress_hook.h"
#include "config.h"

namespace sitempi::coll {

namespace {

using core::Coll;

inline SiteCache* site_cache_for(Coll c, MPI_Comm comm) {
  // While the relocation agreement runs, every covered call counts (whatever SITEMPI_COLL says):
  // checkpoints fall on the same call on every rank.
  if (__builtin_expect(g_agree_on, 0)) return agree_acquire(c, comm);
  if (__builtin_expect(!coll_enabled(c), 1)) return nullptr;
  return acquire(comm);
}

// Site-aware Iallreduce and Ibcast: on unless SITEMPI_COLL_NONBLOCKING=0, and only where the
// library's progress engine advances their chains (coll/progress_hook.h): the same on every rank.
bool nonblocking_on() { return shim::config().coll_nonblocking && progress_hook_install(); }

bool commutative(MPI_Op op) {
  int comm = 0;
  return PMPI_Op_commutative(op, &comm) == MPI_SUCCESS && comm != 0;
}

uint64_t bytes_of(MPI_Datatype t, int count) {
  int size = 0;
  if (count <= 0 || PMPI_Type_size(t, &size) != MPI_SUCCESS || size <= 0) return 0;
  return uint64_t(size) * uint64_t(count);
}

core::CollChoice choice(const SiteCache& c, uint64_t m, bool variable, uint64_t elems = 0, bool comm = true) {
  core::CollChoice p;
  p.m = m;
  p.variable = variable;
  p.elems = elems;
  p.commutative = comm;
  p.rsag_min = c.rsag_min;
  p.xor_cross = c.xor_cross;
  p.small_bytes = g_small_bytes;
  p.node_sites = c.node_sites;
  p.spread = g_coll_spread;
  p.alltoall = g_alltoall_force;
  p.alpha_s = g_alpha_s;
  p.bandwidth_Bps = g_bandwidth;
  return p;
}

uint32_t choose(Coll coll, const SiteCache& c, uint64_t m, bool variable, uint64_t elems = 0, bool comm = true) {
  return core::choose_alg(coll, c.g, choice(c, m, variable, elems, comm));
}

// Runs a site-aware algorithm. Whether a call runs one or PMPI is decided for the whole
// communicator: from its cache (active on every rank or on none, cache.cpp) and the arguments
// MPI requires to match (roots, byte counts, the operation), never from something one rank alone
// sees. So a failure inside the algorithm (an allocation: the algorithms throw nothing else) is
// not followed by PMPI on this rank alone: its peers are in the site algorithm and would wait
// for it forever. It is reported as MPI reports running out of memory; knowing that every rank
// could go on would need an agreement in every call, a round trip across sites each time.
template <typename Alg>
int run(Outcome* out, uint32_t alg, Alg&& body) {
  *out = Outcome{};
  out->alg = alg;
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return MPI_ERR_NO_MEM;
  } catch (...) {
    return MPI_ERR_INTERN;
  }
}

int reduce_scatter_alg(Ctx& x, uint32_t alg, const void* sendbuf, void* recvbuf, const int* rcounts, MPI_Datatype t,
                       MPI_Op op) {
  if (alg == core::kAlgSitePairwise) return reduce_scatter_spread(x, sendbuf, recvbuf, rcounts, t, op);
  return reduce_scatter_site(x, sendbuf, recvbuf, rcounts, t, op);
}

std::vector<int> iota_scaled(int P, int step) {
  std::vector<int> v(static_cast<size_t>(P));
  for (int j = 0; j < P; ++j) v[size_t(j)] = j * step;
  return v;
}

}  // namespace

bool site_aware_in_use() { return g_agree_on || g_coll_mask != 0; }

std::atomic<uint64_t> g_coll_word{kIdle};

void publish_switches() {
  const uint64_t low = g_coll_mask | (g_agree_on ? kAgreeOn : 0);
  uint64_t w = g_coll_word.load(std::memory_order_relaxed);
  while (!g_coll_word.compare_exchange_weak(w, (w & kIdle) | low, std::memory_order_relaxed)) {
  }
}

void set_recording(bool on) {
  if (on)
    g_coll_word.fetch_and(~kIdle);
  else
    g_coll_word.fetch_or(kIdle);
}

int Barrier(MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Barrier, comm);
  if (!c) return PMPI_Barrier(comm);
  const uint32_t alg = choose(Coll::Barrier, *c, 0, false);
  if (!alg) return PMPI_Barrier(comm);
  return run(out, alg, [&] {
    Ctx x(*c, out);
    return barrier_site(x);
  });
}

int Bcast(void* buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Bcast, comm);
  auto pmpi = [&] { return PMPI_Bcast(buffer, count, datatype, root, comm); };
  if (!c || root < 0 || root >= c->g.P) return pmpi();
  const uint32_t alg = choose(Coll::Bcast, *c, bytes_of(datatype, count), false);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    return bcast_site(x, buffer, count, datatype, root);
  });
}

int Reduce(const void* sendbuf, void* recvbuf, int count, MPI_Datatype datatype, MPI_Op op, int root, MPI_Comm comm,
           Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Reduce, comm);
  auto pmpi = [&] { return PMPI_Reduce(sendbuf, recvbuf, count, datatype, op, root, comm); };
  if (!c || root < 0 || root >= c->g.P) return pmpi();
  const bool comm_op = commutative(op);
  const uint32_t alg =
      choose(Coll::Reduce, *c, bytes_of(datatype, count), false, uint64_t(count > 0 ? count : 0), comm_op);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    if (alg == core::kAlgSitePairwise) return reduce_spread(x, sendbuf, recvbuf, count, datatype, op, root, comm_op);
    return reduce_site(x, sendbuf, recvbuf, count, datatype, op, root, comm_op);
  });
}

int Allreduce(const void* sendbuf, void* recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
              Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Allreduce, comm);
  auto pmpi = [&] { return PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm); };
  if (!c) return pmpi();
  const uint32_t alg =
      choose(Coll::Allreduce, *c, bytes_of(datatype, count), false, uint64_t(count > 0 ? count : 0), commutative(op));
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    if (alg == core::kAlgSitePairwise) return allreduce_spread(x, sendbuf, recvbuf, count, datatype, op);
    return allreduce_site(x, sendbuf, recvbuf, count, datatype, op, alg);
  });
}

int Reduce_scatter_block(const void* sendbuf, void* recvbuf, int recvcount, MPI_Datatype datatype, MPI_Op op,
                         MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::ReduceScatterBlock, comm);
  auto pmpi = [&] { return PMPI_Reduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm); };
  if (!c || recvcount <= 0) return pmpi();
  const bool comm_op = commutative(op);
  const uint32_t alg = choose(Coll::ReduceScatterBlock, *c, bytes_of(datatype, recvcount), false,
                              uint64_t(recvcount) * uint64_t(c->g.P), comm_op);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    const std::vector<int> counts(static_cast<size_t>(c->g.P), recvcount);
    return reduce_scatter_alg(x, alg, sendbuf, recvbuf, counts.data(), datatype, op);
  });
}

int Reduce_scatter(const void* sendbuf, void* recvbuf, const int recvcounts[], MPI_Datatype datatype, MPI_Op op,
                   MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::ReduceScatter, comm);
  auto pmpi = [&] { return PMPI_Reduce_scatter(sendbuf, recvbuf, recvcounts, datatype, op, comm); };
  if (!c || !recvcounts) return pmpi();
  uint64_t elems = 0;  // recvcounts is the same on every rank: so is the choice
  for (int j = 0; j < c->g.P; ++j) {
    if (recvcounts[j] < 0) return pmpi();
    elems += uint64_t(recvcounts[j]);
  }
  const bool comm_op = commutative(op);
  const uint32_t alg = choose(Coll::ReduceScatter, *c, bytes_of(datatype, 1) * elems, true, elems, comm_op);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    return reduce_scatter_alg(x, alg, sendbuf, recvbuf, recvcounts, datatype, op);
  });
}

int Iallreduce(const void* sendbuf, void* recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
               MPI_Request* request, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = nonblocking_on() ? site_cache_for(Coll::Allreduce, comm) : nullptr;
  auto pmpi = [&] { return PMPI_Iallreduce(sendbuf, recvbuf, count, datatype, op, comm, request); };
  if (!c) return pmpi();
  core::CollChoice p = choice(*c, bytes_of(datatype, count), false, uint64_t(count > 0 ? count : 0), commutative(op));
  p.blocking = false;
  const uint32_t alg = core::choose_alg(Coll::Allreduce, c->g, p);
  if (!alg) return pmpi();
  return run(out, alg,
             [&] { return nb_launch(iallreduce_chain(*c, sendbuf, recvbuf, count, datatype, op, alg), request, out); });
}

int Ibcast(void* buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm, MPI_Request* request,
           Outcome* out) {
  *out = Outcome{};
  SiteCache* c = nonblocking_on() ? site_cache_for(Coll::Bcast, comm) : nullptr;
  auto pmpi = [&] { return PMPI_Ibcast(buffer, count, datatype, root, comm, request); };
  if (!c || root < 0 || root >= c->g.P) return pmpi();
  const uint32_t alg = choose(Coll::Bcast, *c, bytes_of(datatype, count), false);
  if (!alg) return pmpi();
  return run(out, alg, [&] { return nb_launch(ibcast_chain(*c, buffer, count, datatype, root), request, out); });
}

int Gather(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, int recvcount,
           MPI_Datatype recvtype, int root, MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Gather, comm);
  auto pmpi = [&] { return PMPI_Gather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm); };
  if (!c || root < 0 || root >= c->g.P) return pmpi();
  const bool at_root = c->me == root;
  const uint64_t m = at_root && sendbuf == MPI_IN_PLACE ? bytes_of(recvtype, recvcount) : bytes_of(sendtype, sendcount);
  const uint32_t alg = choose(Coll::Gather, *c, m, false);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    std::vector<int> counts, displs;
    if (at_root) {
      counts.assign(size_t(c->g.P), recvcount);
      displs = iota_scaled(c->g.P, recvcount);
    }
    return gather_site(x, sendbuf, sendcount, sendtype, recvbuf, counts.data(), displs.data(), recvtype, root, m, alg);
  });
}

int Gatherv(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int recvcounts[],
            const int displs[], MPI_Datatype recvtype, int root, MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Gatherv, comm);
  auto pmpi = [&] {
    return PMPI_Gatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, root, comm);
  };
  if (!c || root < 0 || root >= c->g.P) return pmpi();
  const uint32_t alg = choose(Coll::Gatherv, *c, 0, true);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    return gather_site(x, sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, root, 0, alg);
  });
}

int Scatter(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, int recvcount,
            MPI_Datatype recvtype, int root, MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Scatter, comm);
  auto pmpi = [&] { return PMPI_Scatter(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm); };
  if (!c || root < 0 || root >= c->g.P) return pmpi();
  const bool at_root = c->me == root;
  const uint64_t m = at_root ? bytes_of(sendtype, sendcount) : bytes_of(recvtype, recvcount);
  const uint32_t alg = choose(Coll::Scatter, *c, m, false);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    std::vector<int> counts, displs;
    if (at_root) {
      counts.assign(size_t(c->g.P), sendcount);
      displs = iota_scaled(c->g.P, sendcount);
    }
    return scatter_site(x, sendbuf, counts.data(), displs.data(), sendtype, recvbuf, recvcount, recvtype, root, m);
  });
}

int Scatterv(const void* sendbuf, const int sendcounts[], const int displs[], MPI_Datatype sendtype, void* recvbuf,
             int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Scatterv, comm);
  auto pmpi = [&] {
    return PMPI_Scatterv(sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root, comm);
  };
  if (!c || root < 0 || root >= c->g.P) return pmpi();
  const uint32_t alg = choose(Coll::Scatterv, *c, 0, true);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    return scatter_site(x, sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root, 0);
  });
}

int Allgather(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, int recvcount,
              MPI_Datatype recvtype, MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Allgather, comm);
  auto pmpi = [&] { return PMPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm); };
  if (!c) return pmpi();
  const uint64_t m = sendbuf == MPI_IN_PLACE ? bytes_of(recvtype, recvcount) : bytes_of(sendtype, sendcount);
  const uint32_t alg = choose(Coll::Allgather, *c, m, false);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    const std::vector<int> counts(static_cast<size_t>(c->g.P), recvcount), displs = iota_scaled(c->g.P, recvcount);
    return allgather_site(x, sendbuf, sendcount, sendtype, recvbuf, counts.data(), displs.data(), recvtype, alg);
  });
}

int Allgatherv(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int recvcounts[],
               const int displs[], MPI_Datatype recvtype, MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Allgatherv, comm);
  auto pmpi = [&] {
    return PMPI_Allgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm);
  };
  if (!c) return pmpi();
  const uint32_t alg = choose(Coll::Allgatherv, *c, 0, true);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    return allgather_site(x, sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, alg);
  });
}

int Alltoall(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, int recvcount,
             MPI_Datatype recvtype, MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Alltoall, comm);
  auto pmpi = [&] { return PMPI_Alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm); };
  if (!c) return pmpi();
  const uint64_t m = sendbuf == MPI_IN_PLACE ? bytes_of(recvtype, recvcount) : bytes_of(sendtype, sendcount);
  auto call = [&](uint32_t alg) {
    if (!alg) return pmpi();
    return run(out, alg, [&] {
      Ctx x(*c, out);
      const int P = c->g.P;
      const std::vector<int> sc(static_cast<size_t>(P), sendcount), sd = iota_scaled(P, sendcount);
      const std::vector<int> rc(static_cast<size_t>(P), recvcount), rd = iota_scaled(P, recvcount);
      return alltoall_site(x, sendbuf, sc.data(), sd.data(), sendtype, recvbuf, rc.data(), rd.data(), recvtype, true,
                           alg);
    });
  };
  const core::AlltoallCandidates k = core::alltoall_candidates(c->g, choice(*c, m, false));
  if (k.uncertain) return calibrated_alltoall(c->alltoall_cal, c->priv, m, k, call);
  return call(k.first);
}

int Alltoallv(const void* sendbuf, const int sendcounts[], const int sdispls[], MPI_Datatype sendtype, void* recvbuf,
              const int recvcounts[], const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm, Outcome* out) {
  *out = Outcome{};
  SiteCache* c = site_cache_for(Coll::Alltoallv, comm);
  auto pmpi = [&] {
    return PMPI_Alltoallv(sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm);
  };
  if (!c) return pmpi();
  const uint32_t alg = choose(Coll::Alltoallv, *c, 0, true);
  if (!alg) return pmpi();
  return run(out, alg, [&] {
    Ctx x(*c, out);
    return alltoall_site(x, sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, false, alg);
  });
}

}  // namespace sitempi::coll
