// Where the sender thread runs (SITEMPI_SENDER_CPUS). mpirun binds each rank to its core(s), and
// threads inherit the binding: left there, the sender's encoding time-slices with the application
// on the rank's own core. By default it moves to the other CPUs the process may use, unless every
// CPU of the node already hosts a rank of the job.
#pragma once
#include <string>

namespace sitempi::shim {

// Applies the setting to the calling thread: "other" (default: the allowed CPUs outside the
// rank's binding; unchanged when there are none, or when the `local_ranks` ranks of the job on
// this node, bound like this one, cover every online CPU), "inherit" (the rank's binding), or a
// CPU list ("3", "0-3,8"). Never fails the application: problems are logged and the binding stays.
void place_sender_thread(const std::string& setting, int local_ranks);

}  // namespace sitempi::shim
