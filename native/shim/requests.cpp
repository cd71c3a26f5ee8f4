#include "requests.h"

#include <mutex>
#include <unordered_map>

#include "comms.h"
#include "fortran.h"

namespace sitempi::shim {

std::atomic<int> g_tracked{0};

struct Tracked {
  uint32_t fn;
  bool persistent, send;
  MPI_Comm comm;
  int peer;  // communicator rank, or MPI_ANY_SOURCE
  uint64_t bytes;
  uint32_t comm_id;
};

namespace {
std::mutex g_mu;
std::unordered_map<MPI_Request, Tracked> g_requests;  // guarded by g_mu

bool lookup(MPI_Request r, Tracked& out) {
  std::lock_guard<std::mutex> g(g_mu);
  auto it = g_requests.find(r);
  if (it == g_requests.end()) return false;
  out = it->second;
  return true;
}
}  // namespace

void track_request(MPI_Request req, uint32_t fn, bool persistent, bool send, MPI_Comm comm, int peer, int count,
                   MPI_Datatype type) noexcept {
  if (req == MPI_REQUEST_NULL) return;
  try {
    Tracked t{fn, persistent, send, comm, peer, type_bytes(type, count), comm_local_id(comm)};
    std::lock_guard<std::mutex> g(g_mu);
    if (g_requests.insert_or_assign(req, t).second) g_tracked.fetch_add(1, std::memory_order_relaxed);
  } catch (...) {
    // Out of memory: the request goes unrecorded, the application is unaffected.
  }
}

CStatuses::CStatuses(MPI_Status* user, int n, bool need) noexcept : arg(user) {
  if (user != MPI_STATUSES_IGNORE || !need || n <= 0) return;
  try {
    if (n == 1)
      arg = &one_;
    else {
      many_.resize(size_t(n));
      arg = many_.data();
    }
  } catch (...) {
  }
}

bool CStatuses::get(int i, MPI_Status& out) const noexcept {
  if (arg == MPI_STATUSES_IGNORE) return false;
  out = arg[i];
  return true;
}

FStatuses::FStatuses(MPI_Fint* user, int n, bool need) noexcept : arg(user) {
  const FortranSentinels& s = fortran_sentinels();
  const bool ignored = user == s.status_ignore || user == s.statuses_ignore || user == MPI_F_STATUS_IGNORE ||
                       user == MPI_F_STATUSES_IGNORE;
  if (!ignored) return;
  if (!need || n <= 0) {
    arg = user;
    return;
  }
  try {
    if (n == 1)
      arg = one_;
    else {
      many_.resize(size_t(n) * kSize);
      arg = many_.data();
    }
  } catch (...) {
  }
}

bool FStatuses::get(int i, MPI_Status& out) const noexcept {
  const FortranSentinels& s = fortran_sentinels();
  if (arg == s.status_ignore || arg == s.statuses_ignore || arg == MPI_F_STATUS_IGNORE || arg == MPI_F_STATUSES_IGNORE)
    return false;
  return PMPI_Status_f2c(arg + size_t(i) * kSize, &out) == MPI_SUCCESS;
}

Snapshot::Snapshot(int n, const MPI_Request* reqs) noexcept {
  if (g_tracked.load(std::memory_order_relaxed) == 0 || n <= 0 || !reqs) return;
  take(n, reqs);
}

Snapshot::Snapshot(int n, const MPI_Fint* reqs) noexcept {
  if (g_tracked.load(std::memory_order_relaxed) == 0 || n <= 0 || !reqs) return;
  try {
    std::vector<MPI_Request> c(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) c[size_t(i)] = PMPI_Request_f2c(reqs[i]);
    take(n, c.data());
  } catch (...) {
  }
}

void Snapshot::take(int n, const MPI_Request* reqs) noexcept {
  try {
    std::lock_guard<std::mutex> g(g_mu);
    for (int i = 0; i < n; ++i) {
      auto it = g_requests.find(reqs[i]);
      if (it == g_requests.end()) continue;
      hits_.push_back({i, reqs[i]});
      if (!it->second.send && it->second.peer == MPI_ANY_SOURCE) need_status_ = true;
    }
  } catch (...) {
    hits_.clear();
  }
}

void Snapshot::complete(Call& call, int index, const MPI_Status* st) noexcept {
  for (const Hit& h : hits_) {
    if (h.index != index) continue;
    Tracked t;
    if (!lookup(h.req, t)) return;
    if (!t.persistent) {
      std::lock_guard<std::mutex> g(g_mu);
      if (g_requests.erase(h.req)) g_tracked.fetch_sub(1, std::memory_order_relaxed);
    }
    // Sends and known-source receives were recorded when posted or started.
    if (t.send || t.peer != MPI_ANY_SOURCE) return;
    const int src = st ? comm_world_rank(t.comm, st->MPI_SOURCE) : -1;
    call.completed(t.fn, kRoleRecvDone, src, t.bytes, t.comm_id);
    return;
  }
}

void Snapshot::started(Call& call) noexcept {
  for (const Hit& h : hits_) {
    Tracked t;
    if (!lookup(h.req, t)) continue;
    if (t.send)
      call.completed(call.fn(), kRolePartSend, comm_world_rank(t.comm, t.peer), t.bytes, t.comm_id);
    else if (t.peer != MPI_ANY_SOURCE)
      call.completed(call.fn(), kRoleRecvDone, comm_world_rank(t.comm, t.peer), t.bytes, t.comm_id);
  }
}

void Snapshot::freed() noexcept {
  std::lock_guard<std::mutex> g(g_mu);
  for (const Hit& h : hits_)
    if (g_requests.erase(h.req)) g_tracked.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace sitempi::shim
