// The pending chains of this process and their progression (coll/nonblocking.h). No exception
// leaves this file: an error inside a chain completes its request with that error.
#include "coll/nonblocking.h"

#include "coll/progress_hook.h"

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
thread_local bool t_holding;   // this thread holds g_mu: the library's progress engine, entered
                               // from the chains' own MPI calls, must not advance them again

// g_mu, held by this thread (or, with try_only, not if another thread holds it).
class Held {
 public:
  explicit Held(bool try_only = false) : lock_(g_mu, std::defer_lock) {
    if (try_only ? lock_.try_lock() : (lock_.lock(), true)) t_holding = true;
  }
  ~Held() {
    if (lock_.owns_lock()) t_holding = false;
  }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;
  bool owns() const { return lock_.owns_lock(); }

 private:
  std::unique_lock<std::mutex> lock_;
};

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

// Caches the application freed while their chains ran, to free outside the progress engine (a
// communicator is not freed from inside the library's own progress). Caller holds g_mu.
std::vector<SiteCache*> g_orphans;

void free_orphans() {
  for (SiteCache* c : g_orphans) free_cache(c, c->nb_free_comms);
  g_orphans.clear();
}

// A chain has ended: its request completes; its cache goes if the application freed it meanwhile
// (free_cache deferred it).
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
  if (--c.nb_pending == 0 && c.nb_orphan) g_orphans.push_back(&c);
}

// Advances every pending chain once and retires those that ended; frees orphaned caches unless
// called from the progress engine (in_engine). Returns how many chains ended. Caller holds g_mu.
int poll_locked(bool in_engine = false) {
  int ended = 0;
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
    ++ended;
  }
  if (!in_engine && !g_orphans.empty()) free_orphans();
  return ended;
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
  auto slot = std::make_unique<int>(MPI_SUCCESS);
  const uint32_t alg = out->alg;
  Held held;
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

void nb_finalize() noexcept {
  progress_hook_remove();
  try {
    Held held;
    free_orphans();
  } catch (...) {
  }
}

int nb_poll() noexcept {
  try {
    if (t_holding) return 0;
    Held held(true);
    return held.owns() ? poll_locked(true) : 0;
  } catch (...) {
    return 0;
  }
}

}  // namespace sitempi::coll
