// Support for the Fortran entry points: Open MPI's Fortran bindings call PMPI_ routines directly,
// so the shim defines the Fortran symbols itself, records, and forwards to the library's own
// Fortran PMPI symbol (which keeps every Fortran sentinel and conversion exactly as it was).
#pragma once
#include <mpi.h>

// Integer arrays (counts, displacements) pass from Fortran to C unconverted.
static_assert(sizeof(MPI_Fint) == sizeof(int), "MPI_Fint arrays are read as int arrays");

namespace sitempi::shim {

// The library's Fortran routine `name` (falling back to `fallback` in the next object).
void* fortran_symbol(const char* name, const char* fallback);

struct FortranSentinels {
  const void* in_place = nullptr;
  const void* bottom = nullptr;
  const void* status_ignore = nullptr;
  const void* statuses_ignore = nullptr;
};
const FortranSentinels& fortran_sentinels();

// A Fortran buffer address as C sees it (MPI_IN_PLACE and MPI_BOTTOM mapped).
inline const void* f_buf(const void* p) {
  const FortranSentinels& s = fortran_sentinels();
  if (p == s.in_place) return MPI_IN_PLACE;
  if (p == s.bottom) return MPI_BOTTOM;
  return p;
}

}  // namespace sitempi::shim
