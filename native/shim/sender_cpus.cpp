#include "sender_cpus.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "config.h"
#include "core/sites.h"

namespace sitempi::shim {
namespace {

// A dynamically sized cpu_set_t: machines may have more than CPU_SETSIZE CPUs.
struct CpuMask {
  int ncpus;
  size_t bytes;
  std::unique_ptr<cpu_set_t, void (*)(cpu_set_t*)> set;
  explicit CpuMask(int n) : ncpus(n), bytes(CPU_ALLOC_SIZE(n)), set(CPU_ALLOC(n), [](cpu_set_t* s) { CPU_FREE(s); }) {
    CPU_ZERO_S(bytes, set.get());
  }
  void add(int cpu) {
    if (cpu >= 0 && cpu < ncpus) CPU_SET_S(size_t(cpu), bytes, set.get());
  }
  bool has(int cpu) const { return CPU_ISSET_S(size_t(cpu), bytes, set.get()); }
  int count() const { return CPU_COUNT_S(bytes, set.get()); }
};

bool parse_cpu_list(const std::string& text, CpuMask& out) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    long lo = 0, hi = 0;
    if (!core::parse_range(text.substr(pos, comma - pos), lo, hi) || hi < lo) return false;
    for (long c = lo; c <= hi && c < out.ncpus; ++c) out.add(int(c));
    pos = comma + 1;
  }
  return out.count() > 0;
}

}  // namespace

void place_sender_thread(const std::string& setting, int local_ranks) {
  if (setting == "inherit") return;
  const long conf = sysconf(_SC_NPROCESSORS_CONF);
  const int ncpus = conf > 0 ? int(conf) : 1;
  CpuMask want(ncpus);
  if (setting.empty() || setting == "other") {
    CpuMask mine(ncpus);
    if (sched_getaffinity(0, mine.bytes, mine.set.get()) != 0) return;
    // Every CPU outside our binding: the kernel keeps those the cpuset allows, and refuses the
    // mask (the thread keeps the rank's binding) when none is.
    for (int c = 0; c < ncpus; ++c)
      if (!mine.has(c)) want.add(c);
    if (want.count() == 0) return;  // not bound to a subset: the scheduler already has all CPUs
    // Every CPU already runs a rank: moved, the sender would still take time from a rank, and
    // would pull each record across cores besides; on the rank's own core it costs less
    // (bench/coll-overhead, 2 ranks on 2 CPUs: Bcast 8 B 1.6x -> 1.15x, Barrier 1.07x -> 1.03x).
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (local_ranks > 0 && online > 0 && long(local_ranks) * mine.count() >= online) {
      log("sender thread stays on the rank's CPUs (%d ranks on this node's %ld CPUs)", local_ranks, online);
      return;
    }
  } else if (!parse_cpu_list(setting, want)) {
    fprintf(stderr, "sitempi: ignoring SITEMPI_SENDER_CPUS=%s (expected other, inherit or a CPU list like 0-3,8)\n",
            setting.c_str());
    return;
  }
  if (pthread_setaffinity_np(pthread_self(), want.bytes, want.set.get()) != 0)
    log("sender thread stays on the rank's CPUs (SITEMPI_SENDER_CPUS=%s is not usable here)", setting.c_str());
}

}  // namespace sitempi::shim
