// Init-time site configuration (SITEMPI_SITES / SITEMPI_SITES_FILE / SITEMPI_COLL, the monitor's
// placement) and the per-communicator cache.
#include "coll/cache.h"

#include "coll/agreement.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <unistd.h>

#include "coll/dispatch.h"
#include "coll/handoff.h"
#include "comms.h"
#include "config.h"
#include "core/cost_model.h"
#include "recorder.h"
#include "sender.h"

namespace sitempi::coll {

uint32_t g_coll_mask = 0;
namespace {
const shim::Config kDefaults{};  // so that each default is written once (config.h)
}  // namespace
// Set again at MPI_Init (configure).
uint64_t g_chunk_bytes = kDefaults.coll_chunk_bytes;
uint64_t g_segment_bytes = kDefaults.coll_segment_bytes;
uint64_t g_reduce_segments = kDefaults.coll_reduce_segments;
bool g_coll_packed = kDefaults.coll_packed;
bool g_coll_spread = kDefaults.coll_spread;
int g_alltoall_force = 0;                        // Config::coll_alltoall
uint64_t g_small_bytes = core::kSmallCallBytes;  // Config::coll_small_bytes
double g_alpha_s = 0.005, g_bandwidth = 125e6;
uint64_t g_pace_bytes = 0;  // Config::coll_pace_bytes
bool g_pace_rate = kDefaults.coll_pace_rate;

core::RatePace rate_pace_for(int senders, int links, uint64_t cross_bytes, double max_rtts) {
  return g_pace_rate ? core::rate_pace(senders, links, cross_bytes, g_alpha_s, g_bandwidth, max_rtts)
                     : core::RatePace{};
}

namespace {

core::SiteMap g_static;       // the static map (empty: none)
bool g_monitor_mode = false;  // a monitor may push placements: agree on them at build time
int g_world_size = 0;

constexpr int kHostLen = 256;

// Test only: SITEMPI_TEST_FAIL_COLL=RANK:N makes world rank RANK fail its N-th site setup (0: the
// first communicator spanning several sites that it sets up, rebuilds at a relocation included),
// as a failed allocation would. Read once at Init; costs nothing after a communicator's first call.
int g_my_rank = -1;
int g_fail_rank = -1;
long g_fail_setup = -1;
std::atomic<long> g_setups{0};

bool test_setup_fails() { return g_fail_rank == g_my_rank && g_setups++ == g_fail_setup; }

void read_test_failure(int world_rank) {
  g_my_rank = world_rank;
  const char* v = getenv("SITEMPI_TEST_FAIL_COLL");
  int rank = -1;
  long n = -1;
  if (v && sscanf(v, "%d:%ld", &rank, &n) == 2 && rank >= 0 && n >= 0) {
    g_fail_rank = rank;
    g_fail_setup = n;
  }
}

// The node of every world rank (its lowest world rank there), gathered at Init where site-aware
// collectives are on; empty otherwise. Test only: SITEMPI_TEST_ONE_RANK_PER_NODE=1 counts every
// rank as a node of its own, as on a testbed of one rank per virtual node.
std::vector<int> g_node_of;

std::vector<int> gather_nodes(int world_rank, int world_size) {
  // Allocated first: a failure here cannot leave one rank out of the collectives below.
  std::vector<int> all(static_cast<size_t>(world_size), -1);
  int node = world_rank;
  MPI_Comm shared = MPI_COMM_NULL;
  if (PMPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &shared) != MPI_SUCCESS)
    return {};
  const int rc = PMPI_Allreduce(&world_rank, &node, 1, MPI_INT, MPI_MIN, shared);
  PMPI_Comm_free(&shared);
  if (rc != MPI_SUCCESS) return {};
  // After the collectives, so that ranks whose environments differ still make the same calls; the
  // gathered vector is the same on every rank either way.
  const char* t = getenv("SITEMPI_TEST_ONE_RANK_PER_NODE");
  if (t && strcmp(t, "1") == 0) node = world_rank;
  if (PMPI_Allgather(&node, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD) != MPI_SUCCESS) return {};
  return all;
}

// Whether every site of the communicator lies within one node: alike on every rank (the nodes
// gathered at Init, the grouping).
bool sites_within_nodes(const shim::CommInfo& info, const core::Grouping& g) {
  if (g_node_of.empty()) return false;
  std::vector<int> node(static_cast<size_t>(g.S), -1);
  for (size_t i = 0; i < info.members.size(); ++i) {
    const int w = info.members[i];
    if (w < 0 || size_t(w) >= g_node_of.size()) return false;
    int& n = node[size_t(g.site[i])];
    if (n < 0) n = g_node_of[size_t(w)];
    if (n != g_node_of[size_t(w)]) return false;
  }
  return true;
}

std::vector<std::string> gather_hosts(int world_size) {
  char mine[kHostLen] = {0};
  gethostname(mine, kHostLen - 1);
  std::vector<char> all(static_cast<size_t>(world_size) * kHostLen, 0);
  std::vector<std::string> out;
  if (PMPI_Allgather(mine, kHostLen, MPI_CHAR, all.data(), kHostLen, MPI_CHAR, MPI_COMM_WORLD) != MPI_SUCCESS)
    return out;
  for (int r = 0; r < world_size; ++r) {
    const char* h = all.data() + size_t(r) * kHostLen;
    out.emplace_back(h, strnlen(h, kHostLen));
  }
  return out;
}

void free_hook(MPI_Comm comm, void* p) {
  int finalized = 0;
  PMPI_Finalized(&finalized);
  // During MPI_Finalize the library tears its communicators down itself.
  free_cache(static_cast<SiteCache*>(p), !finalized && comm != MPI_COMM_WORLD && comm != MPI_COMM_SELF);
}

void reject(int rank, const std::string& what, const std::string& err) {
  if (rank == 0)
    fprintf(stderr, "sitempi: %s rejected: %s; site-aware collectives are off (the job runs, recorded only)\n",
            what.c_str(), err.c_str());
}

}  // namespace

const core::SiteMap& static_site_map() { return g_static; }

void free_cache(SiteCache* c, bool free_comms) {
  if (!c) return;
  if (c->nb_pending > 0) {  // chains still use its communicators: the last one frees it
    c->nb_orphan = true;
    c->nb_free_comms = free_comms;
    return;
  }
  free_agreement(c->ag, free_comms);
  if (free_comms) {
    if (c->leaders != MPI_COMM_NULL) PMPI_Comm_free(&c->leaders);
    if (c->local != MPI_COMM_NULL) PMPI_Comm_free(&c->local);
    if (c->priv != MPI_COMM_NULL) PMPI_Comm_free(&c->priv);
  }
  delete c;
}

void replace_cache(shim::CommInfo& info, SiteCache* fresh) {
  auto* old = static_cast<SiteCache*>(info.site_cache);
  if (old && fresh && !fresh->ag) std::swap(old->ag, fresh->ag);
  info.site_cache = fresh;
  free_cache(old, true);
}

namespace {

// Whether this rank's site setup of a communicator works (the cache filled in, more than one site
// and fewer sites than ranks). A failure here is this rank's alone.
bool set_up(SiteCache* c, MPI_Comm comm, const shim::CommInfo& info, const std::vector<uint32_t>& world_site_of) {
  try {
    const int P = int(info.members.size());
    PMPI_Comm_rank(comm, &c->me);
    c->site_of.resize(size_t(P));
    for (int i = 0; i < P; ++i) {
      const int w = info.members[size_t(i)];
      c->site_of[size_t(i)] = (w >= 0 && size_t(w) < world_site_of.size()) ? world_site_of[size_t(w)] : 0;
    }
    c->g = core::group_sites(c->site_of.data(), P);
    if (c->g.S <= 1 || c->g.S >= P) return false;  // one site, or one rank per site: PMPI
    c->rsag_min = core::rsag_threshold(c->g.S, g_alpha_s, g_bandwidth);
    c->xor_cross = core::xor_cross_distances(c->g);
    c->node_sites = sites_within_nodes(info, c->g);
    return !test_setup_fails();
  } catch (...) {
    return false;
  }
}

// Whether every member of the communicator maps to one site (the usual subcommunicator). Reads
// only what every rank holds alike and allocates nothing, so it is the same on every rank.
bool one_site(const shim::CommInfo& info, const std::vector<uint32_t>& world_site_of) {
  auto site = [&](int w) { return (w >= 0 && size_t(w) < world_site_of.size()) ? world_site_of[size_t(w)] : 0u; };
  for (int w : info.members)
    if (site(w) != site(info.members[0])) return false;
  return true;
}

}  // namespace

SiteCache* build_cache(MPI_Comm comm, const shim::CommInfo& info, const std::vector<uint32_t>* world_site_of,
                       uint64_t epoch) {
  auto* c = new SiteCache;
  c->epoch = epoch;
  const int P = int(info.members.size());
  if (world_site_of) shim::sender_sites_in_force(epoch, *world_site_of);  // once per epoch
  if (info.inter || P < 2 || !world_site_of) return c;                    // alike on every rank
  if (one_site(info, *world_site_of)) {     // alike on every rank too: PMPI, no agreement needed
    set_up(c, comm, info, *world_site_of);  // the grouping, for diagnostics
    return c;
  }
  // Decided for the whole communicator: a rank whose setup failed while its peers' worked would
  // run PMPI alone and leave them waiting in the site algorithm. The first split is the agreement:
  // only ranks whose setup worked join `priv`, and a `priv` smaller than the communicator (its
  // size is the same for all who hold one) means some rank failed, so nobody runs site-aware.
  const bool ok = set_up(c, comm, info, *world_site_of);
  // Split rather than dup: the application's attribute copy callbacks must not run.
  if (PMPI_Comm_split(comm, ok ? 0 : MPI_UNDEFINED, c->me, &c->priv) != MPI_SUCCESS || c->priv == MPI_COMM_NULL)
    return c;  // inactive everywhere (a failed split fails on every rank: it is collective)
  int joined = 0;
  PMPI_Comm_size(c->priv, &joined);
  if (joined != P || PMPI_Comm_split(c->priv, c->site(), c->me, &c->local) != MPI_SUCCESS ||
      PMPI_Comm_split(c->priv, c->leader() ? 0 : MPI_UNDEFINED, c->site(), &c->leaders) != MPI_SUCCESS) {
    return c;  // inactive (freed with the cache)
  }
  c->active = true;
  return c;
}

SiteCache* build_initial(MPI_Comm comm, shim::CommInfo* info) {
  const std::vector<uint32_t>* placement = g_static.site_of.empty() ? nullptr : &g_static.site_of;
  uint64_t epoch = 0;
  std::vector<uint32_t> pushed;
  if (g_monitor_mode && !info->inter && info->members.size() > 1) {
    // The newest placement any member has, from the lowest rank that has it (later changes are
    // followed at checkpoints, coll/agreement.cpp).
    wire::Placement p;
    struct {
      long epoch;
      int rank;
    } in{0, 0}, agreed{0, 0};
    PMPI_Comm_rank(comm, &in.rank);
    if (g_agree_on) {  // the newest this rank knows, also through other communicators' agreements
      if (auto known = newest_known()) {
        p = *known;
        in.epoch = long(p.epoch);
      }
    } else if (shim::mailbox_get(p) && core::placement_valid(p.sites, p.site_of, g_world_size)) {
      in.epoch = long(p.epoch);
    }
    if (PMPI_Allreduce(&in, &agreed, 1, MPI_LONG_INT, MPI_MAXLOC, comm) == MPI_SUCCESS && agreed.epoch > 0) {
      pushed = in.epoch == agreed.epoch ? p.site_of : std::vector<uint32_t>(size_t(g_world_size));
      if (PMPI_Bcast(pushed.data(), g_world_size, MPI_UINT32_T, agreed.rank, comm) == MPI_SUCCESS) {
        placement = &pushed;
        epoch = uint64_t(agreed.epoch);
        if (g_agree_on) learned(epoch, pushed);
      }
    }
  }
  if (epoch) shim::set_epoch_in_force(epoch);
  return build_cache(comm, *info, placement, epoch);
}

SiteCache* acquire(MPI_Comm comm) {
  shim::CommInfo* info = shim::comm_info(comm);
  if (!info) return nullptr;
  auto* c = static_cast<SiteCache*>(info->site_cache);
  if (__builtin_expect(c == nullptr, 0)) {
    try {
      c = build_initial(comm, info);
    } catch (...) {
      return nullptr;
    }
    info->site_cache = c;
  }
  return c->active ? c : nullptr;
}

}  // namespace sitempi::coll

namespace sitempi::shim {

namespace {

// The settings that choose the algorithms, as this rank read them (SITEMPI_COLL*, the site map's
// text, the monitor), and their fingerprint.
struct Settings {
  uint32_t mask = 0;       // 0: site-aware collectives off
  std::string text, what;  // the site map's text and where it came from
  std::string error;       // why the map cannot be used (said by rank 0 once agreed)
  uint64_t fingerprint = 0;
};

uint64_t fnv(uint64_t h, const void* p, size_t n) {  // FNV-1a
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const unsigned char*>(p)[i]) * 1099511628211ull;
  return h;
}

Settings read_settings(const Config& cfg) {
  Settings st;
  std::string err;
  if (!core::parse_coll_switch(cfg.coll, st.mask, err)) {
    log("SITEMPI_COLL=%s: %s; site-aware collectives are off", cfg.coll.c_str(), err.c_str());
    st.mask = 0;
  }
  st.text = cfg.sites;
  st.what = "SITEMPI_SITES";
  if (st.mask && st.text.empty() && !cfg.sites_file.empty()) {
    st.what = "SITEMPI_SITES_FILE (" + cfg.sites_file + ")";
    // Regular files of bounded size only: a FIFO or a device must not hang or exhaust MPI_Init.
    if (!core::read_site_file(cfg.sites_file, st.text, st.error)) st.text.clear();
  }
  const uint32_t nums[] = {st.mask,
                           cfg.coll_alpha_us,
                           cfg.coll_bandwidth_mbps,
                           cfg.coll_chunk_bytes,
                           cfg.coll_segment_bytes,
                           cfg.coll_reduce_segments,
                           cfg.checkpoint_every,
                           uint32_t(cfg.monitor.empty()),
                           uint32_t(cfg.coll_packed),
                           uint32_t(cfg.coll_spread),
                           cfg.coll_small_bytes};
  uint64_t h = fnv(1469598103934665603ull, nums, sizeof nums);
  h = fnv(h, cfg.coll_alltoall.data(), cfg.coll_alltoall.size());
  h = fnv(h, st.text.data(), st.text.size());
  st.fingerprint = fnv(h, st.error.data(), st.error.size());
  return st;
}

// Every rank must run the same algorithm in a collective, so the settings that choose it are the
// same everywhere or off everywhere: a sites file one node cannot read, environments that differ
// between ranks would otherwise leave ranks waiting for each other forever. One reduction at Init,
// before anything else collective of the shim's: a fingerprint equal to both the largest and the
// smallest is equal everywhere.
bool agree(uint64_t fingerprint) {
  uint64_t in[2] = {fingerprint, ~fingerprint}, out[2] = {0, 0};
  return PMPI_Allreduce(in, out, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD) == MPI_SUCCESS && out[0] == fingerprint &&
         out[1] == ~fingerprint;
}

// This rank's site configuration: the mask and the static map. Collective over MPI_COMM_WORLD.
void configure(int world_rank, int world_size) {
  using namespace sitempi::coll;
  g_coll_mask = 0;
  coll::g_world_size = world_size;  // qualified: shim has a g_world_size too (comms.h)
  read_test_failure(world_rank);
  const Config& cfg = config();
  Settings st;
  try {
    st = read_settings(cfg);
  } catch (...) {
    st = Settings{};
    st.fingerprint = uint64_t(world_rank) + 1;  // unknown here: off on every rank (unless alone)
  }
  if (!agree(st.fingerprint)) {
    if (world_rank == 0)
      fprintf(stderr,
              "sitempi: the site settings (SITEMPI_SITES, SITEMPI_SITES_FILE, SITEMPI_COLL*, SITEMPI_CHECKPOINT_EVERY, "
              "SITEMPI_MONITOR) differ between ranks; site-aware collectives are off (the job runs, recorded only)\n");
    return;
  }
  // From here on every rank decides alike: the same settings, the same gathered host names.
  try {
    if (!st.mask) return;
    if (!st.error.empty()) {
      reject(world_rank, st.what, st.error);
      return;
    }
    g_alpha_s = double(cfg.coll_alpha_us) * 1e-6;
    g_bandwidth = double(cfg.coll_bandwidth_mbps) * 1e6 / 8;
    g_chunk_bytes = cfg.coll_chunk_bytes;
    g_pace_bytes = cfg.coll_pace_bytes;
    g_pace_rate = cfg.coll_pace_rate;
    g_segment_bytes = cfg.coll_segment_bytes;
    g_reduce_segments = cfg.coll_reduce_segments;
    g_coll_packed = cfg.coll_packed;
    g_coll_spread = cfg.coll_spread;
    g_small_bytes = cfg.coll_small_bytes;
    if (const uint32_t us =
            handoff_configure(cfg.coll_handoff_us, cfg.coll_alpha_us, cfg.yield_when_idle, cfg.local_ranks))
      log("ranks share cores (the library yields when idle): the spread Allgather and Reduce_scatter and the "
          "pairwise Alltoall hand them over for %u us after posting what crosses; ranks waiting for their paced "
          "sends yield",
          us);
    std::string err;
    if (!core::parse_alltoall_force(cfg.coll_alltoall, g_alltoall_force) && world_rank == 0)
      fprintf(stderr, "sitempi: SITEMPI_COLL_ALLTOALL=%s: not auto, model, grouped, pairwise or library; auto\n",
              cfg.coll_alltoall.c_str());
    if (!st.text.empty()) {
      core::SiteSpec spec;
      if (!core::parse_site_spec(st.text, spec, err)) {
        reject(world_rank, st.what, err);
        return;
      }
      std::vector<std::string> hosts;
      if (spec.uses_hosts) hosts = gather_hosts(world_size);
      if (!core::resolve_site_spec(spec, world_size, hosts, g_static, err)) {
        g_static = core::SiteMap{};
        reject(world_rank, st.what, err);
        return;
      }
      log("site map: %zu sites from %s", g_static.names.size(), st.what.c_str());
    }
    g_monitor_mode = !cfg.monitor.empty();
    if (!g_monitor_mode) {
      if (g_static.site_of.empty()) return;                                                   // no sites: record only
      if (g_static.names.size() <= 1 || g_static.names.size() >= size_t(world_size)) return;  // never useful
    }
    g_node_of = gather_nodes(world_rank, world_size);  // collective: every rank gets here alike
    g_coll_mask = st.mask;
    if (g_monitor_mode) agreement_init(cfg.checkpoint_every);  // placements may change: follow them
  } catch (...) {
    g_coll_mask = 0;
    g_agree_on = false;
    g_static = core::SiteMap{};
  }
}

}  // namespace

void coll_init(int world_rank, int world_size) {
  g_site_cache_free = &coll::free_hook;
  configure(world_rank, world_size);
  coll::publish_switches();
}

}  // namespace sitempi::shim
