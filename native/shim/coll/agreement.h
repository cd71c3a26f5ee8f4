// The relocation agreement (DESIGN.md, "Relocation agreement"; docs/relocation-shim.md): every
// communicator follows the newest placement the monitor pushed, switching its site cache at one
// call that all its ranks agree on.
//
// Every covered collective call on a communicator counts; every K-th call (SITEMPI_CHECKPOINT_EVERY)
// is a checkpoint: the MAXLOC reduction of (newest placement epoch this rank holds, rank) started at
// the previous checkpoint is completed, and when the agreed epoch is newer than the cache's, all
// ranks fetch that epoch's map from the lowest rank holding it (a Bcast) and rebuild the cache in
// this very call; then the next reduction starts. Both run on a private duplicate of the
// communicator that nothing else uses. A placement that reaches any member is in force on the whole
// communicator at most 2K-1 calls later. Only in monitor mode with site-aware collectives on.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "coll/cache.h"
#include "core/cost_model.h"
#include "core/wire.h"
#include "recorder.h"

namespace sitempi::coll {

// The agreement runs (monitor mode, SITEMPI_COLL not off, SITEMPI_CHECKPOINT_EVERY > 0).
extern bool g_agree_on;

// For every covered collective (dispatch.cpp), in place of acquire(): counts the call, runs the
// checkpoint when one is due (which may switch the cache), then returns the cache when `c` may run
// site-aware on it (nullptr: PMPI). Collective over comm; never throws.
SiteCache* agree_acquire(core::Coll c, MPI_Comm comm);

// The newest valid placement this rank knows: from the mailbox, or learned through an agreement
// on any of its communicators (nullptr: none).
std::shared_ptr<const wire::Placement> newest_known();
// A placement learned through an agreement (the Bcast at a switch or at a cache's first build):
// this rank's other communicators follow it at their next checkpoint.
void learned(uint64_t epoch, const std::vector<uint32_t>& site_of);

// Called from coll_init (cache.cpp) when the agreement is on: K and the Finalize hook.
void agreement_init(uint32_t every);

// The per-communicator state; owned by the communicator's current SiteCache (moved to the new one
// at a switch, freed with the communicator).
struct Agreement;
void free_agreement(Agreement* a, bool free_comms);

// Marker records (informational, no call of their own; ignored by the monitor's matrices): role
// shim::kRolePlacement in the high bits of Record.fn, the low bits the function id of the
// collective call they belong to (0 for a switch applied by sitempi_checkpoint_every, before the
// next call); comm = the communicator; bytes = the epoch; alg = the kind; cross_bytes = the call
// index on the communicator (covered collective calls before this one); peer = the world rank
// that supplied the map (switch) or -1.
// The kind is a PlacementMark (kMarkSwitch, kMarkSeen: facts.h, from native/shim/gen/facts.mjs).
using shim::kRolePlacement;

}  // namespace sitempi::coll

// For programs and benchmarks that want to tune or pause the checkpoints of one communicator
// (found with dlsym, so a program does not depend on the shim): sets K for `comm` (0: no more
// checkpoints; negative: only query) and returns the previous K, or -1 when the agreement is off or
// the communicator has had no covered collective yet. Collective: every rank of `comm` calls it at
// the same point between two collectives on comm. A reduction in flight is completed first and a
// newer agreed placement takes effect at the next call.
extern "C" int sitempi_checkpoint_every(MPI_Comm comm, int every);
