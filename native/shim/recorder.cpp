#include "recorder.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <vector>

namespace sitempi::shim {

std::atomic<bool> g_active{false};
thread_local int t_depth = 0;
std::atomic<uint64_t> g_flush_gen{0};

namespace {

std::mutex g_pool_mu;
std::vector<Chunk> g_free;               // guarded by g_pool_mu
std::deque<Chunk> g_full;                // guarded by g_pool_mu
std::atomic<uint32_t> g_free_count{0};
uint32_t g_capacity = 0;
std::vector<wire::Record> g_storage;     // all chunks' records, allocated once

std::atomic<uint64_t> g_dropped{0}, g_records{0}, g_mpi_ticks{0};

struct ThreadBuffer;
std::mutex g_threads_mu;
std::vector<ThreadBuffer*> g_threads;    // guarded by g_threads_mu

// A thread's current chunk. Registered so that Finalize can collect partial chunks of all threads.
struct ThreadBuffer {
  Chunk chunk;
  bool has_chunk = false;
  uint64_t flush_gen = 0;
  uint64_t records = 0, mpi_ticks = 0;   // folded into the globals on hand-off
  std::mutex mu;                         // taken by this thread only on hand-off, and by Finalize
  ThreadBuffer() {
    std::lock_guard<std::mutex> g(g_threads_mu);
    g_threads.push_back(this);
  }
  ~ThreadBuffer() {
    hand_off();
    std::lock_guard<std::mutex> g(g_threads_mu);
    g_threads.erase(std::remove(g_threads.begin(), g_threads.end(), this), g_threads.end());
  }
  void fold_counters() {
    g_records.fetch_add(records, std::memory_order_relaxed);
    g_mpi_ticks.fetch_add(mpi_ticks, std::memory_order_relaxed);
    records = mpi_ticks = 0;
  }
  // Gives the current chunk (if any records) to the sender.
  void hand_off() {
    std::lock_guard<std::mutex> g(mu);
    fold_counters();
    if (!has_chunk || chunk.n == 0) return;
    {
      std::lock_guard<std::mutex> p(g_pool_mu);
      g_full.push_back(chunk);
    }
    has_chunk = false;
    wake_sender();
  }
  bool acquire() {
    if (g_free_count.load(std::memory_order_relaxed) == 0) return false;
    std::lock_guard<std::mutex> p(g_pool_mu);
    if (g_free.empty()) return false;
    chunk = g_free.back();
    g_free.pop_back();
    g_free_count.fetch_sub(1, std::memory_order_relaxed);
    chunk.n = 0;
    has_chunk = true;
    return true;
  }
};

thread_local ThreadBuffer* t_buf = nullptr;

ThreadBuffer& buffer() {
  if (__builtin_expect(t_buf == nullptr, 0)) {
    static thread_local ThreadBuffer tb;  // destroyed at thread exit: its records are handed off
    t_buf = &tb;
  }
  return *t_buf;
}

}  // namespace

void recorder_init_pool(uint32_t batch_records, uint32_t queue_batches) {
  std::lock_guard<std::mutex> p(g_pool_mu);
  g_capacity = batch_records;
  g_storage.assign(size_t(batch_records) * queue_batches, wire::Record{});
  g_free.clear();
  for (uint32_t i = 0; i < queue_batches; ++i) g_free.push_back(Chunk{0, 0, &g_storage[size_t(i) * batch_records]});
  g_free_count.store(queue_batches);
}

void append(uint32_t fn, int32_t peer, uint64_t bytes, uint32_t comm, uint32_t alg, uint64_t t0, uint64_t t1,
            uint32_t cross_msgs, uint64_t cross_bytes) {
  ThreadBuffer& b = buffer();
  ++b.records;
  if ((fn >> kRoleShift) <= kRoleColl) b.mpi_ticks += t1 - t0;  // parts carry no time of their own
  const uint64_t gen = g_flush_gen.load(std::memory_order_relaxed);
  if (b.has_chunk && (b.chunk.n == g_capacity || gen != b.flush_gen)) {
    b.flush_gen = gen;
    b.hand_off();
  }
  if (!b.has_chunk && !b.acquire()) {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  b.chunk.recs[b.chunk.n++] = wire::Record{fn, peer, bytes, comm, alg, t0, t1 - t0, cross_msgs, cross_bytes};
}

bool take_full_chunk(Chunk& out) {
  std::lock_guard<std::mutex> p(g_pool_mu);
  if (g_full.empty()) return false;
  out = g_full.front();
  g_full.pop_front();
  return true;
}

void return_chunk(const Chunk& c) {
  std::lock_guard<std::mutex> p(g_pool_mu);
  g_free.push_back(c);
  g_free_count.fetch_add(1, std::memory_order_relaxed);
}

void flush_all_threads() {
  std::lock_guard<std::mutex> g(g_threads_mu);
  for (ThreadBuffer* t : g_threads) t->hand_off();
}

uint64_t records_dropped() { return g_dropped.load(); }
uint64_t records_total() { return g_records.load(); }
uint64_t mpi_ticks_total() { return g_mpi_ticks.load(); }

}  // namespace sitempi::shim
