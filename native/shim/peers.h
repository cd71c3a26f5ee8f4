// Who the entries of a collective's per-peer arrays (counts, displacements, types) are for, so that
// recording walks exactly the entries the application passed and never reads past them.
#pragma once
#include <mpi.h>

#include <vector>

namespace sitempi::shim {

// v/w collectives: one entry per rank of the remote group on an intercommunicator (where this
// rank is none of them), else one per rank of the communicator.
struct Peers {
  int n = 0;      // entries
  int self = -1;  // this rank's own entry, -1 on an intercommunicator
};
Peers collective_peers(MPI_Comm comm);

// Neighbourhood collectives: the destinations of the send arrays, in their order, as ranks of the
// communicator (MPI_PROC_NULL where a Cartesian shift leaves the grid). Cartesian: 2 per dimension,
// the negative direction first; graph: MPI_Graph_neighbors; distributed graph: the destinations of
// MPI_Dist_graph_neighbors. Empty without a topology.
void out_neighbours(MPI_Comm comm, std::vector<int>& out);

}  // namespace sitempi::shim
