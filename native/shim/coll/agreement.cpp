// The relocation agreement (agreement.h; docs/relocation-shim.md has the protocol, its bound and
// its invariants). Everything here calls PMPI only and nothing throws out of it.
#include "coll/agreement.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coll/dispatch.h"
#include "comms.h"
#include "config.h"
#include "functions.h"
#include "recorder.h"
#include "sender.h"

namespace sitempi::coll {

bool g_agree_on = false;

struct Agreement {
  MPI_Comm dup = MPI_COMM_NULL;                 // private duplicate: only the agreement's own collectives
  int me = 0;                                   // rank in the communicator
  uint32_t every = 0;                           // K for this communicator (0: no checkpoints)
  uint32_t left = 1;                            // calls until the next checkpoint (the call that makes it 0)
  uint64_t calls = 0;                           // covered collective calls on the communicator so far
  uint64_t seen = 0;                            // newest mailbox epoch seen on this communicator (markers)
  uint64_t snap_checked = 0;                    // mailbox epoch `snap` was last refreshed for
  std::shared_ptr<const wire::Placement> snap;  // newest valid placement this rank holds
  // The reduction in flight: started at one checkpoint, completed at the next.
  MPI_Request req = MPI_REQUEST_NULL;
  struct LongInt {
    long epoch;
    int rank;
  } in{0, 0}, out{0, 0};
  std::shared_ptr<const wire::Placement> sent;  // the map behind in.epoch while in flight
};

namespace {

uint32_t g_every = 32;
int g_world_size = 0;

// Agreements with a reduction that may be in flight, completed when MPI_Finalize begins.
std::mutex g_live_mu;
std::vector<Agreement*> g_live;
int g_self_keyval = MPI_KEYVAL_INVALID;

// The newest valid placement received, shared by every communicator's agreement (a copy of the
// mailbox, taken only when its epoch moved).
std::mutex g_snap_mu;
std::shared_ptr<const wire::Placement> g_snap;
uint64_t g_snap_checked = 0;
std::atomic<uint64_t> g_snap_epoch{0};  // g_snap's epoch

std::shared_ptr<const wire::Placement> newest_placement(uint64_t mailbox) {
  std::lock_guard<std::mutex> g(g_snap_mu);
  if (mailbox > g_snap_checked) {
    wire::Placement p;
    if (shim::mailbox_get(p)) {
      g_snap_checked = std::max(g_snap_checked, p.epoch);
      if (p.epoch <= uint64_t(LONG_MAX) && (!g_snap || p.epoch > g_snap->epoch) &&
          core::placement_valid(p.sites, p.site_of, g_world_size)) {
        g_snap = std::make_shared<const wire::Placement>(std::move(p));
        g_snap_epoch.store(g_snap->epoch);
      }
    }
  }
  return g_snap;
}

// A map this rank learned through an agreement (the Bcast at a switch): it becomes this rank's
// newest placement too, so the rank's other communicators follow at their next checkpoint even
// when the monitor never sends it this epoch (a monitor gone, a delivery lost).
}  // namespace

void learned(uint64_t epoch, const std::vector<uint32_t>& site_of) {
  std::lock_guard<std::mutex> g(g_snap_mu);
  if (g_snap && g_snap->epoch >= epoch) return;
  auto p = std::make_shared<wire::Placement>();
  p->epoch = epoch;
  p->site_of = site_of;
  uint32_t S = 0;
  for (uint32_t x : site_of) S = std::max(S, x + 1);
  for (uint32_t i = 0; i < S; ++i) p->sites.push_back("site" + std::to_string(i));
  g_snap = std::move(p);
  g_snap_epoch.store(epoch);
}

namespace {

uint32_t fn_of(core::Coll c) {
  using namespace shim;
  switch (c) {
    case core::Coll::Barrier:
      return FN_Barrier;
    case core::Coll::Bcast:
      return FN_Bcast;
    case core::Coll::Gather:
      return FN_Gather;
    case core::Coll::Gatherv:
      return FN_Gatherv;
    case core::Coll::Scatter:
      return FN_Scatter;
    case core::Coll::Scatterv:
      return FN_Scatterv;
    case core::Coll::Allgather:
      return FN_Allgather;
    case core::Coll::Allgatherv:
      return FN_Allgatherv;
    case core::Coll::Alltoall:
      return FN_Alltoall;
    case core::Coll::Alltoallv:
      return FN_Alltoallv;
    case core::Coll::Reduce:
      return FN_Reduce;
    case core::Coll::Allreduce:
      return FN_Allreduce;
    case core::Coll::ReduceScatter:
      return FN_Reduce_scatter;
    case core::Coll::ReduceScatterBlock:
      return FN_Reduce_scatter_block;
    default:
      return 0;
  }
}

// An informational record (agreement.h). Stamped with `t`, taken when the call's checkpoint began,
// so the call's own record (started a few ns earlier) keeps its start time.
void mark(core::Coll c, PlacementMark kind, MPI_Comm comm, uint64_t epoch, uint64_t call, int32_t peer, uint64_t t) {
  shim::append(fn_of(c) | (kRolePlacement << shim::kRoleShift), peer, epoch, shim::comm_local_id(comm), kind, t, t, 0,
               call);
}

void unregister(Agreement* a) {
  std::lock_guard<std::mutex> g(g_live_mu);
  g_live.erase(std::remove(g_live.begin(), g_live.end(), a), g_live.end());
}

// MPI_Finalize deletes MPI_COMM_SELF's attributes first, while MPI is still whole: complete every
// reduction in flight there (every member started it, so each completes).
int finalize_hook(MPI_Comm, int, void*, void*) {
  std::vector<Agreement*> live;
  {
    std::lock_guard<std::mutex> g(g_live_mu);
    live.swap(g_live);
  }
  for (Agreement* a : live)
    if (a->req != MPI_REQUEST_NULL) PMPI_Wait(&a->req, MPI_STATUS_IGNORE);
  g_agree_on = false;
  publish_switches();
  return MPI_SUCCESS;
}

void start(Agreement& a) {
  const uint64_t mb = shim::mailbox_epoch();
  if (mb > a.snap_checked || g_snap_epoch.load(std::memory_order_relaxed) > (a.snap ? a.snap->epoch : 0)) {
    a.snap = newest_placement(mb);
    a.snap_checked = mb;
  }
  a.sent = a.snap;
  a.in = {a.sent ? long(a.sent->epoch) : 0, a.me};
  a.out = {0, 0};
  if (PMPI_Iallreduce(&a.in, &a.out, 1, MPI_LONG_INT, MPI_MAXLOC, a.dup, &a.req) != MPI_SUCCESS) {
    a.req = MPI_REQUEST_NULL;
    a.sent.reset();
  }
}

// Completes the reduction in flight; when it agreed on a newer epoch than the cache's, fetches
// that epoch's map from the rank that contributed it and rebuilds the cache. Every rank of comm
// does exactly the same calls (the decision depends only on the reduction's result).
void complete(core::Coll c, MPI_Comm comm, shim::CommInfo& info, Agreement& a, uint64_t call, uint64_t t) {
  if (a.req == MPI_REQUEST_NULL) return;
  if (PMPI_Wait(&a.req, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
    a.req = MPI_REQUEST_NULL;
    a.sent.reset();
    return;
  }
  a.req = MPI_REQUEST_NULL;
  std::shared_ptr<const wire::Placement> sent = std::move(a.sent);
  auto* cur = static_cast<SiteCache*>(info.site_cache);
  if (a.out.epoch <= 0 || uint64_t(a.out.epoch) <= cur->epoch) return;
  const uint64_t epoch = uint64_t(a.out.epoch);
  const int provider = a.out.rank;
  std::vector<uint32_t> map;
  if (a.me == provider && sent && sent->epoch == epoch) map = sent->site_of;
  map.resize(size_t(g_world_size), 0);
  if (PMPI_Bcast(map.data(), g_world_size, MPI_UINT32_T, provider, a.dup) != MPI_SUCCESS) return;
  learned(epoch, map);
  SiteCache* fresh = build_cache(comm, info, &map, epoch);
  replace_cache(info, fresh);  // the agreement moves to the new cache
  shim::set_epoch_in_force(epoch);
  const int pw = provider >= 0 && size_t(provider) < info.members.size() ? info.members[size_t(provider)] : -1;
  mark(c, kMarkSwitch, comm, epoch, call, pw, t);
  shim::log("agreement: comm %u (%zu ranks) switched to epoch %lu at call %lu (%d sites%s)", shim::comm_local_id(comm),
            info.members.size(), (unsigned long)epoch, (unsigned long)call, fresh->g.S, fresh->active ? "" : ", PMPI");
}

// The communicator's first covered collective: the cache (the members agree on the newest
// placement any of them holds, cache.cpp) and the agreement's duplicate.
SiteCache* first_call(MPI_Comm comm, shim::CommInfo& info) {
  SiteCache* c = build_initial(comm, &info);
  info.site_cache = c;
  if (info.inter || info.members.size() < 2) return c;  // nothing to agree on
  auto* a = new Agreement;
  PMPI_Comm_rank(comm, &a->me);
  if (PMPI_Comm_split(comm, 0, a->me, &a->dup) != MPI_SUCCESS) {
    delete a;
    return c;  // collective: every member sees the failure, none agrees
  }
  a->every = g_every;
  a->left = 1;  // call 0 is a checkpoint: it starts the first reduction
  c->ag = a;
  std::lock_guard<std::mutex> g(g_live_mu);
  g_live.push_back(a);
  return c;
}

}  // namespace

std::shared_ptr<const wire::Placement> newest_known() { return newest_placement(shim::mailbox_epoch()); }

void agreement_init(uint32_t every) {
  g_every = every;
  PMPI_Comm_size(MPI_COMM_WORLD, &g_world_size);
  g_agree_on = false;
  if (!every) return;
  if (g_self_keyval == MPI_KEYVAL_INVALID &&
      PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, finalize_hook, &g_self_keyval, nullptr) != MPI_SUCCESS)
    return;
  if (PMPI_Comm_set_attr(MPI_COMM_SELF, g_self_keyval, nullptr) != MPI_SUCCESS) return;
  g_agree_on = true;
}

void free_agreement(Agreement* a, bool free_comms) {
  if (!a) return;
  unregister(a);
  int finalized = 1;
  PMPI_Finalized(&finalized);
  if (!finalized && a->req != MPI_REQUEST_NULL) PMPI_Wait(&a->req, MPI_STATUS_IGNORE);
  if (free_comms && !finalized && a->dup != MPI_COMM_NULL) PMPI_Comm_free(&a->dup);
  delete a;
}

SiteCache* agree_acquire(core::Coll coll, MPI_Comm comm) {
  shim::CommInfo* info = shim::comm_info(comm);
  if (!info) return nullptr;
  auto* c = static_cast<SiteCache*>(info->site_cache);
  try {
    const uint64_t mailbox = shim::mailbox_epoch();
    if (__builtin_expect(c == nullptr, 0)) {
      const uint64_t t = shim::ticks();
      c = first_call(comm, *info);
      if (c->ag) {
        c->ag->seen = mailbox;
        if (mailbox) mark(coll, kMarkSeen, comm, mailbox, 0, -1, t);
        if (c->epoch) shim::set_epoch_in_force(c->epoch);
        mark(coll, kMarkSwitch, comm, c->epoch, 0, -1, t);
        shim::log("agreement: comm %u (%zu ranks) starts at epoch %lu (%d sites%s)", shim::comm_local_id(comm),
                  info->members.size(), (unsigned long)c->epoch, c->g.S, c->active ? "" : ", PMPI");
      }
    }
    Agreement* a = c->ag;
    if (a) {
      const uint64_t call = a->calls++;
      if (__builtin_expect(mailbox > a->seen, 0)) {
        a->seen = mailbox;
        mark(coll, kMarkSeen, comm, mailbox, call, -1, shim::ticks());
      }
      if (a->every && --a->left == 0) {
        a->left = a->every;
        complete(coll, comm, *info, *a, call, shim::ticks());
        start(*a);
        c = static_cast<SiteCache*>(info->site_cache);
      }
    }
  } catch (...) {
    c = static_cast<SiteCache*>(info->site_cache);
    if (!c) return nullptr;
  }
  return coll_enabled(coll) && c->active ? c : nullptr;
}

}  // namespace sitempi::coll

extern "C" __attribute__((visibility("default"))) int sitempi_checkpoint_every(MPI_Comm comm, int every) {
  using namespace sitempi::coll;
  if (!g_agree_on) return -1;
  sitempi::shim::CommInfo* info = sitempi::shim::comm_info(comm);
  auto* c = info ? static_cast<SiteCache*>(info->site_cache) : nullptr;
  if (!c || !c->ag) return -1;
  Agreement& a = *c->ag;
  const int prev = int(a.every);
  if (every < 0) return prev;
  try {
    // Any pending result applies from the next call on (recorded with that call's index).
    complete(sitempi::core::Coll::None, comm, *info, a, a.calls, sitempi::shim::ticks());
  } catch (...) {
  }
  a.every = uint32_t(every);
  a.left = 1;  // the next call is a checkpoint (it starts a reduction)
  return prev;
}
