// The shim's per-thread hot state in one static-TLS block: in a shared library each TLS variable
// costs a load of its offset, so every lookup of a wrapper's common path (nesting depth, the record
// chunk, the datatype size) goes through this one.
#pragma once
#include <mpi.h>

#include <cstdint>

#include "core/wire.h"

// The shim's own symbols are hidden (CMake's visibility preset), but GCC addresses a global
// declared extern through the GOT unless the declaration says so: one load less per access.
#pragma GCC visibility push(hidden)

namespace sitempi::shim {

// Plain data (zero-initialised: no constructor, no guard).
struct ThreadFast {
  int depth;        // 1 inside a wrapper: inner MPI calls are not recorded
  uint32_t n, cap;  // slots used in the current chunk; usable: one less than its size, so
                    // that a record with an extension always fits (0: no chunk)
  wire::Slot* recs;
  uint64_t flush_gen;  // g_flush_gen when the chunk was taken
  uint64_t epoch;      // placement epoch in force for the chunk's records
  // The datatype last sized, when it is a predefined one (never freed, so never stale), and its
  // size (datatypes.h).
  MPI_Datatype named_type;
  uint64_t named_size;
};
extern __thread ThreadFast t_fast;  // __thread: no C++ TLS wrapper call on each access

}  // namespace sitempi::shim

#pragma GCC visibility pop
