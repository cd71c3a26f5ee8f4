// The non-blocking site-aware collectives (Iallreduce, Ibcast): each call is a Chain of
// non-blocking point-to-point steps on the communicator's private duplicate (site phase, leaders'
// WAN phase, site phase), handed to the application as a generalized request.
//
// No thread: chains advance inside the library's progress engine (coll/progress_hook.h: every MPI
// call that waits, whatever it waits for, the completion calls included) and when another
// non-blocking site-aware call starts. Every step is posted without blocking; only a rank that
// must forward something (a site's leader, mostly) has steps after the first. Every pending chain
// of the process advances each time, not only those a call waits for: ranks may complete their
// requests in different orders, and a peer's chain may need one of ours.
//
// Site phases are flat point-to-point trees (the leader receives every member's vector, sends
// every member the result), never the library's collectives: those would have to be issued in the
// same order on every member, and a leader can post its next site step only once the WAN step is
// done. Messages of concurrent chains on one communicator are told apart by their tag: the call's
// sequence number on the communicator (equal on every member, collectives being ordered).
#pragma once
#include <mpi.h>

#include <cstdint>
#include <memory>

#include "coll/common.h"

namespace sitempi::coll {

class Chain {
 public:
  explicit Chain(SiteCache& c);
  virtual ~Chain();
  Chain(const Chain&) = delete;
  Chain& operator=(const Chain&) = delete;

  // Posts the first step. What this rank will send to other sites goes into *planned (the
  // call's record is written at initiation); the chain's own counters must end equal to it.
  virtual int start(Outcome* planned) = 0;
  // Posts steps while the current one has completed; never blocks. Sets done() at the end.
  int advance();
  bool done() const { return done_; }
  int error() const { return err_; }
  void fail(int rc) {
    err_ = rc;
    done_ = true;
  }
  const Outcome& sent() const { return out_; }
  SiteCache& cache() { return c_; }

  MPI_Request app = MPI_REQUEST_NULL;  // the application's generalized request
  int* status_slot = nullptr;          // its error code, read by the query callback
  Outcome planned;                     // what start() said this rank would send across sites

 protected:
  // The current step's requests have all completed: post the next, or finish().
  virtual int step() = 0;
  void finish() { done_ = true; }
  // The application may free its datatype once the call has started (MPI: the call completes
  // normally): later steps use a duplicate of a derived one.
  MPI_Datatype keep(MPI_Datatype t);

  SiteCache& c_;
  Outcome out_;
  Ctx x_;
  int tag_;
  int phase_ = 0;

 private:
  bool done_ = false;
  int err_ = MPI_SUCCESS;
  MPI_Datatype dup_ = MPI_DATATYPE_NULL;
};

// Starts `chain` (already allocated for comm's cache): posts its first step, hands the application
// a generalized request, and keeps the chain until it completes. Returns the MPI error code.
int nb_launch(std::unique_ptr<Chain> chain, MPI_Request* request, Outcome* out);

// From the library's progress engine (coll/progress_hook.h): advances every pending chain once;
// never blocks (skipped while another thread advances them, or this one, whose chain steps
// re-entered the engine). Returns how many chains ended (their requests completed).
int nb_poll() noexcept;

// Before MPI_Finalize: the progress engine stops advancing chains, orphaned caches are freed.
void nb_finalize() noexcept;

// The chains, per algorithm (iallreduce.cpp, ibcast.cpp).
std::unique_ptr<Chain> iallreduce_chain(SiteCache& c, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t,
                                        MPI_Op op, uint32_t alg);
std::unique_ptr<Chain> ibcast_chain(SiteCache& c, void* buf, int count, MPI_Datatype t, int root);

}  // namespace sitempi::coll
