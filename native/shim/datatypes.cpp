#include "datatypes.h"

namespace sitempi::shim {

__thread TypeCache t_type;
std::atomic<uint64_t> g_type_gen{0};

uint64_t type_bytes_slow(MPI_Datatype t, int64_t count) {
  if (t == MPI_DATATYPE_NULL) return 0;
  int size = 0;
  if (PMPI_Type_size(t, &size) != MPI_SUCCESS || size < 0) return 0;
  TypeCache& c = t_type;
  c.type = t;
  c.size = size;
  c.gen = g_type_gen.load(std::memory_order_relaxed);
  return uint64_t(size) * uint64_t(count);
}

}  // namespace sitempi::shim
