#include "recorder.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <new>
#include <vector>

namespace sitempi::shim {

std::atomic<bool> g_active{false};
std::atomic<uint64_t> g_flush_gen{0};
std::atomic<uint64_t> g_epoch{0};
__thread ThreadFast t_fast;

namespace {

std::mutex g_pool_mu;
std::vector<Chunk> g_free;  // guarded by g_pool_mu
std::deque<Chunk> g_full;   // guarded by g_pool_mu
// Chunks a thread may still take: free ones and those not allocated yet.
std::atomic<uint32_t> g_free_count{0};
uint32_t g_capacity = 0;
std::atomic<void (*)()> g_wake{nullptr};

void wake_consumer() {
  if (void (*w)() = g_wake.load(std::memory_order_acquire)) w();
}

// Records in the chunks the consumer took and their calls' ticks; records dropped and theirs.
std::atomic<uint64_t> g_records{0}, g_mpi_ticks{0}, g_dropped{0}, g_dropped_ticks{0};

// Parts and completions carry no time of their own: only primary records count as MPI time.
bool timed(uint32_t fn) { return ((fn & wire::kFnMask) >> kRoleShift) <= kRoleColl; }

// Registers a thread on its first record, so that Finalize can collect the partial chunks of
// every thread, and hands its chunk off when the thread exits.
struct ThreadRegistration;
std::mutex g_threads_mu;
std::vector<ThreadRegistration*> g_threads;  // guarded by g_threads_mu

struct ThreadRegistration {
  ThreadFast* fast;
  std::mutex mu;  // the owning thread on hand-off, or Finalize collecting
  explicit ThreadRegistration(ThreadFast* f) : fast(f) {
    std::lock_guard<std::mutex> g(g_threads_mu);
    g_threads.push_back(this);
  }
  ~ThreadRegistration() {
    hand_off();
    std::lock_guard<std::mutex> g(g_threads_mu);
    g_threads.erase(std::remove(g_threads.begin(), g_threads.end(), this), g_threads.end());
  }
  // Gives the current chunk (if it holds records) to the sender.
  void hand_off() {
    std::lock_guard<std::mutex> g(mu);
    ThreadFast& f = *fast;
    if (!f.recs) return;
    Chunk c{f.n, f.epoch, f.recs};
    {
      std::lock_guard<std::mutex> p(g_pool_mu);
      if (c.n)
        g_full.push_back(c);
      else {
        g_free.push_back(c);
        g_free_count.fetch_add(1, std::memory_order_relaxed);
      }
    }
    f.recs = nullptr;
    f.n = f.cap = 0;
    if (c.n) wake_consumer();
  }
  bool acquire() {
    if (g_free_count.load(std::memory_order_relaxed) == 0) return false;
    std::lock_guard<std::mutex> p(g_pool_mu);
    if (g_free_count.load(std::memory_order_relaxed) == 0) return false;
    ThreadFast& f = *fast;
    if (!g_free.empty()) {
      f.recs = g_free.back().recs;
      g_free.pop_back();
    } else {
      // Not touched until written: a rank's memory grows with what waits to be sent. Never
      // freed: a sender left running at exit may still read it.
      wire::Slot* s = new (std::nothrow) wire::Slot[g_capacity];
      if (!s) return false;
      f.recs = s;
    }
    g_free_count.fetch_sub(1, std::memory_order_relaxed);
    f.n = 0;
    f.cap = g_capacity - 1;
    f.epoch = g_epoch.load(std::memory_order_acquire);
    return true;
  }
};

ThreadRegistration& registration() {
  static thread_local ThreadRegistration reg(&t_fast);  // destroyed at thread exit
  return reg;
}

}  // namespace

void set_epoch_in_force(uint64_t epoch) {
  uint64_t cur = g_epoch.load();
  while (epoch > cur && !g_epoch.compare_exchange_weak(cur, epoch)) {
  }
  if (epoch > cur) g_flush_gen.fetch_add(1, std::memory_order_release);
}

void recorder_init_pool(uint32_t batch_records, uint32_t queue_batches) {
  std::lock_guard<std::mutex> p(g_pool_mu);
  g_capacity = batch_records;
  g_free.reserve(queue_batches);
  g_free_count.store(queue_batches);
}

void recorder_on_chunk(void (*wake)()) { g_wake.store(wake, std::memory_order_release); }

// The chunk is full, a flush was requested or the thread has no chunk yet (an extension slot
// always fits: cap leaves room for it).
void append_slow(const wire::Record& r) {
  ThreadRegistration& reg = registration();
  ThreadFast& f = t_fast;
  const uint64_t gen = g_flush_gen.load(std::memory_order_relaxed);
  if (f.recs && (f.n >= f.cap || f.flush_gen != gen)) reg.hand_off();
  f.flush_gen = gen;
  if (!f.recs && !reg.acquire()) {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
    if (timed(r.fn)) g_dropped_ticks.fetch_add(r.duration, std::memory_order_relaxed);
    return;
  }
  f.n += uint32_t(wire::pack(f.recs + f.n, r.fn, r.peer, r.bytes, r.comm, r.alg, r.start, r.duration, r.cross_msgs,
                             r.cross_bytes, r.tag));
}

bool take_full_chunk(Chunk& out) {
  {
    std::lock_guard<std::mutex> p(g_pool_mu);
    if (g_full.empty()) return false;
    out = g_full.front();
    g_full.pop_front();
  }
  // The counts the application's thread leaves out: its records (not their extension slots) and
  // the time of their calls (a long one in the extension).
  uint64_t records = 0, ticks = 0;
  for (size_t i = 0; i < out.n; ++records) {
    const wire::Record r = wire::unpack(out.recs, out.n, i);
    if (timed(r.fn)) ticks += r.duration;
  }
  out.records = records;
  g_records.fetch_add(records, std::memory_order_relaxed);
  g_mpi_ticks.fetch_add(ticks, std::memory_order_relaxed);
  return true;
}

void return_chunk(const Chunk& c) {
  std::lock_guard<std::mutex> p(g_pool_mu);
  g_free.push_back(c);
  g_free_count.fetch_add(1, std::memory_order_relaxed);
}

void flush_all_threads() {
  std::lock_guard<std::mutex> g(g_threads_mu);
  for (ThreadRegistration* t : g_threads) t->hand_off();
}

uint64_t records_dropped() { return g_dropped.load(); }
uint64_t records_total() { return g_records.load() + g_dropped.load(); }
uint64_t mpi_ticks_total() { return g_mpi_ticks.load() + g_dropped_ticks.load(); }

}  // namespace sitempi::shim
