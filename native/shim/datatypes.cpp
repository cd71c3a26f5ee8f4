#include "datatypes.h"

#include <type_traits>

namespace sitempi::shim {

std::atomic<uint64_t> g_type_gen{0};

namespace {

// Direct-mapped by handle: an application alternating a few types finds each here.
constexpr unsigned kTypeSlots = 8;
struct TypeSlot {
  MPI_Datatype type;
  uint64_t gen;  // g_type_gen when sized; ~0: predefined, valid for good
  uint64_t size;
};
__thread TypeSlot t_types[kTypeSlots];
constexpr uint64_t kNamed = ~0ull;

// The bits of a handle (a pointer in Open MPI, an int in MPICH) that differ between types.
unsigned slot_of(MPI_Datatype t) {
  uint64_t h;
  if constexpr (std::is_pointer_v<MPI_Datatype>)
    h = uint64_t(reinterpret_cast<uintptr_t>(t));
  else
    h = uint64_t(t);
  return unsigned((h ^ (h >> 5) ^ (h >> 11)) % kTypeSlots);
}

bool predefined(MPI_Datatype t) {
  int ints = 0, addrs = 0, types = 0, combiner = MPI_UNDEFINED;
  return PMPI_Type_get_envelope(t, &ints, &addrs, &types, &combiner) == MPI_SUCCESS && combiner == MPI_COMBINER_NAMED;
}

}  // namespace

uint64_t type_bytes_slow(MPI_Datatype t, int64_t count) {
  if (t == MPI_DATATYPE_NULL) return 0;
  TypeSlot& s = t_types[slot_of(t)];
  const uint64_t gen = g_type_gen.load(std::memory_order_relaxed);
  if (s.type != t || (s.gen != kNamed && s.gen != gen)) {
    int size = 0;
    if (PMPI_Type_size(t, &size) != MPI_SUCCESS || size < 0) return 0;
    s = TypeSlot{t, predefined(t) ? kNamed : gen, uint64_t(size)};
  }
  if (s.gen == kNamed) {
    ThreadFast& f = t_fast;
    f.named_type = t;
    f.named_size = s.size;
  }
  return count > 0 ? s.size * uint64_t(count) : 0;
}

}  // namespace sitempi::shim
