// The site-aware collectives' entry points, called by the generated C wrappers of the blocking
// collectives. Each returns the MPI error code and fills *out: the algorithm that ran (0: PMPI)
// and what it sent across sites.
#pragma once
#include <mpi.h>

#include <cstdint>

namespace sitempi::coll {

struct Outcome {
  uint32_t alg = 0;          // native/core/cost_model.h, Alg
  uint32_t cross_msgs = 0;   // messages this rank sent to other sites inside the algorithm
  uint64_t cross_bytes = 0;  // and their bytes
};

// Whether any communicator may run a site-aware algorithm (a site map of two or more sites with
// SITEMPI_COLL on, or the relocation agreement running): the Fortran entry points use the
// dispatcher only then, and otherwise the library's own Fortran binding.
bool site_aware_in_use();

int Barrier(MPI_Comm comm, Outcome *out);
int Bcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm, Outcome *out);
int Gather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
           MPI_Datatype recvtype, int root, MPI_Comm comm, Outcome *out);
int Gatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
            const int displs[], MPI_Datatype recvtype, int root, MPI_Comm comm, Outcome *out);
int Scatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
            MPI_Datatype recvtype, int root, MPI_Comm comm, Outcome *out);
int Scatterv(const void *sendbuf, const int sendcounts[], const int displs[], MPI_Datatype sendtype, void *recvbuf,
             int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm, Outcome *out);
int Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
              MPI_Datatype recvtype, MPI_Comm comm, Outcome *out);
int Allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
               const int displs[], MPI_Datatype recvtype, MPI_Comm comm, Outcome *out);
int Alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
             MPI_Datatype recvtype, MPI_Comm comm, Outcome *out);
int Alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[], MPI_Datatype sendtype, void *recvbuf,
              const int recvcounts[], const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm, Outcome *out);
int Reduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, int root, MPI_Comm comm,
           Outcome *out);
int Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
              Outcome *out);

}  // namespace sitempi::coll
