// Bytes of `count` elements of a datatype, as every recording rule needs them. Inline: the last
// predefined type sized by this thread (the same type is used call after call; a predefined type is
// never freed, so the entry needs no check of its age). Out of line: a small per-thread table of
// recent types, derived ones checked against a generation that MPI_Type_free bumps (a handle may
// be reused for another type).
#pragma once
#include <mpi.h>

#include <atomic>
#include <cstdint>

#include "thread_state.h"

#pragma GCC visibility push(hidden)  // globals addressed directly, not through the GOT (thread_state.h)

namespace sitempi::shim {

extern std::atomic<uint64_t> g_type_gen;  // bumped by MPI_Type_free

uint64_t type_bytes_slow(MPI_Datatype t, int64_t count);

inline uint64_t type_bytes(MPI_Datatype t, int64_t count) {
  const ThreadFast& f = t_fast;
  if (__builtin_expect(t == f.named_type, 1)) return count > 0 ? f.named_size * uint64_t(count) : 0;
  return type_bytes_slow(t, count);
}
inline void type_cache_invalidate() { g_type_gen.fetch_add(1, std::memory_order_relaxed); }

}  // namespace sitempi::shim

#pragma GCC visibility pop
