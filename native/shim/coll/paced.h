// Cross-site sends released at the pace their receivers take them. Each goes as MPI_Issend, which
// completes once its receiver has matched it, and at most `window` bytes are unmatched at a time:
// a rank's share of a site link enters it a few round trips' worth at a time instead of as one
// burst, whose tail the link's queue drops (a retransmission timeout for TCP, 200 ms and more).
// Used by the pairwise Alltoall (core::alltoall_pace_bytes); blocking calls only.
// Or released at a rate (core::rate_pace: the spread Allgather and Reduce_scatter, the pairwise
// Alltoall at shares of a few round trips): the first
// `burst` bytes at once, then at most `Bps` bytes a second counted from the first release, as
// plain MPI_Isend among the call's requests, from the call's waits (Ctx::wait, Ctx::waitall).
#pragma once
#include <mpi.h>

#include <cstdint>
#include <vector>

namespace sitempi::coll {

class PacedSends {
 public:
  void set_window(uint64_t bytes) { window_ = bytes; }
  void set_rate(double Bps, double burst) {
    rate_ = Bps;
    burst_ = burst;
  }
  bool on() const { return window_ > 0 || rate_ > 0; }
  bool timed() const { return rate_ > 0; }
  // Keeps a send for drain(); the buffer must stay valid until then.
  void hold(const void* buf, int count, MPI_Datatype t, uint64_t bytes, int peer, int tag, MPI_Comm comm);
  // Sends everything held and waits until all of it is matched. Round robin over the streams (a
  // peer, tag and communicator), each stream in the order held (MPI's matching order).
  int drain();
  bool empty() const { return held_.empty(); }
  // Timed: posts into `reqs` every held send whose time has come (at least the first), in the
  // order held.
  int release_due(std::vector<MPI_Request>& reqs);

 private:
  struct Held {
    const void* buf;
    int count;
    MPI_Datatype type;
    uint64_t bytes;
    int peer, tag;
    MPI_Comm comm;
    uint32_t seq;  // place in its stream
  };
  struct Stream {
    int peer, tag;
    MPI_Comm comm;
    uint32_t held;
  };
  uint64_t window_ = 0;
  double rate_ = 0, burst_ = 0, t0_ = 0;  // timed: t0_ the first release (MPI_Wtime)
  uint64_t released_ = 0;                 // timed: bytes released since t0_
  size_t next_ = 0;                       // timed: the first held send not yet released
  std::vector<Held> held_;
  std::vector<Stream> streams_;
};

}  // namespace sitempi::coll
