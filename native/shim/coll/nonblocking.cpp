// The pending chains of this process and their progression (coll/nonblocking.h). No exception
// leaves this file: an error inside a chain completes its request with that error.
#include "coll/nonblocking.h"

#include "coll/blocking.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

namespace sitempi::coll {

std::atomic<int> g_nb_pending{0};

namespace {

std::mutex g_mu;               // the registry; advancing chains (MPI_THREAD_MULTIPLE callers)
std::vector<Chain*> g_chains;  // pending, owned; bounded by the application's pending requests

// Tags kTagNonblocking .. tag_ub: the standard guarantees tag_ub >= 32767.
int tag_span() {
  static const int span = [] {
    int* ub = nullptr;
    int flag = 0;
    const int v = PMPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag) == MPI_SUCCESS && flag && ub ? *ub : 32767;
    return std::max(1, v - kTagNonblocking);
  }();
  return span;
}

// Generalized-request callbacks: the status of a completed collective (no source, tag or data of
// its own, as MPI's own non-blocking collectives report), the chain's error code.
int query_cb(void* extra, MPI_Status* st) {
  const int err = extra ? *static_cast<int*>(extra) : MPI_SUCCESS;
  st->MPI_SOURCE = MPI_ANY_SOURCE;
  st->MPI_TAG = MPI_ANY_TAG;
  st->MPI_ERROR = err;
  PMPI_Status_set_elements(st, MPI_BYTE, 0);
  PMPI_Status_set_cancelled(st, 0);
  return err;
}
int free_cb(void* extra) {
  delete static_cast<int*>(extra);
  return MPI_SUCCESS;
}
int cancel_cb(void*, int) { return MPI_SUCCESS; }  // cancelling a collective is erroneous: ignored

// A chain has ended: its request completes, its cache may go (free_cache deferred it).
void retire(Chain* ch) {
  const Outcome& got = ch->sent();
  static bool told = false;
  if (ch->error() == MPI_SUCCESS &&
      (got.cross_msgs != ch->planned.cross_msgs || got.cross_bytes != ch->planned.cross_bytes) && !told) {
    told = true;  // a bug of the shim's: the call's record did not say what it sent
    fprintf(stderr, "sitempi: internal error: a non-blocking collective sent %u/%llu across sites, recorded %u/%llu\n",
            got.cross_msgs, (unsigned long long)got.cross_bytes, ch->planned.cross_msgs,
            (unsigned long long)ch->planned.cross_bytes);
  }
  *ch->status_slot = ch->error();
  PMPI_Grequest_complete(ch->app);
  SiteCache& c = ch->cache();
  delete ch;
  if (--c.nb_pending == 0 && c.nb_orphan) free_cache(&c, c.nb_free_comms);
}

// Advances every pending chain once; retires those that ended. Caller holds g_mu.
void poll_locked() {
  for (size_t i = 0; i < g_chains.size();) {
    Chain* ch = g_chains[i];
    if (!ch->done()) {
      int rc;
      try {
        rc = ch->advance();
      } catch (...) {
        rc = MPI_ERR_INTERN;
      }
      if (rc != MPI_SUCCESS) ch->fail(rc);
    }
    if (!ch->done()) {
      ++i;
      continue;
    }
    g_chains[i] = g_chains.back();
    g_chains.pop_back();
    g_nb_pending.fetch_sub(1, std::memory_order_relaxed);
    retire(ch);
  }
}

bool is_ours(MPI_Request r) {
  for (const Chain* ch : g_chains)
    if (ch->app == r) return true;
  return false;
}

}  // namespace

Chain::Chain(SiteCache& c) : c_(c), x_(c, &out_), tag_(kTagNonblocking + int(c.nb_seq++ % uint32_t(tag_span()))) {}

Chain::~Chain() {
  if (dup_ != MPI_DATATYPE_NULL) PMPI_Type_free(&dup_);
}

MPI_Datatype Chain::keep(MPI_Datatype t) {
  int ni = 0, na = 0, nd = 0, combiner = MPI_COMBINER_NAMED;
  if (PMPI_Type_get_envelope(t, &ni, &na, &nd, &combiner) != MPI_SUCCESS || combiner == MPI_COMBINER_NAMED) return t;
  if (PMPI_Type_dup(t, &dup_) != MPI_SUCCESS) {
    dup_ = MPI_DATATYPE_NULL;
    return t;
  }
  return dup_;
}

int Chain::advance() {
  while (!done_) {
    bool ready = false;
    SITEMPI_RC(x_.test(&ready));
    if (!ready) return MPI_SUCCESS;
    SITEMPI_RC(step());
  }
  return MPI_SUCCESS;
}

int nb_launch(std::unique_ptr<Chain> chain, MPI_Request* request, Outcome* out) {
  SiteCache& c = chain->cache();
  if (!c.nb_gate) {  // at the same call on every member: from now on its blocking collectives gate
    c.nb_gate = true;
    g_coll_word.fetch_add(kOneGate, std::memory_order_relaxed);
  }
  auto slot = std::make_unique<int>(MPI_SUCCESS);
  const uint32_t alg = out->alg;
  std::lock_guard<std::mutex> lock(g_mu);
  poll_locked();  // a new call is a chance for the others
  int rc = chain->start(out);
  out->alg = alg;
  chain->planned = *out;
  if (rc != MPI_SUCCESS) chain->fail(rc);
  SITEMPI_RC(PMPI_Grequest_start(query_cb, free_cb, cancel_cb, slot.get(), request));
  chain->app = *request;
  chain->status_slot = slot.release();
  ++chain->cache().nb_pending;
  g_chains.push_back(chain.release());
  g_nb_pending.fetch_add(1, std::memory_order_relaxed);
  poll_locked();  // whatever completed already
  return rc;
}

void nb_poll() noexcept {
  try {
    std::unique_lock<std::mutex> lock(g_mu, std::try_to_lock);
    if (lock.owns_lock()) poll_locked();
  } catch (...) {
  }
}

void nb_progress_slow(int n, const MPI_Request* reqs, NbMode mode) noexcept {
  try {
    if (mode == NbMode::kTest) return nb_poll();
    std::vector<int> mine, theirs;  // indices of our chains' requests and of the library's
    {
      std::lock_guard<std::mutex> lock(g_mu);
      for (int i = 0; i < n; ++i)
        if (reqs[i] != MPI_REQUEST_NULL) (is_ours(reqs[i]) ? mine : theirs).push_back(i);
    }
    if (mine.empty() && theirs.empty()) return;
    // Until the library's wait can return at once: kWait, every request has completed; kAny, one
    // has (ours: its chain ended; the library's: found by MPI_Request_get_status, which leaves it
    // to the library's wait). Every pending chain advances meanwhile, also while the application
    // waits for the library's requests only: a peer may need one of our chains to send them.
    for (;;) {
      std::lock_guard<std::mutex> lock(g_mu);
      poll_locked();
      if (g_chains.empty()) return;  // nothing left to advance: the library's wait will do
      size_t left = 0;
      for (int i : mine) left += is_ours(reqs[i]) ? 1 : 0;
      if (mode == NbMode::kAny && left < mine.size()) return;
      if (mode == NbMode::kWait && left > 0) continue;
      bool any = false, all = true;
      for (int i : theirs) {
        int flag = 0;
        if (PMPI_Request_get_status(reqs[i], &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS) return;
        any = any || flag;
        all = all && flag;
      }
      if (mode == NbMode::kWait ? all : any) return;
    }
  } catch (...) {
    // Out of memory in a chain: the library's wait reports what it can.
  }
}

void nb_progress_slow(int n, const MPI_Fint* reqs, NbMode mode) noexcept {
  try {
    std::vector<MPI_Request> c(static_cast<size_t>(n > 0 ? n : 0));
    for (int i = 0; i < n; ++i) c[size_t(i)] = PMPI_Request_f2c(reqs[i]);
    nb_progress_slow(n, c.data(), mode);
  } catch (...) {
  }
}

}  // namespace sitempi::coll
