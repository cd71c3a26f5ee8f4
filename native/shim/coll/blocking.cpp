// Blocking calls that advance the pending non-blocking site-aware collectives (coll/blocking.h).
// No exception leaves this file.
#include "coll/blocking.h"

#include <new>

#include "coll/common.h"
#include "comms.h"

namespace sitempi::coll {

namespace {

// Completes `n` requests, advancing the chains while any is pending; then the library's wait.
int wait_progressing(int n, MPI_Request* reqs, MPI_Status* statuses) {
  for (;;) {
    if (!nb_blocked()) return PMPI_Waitall(n, reqs, statuses);
    int flag = 0;
    const int rc = PMPI_Testall(n, reqs, &flag, statuses);
    if (rc != MPI_SUCCESS || flag) return rc;
    nb_poll();
  }
}

int wait1(MPI_Request* r, MPI_Status* status) {
  MPI_Status st[1];
  const int rc = wait_progressing(1, r, status == MPI_STATUS_IGNORE ? MPI_STATUSES_IGNORE : st);
  if (status != MPI_STATUS_IGNORE) *status = st[0];
  return rc;
}

// A send of any mode: post it, then wait while advancing.
template <typename Post>
int send_progressed(Post post) noexcept {
  MPI_Request r = MPI_REQUEST_NULL;
  const int rc = post(&r);
  return rc != MPI_SUCCESS ? rc : wait1(&r, MPI_STATUS_IGNORE);
}

}  // namespace

void nb_gate_slow(MPI_Comm comm) noexcept {
  shim::CommInfo* info = shim::comm_info(comm);
  auto* c = info ? static_cast<SiteCache*>(info->site_cache) : nullptr;
  if (!c || !c->nb_gate) return;
  int mine = g_nb_pending.load(std::memory_order_relaxed), any = 0;
  MPI_Request r = MPI_REQUEST_NULL;
  const MPI_Comm on = c->priv != MPI_COMM_NULL ? c->priv : comm;
  if (PMPI_Iallreduce(&mine, &any, 1, MPI_INT, MPI_MAX, on, &r) != MPI_SUCCESS) return;
  if (wait1(&r, MPI_STATUS_IGNORE) != MPI_SUCCESS) return;
  if (any == 0) {  // the same result on every member: all of them stop gating together
    c->nb_gate = false;
    g_coll_word.fetch_sub(kOneGate, std::memory_order_relaxed);
  }
}

namespace progressed {

int Send(const void* buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) noexcept {
  return send_progressed([&](MPI_Request* r) { return PMPI_Isend(buf, count, t, dest, tag, comm, r); });
}
int Bsend(const void* buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) noexcept {
  return send_progressed([&](MPI_Request* r) { return PMPI_Ibsend(buf, count, t, dest, tag, comm, r); });
}
int Ssend(const void* buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) noexcept {
  return send_progressed([&](MPI_Request* r) { return PMPI_Issend(buf, count, t, dest, tag, comm, r); });
}
int Rsend(const void* buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) noexcept {
  return send_progressed([&](MPI_Request* r) { return PMPI_Irsend(buf, count, t, dest, tag, comm, r); });
}

int Recv(void* buf, int count, MPI_Datatype t, int source, int tag, MPI_Comm comm, MPI_Status* status) noexcept {
  MPI_Request r = MPI_REQUEST_NULL;
  const int rc = PMPI_Irecv(buf, count, t, source, tag, comm, &r);
  return rc != MPI_SUCCESS ? rc : wait1(&r, status);
}

int Sendrecv(const void* sendbuf, int sendcount, MPI_Datatype sendtype, int dest, int sendtag, void* recvbuf,
             int recvcount, MPI_Datatype recvtype, int source, int recvtag, MPI_Comm comm,
             MPI_Status* status) noexcept {
  MPI_Request r[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  MPI_Status st[2];
  SITEMPI_RC(PMPI_Irecv(recvbuf, recvcount, recvtype, source, recvtag, comm, &r[0]));
  int rc = PMPI_Isend(sendbuf, sendcount, sendtype, dest, sendtag, comm, &r[1]);
  if (rc != MPI_SUCCESS) {  // the receive stays posted: complete it as the library's call would not
    PMPI_Cancel(&r[0]);
    PMPI_Request_free(&r[0]);
    return rc;
  }
  rc = wait_progressing(2, r, st);
  if (status != MPI_STATUS_IGNORE) *status = st[0];
  return rc == MPI_ERR_IN_STATUS ? st[0].MPI_ERROR != MPI_SUCCESS ? st[0].MPI_ERROR : st[1].MPI_ERROR : rc;
}

int Sendrecv_replace(void* buf, int count, MPI_Datatype t, int dest, int sendtag, int source, int recvtag,
                     MPI_Comm comm, MPI_Status* status) noexcept {
  try {
    const TypeInfo ti(t);
    TypedBuf tmp(count, ti);  // the message arrives here while buf is still being sent
    SITEMPI_RC(Sendrecv(buf, count, t, dest, sendtag, tmp.get(), count, t, source, recvtag, comm, status));
    if (source == MPI_PROC_NULL) return MPI_SUCCESS;  // nothing arrived: buf stays as it was
    return copy_typed(tmp.get(), buf, count, t, comm);
  } catch (const std::bad_alloc&) {
    return MPI_ERR_NO_MEM;
  } catch (...) {
    return MPI_ERR_INTERN;
  }
}

int Probe(int source, int tag, MPI_Comm comm, MPI_Status* status) noexcept {
  for (;;) {
    if (!nb_blocked()) return PMPI_Probe(source, tag, comm, status);
    int flag = 0;
    const int rc = PMPI_Iprobe(source, tag, comm, &flag, status);
    if (rc != MPI_SUCCESS || flag) return rc;
    nb_poll();
  }
}

int Mprobe(int source, int tag, MPI_Comm comm, MPI_Message* message, MPI_Status* status) noexcept {
  for (;;) {
    if (!nb_blocked()) return PMPI_Mprobe(source, tag, comm, message, status);
    int flag = 0;
    const int rc = PMPI_Improbe(source, tag, comm, &flag, message, status);
    if (rc != MPI_SUCCESS || flag) return rc;
    nb_poll();
  }
}

int Mrecv(void* buf, int count, MPI_Datatype t, MPI_Message* message, MPI_Status* status) noexcept {
  MPI_Request r = MPI_REQUEST_NULL;
  const int rc = PMPI_Imrecv(buf, count, t, message, &r);
  return rc != MPI_SUCCESS ? rc : wait1(&r, status);
}

}  // namespace progressed

}  // namespace sitempi::coll
