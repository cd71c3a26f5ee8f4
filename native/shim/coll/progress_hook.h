// The pending chains (coll/nonblocking.h) advance inside Open MPI's progress engine: a callback
// registered with opal_progress_register runs in every MPI call that waits (a blocking
// point-to-point call, a blocking collective over any communicator, a wait, a communicator's
// creation, a window's fence), where nothing of the shim's would run until the library returns.
// A valid program may block in such a call while a peer first waits for one of this rank's
// chains (a leader in MPI_Recv from a member that waits for the Iallreduce's result); the engine
// is what lets that call return. The engine is found by name at run time; without it the
// site-aware non-blocking collectives are not used (the library's run instead).
#pragma once

namespace sitempi::coll {

// Registers the callback once (at the first site-aware non-blocking call); later calls only say
// whether it is registered. False: the library has no such engine. Never throws.
bool progress_hook_install() noexcept;
// Unregisters it (before MPI_Finalize: the library's progress must not start chain steps then).
void progress_hook_remove() noexcept;

}  // namespace sitempi::coll
