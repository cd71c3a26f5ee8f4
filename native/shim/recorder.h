// The recorder: what every generated wrapper calls. Records go into a per-thread chunk with no
// locking; full chunks go to the sender thread through a bounded queue; when the queue is full,
// records are dropped and counted, never waited for. The common path is inline and touches only
// thread-local state and a few read-mostly globals.
#pragma once
#include <mpi.h>

#include <atomic>
#include <cstdint>

#include "clock.h"
#include "comms.h"
#include "core/wire.h"
#include "datatypes.h"
#include "facts.h"
#include "functions.h"
#include "thread_state.h"

#pragma GCC visibility push(hidden)  // globals addressed directly, not through the GOT (thread_state.h)

namespace sitempi::shim {

// Roles (high bits of Record.fn, how a record counts in the communication matrix) and kRoleShift:
// facts.h, generated from native/shim/gen/facts.mjs.

struct Chunk {
  uint32_t n = 0;  // slots used (a record takes one or two)
  uint64_t epoch = 0;
  wire::Slot* recs = nullptr;
  uint64_t records = 0;  // records in it, counted when the consumer takes it
};

// Per-thread hot state (ThreadFast, t_fast): thread_state.h.

extern std::atomic<bool> g_active;         // recording: after PMPI_Init, until Finalize
extern std::atomic<uint64_t> g_flush_gen;  // bumped by the sender: threads hand off partial chunks
extern std::atomic<uint64_t> g_epoch;      // placement epoch in force (newest agreed switch)

// A communicator switched to placement `epoch`: records from now on carry it. Every thread's
// partial chunk is handed off first, so that a batch never mixes epochs.
void set_epoch_in_force(uint64_t epoch);

// The common path of every wrapper is forced inline: out of line it pays a call with its
// arguments on the stack and the saving of registers, more than the record itself.
#define SITEMPI_HOT inline __attribute__((always_inline))

SITEMPI_HOT bool enter() { return __builtin_expect(t_fast.depth == 0, 1) && g_active.load(std::memory_order_relaxed); }

// Everything but a record into a chunk with room: taking or handing off a chunk, a record dropped
// because the queue is full. The record's start and duration are in ticks; one argument, so that
// the callers pass nothing on the stack.
void append_slow(const wire::Record& r);

// Counting records and MPI time is left to the consumer (take_full_chunk), which reads them from
// the slots: the application's thread only stores the slot (and its extension: cap leaves room for
// one, and records that name an algorithm or a request need it, Waits and receives among them).
SITEMPI_HOT void append(uint32_t fn, int32_t peer, uint64_t bytes, uint32_t comm, uint32_t alg, uint64_t t0,
                        uint64_t t1, uint32_t cross_msgs = 0, uint64_t cross_bytes = 0, uint32_t tag = 0) {
  ThreadFast& f = t_fast;
  const uint64_t dt = t1 - t0;
  const uint32_t n = f.n;
  if (__builtin_expect(n < f.cap && f.flush_gen == g_flush_gen.load(std::memory_order_relaxed), 1)) {
    // Straight into the chunk: a record built on the stack and copied would be re-read with wide
    // loads that cannot forward from its narrow stores (a stall of a dozen cycles each).
    f.n = n + uint32_t(wire::pack(f.recs + n, fn, peer, bytes, comm, alg, t0, dt, cross_msgs, cross_bytes, tag));
    return;
  }
  append_slow(wire::Record{fn, peer, bytes, comm, alg, t0, dt, cross_msgs, cross_bytes, tag});
}

// One intercepted call: times it and emits its records. Exactly one primary record per call.
// Constructed only when enter() held, so the depth it sets and clears was 0.
class Call {
 public:
  SITEMPI_HOT explicit Call(uint32_t fn) : fn_(fn), t0_(ticks()), t1_(t0_) { t_fast.depth = 1; }
  SITEMPI_HOT ~Call() { t_fast.depth = 0; }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // The MPI call returned: its end, read before the records are made (their lookups are the
  // shim's time, not the call's).
  SITEMPI_HOT void stop() { t1_ = ticks(); }

  // Primary records, written when the MPI call has returned.
  SITEMPI_HOT void other(MPI_Comm c = MPI_COMM_NULL, int peer_world = -1) {
    primary(kRoleOther, peer_world, 0, c == MPI_COMM_NULL ? 0 : comm_local_id(c));
  }
  // tag: the message's tag (a receive's from its status); 0 where not known
  SITEMPI_HOT void p2p(Role role, MPI_Comm c, int peer, int64_t count, MPI_Datatype t, uint32_t tag = 0) {
    primary(role, comm_world_rank(c, peer), type_bytes(t, count), comm_local_id(c), 0, tag);
  }
  SITEMPI_HOT void p2p_bytes(Role role, MPI_Comm c, int peer, uint64_t bytes, uint32_t tag = 0) {
    primary(role, comm_world_rank(c, peer), bytes, comm_local_id(c), 0, tag);
  }
  SITEMPI_HOT void rma(Role role, MPI_Win w, int target, int64_t count, MPI_Datatype t) {
    primary(role, win_world_rank(w, target), type_bytes(t, count), win_local_id(w));
  }
  SITEMPI_HOT void other_id(uint32_t comm_id) { primary(kRoleOther, -1, 0, comm_id); }
  // A Wait or Test that completed one numbered request (requests.h): alg = how many requests the
  // rank posted after it, plus one (0: none named), in place of a Done record.
  SITEMPI_HOT void other_named(uint32_t after_plus_one) { primary(kRoleOther, -1, 0, 0, after_plus_one); }
  SITEMPI_HOT void win(MPI_Win w, int target = MPI_PROC_NULL) {
    primary(kRoleOther, target == MPI_PROC_NULL ? -1 : win_world_rank(w, target), 0, win_local_id(w));
  }
  // alg: the algorithm that ran (0: the MPI library's); cross_*: what it sent to other sites.
  SITEMPI_HOT void coll(MPI_Comm c, int root, uint64_t bytes, uint32_t alg = 0, uint32_t cross_msgs = 0,
                        uint64_t cross_bytes = 0) {
    append(fn_ | (kRoleColl << kRoleShift), root >= 0 ? comm_world_rank(c, root) : -1, bytes, comm_local_id(c), alg,
           t0_, t1_, cross_msgs, cross_bytes);
  }
  // A collective's per-peer traffic (v/w-variants), in addition to the primary record.
  void part(Role role, MPI_Comm c, int peer, uint64_t bytes) {
    // Stamped with the call's start: records of a thread stay in start order (delta coding).
    if (bytes) append(fn_ | (role << kRoleShift), comm_world_rank(c, peer), bytes, comm_local_id(c), 0, t0_, t0_);
  }
  // An Irecv of a known source and tag, recorded at posting with the posted size (kRecvPosted: a
  // kRecvShort record follows at completion if fewer bytes arrive).
  SITEMPI_HOT void recv_posted(int32_t peer_world, uint64_t bytes, uint32_t comm, uint32_t tag) {
    primary(kRoleRecv, peer_world, bytes, comm, kRecvPosted, tag);
  }
  // A record for another operation completing inside this call (a receive request completed by
  // a Wait, with what its status says): no time of its own.
  void completed(uint32_t fn, Role role, int32_t peer_world, uint64_t bytes, uint32_t comm, uint32_t tag = 0,
                 uint32_t alg = 0) {
    append(fn | (role << kRoleShift), peer_world, bytes, comm, alg, t1_, t1_, 0, 0, tag);
  }
  uint32_t fn() const { return fn_; }

 private:
  SITEMPI_HOT void primary(uint32_t role, int32_t peer, uint64_t bytes, uint32_t comm, uint32_t alg = 0,
                           uint32_t tag = 0) {
    append(fn_ | (role << kRoleShift), peer, bytes, comm, alg, t0_, t1_, 0, 0, tag);
  }
  uint32_t fn_;
  uint64_t t0_, t1_;
};

// The queue's memory: chunks of batch_records slots, at most queue_batches of them, each allocated
// when first needed. Together with the sender's encoding buffers (buffer_bytes) it stays within
// kMaxBufferBytes per rank: larger settings are refused at MPI_Init.
constexpr uint64_t kMaxBufferBytes = 64ull << 20;
constexpr uint64_t kFrameBufferBytes = 1ull << 20;  // frames the sender gathers before one write
inline uint64_t buffer_bytes(uint64_t batch_records, uint64_t queue_batches) {
  const uint64_t encoded = 10 * 10;                          // the encoder's worst case per record: ten varint columns
  return batch_records * queue_batches * sizeof(wire::Slot)  // the queue
         + batch_records * (encoded + sizeof(wire::Record))  // encoder scratch (core/wire.cpp)
         + kFrameBufferBytes + batch_records * encoded;      // frames waiting to be written
}
void recorder_init_pool(uint32_t batch_records, uint32_t queue_batches);
// Called (from any thread) when a full chunk is queued: wakes its consumer, the sender.
void recorder_on_chunk(void (*wake)());

// The consumer side of the queue.
bool take_full_chunk(Chunk& out);  // non-blocking
void return_chunk(const Chunk& c);
void flush_all_threads();  // hands every thread's partial chunk to the queue
uint64_t records_dropped();
uint64_t records_total();    // recorded: in the chunks the consumer took, and dropped
uint64_t mpi_ticks_total();  // the time of the calls of those records

}  // namespace sitempi::shim

#pragma GCC visibility pop
