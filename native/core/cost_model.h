// Which messages and bytes a collective call sends between ranks, per algorithm. Compiled into the
// shim (its site-aware collectives count what they send) and into the addon (the monitor expands
// collective records into pairwise traffic), so predictions and behaviour share one definition.
#pragma once
#include <cstdint>
#include <vector>

namespace sitempi::core {

// Collective families; function ids map to one of these (generated table).
enum class Coll : uint8_t {
  None, Barrier, Bcast, Gather, Gatherv, Scatter, Scatterv, Allgather, Allgatherv, Alltoall,
  Alltoallv, Alltoallw, Reduce, Allreduce, ReduceScatter, ReduceScatterBlock, Scan, Exscan, Neighbor
};

// Algorithm ids carried in Record.alg. 0 is whatever the MPI library ran; the monitor models it
// with the flat (linear) algorithms of Open MPI's coll/basic, since the shim cannot see which
// internal algorithm the library chose.
enum Alg : uint32_t { kAlgLibrary = 0 };

// One flow between communicator ranks.
struct Flow {
  int src, dst;
  uint64_t bytes;
  uint32_t msgs;
};

// One rank's record of a collective call: the part of the call's traffic that this record
// accounts for. Summed over the records of every member, the flows are the call's whole traffic,
// each pair counted once. `bytes` is what the shim recorded for this rank (see README, "Recording").
struct CollRecord {
  Coll coll;
  uint32_t alg;
  int me;         // this rank in the communicator
  int root;       // communicator rank of the root, -1 none
  int size;       // communicator size
  uint64_t bytes;
};

// Appends the flows of `r` to out (self-flows never appear). Unknown or uncovered: nothing.
void expand(const CollRecord& r, std::vector<Flow>& out);

}  // namespace sitempi::core
