// Requests whose records depend on their completion. A receive's bytes, source and tag are known
// only from its status (the posted count is an upper bound, the source may be MPI_ANY_SOURCE), so
// every point-to-point request (Isend family, Irecv, Imrecv) is followed to its completion in a
// fixed table, and persistent requests (recorded at each Start) in a map. A completion writes a
// Done record naming the request (how many were posted after it: the replay's dependencies), and
// a RecvDone only where the status differs from what the posting record said (fewer bytes, a
// wildcard resolved). A Wait or Test (also -any) names its one request in its own record's alg
// instead of a Done record; a Waitall that completes every request followed states nothing (the
// reader takes it as "all"). Other requests are never looked at: with nothing followed, the
// helpers below cost one relaxed load.
#pragma once
#include <mpi.h>

#include <atomic>

#include "recorder.h"
#include "request_table.h"

#pragma GCC visibility push(hidden)  // globals addressed directly, not through the GOT (thread_state.h)

namespace sitempi::shim {

extern std::atomic<int> g_tracked;  // persistent requests followed

// Bytes a completed receive delivered. Open MPI keeps them in the status (_ucount): one load, where
// PMPI_Get_count costs about 20 ns (its argument checks, measured here); other MPIs: the status's
// count of MPI_BYTE, or the posted size when it is undefined (more than INT_MAX bytes).
inline uint64_t received_bytes(const MPI_Status& st, int count, MPI_Datatype type) noexcept {
#if defined(OPEN_MPI) && OPEN_MPI
  (void)count;
  (void)type;
  return uint64_t(st._ucount);
#else
  int n = MPI_UNDEFINED;
  if (PMPI_Get_count(&st, MPI_BYTE, &n) != MPI_SUCCESS || n == MPI_UNDEFINED || n < 0) return type_bytes(type, count);
  return uint64_t(n);
#endif
}
// The tag a receive matched (MPI_ANY_TAG in the status of a receive from MPI_PROC_NULL: 0).
inline uint32_t status_tag(const MPI_Status& st) noexcept { return st.MPI_TAG > 0 ? uint32_t(st.MPI_TAG) : 0; }
inline uint32_t send_tag(int tag) noexcept { return tag > 0 ? uint32_t(tag) : 0; }

// The receive half of a call that completes it at once (Sendrecv): a RecvDone record.
inline void recv_completed(Call& call, MPI_Comm comm, const MPI_Status& st, int count, MPI_Datatype type) noexcept {
  call.completed(call.fn(), kRoleRecvDone, comm_world_rank(comm, st.MPI_SOURCE), received_bytes(st, count, type),
                 comm_local_id(comm), status_tag(st));
}

// A receive request was posted (rc: the call's result; comm MPI_COMM_NULL when not known, as for
// Imrecv). Known source and tag: its primary record is a Recv of the posted size from that source
// with that tag (kRecvPosted), and its completion writes a RecvDone kRecvShort record with the
// bytes missing only when fewer arrived. A wildcard (or Imrecv): the primary record names the
// posted source, no bytes, and the completion's RecvDone says what the status says. When it cannot
// be followed (more than kMaxPendingRecvs outstanding), the primary record is a Recv of the posted
// size from the posted source, as from shims before the RecvDone records.
void posted_recv(Call& call, int rc, MPI_Request req, MPI_Comm comm, int source, int tag, int count,
                 MPI_Datatype type) noexcept;
// An Isend (Ibsend, Issend, Irsend) was posted, its record written: followed to its completion
// (a send's entry: its handle, number and kind).
inline void posted_send(int rc, MPI_Request req, int dest) noexcept {
  reqtable::TableLock lock;
  const uint32_t seq = reqtable::g_seq++;
  if (rc != MPI_SUCCESS || dest == MPI_PROC_NULL || req == MPI_REQUEST_NULL || reqtable::key_of(req) == 0) return;
  if (reqtable::Entry* e = reqtable::claim(req)) {
    e->req = req;
    e->seq = seq;
    e->kind = reqtable::kSendReq;
  }
}
// A posting record whose request is not followed (MPI_PROC_NULL, a failed call): counted all the same.
inline void count_posted() noexcept {
  reqtable::TableLock lock;
  ++reqtable::g_seq;
}

void track_request(MPI_Request req, uint32_t fn, bool persistent, bool send, MPI_Comm comm, int peer, int count,
                   MPI_Datatype type) noexcept;

// Statuses the shim can read after the call even when the application passed an ignore sentinel
// (only when `need` holds; otherwise the application's argument passes through untouched). Up to
// kInline of its own in place, more in a per-thread pool kept for the next call.
class CStatuses {
 public:
  // Inline: most calls pass their own statuses or need none.
  CStatuses(MPI_Status* user, int n, bool need) noexcept : arg(user) {
    if (__builtin_expect(user == MPI_STATUSES_IGNORE && need && n > 0, 0)) arg = n <= kInline ? own_ : pool(n);
  }
  bool get(int i, MPI_Status& out) const noexcept {
    if (arg == MPI_STATUSES_IGNORE) return false;
    out = arg[i];
    return true;
  }
  // Status i in place (no copy), or nullptr; `buf` is for FStatuses.
  const MPI_Status* at(int i, MPI_Status& buf) const noexcept {
    (void)buf;
    return arg == MPI_STATUSES_IGNORE ? nullptr : arg + i;
  }
  MPI_Status* arg;

 private:
  static MPI_Status* pool(int n) noexcept;  // the per-thread pool, or MPI_STATUSES_IGNORE
  static constexpr int kInline = 8;
  MPI_Status own_[kInline];
};

class FStatuses {
 public:
  FStatuses(MPI_Fint* user, int n, bool need) noexcept;
  bool get(int i, MPI_Status& out) const noexcept;
  const MPI_Status* at(int i, MPI_Status& buf) const noexcept { return get(i, buf) ? &buf : nullptr; }
  MPI_Fint* arg;

 private:
  static constexpr int kSize = sizeof(MPI_Status) / sizeof(MPI_Fint);
  static constexpr int kInline = 8;
  MPI_Fint own_[kInline * kSize];
};

// The followed requests among those passed to a completion, start or free call, taken before the
// call (completion may reset the application's handles).
class Snapshot {
 public:
  SITEMPI_HOT Snapshot(int n, const MPI_Request* reqs) noexcept {
    if ((g_pending_reqs.load(std::memory_order_relaxed) | uint32_t(g_tracked.load(std::memory_order_relaxed))) == 0 ||
        n <= 0 || !reqs)
      return;
    if (__builtin_expect(g_tracked.load(std::memory_order_relaxed) == 0, 1)) {
      reqtable::TableLock lock;
      take_pending(n, reqs);
    } else
      take(n, reqs);
  }
  Snapshot(int n, const MPI_Fint* reqs) noexcept;
  // Waitany/Testany (one of n completes): below MPI_THREAD_MULTIPLE, with no persistent request
  // followed and at most kInline passed, only the handles are kept before the call and the one it
  // completed is looked up after it (one table lookup, not n). Otherwise as above. (Above
  // MPI_THREAD_MULTIPLE another thread could post a request under a freed handle in between.)
  struct Any {};
  SITEMPI_HOT Snapshot(Any, int n, const MPI_Request* reqs) noexcept {
    const int tracked = g_tracked.load(std::memory_order_relaxed);
    if ((g_pending_reqs.load(std::memory_order_relaxed) | uint32_t(tracked)) == 0 || n <= 0 || !reqs) return;
    if (__builtin_expect(tracked == 0 && n <= kInline && reqtable::serial(), 1)) {
      for (int i = 0; i < n; ++i) own_[i].req = reqs[i];
      deferred_ = n;
      need_status_ = true;  // whether a receive completes is known only after the call
      return;
    }
    if (tracked == 0) {
      reqtable::TableLock lock;
      take_pending(n, reqs);
    } else
      take(n, reqs);
  }
  Snapshot(Any, int n, const MPI_Fint* reqs) noexcept : Snapshot(n, reqs) {}
  bool need_status() const noexcept { return need_status_; }
  bool any() const noexcept { return nhits_ != 0; }                      // a followed request among those passed
  bool maybe_any() const noexcept { return (nhits_ | deferred_) != 0; }  // the same, or not known yet (Any)
  template <typename S>
  void completed(Call& call, int index, const S& sts, int status_index) noexcept {
    if (!nhits_) return;
    const Hit* h = find(index);
    if (!h) return;  // a request not followed: its status is not read
    done(call, *h, sts, status_index, kDoneRecord);
  }
  // Wait, Test, Waitany, Testany that completed request `index`: writes the call's record, naming
  // the request when it is numbered, then what its completion says. false: not a request followed,
  // the caller writes the call's record (one place that writes it: the compiler keeps it inline).
  template <typename S>
  SITEMPI_HOT bool completed_one(Call& call, int index, const S& sts) noexcept {
    const Hit* h = find(index);
    if (!h) return false;
    done(call, *h, sts, 0, kInRecord);
    return true;
  }
  // completed_one after the Any constructor.
  template <typename S>
  SITEMPI_HOT bool completed_any(Call& call, int index, const S& sts) noexcept {
    if (!deferred_) return completed_one(call, index, sts);
    if (index < 0 || index >= deferred_) return false;
    const int64_t slot = reqtable::find(own_[index].req);
    if (slot < 0) return false;
    const Hit h{index, reqtable::g_table[slot].kind, uint32_t(slot), own_[index].req};
    done(call, h, sts, 0, kInRecord);
    return true;
  }
  // Every request followed (Waitall, Testall with flag set): statuses in request order. implied:
  // the call's record stands for "all outstanding" (Waitall) when these were all the rank had.
  template <typename S>
  SITEMPI_HOT void completed_all(Call& call, const S& sts, bool implied) noexcept {
    const int n = nhits_;
    const Hit* hits = hits_;
    const Naming naming = !implied || pending_ != outstanding_ ? kDoneRecord : kUnnamed;
    for (int k = 0; k < n; ++k) done(call, hits[k], sts, hits[k].index, naming);
  }
  void started(Call& call) noexcept;
  void freed() noexcept;

 private:
  static constexpr uint8_t kPersistent = 0xff;  // Hit::kind of a persistent request (not in the table)
  struct Hit {
    int index;
    uint8_t kind;   // the table entry's kind when taken, or kPersistent
    uint32_t slot;  // its table slot when taken
    MPI_Request req;
  };
  void take(int n, const MPI_Request* reqs) noexcept;
  // The requests in the table, in index order (its lock held).
  SITEMPI_HOT void take_pending(int n, const MPI_Request* reqs) noexcept {
    outstanding_ = g_pending_reqs.load(std::memory_order_relaxed);
    bool recv = false;
    for (int i = 0; i < n; ++i) {
      const int64_t slot = reqtable::find(reqs[i]);
      if (slot < 0) continue;
      const uint8_t kind = reqtable::g_table[slot].kind;
      add(i, reqs[i], kind, uint32_t(slot));
      recv |= kind != reqtable::kSendReq;
    }
    need_status_ = recv;
    pending_ = uint32_t(nhits_);
  }
  void add(int index, MPI_Request req, uint8_t kind, uint32_t slot = 0) noexcept {
    if (__builtin_expect(nhits_ < cap_, 1))
      hits_[nhits_++] = {index, kind, slot, req};
    else
      grow_add(index, req, kind, slot);
  }
  void grow_add(int index, MPI_Request req, uint8_t kind, uint32_t slot) noexcept;
  SITEMPI_HOT const Hit* find(int index) const noexcept {
    if (nhits_ <= kInline) {  // a few: a scan costs less than a binary search's branches
      for (int k = 0; k < nhits_; ++k)
        if (hits_[k].index >= index) return hits_[k].index == index ? &hits_[k] : nullptr;
      return nullptr;
    }
    return find_many(index);
  }
  const Hit* find_many(int index) const noexcept;
  // How a completion names its request: not at all, by a Done record, in the call's own record
  // (not written yet: complete() writes it).
  enum Naming { kUnnamed, kDoneRecord, kInRecord };
  template <typename S>
  SITEMPI_HOT void done(Call& call, const Hit& h, const S& sts, int status_index, Naming naming) noexcept {
    MPI_Status buf;
    const MPI_Status* got = h.kind != reqtable::kSendReq ? sts.at(status_index, buf) : nullptr;
    uint32_t after;
    // in the call's record unless too far apart for alg (complete() writes a Done record)
    if (__builtin_expect(naming != kDoneRecord && quiet(h, got, after, naming == kInRecord), 1)) {
      if (naming == kInRecord) call.other_named(after + 1);
      return;
    }
    complete(call, h, got, naming);
  }
  // The common completion, inline: below MPI_THREAD_MULTIPLE, a send or a receive whose status says
  // nothing its posting record did not, still at the slot where it was found. Takes it out of the
  // table and says its number (how many requests were posted after it); false: complete() does it.
  SITEMPI_HOT bool quiet(const Hit& h, const MPI_Status* st, uint32_t& after, bool named) noexcept {
    const reqtable::Entry& e = reqtable::g_table[h.slot];
    if (!reqtable::serial() || e.req != h.req || h.kind == kPersistent || h.kind == reqtable::kRecvOpen ||
        (h.kind == reqtable::kRecvKnown && st && received_bytes(*st, 0, MPI_BYTE) < e.posted))
      return false;
    after = reqtable::g_seq - 1 - e.seq;
    if (named && __builtin_expect(after + 1 == 0, 0)) return false;
    reqtable::erase_at(h.slot);
    return true;
  }
  void complete(Call& call, const Hit& h, const MPI_Status* st, Naming naming) noexcept;
  static void complete_persistent(Call& call, const Hit& h, const MPI_Status* st) noexcept;
  static constexpr int kInline = 8;
  Hit own_[kInline];
  Hit* hits_ = own_;  // in index order; beyond kInline: a per-thread pool
  int nhits_ = 0, cap_ = kInline;
  int deferred_ = 0;                        // Any: handles kept in own_[i].req, looked up after the call
  uint32_t pending_ = 0, outstanding_ = 0;  // hits in the table; all the table held
  bool need_status_ = false;
};

}  // namespace sitempi::shim

#pragma GCC visibility pop
