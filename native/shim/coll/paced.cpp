#include "coll/paced.h"

#include <algorithm>

namespace sitempi::coll {

void PacedSends::hold(const void* buf, int count, MPI_Datatype t, uint64_t bytes, int peer, int tag, MPI_Comm comm) {
  auto s = std::find_if(streams_.begin(), streams_.end(),
                        [&](const Stream& x) { return x.peer == peer && x.tag == tag && x.comm == comm; });
  if (s == streams_.end()) s = streams_.insert(streams_.end(), Stream{peer, tag, comm, 0});
  held_.push_back(Held{buf, count, t, bytes, peer, tag, comm, s->held++});
}

int PacedSends::release_due(std::vector<MPI_Request>& reqs) {
  if (next_ == held_.size()) return MPI_SUCCESS;
  const double now = PMPI_Wtime();
  if (released_ == 0) t0_ = now;
  const double allowed = burst_ + (now - t0_) * rate_;
  while (next_ < held_.size() && (released_ == 0 || double(released_ + held_[next_].bytes) <= allowed)) {
    const Held& h = held_[next_++];
    reqs.push_back(MPI_REQUEST_NULL);
    const int rc = PMPI_Isend(h.buf, h.count, h.type, h.peer, h.tag, h.comm, &reqs.back());
    if (rc != MPI_SUCCESS) return rc;
    released_ += h.bytes;
  }
  if (next_ == held_.size()) {  // later holds of the call continue at the same rate
    held_.clear();
    streams_.clear();
    next_ = 0;
  }
  return MPI_SUCCESS;
}

int PacedSends::drain() {
  if (held_.empty()) return MPI_SUCCESS;
  // The first of every stream, then the second of every stream, ...: the rank's sends spread over
  // its peers, and the ranks (whose peers come in different orders) over the far site's.
  std::stable_sort(held_.begin(), held_.end(), [](const Held& a, const Held& b) { return a.seq < b.seq; });
  std::vector<MPI_Request> win;
  std::vector<uint64_t> win_bytes;
  std::vector<int> done;
  uint64_t unmatched = 0;
  size_t next = 0;
  int rc = MPI_SUCCESS;
  while (rc == MPI_SUCCESS && (next < held_.size() || unmatched)) {
    // At least one in flight, however large.
    while (next < held_.size() && (!unmatched || unmatched + held_[next].bytes <= window_)) {
      const Held& h = held_[next++];
      size_t q = size_t(std::find(win.begin(), win.end(), MPI_REQUEST_NULL) - win.begin());
      if (q == win.size()) {
        win.push_back(MPI_REQUEST_NULL);
        win_bytes.push_back(0);
        done.push_back(0);
      }
      rc = PMPI_Issend(h.buf, h.count, h.type, h.peer, h.tag, h.comm, &win[q]);
      if (rc != MPI_SUCCESS) break;
      win_bytes[q] = h.bytes;
      unmatched += h.bytes;
    }
    if (rc != MPI_SUCCESS) break;
    int n = 0;
    rc = PMPI_Waitsome(int(win.size()), win.data(), &n, done.data(), MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS || n == MPI_UNDEFINED) break;
    for (int i = 0; i < n; ++i) unmatched -= win_bytes[size_t(done[size_t(i)])];
  }
  held_.clear();
  streams_.clear();
  return rc;
}

}  // namespace sitempi::coll
