// Cross-site sends released at the pace their receivers take them. Each goes as MPI_Issend, which
// completes once its receiver has matched it, and at most `window` bytes are unmatched at a time:
// a rank's share of a site link enters it a few round trips' worth at a time instead of as one
// burst, whose tail the link's queue drops (a retransmission timeout for TCP, 200 ms and more).
// Used by the pairwise Alltoall (core::alltoall_pace_bytes); blocking calls only.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <vector>

namespace sitempi::coll {

class PacedSends {
 public:
  void set_window(uint64_t bytes) { window_ = bytes; }
  bool on() const { return window_ > 0; }
  // Keeps a send for drain(); the buffer must stay valid until then.
  void hold(const void* buf, int count, MPI_Datatype t, uint64_t bytes, int peer, int tag, MPI_Comm comm);
  // Sends everything held and waits until all of it is matched. Round robin over the streams (a
  // peer, tag and communicator), each stream in the order held (MPI's matching order).
  int drain();
  bool empty() const { return held_.empty(); }

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
  std::vector<Held> held_;
  std::vector<Stream> streams_;
};

}  // namespace sitempi::coll
