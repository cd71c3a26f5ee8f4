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
std::atomic<uint32_t> g_pending_reqs{0};

namespace {

// --- Point-to-point requests posted and not completed: open addressing, linear probing, keyed by
// the handle (a pointer in Open MPI, reused from a free list). Fixed size (in BSS: untouched pages
// cost nothing): no allocation; a program with more outstanding requests than kMaxPendingRecvs
// gets the others recorded at posting (and their completions not stated). Locked only under
// MPI_THREAD_MULTIPLE: at the lower levels MPI calls do not overlap, and the application's own
// synchronisation orders them.
enum : uint8_t { kSendReq, kRecvOpen, kRecvKnown };
struct PendingRecv {
  MPI_Request req;  // zero: a free slot (no MPI hands out a zero handle)
  MPI_Comm comm;    // MPI_COMM_NULL: not known (Imrecv); a send's entry sets only req, seq and kind
  uint64_t posted;  // bytes posted, recorded when no status can be read
  uint32_t fn, comm_id;
  int32_t peer;  // world rank of the posted source; -1: MPI_ANY_SOURCE or not known
  uint32_t seq;  // the request's number among the rank's posting records (g_seq when posted)
  uint8_t kind;  // kRecvKnown: the posting record carried source, tag and bytes (kRecvPosted)
};
constexpr int kTableBits = 13;
constexpr uint32_t kTableSlots = 1u << kTableBits, kTableMask = kTableSlots - 1;
constexpr uint32_t kMaxPendingRecvs = kTableSlots / 4 * 3;  // probes stay short
PendingRecv g_table[kTableSlots];
uint32_t g_count = 0;
// Posting records so far (Isend family, Irecv, Imrecv; the replay's builder counts the same): a
// completion names its request by how many were posted after it (Role Done).
uint32_t g_seq = 0;
std::mutex g_table_mu;
std::atomic<int> g_thread_level{-1};

inline uint64_t key_of(MPI_Request r) {
  uint64_t k = 0;
  std::memcpy(&k, &r, sizeof(r) < sizeof(k) ? sizeof(r) : sizeof(k));
  return k;
}
inline bool is_free(const PendingRecv& e) { return key_of(e.req) == 0; }
inline uint32_t home(MPI_Request r) {
  return uint32_t(((key_of(r) >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - kTableBits));
}

class TableLock {
 public:
  TableLock() {
    int level = g_thread_level.load(std::memory_order_relaxed);
    if (level < 0) {
      level = MPI_THREAD_SINGLE;
      if (PMPI_Query_thread(&level) != MPI_SUCCESS) level = MPI_THREAD_MULTIPLE;
      g_thread_level.store(level, std::memory_order_relaxed);
    }
    locked_ = level == MPI_THREAD_MULTIPLE;
    if (locked_) g_table_mu.lock();
  }
  ~TableLock() {
    if (locked_) g_table_mu.unlock();
  }
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;

 private:
  bool locked_;
};

// Slot of req, or of the free slot that ends its probe.
inline uint32_t probe(MPI_Request req) {
  uint32_t i = home(req);
  while (!is_free(g_table[i]) && g_table[i].req != req) i = (i + 1) & kTableMask;
  return i;
}

// The slot for req, counted as used (a handle still there was completed unseen: replaced), or
// nullptr when the table is full. The caller fills it in place: no entry built and copied.
inline PendingRecv* table_slot(MPI_Request req) {
  const uint32_t i = probe(req);
  if (is_free(g_table[i])) {
    if (g_count >= kMaxPendingRecvs) return nullptr;
    g_pending_reqs.store(++g_count, std::memory_order_relaxed);
  }
  return &g_table[i];
}

// Slot of req, or -1.
inline int64_t table_find(MPI_Request req) {
  const uint32_t i = probe(req);
  return is_free(g_table[i]) ? -1 : int64_t(i);
}

// Slot of req, trying first where it was found before (saves the probe), or -1.
inline int64_t table_find_at(MPI_Request req, uint32_t slot) {
  return g_table[slot].req == req && !is_free(g_table[slot]) ? int64_t(slot) : table_find(req);
}

// Frees slot i, shifting back the entries of its probe run that may move into the hole.
void table_erase_at(uint32_t i) {
  for (uint32_t j = i;;) {
    j = (j + 1) & kTableMask;
    if (is_free(g_table[j])) break;
    const uint32_t h = home(g_table[j].req);
    // entry j may move to i when its home is not cyclically in (i, j]
    const bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
    if (stays) continue;
    g_table[i] = g_table[j];
    i = j;
  }
  g_table[i].req = MPI_Request{};
  g_pending_reqs.store(--g_count, std::memory_order_relaxed);
}

bool table_erase(MPI_Request req) {
  const int64_t i = table_find(req);
  if (i < 0) return false;
  table_erase_at(uint32_t(i));
  return true;
}

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
      PendingRecv* e = table_slot(req);
      followed = e != nullptr;
      if (followed) *e = {req, comm, posted, call.fn(), comm_id, peer, g_seq, uint8_t(known ? kRecvKnown : kRecvOpen)};
      ++g_seq;
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

void posted_send(int rc, MPI_Request req, int dest) noexcept {
  TableLock lock;
  const uint32_t seq = g_seq++;
  if (rc != MPI_SUCCESS || dest == MPI_PROC_NULL || req == MPI_REQUEST_NULL || key_of(req) == 0) return;
  // A send's completion reads only its number: the entry's other fields are left as they were.
  if (PendingRecv* e = table_slot(req)) {
    e->req = req;
    e->seq = seq;
    e->kind = kSendReq;
  }
}

void count_posted() noexcept {
  TableLock lock;
  ++g_seq;
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
void Snapshot::grow_add(int index, MPI_Request req, bool pending, uint32_t slot) noexcept {
  try {
    const bool in_place = hits_ == own_;
    Hit* more = pool<Hit>(size_t(cap_) * 4);  // a resized pool keeps its hits
    if (in_place) std::copy(own_, own_ + nhits_, more);
    hits_ = more;
    cap_ *= 4;
  } catch (...) {
    return;
  }
  hits_[nhits_++] = {index, pending, slot, req};
}

void Snapshot::take(int n, const MPI_Request* reqs) noexcept {
  if (g_pending_reqs.load(std::memory_order_relaxed)) {
    TableLock lock;
    outstanding_ = g_count;
    for (int i = 0; i < n; ++i) {
      if (reqs[i] == MPI_REQUEST_NULL) continue;
      const int64_t slot = table_find(reqs[i]);
      if (slot < 0) continue;
      add(i, reqs[i], true, uint32_t(slot));
      need_status_ |= g_table[slot].kind != kSendReq;
    }
    pending_ = nhits_;
  }
  if (g_tracked.load(std::memory_order_relaxed) == 0) return;
  const int fast = nhits_;
  try {
    std::lock_guard<std::mutex> g(g_mu);
    for (int i = 0; i < n; ++i) {
      auto it = g_requests.find(reqs[i]);
      if (it == g_requests.end()) continue;
      add(i, reqs[i], false);
      if (!it->second.send) need_status_ = true;
    }
  } catch (...) {
  }
  // Both kinds present: back to index order for complete()'s search.
  if (fast && nhits_ > fast)
    std::inplace_merge(hits_, hits_ + fast, hits_ + nhits_,
                       [](const Hit& a, const Hit& b) { return a.index < b.index; });
}

const Snapshot::Hit* Snapshot::find(int index) const noexcept {
  if (nhits_ <= kInline) {  // a few: a scan costs less than a binary search's branches
    for (int k = 0; k < nhits_; ++k)
      if (hits_[k].index >= index) return hits_[k].index == index ? &hits_[k] : nullptr;
    return nullptr;
  }
  const Hit* h = std::lower_bound(hits_, hits_ + nhits_, index, [](const Hit& a, int i) { return a.index < i; });
  return h == hits_ + nhits_ || h->index != index ? nullptr : h;
}

void Snapshot::complete(Call& call, const Hit& hit, const MPI_Status* st, Naming naming) noexcept {
  const Hit* h = &hit;
  if (h->pending) {
    PendingRecv e;
    uint32_t after;  // requests posted after this one
    {
      TableLock lock;
      const int64_t i = table_find_at(h->req, h->slot);
      if (i < 0) {
        if (naming == kInRecord) call.other();
        return;
      }
      const PendingRecv& in = g_table[i];
      after = g_seq - 1 - in.seq;
      e.kind = in.kind;
      if (e.kind != kSendReq) e = in;  // a send's entry holds only its number
      table_erase_at(uint32_t(i));
    }
    if (naming == kInRecord) {
      if (__builtin_expect(after + 1 != 0, 1))
        call.other_named(after + 1);
      else {  // too far apart for alg: a Done record
        call.other();
        naming = kDoneRecord;
      }
    }
    if (naming == kDoneRecord) call.completed(call.fn(), kRoleDone, -1, after, 0);
    if (e.kind == kSendReq) return;
    if (e.kind == kRecvKnown) {  // source and tag as posted: a record only if fewer bytes arrived
      const uint64_t got = st ? received_bytes(*st, 0, MPI_BYTE) : e.posted;
      if (got < e.posted)
        call.completed(e.fn, kRoleRecvDone, e.peer, e.posted - got, e.comm_id, status_tag(*st), kRecvShort);
      return;
    }
    const int src = st && e.comm != MPI_COMM_NULL ? comm_world_rank(e.comm, st->MPI_SOURCE) : e.peer;
    call.completed(e.fn, kRoleRecvDone, src, st ? received_bytes(*st, 0, MPI_BYTE) : e.posted, e.comm_id,
                   st ? status_tag(*st) : 0);
    return;
  }
  Tracked t;
  if (!lookup(h->req, t)) return;
  if (!t.persistent) {
    std::lock_guard<std::mutex> g(g_mu);
    if (g_requests.erase(h->req)) g_tracked.fetch_sub(1, std::memory_order_relaxed);
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
    if (h.pending || !lookup(h.req, t)) continue;
    // Receives are recorded at completion, with what arrived.
    if (t.send) call.completed(call.fn(), kRolePartSend, comm_world_rank(t.comm, t.peer), t.bytes, t.comm_id);
  }
}

void Snapshot::freed() noexcept {
  {
    TableLock lock;
    for (int k = 0; k < nhits_; ++k)
      if (hits_[k].pending) table_erase(hits_[k].req);
  }
  std::lock_guard<std::mutex> g(g_mu);
  for (int k = 0; k < nhits_; ++k)
    if (!hits_[k].pending && g_requests.erase(hits_[k].req)) g_tracked.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace sitempi::shim
