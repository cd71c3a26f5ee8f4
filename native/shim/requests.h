// Requests whose records depend on their completion: receives from MPI_ANY_SOURCE (the peer is
// known only from the status) and persistent requests (recorded at each Start). Other requests
// are never looked at: with nothing tracked, the helpers below cost one relaxed load.
#pragma once
#include <mpi.h>

#include <atomic>
#include <vector>

#include "recorder.h"

namespace sitempi::shim {

extern std::atomic<int> g_tracked;

// Bytes a completed receive delivered. Open MPI keeps them in the status (_ucount): one load, where
// PMPI_Get_count costs about 20 ns (its argument checks, measured here); other MPIs: the status's
// count of MPI_BYTE, or the posted size when it is undefined (more than INT_MAX bytes).
inline uint64_t received_bytes(const MPI_Status& st, int count, MPI_Datatype type) noexcept {
#if defined(OPEN_MPI) && OPEN_MPI
  (void)count;
  (void)type;
  return uint64_t(st._ucount);
#else
  int n = MPI_UNDEFINED;
  if (PMPI_Get_count(&st, MPI_BYTE, &n) != MPI_SUCCESS || n == MPI_UNDEFINED || n < 0) return type_bytes(type, count);
  return uint64_t(n);
#endif
}

void track_request(MPI_Request req, uint32_t fn, bool persistent, bool send, MPI_Comm comm, int peer, int count,
                   MPI_Datatype type) noexcept;

// Statuses the shim can read after the call even when the application passed an ignore sentinel
// (only when `need` holds; otherwise the application's argument passes through untouched).
class CStatuses {
 public:
  CStatuses(MPI_Status* user, int n, bool need) noexcept;
  bool get(int i, MPI_Status& out) const noexcept;
  MPI_Status* arg;

 private:
  MPI_Status one_;
  std::vector<MPI_Status> many_;
};

class FStatuses {
 public:
  FStatuses(MPI_Fint* user, int n, bool need) noexcept;
  bool get(int i, MPI_Status& out) const noexcept;
  MPI_Fint* arg;

 private:
  static constexpr int kSize = sizeof(MPI_Status) / sizeof(MPI_Fint);
  MPI_Fint one_[kSize];
  std::vector<MPI_Fint> many_;
};

struct Tracked;

// The tracked requests among those passed to a completion, start or free call, taken before the
// call (completion may reset the application's handles).
class Snapshot {
 public:
  Snapshot(int n, const MPI_Request* reqs) noexcept;
  Snapshot(int n, const MPI_Fint* reqs) noexcept;
  bool need_status() const noexcept { return need_status_; }
  template <typename S>
  void completed(Call& call, int index, const S& sts, int status_index) noexcept {
    if (hits_.empty()) return;
    MPI_Status st;
    const bool have = sts.get(status_index, st);
    complete(call, index, have ? &st : nullptr);
  }
  void started(Call& call) noexcept;
  void freed() noexcept;

 private:
  void take(int n, const MPI_Request* reqs) noexcept;
  void complete(Call& call, int index, const MPI_Status* st) noexcept;
  struct Hit {
    int index;
    MPI_Request req;
  };
  std::vector<Hit> hits_;
  bool need_status_ = false;
};

}  // namespace sitempi::shim
