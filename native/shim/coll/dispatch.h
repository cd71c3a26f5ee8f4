// The site-aware collectives' entry points, called by the generated C wrappers of the covered
// collectives. Each returns the MPI error code and fills *out: the algorithm that ran (0: PMPI)
// and what it sent across sites.
#pragma once
#include <mpi.h>

#include <atomic>
#include <cstdint>

#pragma GCC visibility push(hidden)  // globals addressed directly, not through the GOT (thread_state.h)

namespace sitempi::coll {

struct Outcome {
  uint32_t alg = 0;          // native/core/cost_model.h, Alg
  uint32_t cross_msgs = 0;   // messages this rank sent to other sites inside the algorithm
  uint64_t cross_bytes = 0;  // and their bytes
};

// Job-wide switches (coll/cache.h, coll/agreement.h): which families may run site-aware (bit per
// core::Coll), and whether the relocation agreement counts every covered call.
extern uint32_t g_coll_mask;
extern bool g_agree_on;
// What a collective's C wrapper reads before anything else, in one word, so that the common path
// is one load and one test: g_coll_mask's bits, kAgreeOn for g_agree_on (publish_switches copies
// both) and kIdle while the shim does not record (g_active false: set_recording).
// kAgreeOn | kIdle | bit fits a sign-extended 32-bit immediate.
extern std::atomic<uint64_t> g_coll_word;
constexpr uint64_t kAgreeOn = 1ull << 31;
constexpr uint64_t kIdle = 1ull << 30;  // above every family's bit (facts.h: fewer than 30)
void publish_switches();                // after g_coll_mask or g_agree_on changed
void set_recording(bool on);            // with g_active
// A blocking collective of the family with this bit, in a word `w` read at depth 0: recorded and
// run as PMPI at once (recording, not site-aware).
inline bool coll_fast(uint64_t w, uint32_t bit) { return __builtin_expect((w & (kAgreeOn | kIdle | bit)) == 0, 1); }
// Whether a call of the family with this bit may run site-aware at all: when not (one site, no
// site map, SITEMPI_COLL=off), the C wrappers call PMPI at once, without the dispatcher.
inline bool site_possible(uint32_t bit) {
  return __builtin_expect((g_coll_word.load(std::memory_order_relaxed) & (kAgreeOn | bit)) != 0, 0);
}

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
int Reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype datatype, MPI_Op op,
                         MPI_Comm comm, Outcome *out);
int Reduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[], MPI_Datatype datatype, MPI_Op op,
                   MPI_Comm comm, Outcome *out);
// Non-blocking (coll/nonblocking.h): the request is a generalized request when site-aware.
int Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
               MPI_Request *request, Outcome *out);
int Ibcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm, MPI_Request *request, Outcome *out);

// How many site-aware non-blocking collectives this process has pending (coll/nonblocking.h).
extern std::atomic<int> g_nb_pending;

}  // namespace sitempi::coll

#pragma GCC visibility pop
