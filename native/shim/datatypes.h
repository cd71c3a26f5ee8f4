// Bytes of `count` elements of a datatype, as every recording rule needs them: a one-entry cache
// per thread (the same type is used call after call), invalidated when any type is freed (a handle
// may be reused for another type).
#pragma once
#include <mpi.h>

#include <atomic>
#include <cstdint>

namespace sitempi::shim {

// Per-thread, plain data in static TLS (zero-initialised: no constructor, no guard).
struct TypeCache {
  MPI_Datatype type;
  uint64_t gen;
  int size;
};
extern __thread TypeCache t_type;
extern std::atomic<uint64_t> g_type_gen;  // bumped by MPI_Type_free

uint64_t type_bytes_slow(MPI_Datatype t, int64_t count);

inline uint64_t type_bytes(MPI_Datatype t, int64_t count) {
  if (count <= 0) return 0;
  const TypeCache& c = t_type;
  if (t == c.type && c.gen == g_type_gen.load(std::memory_order_relaxed) && t != MPI_DATATYPE_NULL)
    return uint64_t(c.size) * uint64_t(count);
  return type_bytes_slow(t, count);
}
inline void type_cache_invalidate() { g_type_gen.fetch_add(1, std::memory_order_relaxed); }

}  // namespace sitempi::shim
