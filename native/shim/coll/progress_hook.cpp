// Chains advanced from Open MPI's progress engine (coll/progress_hook.h). No exception leaves this
// file.
#include "coll/progress_hook.h"

#include <dlfcn.h>

#include <atomic>

#include "coll/dispatch.h"
#include "coll/nonblocking.h"

namespace sitempi::coll {

namespace {

using Callback = int (*)();
using Register = int (*)(Callback);

std::atomic<bool> g_installed{false};

// Called by opal_progress, as often as the library polls: one load while no chain is pending. The
// chains' own MPI calls re-enter the engine; nb_poll skips on the thread that is already advancing
// them, and on any thread while another one is.
int on_progress() {
  return g_nb_pending.load(std::memory_order_relaxed) != 0 ? nb_poll() : 0;  // requests completed
}

Register lookup(const char* name) { return reinterpret_cast<Register>(dlsym(RTLD_DEFAULT, name)); }

}  // namespace

bool progress_hook_install() noexcept {
  // Once, also when threads start their first non-blocking calls at the same time.
  static const bool registered = [] {
    const Register reg = lookup("opal_progress_register");
    const bool ok = reg && reg(on_progress) == 0;
    g_installed.store(ok, std::memory_order_relaxed);
    return ok;
  }();
  return registered && g_installed.load(std::memory_order_relaxed);  // false after nb_finalize
}

void progress_hook_remove() noexcept {
  if (!g_installed.exchange(false, std::memory_order_relaxed)) return;
  if (const Register unreg = lookup("opal_progress_unregister")) unreg(on_progress);
}

}  // namespace sitempi::coll
