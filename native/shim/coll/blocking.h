// The blocking calls while site-aware non-blocking collectives are pending (coll/nonblocking.h).
// A chain advances only inside the shim; a valid program may block in another call while a peer
// needs one of its chains advanced (a leader in MPI_Recv from a member that first waits for the
// Iallreduce's result). So the blocking calls that can wait on a peer advance the chains too:
//  - point-to-point (Send, Bsend, Ssend, Rsend, Recv, Sendrecv(_replace), Probe, Mprobe, Mrecv):
//    while chains are pending (one load of g_nb_pending otherwise), they run as their
//    non-blocking twin and a loop that tests it and advances the chains. Blocking and
//    non-blocking point-to-point match each other, so one rank alone may do this.
//  - collectives (blocking ones, and those that create communicators or windows): a blocking
//    collective must not become its non-blocking twin on one rank alone (they do not match), so
//    on a communicator on which a site-aware Iallreduce/Ibcast has started (a fact every member
//    shares: collectives come in the same order) each blocking collective first passes a gate:
//    an Iallreduce on the private duplicate of how many chains each member has pending, tested
//    while advancing the chains. When it completes, every member has reached the call, which then
//    completes without anyone's chain; when no member had a chain pending, the communicator's
//    blocking collectives skip the gate again until its next site-aware Iallreduce/Ibcast.
// Completion calls (MPI_Wait* on any request, MPI_Test*) advance the chains themselves
// (nb_progress in dispatch.h).
#pragma once
#include <mpi.h>

#include <atomic>

#include "coll/dispatch.h"

#pragma GCC visibility push(hidden)  // globals addressed directly, not through the GOT (thread_state.h)

namespace sitempi::coll {

// Whether some communicator's blocking collectives pass the gate (SiteCache::nb_gate; counted in
// g_coll_word's high half, dispatch.h).
inline bool nb_gated() { return __builtin_expect(g_coll_word.load(std::memory_order_relaxed) >= kOneGate, 0); }

inline bool nb_blocked() { return __builtin_expect(g_nb_pending.load(std::memory_order_relaxed) != 0, 0); }

void nb_gate_slow(MPI_Comm comm) noexcept;
inline void nb_gate(MPI_Comm comm) noexcept {
  if (nb_gated()) nb_gate_slow(comm);
}

// Advances every pending chain once; never blocks (skipped while another thread advances them).
void nb_poll() noexcept;

// The blocking point-to-point calls as non-blocking twin + progress loop (called while chains
// are pending; same arguments and results as PMPI_X).
namespace progressed {
int Send(const void* buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) noexcept;
int Bsend(const void* buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) noexcept;
int Ssend(const void* buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) noexcept;
int Rsend(const void* buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) noexcept;
int Recv(void* buf, int count, MPI_Datatype t, int source, int tag, MPI_Comm comm, MPI_Status* status) noexcept;
int Sendrecv(const void* sendbuf, int sendcount, MPI_Datatype sendtype, int dest, int sendtag, void* recvbuf,
             int recvcount, MPI_Datatype recvtype, int source, int recvtag, MPI_Comm comm, MPI_Status* status) noexcept;
int Sendrecv_replace(void* buf, int count, MPI_Datatype t, int dest, int sendtag, int source, int recvtag,
                     MPI_Comm comm, MPI_Status* status) noexcept;
int Probe(int source, int tag, MPI_Comm comm, MPI_Status* status) noexcept;
int Mprobe(int source, int tag, MPI_Comm comm, MPI_Message* message, MPI_Status* status) noexcept;
int Mrecv(void* buf, int count, MPI_Datatype t, MPI_Message* message, MPI_Status* status) noexcept;
}  // namespace progressed

}  // namespace sitempi::coll

#pragma GCC visibility pop
