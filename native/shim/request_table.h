// The point-to-point requests posted and not completed yet (requests.h says what for): open
// addressing with linear probing, keyed by the handle (a pointer in Open MPI, reused from a free
// list). Fixed size (in BSS: untouched pages cost nothing), no allocation. The common cases are
// inline and a few instructions each: a handle's home slot free when it is posted, holding it when
// it completes, the slot after it free when it is erased (no probe run to shift back); the rest is
// out of line (request_table.cpp). Not locked below MPI_THREAD_MULTIPLE (MPI calls do not overlap
// there and the application's own synchronisation orders them); at that level every access goes
// through the out-of-line paths, under a mutex (TableLock).
#pragma once
#include <mpi.h>

#include <atomic>
#include <cstdint>
#include <cstring>

// The hot paths of following requests are forced inline: out of line, a call's setup costs as much
// as their work, and the compiler's own choice in the large generated wrappers varies with them.
#define SITEMPI_HOT inline __attribute__((always_inline))

#pragma GCC visibility push(hidden)  // globals addressed directly, not through the GOT (thread_state.h)

namespace sitempi::shim {

extern std::atomic<uint32_t> g_pending_reqs;  // requests in the table

namespace reqtable {

enum : uint8_t { kSendReq, kRecvOpen, kRecvKnown };
struct Entry {
  MPI_Request req;  // zero: a free slot (no MPI hands out a zero handle)
  MPI_Comm comm;    // receives: MPI_COMM_NULL when not known (Imrecv); a send sets only req, seq, kind
  uint64_t posted;  // bytes posted, recorded when no status can be read
  uint32_t fn, comm_id;
  int32_t peer;  // world rank of the posted source; -1: MPI_ANY_SOURCE or not known
  uint32_t seq;  // the request's number among the rank's posting records (g_seq when posted)
  uint8_t kind;  // kRecvKnown: the posting record carried source, tag and bytes (kRecvPosted)
};
constexpr int kBits = 13;
constexpr uint32_t kSlots = 1u << kBits, kMask = kSlots - 1;
constexpr uint32_t kMaxPending = kSlots / 4 * 3;  // probes stay short
extern Entry g_table[kSlots];
// Posting records so far (Isend family, Irecv, Imrecv; the replay's builder counts the same): a
// completion names its request by how many were posted after it.
extern uint32_t g_seq;

// Whether the table needs its lock: g_mode 0 until the first use after MPI_Init asks MPI.
enum : uint8_t { kModeUnknown, kModeSerial, kModeLocked };
extern uint8_t g_mode;
bool serial_slow() noexcept;
SITEMPI_HOT bool serial() noexcept { return __builtin_expect(g_mode == kModeSerial, 1) || serial_slow(); }

void lock() noexcept;
void unlock() noexcept;
class TableLock {  // a mutex at MPI_THREAD_MULTIPLE; below it, one load and a branch
 public:
  TableLock() noexcept : locked_(!serial()) {
    if (__builtin_expect(locked_, 0)) lock();
  }
  ~TableLock() {
    if (__builtin_expect(locked_, 0)) unlock();
  }
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;

 private:
  bool locked_;
};

inline uint64_t key_of(MPI_Request r) noexcept {
  uint64_t k = 0;
  std::memcpy(&k, &r, sizeof(r) < sizeof(k) ? sizeof(r) : sizeof(k));
  return k;
}
inline bool is_free(const Entry& e) noexcept { return key_of(e.req) == 0; }
inline uint32_t home(MPI_Request r) noexcept {
  return uint32_t(((key_of(r) >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - kBits));
}

int64_t find_probe(MPI_Request req, uint32_t from) noexcept;
Entry* claim_slow(MPI_Request req) noexcept;
void erase_shift(uint32_t i) noexcept;

// Slot of req, or -1 (MPI_REQUEST_NULL and zero are never in the table).
SITEMPI_HOT int64_t find(MPI_Request req) noexcept {
  const uint32_t h = home(req);
  const uint64_t k = key_of(g_table[h].req);
  if (__builtin_expect(k == key_of(req), 1)) return k ? int64_t(h) : -1;
  return k ? find_probe(req, h) : -1;
}
// The slot for a new entry, counted (a handle still there was completed unseen: replaced), or
// nullptr when the table is full. The caller fills it in place: no entry built and copied.
SITEMPI_HOT Entry* claim(MPI_Request req) noexcept {
  Entry& e = g_table[home(req)];
  const uint32_t n = g_pending_reqs.load(std::memory_order_relaxed);
  if (__builtin_expect(is_free(e) && n < kMaxPending, 1)) {  // a free home slot: req is nowhere else
    g_pending_reqs.store(n + 1, std::memory_order_relaxed);
    return &e;
  }
  return claim_slow(req);
}
// Frees slot i; entries of its probe run after it that may move into the hole move back.
SITEMPI_HOT void erase_at(uint32_t i) noexcept {
  if (__builtin_expect(!is_free(g_table[(i + 1) & kMask]), 0)) return erase_shift(i);
  g_table[i].req = MPI_Request{};
  g_pending_reqs.store(g_pending_reqs.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

}  // namespace reqtable
}  // namespace sitempi::shim

#pragma GCC visibility pop
