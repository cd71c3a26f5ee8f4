#include "peers.h"

#include "comms.h"

namespace sitempi::shim {

Peers collective_peers(MPI_Comm comm) {
  Peers p;
  const CommInfo* info = comm_info(comm);
  if (!info) return p;
  if (info->inter) {
    p.n = int(info->remote_members.size());
  } else {
    p.n = int(info->members.size());
    PMPI_Comm_rank(comm, &p.self);
  }
  return p;
}

void out_neighbours(MPI_Comm comm, std::vector<int>& out) {
  out.clear();
  int topo = MPI_UNDEFINED;
  if (comm == MPI_COMM_NULL || PMPI_Topo_test(comm, &topo) != MPI_SUCCESS) return;
  if (topo == MPI_CART) {
    int ndims = 0;
    if (PMPI_Cartdim_get(comm, &ndims) != MPI_SUCCESS || ndims <= 0) return;
    out.resize(2 * size_t(ndims));
    for (int d = 0; d < ndims; ++d)
      if (PMPI_Cart_shift(comm, d, 1, &out[2 * size_t(d)], &out[2 * size_t(d) + 1]) != MPI_SUCCESS) {
        out.clear();
        return;
      }
  } else if (topo == MPI_GRAPH) {
    int me = 0, n = 0;
    PMPI_Comm_rank(comm, &me);
    if (PMPI_Graph_neighbors_count(comm, me, &n) != MPI_SUCCESS || n <= 0) return;
    out.resize(size_t(n));
    if (PMPI_Graph_neighbors(comm, me, n, out.data()) != MPI_SUCCESS) out.clear();
  } else if (topo == MPI_DIST_GRAPH) {
    int in = 0, n = 0, weighted = 0;
    if (PMPI_Dist_graph_neighbors_count(comm, &in, &n, &weighted) != MPI_SUCCESS || n <= 0) return;
    // Weights are asked for when the graph has them: MPI_UNWEIGHTED is only for unweighted graphs.
    std::vector<int> sources(size_t(in > 0 ? in : 1)), sw(weighted ? sources.size() : 0), dw(weighted ? size_t(n) : 0);
    out.resize(size_t(n));
    if (PMPI_Dist_graph_neighbors(comm, in, sources.data(), weighted ? sw.data() : MPI_UNWEIGHTED, n, out.data(),
                                  weighted ? dw.data() : MPI_UNWEIGHTED) != MPI_SUCCESS)
      out.clear();
  }
}

}  // namespace sitempi::shim
