// Defaults the shim gives the MPI library's own settings, before MPI_Init reads them.
//
// Open MPI polls its TCP transport on every pass of its progress engine while it counts a TCP
// connection in use, and otherwise once per mpi_event_tick_rate (10 ms by default). The count goes
// wrong when two processes connect to each other at once and one of them closes its own attempt
// before that attempt completed: btl/tcp's endpoint close lowers a count that its connect never
// raised (4.1.4 and Open MPI's main branch alike). A process all of whose TCP connections went
// through that race counts none and reads what arrives over TCP up to 10 ms late. A site leader
// talks across sites to few peers, so one such race is enough: every call of its site then takes
// a WAN crossing more (docs/sites.md, "A crossing more: Open MPI's TCP poll"). A short tick bounds
// what the wrong count costs; where the count is right, the tick is never consulted.
#pragma once

namespace sitempi::shim {

// Before PMPI_Init(_thread) (the library reads OMPI_MCA_* from the environment there): in a job
// whose launcher says it has ranks on other nodes, sets OMPI_MCA_mpi_event_tick_rate to
// SITEMPI_TCP_TICK_US (default 100), unless that is 0, the shim is disabled, or the variable is
// already set (a user's or launcher's value wins). Never throws.
void apply_library_defaults() noexcept;

// The tick this process set, in µs (0: none), for the verbose log at MPI_Init.
unsigned library_tick_set_us() noexcept;

}  // namespace sitempi::shim
