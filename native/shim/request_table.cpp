// The request table's out-of-line paths (request_table.h): probes past the home slot, erases that
// shift a probe run back, the thread level that decides the locking.
#include "request_table.h"

#include <mutex>

namespace sitempi::shim {

std::atomic<uint32_t> g_pending_reqs{0};

namespace reqtable {

Entry g_table[kSlots];
uint32_t g_seq = 0;
uint8_t g_mode = kModeUnknown;

namespace {
std::mutex g_mu;
}  // namespace

bool serial_slow() noexcept {
  if (g_mode == kModeUnknown) {
    int level = MPI_THREAD_SINGLE;
    if (PMPI_Query_thread(&level) != MPI_SUCCESS) level = MPI_THREAD_MULTIPLE;
    // Another thread may be here too at MPI_THREAD_MULTIPLE: both store the same value.
    __atomic_store_n(&g_mode, level == MPI_THREAD_MULTIPLE ? kModeLocked : kModeSerial, __ATOMIC_RELAXED);
  }
  return g_mode == kModeSerial;
}

void lock() noexcept { g_mu.lock(); }
void unlock() noexcept { g_mu.unlock(); }

int64_t find_probe(MPI_Request req, uint32_t from) noexcept {
  for (uint32_t i = (from + 1) & kMask;; i = (i + 1) & kMask) {
    if (is_free(g_table[i])) return -1;
    if (g_table[i].req == req) return int64_t(i);
  }
}

Entry* claim_slow(MPI_Request req) noexcept {
  uint32_t i = home(req);
  while (!is_free(g_table[i]) && g_table[i].req != req) i = (i + 1) & kMask;
  if (is_free(g_table[i])) {
    const uint32_t n = g_pending_reqs.load(std::memory_order_relaxed);
    if (n >= kMaxPending) return nullptr;
    g_pending_reqs.store(n + 1, std::memory_order_relaxed);
  }
  return &g_table[i];
}

void erase_shift(uint32_t i) noexcept {
  for (uint32_t j = i;;) {
    j = (j + 1) & kMask;
    if (is_free(g_table[j])) break;
    const uint32_t h = home(g_table[j].req);
    // entry j may move to i when its home is not cyclically in (i, j]
    const bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
    if (stays) continue;
    g_table[i] = g_table[j];
    i = j;
  }
  g_table[i].req = MPI_Request{};
  g_pending_reqs.store(g_pending_reqs.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

}  // namespace reqtable
}  // namespace sitempi::shim
