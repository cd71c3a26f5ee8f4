#include "comms.h"

#include <mutex>
#include <unordered_map>

#include "sender.h"

namespace sitempi::shim {

int g_world_ready = 0;
void (*g_site_cache_free)(MPI_Comm, void*) = nullptr;

namespace {

int g_comm_keyval = MPI_KEYVAL_INVALID;
int g_win_keyval = MPI_KEYVAL_INVALID;
std::atomic<uint32_t> g_next_local_id{1};  // 0 means "no communicator"
std::atomic<uint64_t> g_generation{0};     // bumped when any CommInfo dies: invalidates caches
CommInfo* g_world = nullptr;

// Per-thread last-used communicator: most loops use one communicator.
struct CommCache {
  MPI_Comm comm = MPI_COMM_NULL;
  CommInfo* info = nullptr;
  uint64_t gen = ~0ull;
};
thread_local CommCache t_comm_cache;

uint64_t mix(uint64_t h, uint64_t v) {  // splitmix64-style combine
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  return h;
}

std::vector<int> world_ranks_of(MPI_Group g) {
  int n = 0;
  PMPI_Group_size(g, &n);
  std::vector<int> in(n), out(n);
  for (int i = 0; i < n; ++i) in[i] = i;
  MPI_Group world;
  PMPI_Comm_group(MPI_COMM_WORLD, &world);
  PMPI_Group_translate_ranks(g, n, in.data(), world, out.data());
  PMPI_Group_free(&world);
  return out;
}

int delete_info(MPI_Comm comm, int, void* value, void*) {
  auto* info = static_cast<CommInfo*>(value);
  if (info->site_cache && g_site_cache_free) g_site_cache_free(comm, info->site_cache);
  if (info->announced.load()) sender_forget(info->local_id);
  delete info;
  g_generation.fetch_add(1, std::memory_order_relaxed);
  return MPI_SUCCESS;
}
int delete_win_info(MPI_Win, int, void* value, void*) {
  auto* info = static_cast<CommInfo*>(value);
  if (info->announced.load()) sender_forget(info->local_id);
  delete info;
  return MPI_SUCCESS;
}

CommInfo* make_info(MPI_Comm comm, uint64_t global_id) {
  auto* info = new CommInfo;
  info->local_id = g_next_local_id.fetch_add(1);
  int inter = 0;
  PMPI_Comm_test_inter(comm, &inter);
  info->inter = inter != 0;
  MPI_Group g;
  PMPI_Comm_group(comm, &g);
  info->members = world_ranks_of(g);
  PMPI_Group_free(&g);
  if (info->inter) {
    PMPI_Comm_remote_group(comm, &g);
    info->remote_members = world_ranks_of(g);
    PMPI_Group_free(&g);
  }
  if (global_id == 0) {  // created outside the wrapped calls: identify by members
    global_id = mix(0x51de, info->members.size());
    for (int m : info->members) global_id = mix(global_id, uint64_t(m));
  }
  info->global_id = global_id;
  return info;
}

void announce(CommInfo* info) {
  if (info->announced.exchange(true)) return;
  wire::CommDef def;
  def.local_id = info->local_id;
  def.global_id = info->global_id;
  def.members.assign(info->members.begin(), info->members.end());
  def.remote_members.assign(info->remote_members.begin(), info->remote_members.end());
  sender_announce(std::move(def));
}

}  // namespace

void comms_init(int world_rank) {
  if (g_comm_keyval == MPI_KEYVAL_INVALID)
    PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, delete_info, &g_comm_keyval, nullptr);
  if (g_win_keyval == MPI_KEYVAL_INVALID)
    PMPI_Win_create_keyval(MPI_WIN_NULL_COPY_FN, delete_win_info, &g_win_keyval, nullptr);
  g_world = make_info(MPI_COMM_WORLD, 1);
  PMPI_Comm_set_attr(MPI_COMM_WORLD, g_comm_keyval, g_world);
  CommInfo* self = make_info(MPI_COMM_SELF, mix(2, uint64_t(world_rank)));
  PMPI_Comm_set_attr(MPI_COMM_SELF, g_comm_keyval, self);
}

CommInfo* comm_info(MPI_Comm comm) {
  if (comm == MPI_COMM_NULL) return nullptr;
  if (comm == MPI_COMM_WORLD) return g_world;
  CommCache& c = t_comm_cache;
  const uint64_t gen = g_generation.load(std::memory_order_relaxed);
  if (c.comm == comm && c.gen == gen) return c.info;
  void* v = nullptr;
  int flag = 0;
  if (PMPI_Comm_get_attr(comm, g_comm_keyval, &v, &flag) != MPI_SUCCESS) return nullptr;
  CommInfo* info = static_cast<CommInfo*>(v);
  if (!flag) {
    try {
      info = make_info(comm, 0);
    } catch (...) {
      return nullptr;  // out of memory: record without a communicator
    }
    PMPI_Comm_set_attr(comm, g_comm_keyval, info);
  }
  c = CommCache{comm, info, gen};
  return info;
}

void comm_created(MPI_Comm parent, MPI_Comm child, uint64_t salt) {
  CommInfo* p = comm_info(parent);
  const uint64_t seq = p ? p->children++ : 0;  // every parent member creates, so counts agree
  if (child == MPI_COMM_NULL || child == MPI_COMM_WORLD || child == MPI_COMM_SELF) return;
  void* v = nullptr;
  int flag = 0;
  PMPI_Comm_get_attr(child, g_comm_keyval, &v, &flag);
  if (flag) return;  // e.g. Cart_create returning the same handle twice is not possible, but be safe
  uint64_t gid = mix(mix(p ? p->global_id : 0, salt ? salt : seq + 1), 0xC0);
  CommInfo* info = make_info(child, 0);
  gid = mix(gid, info->members.empty() ? 0 : uint64_t(info->members[0]));
  info->global_id = gid | 1;  // never 0
  PMPI_Comm_set_attr(child, g_comm_keyval, info);
}

uint32_t comm_local_id_slow(MPI_Comm comm) {
  CommInfo* info = comm_info(comm);
  if (!info) return 0;
  if (!info->announced.load(std::memory_order_relaxed)) {
    announce(info);
    if (info == g_world) g_world_ready = int(info->members.size());
  }
  return info->local_id;
}

int comm_world_rank_slow(MPI_Comm comm, int rank) {
  CommInfo* info = comm_info(comm);
  if (!info) return -1;
  const auto& m = info->inter ? info->remote_members : info->members;
  return size_t(rank) < m.size() ? m[rank] : -1;
}

CommInfo* win_info(MPI_Win win) {
  if (win == MPI_WIN_NULL) return nullptr;
  void* v = nullptr;
  int flag = 0;
  if (PMPI_Win_get_attr(win, g_win_keyval, &v, &flag) != MPI_SUCCESS) return nullptr;
  if (flag) return static_cast<CommInfo*>(v);
  // A window we did not see created: identify it by its group.
  auto* info = new CommInfo;
  info->local_id = g_next_local_id.fetch_add(1);
  MPI_Group g;
  PMPI_Win_get_group(win, &g);
  info->members = world_ranks_of(g);
  PMPI_Group_free(&g);
  info->global_id = mix(0x3170, info->members.size());
  for (int m : info->members) info->global_id = mix(info->global_id, uint64_t(m));
  PMPI_Win_set_attr(win, g_win_keyval, info);
  return info;
}

void win_created(MPI_Comm comm, MPI_Win win) {
  if (win == MPI_WIN_NULL) return;
  CommInfo* p = comm_info(comm);
  const uint64_t seq = p ? p->children++ : 0;
  CommInfo* info = win_info(win);
  if (info && p) info->global_id = mix(mix(p->global_id, seq + 1), 0x3171) | 1;
}

uint32_t win_local_id(MPI_Win win) {
  CommInfo* info = win_info(win);
  if (!info) return 0;
  if (!info->announced.load(std::memory_order_relaxed)) announce(info);
  return info->local_id;
}

int win_world_rank(MPI_Win win, int rank) {
  if (rank < 0) return -1;
  CommInfo* info = win_info(win);
  return info && size_t(rank) < info->members.size() ? info->members[rank] : -1;
}

int comm_rank(MPI_Comm comm) {
  int r = -1;
  if (comm != MPI_COMM_NULL) PMPI_Comm_rank(comm, &r);
  return r;
}

int comm_size(MPI_Comm comm) {
  int n = 0;
  if (comm != MPI_COMM_NULL) PMPI_Comm_size(comm, &n);
  return n;
}

}  // namespace sitempi::shim
