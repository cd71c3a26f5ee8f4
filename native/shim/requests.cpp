#include "requests.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "comms.h"
#include "fortran.h"

namespace sitempi::shim {

std::atomic<int> g_tracked{0};

namespace {

using reqtable::Entry;
using reqtable::key_of;
using reqtable::TableLock;

// --- Persistent requests: few, kept from Send_init/Recv_init until freed.
struct Tracked {
  uint32_t fn;
  bool persistent, send;
  MPI_Comm comm;
  int peer;  // communicator rank, or MPI_ANY_SOURCE
  uint64_t bytes;
  uint32_t comm_id;
};
std::mutex g_mu;
std::unordered_map<MPI_Request, Tracked> g_requests;  // guarded by g_mu

bool lookup(MPI_Request r, Tracked& out) {
  std::lock_guard<std::mutex> g(g_mu);
  auto it = g_requests.find(r);
  if (it == g_requests.end()) return false;
  out = it->second;
  return true;
}

// Per-thread pools for calls with more requests than fit in place; a thread is in at most one
// wrapper at a time (nested MPI calls are not recorded), so one of each suffices.
template <typename T>
T* pool(size_t n) {
  thread_local std::vector<T> p;
  if (p.size() < n) p.resize(n);
  return p.data();
}

}  // namespace

void posted_recv(Call& call, int rc, MPI_Request req, MPI_Comm comm, int source, int tag, int count,
                 MPI_Datatype type) noexcept {
  if (source == MPI_PROC_NULL) {  // completes at once, with nothing (Open MPI: one shared request)
    count_posted();
    call.p2p_bytes(kRoleRecv, comm, source, 0);
    return;
  }
  const bool known = comm != MPI_COMM_NULL && source != MPI_ANY_SOURCE && tag != MPI_ANY_TAG;
  const uint64_t posted = type_bytes(type, count);
  const int peer = comm == MPI_COMM_NULL ? -1 : comm_world_rank(comm, source);
  const uint32_t comm_id = comm == MPI_COMM_NULL ? 0 : comm_local_id(comm);
  if (rc == MPI_SUCCESS && req != MPI_REQUEST_NULL && key_of(req) != 0) {
    bool followed;
    {
      TableLock lock;
      Entry* e = reqtable::claim(req);
      followed = e != nullptr;
      if (followed)
        *e = {req,     comm, posted,          call.fn(),
              comm_id, peer, reqtable::g_seq, uint8_t(known ? reqtable::kRecvKnown : reqtable::kRecvOpen)};
      ++reqtable::g_seq;
    }
    if (followed) {
      if (known)
        call.recv_posted(peer, posted, comm_id, send_tag(tag));
      else
        call.other(comm, peer);
      return;
    }
  } else
    count_posted();
  call.p2p_bytes(kRoleRecv, comm, source, posted, known ? send_tag(tag) : 0);
}

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

MPI_Status* CStatuses::pool(int n) noexcept {
  try {
    return sitempi::shim::pool<MPI_Status>(size_t(n));
  } catch (...) {
    return MPI_STATUSES_IGNORE;  // out of memory: the status is not read
  }
}

FStatuses::FStatuses(MPI_Fint* user, int n, bool need) noexcept : arg(user) {
  const FortranSentinels& s = fortran_sentinels();
  const bool ignored = user == s.status_ignore || user == s.statuses_ignore || user == MPI_F_STATUS_IGNORE ||
                       user == MPI_F_STATUSES_IGNORE;
  if (!ignored || !need || n <= 0) return;
  try {
    arg = n <= kInline ? own_ : pool<MPI_Fint>(size_t(n) * kSize);
  } catch (...) {
  }
}

bool FStatuses::get(int i, MPI_Status& out) const noexcept {
  const FortranSentinels& s = fortran_sentinels();
  if (arg == s.status_ignore || arg == s.statuses_ignore || arg == MPI_F_STATUS_IGNORE || arg == MPI_F_STATUSES_IGNORE)
    return false;
  return PMPI_Status_f2c(arg + size_t(i) * kSize, &out) == MPI_SUCCESS;
}

Snapshot::Snapshot(int n, const MPI_Fint* reqs) noexcept {
  if ((g_pending_reqs.load(std::memory_order_relaxed) | uint32_t(g_tracked.load(std::memory_order_relaxed))) == 0 ||
      n <= 0 || !reqs)
    return;
  try {
    MPI_Request* c = n <= kInline ? nullptr : pool<MPI_Request>(size_t(n));
    MPI_Request in_place[kInline];
    if (!c) c = in_place;
    for (int i = 0; i < n; ++i) c[i] = PMPI_Request_f2c(reqs[i]);
    take(n, c);
  } catch (...) {
  }
}

// add() with no room left: grows into the pool (once per thread and size), the in-place hits
// move there.
void Snapshot::grow_add(int index, MPI_Request req, uint8_t kind, uint32_t slot) noexcept {
  try {
    const bool in_place = hits_ == own_;
    Hit* more = pool<Hit>(size_t(cap_) * 4);  // a resized pool keeps its hits
    if (in_place) std::copy(own_, own_ + nhits_, more);
    hits_ = more;
    cap_ *= 4;
  } catch (...) {
    return;
  }
  hits_[nhits_++] = {index, kind, slot, req};
}

void Snapshot::take(int n, const MPI_Request* reqs) noexcept {
  if (g_pending_reqs.load(std::memory_order_relaxed)) {
    TableLock lock;
    take_pending(n, reqs);
  }
  if (g_tracked.load(std::memory_order_relaxed) == 0) return;
  const int fast = nhits_;
  try {
    std::lock_guard<std::mutex> g(g_mu);
    for (int i = 0; i < n; ++i) {
      auto it = g_requests.find(reqs[i]);
      if (it == g_requests.end()) continue;
      add(i, reqs[i], kPersistent);
      if (!it->second.send) need_status_ = true;
    }
  } catch (...) {
  }
  // Both kinds present: back to index order for find()'s search.
  if (fast && nhits_ > fast)
    std::inplace_merge(hits_, hits_ + fast, hits_ + nhits_,
                       [](const Hit& a, const Hit& b) { return a.index < b.index; });
}

const Snapshot::Hit* Snapshot::find_many(int index) const noexcept {
  const Hit* h = std::lower_bound(hits_, hits_ + nhits_, index, [](const Hit& a, int i) { return a.index < i; });
  return h == hits_ + nhits_ || h->index != index ? nullptr : h;
}

// Every completion quiet() does not take: named by a Done record, a receive whose status says
// more than its posting record did, a persistent request, a table moved under it or locked.
void Snapshot::complete(Call& call, const Hit& h, const MPI_Status* st, Naming naming) noexcept {
  if (h.kind == kPersistent) {  // not numbered
    if (naming == kInRecord) call.other();
    return complete_persistent(call, h, st);
  }
  Entry e;         // a send's: only its kind
  uint32_t after;  // requests posted after this one
  {
    TableLock lock;
    int64_t i = h.slot;
    // moved by the erase of a request before it in its probe run
    if (reqtable::g_table[i].req != h.req) i = reqtable::find(h.req);
    if (i < 0) {
      if (naming == kInRecord) call.other();
      return;
    }
    const Entry& in = reqtable::g_table[i];
    after = reqtable::g_seq - 1 - in.seq;
    e.kind = in.kind;
    if (e.kind != reqtable::kSendReq) e = in;
    reqtable::erase_at(uint32_t(i));
  }
  if (naming == kInRecord && after + 1 != 0)
    call.other_named(after + 1);
  else if (naming != kUnnamed) {  // a Done record (also where the number does not fit in alg)
    if (naming == kInRecord) call.other();
    call.completed(call.fn(), kRoleDone, -1, after, 0);
  }
  if (e.kind == reqtable::kSendReq) return;
  if (e.kind == reqtable::kRecvKnown) {  // source and tag as posted: a record only if fewer bytes arrived
    const uint64_t got = st ? received_bytes(*st, 0, MPI_BYTE) : e.posted;
    if (got < e.posted)
      call.completed(e.fn, kRoleRecvDone, e.peer, e.posted - got, e.comm_id, status_tag(*st), kRecvShort);
    return;
  }
  const int src = st && e.comm != MPI_COMM_NULL ? comm_world_rank(e.comm, st->MPI_SOURCE) : e.peer;
  call.completed(e.fn, kRoleRecvDone, src, st ? received_bytes(*st, 0, MPI_BYTE) : e.posted, e.comm_id,
                 st ? status_tag(*st) : 0);
}

void Snapshot::complete_persistent(Call& call, const Hit& h, const MPI_Status* st) noexcept {
  Tracked t;
  if (!lookup(h.req, t)) return;
  if (!t.persistent) {
    std::lock_guard<std::mutex> g(g_mu);
    if (g_requests.erase(h.req)) g_tracked.fetch_sub(1, std::memory_order_relaxed);
  }
  if (t.send) return;  // sends were recorded when started
  const int src = comm_world_rank(t.comm, st ? st->MPI_SOURCE : t.peer);
  call.completed(t.fn, kRoleRecvDone, src, st ? received_bytes(*st, 0, MPI_BYTE) : t.bytes, t.comm_id,
                 st ? status_tag(*st) : 0);
}

void Snapshot::started(Call& call) noexcept {
  for (int k = 0; k < nhits_; ++k) {
    const Hit& h = hits_[k];
    Tracked t;
    if (h.kind != kPersistent || !lookup(h.req, t)) continue;
    // Receives are recorded at completion, with what arrived.
    if (t.send) call.completed(call.fn(), kRolePartSend, comm_world_rank(t.comm, t.peer), t.bytes, t.comm_id);
  }
}

void Snapshot::freed() noexcept {
  {
    TableLock lock;
    for (int k = 0; k < nhits_; ++k) {
      if (hits_[k].kind == kPersistent) continue;
      const int64_t i = reqtable::find(hits_[k].req);
      if (i >= 0) reqtable::erase_at(uint32_t(i));
    }
  }
  std::lock_guard<std::mutex> g(g_mu);
  for (int k = 0; k < nhits_; ++k)
    if (hits_[k].kind == kPersistent && g_requests.erase(hits_[k].req))
      g_tracked.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace sitempi::shim
