#include "fortran.h"

#include <dlfcn.h>

namespace sitempi::shim {

void* fortran_symbol(const char* name, const char* fallback) {
  if (void* p = dlsym(RTLD_DEFAULT, name)) return p;
  return dlsym(RTLD_NEXT, fallback);
}

const FortranSentinels& fortran_sentinels() {
  static const FortranSentinels s = [] {
    FortranSentinels r;
    r.in_place = dlsym(RTLD_DEFAULT, "mpi_fortran_in_place_");
    r.bottom = dlsym(RTLD_DEFAULT, "mpi_fortran_bottom_");
    r.status_ignore = dlsym(RTLD_DEFAULT, "mpi_fortran_status_ignore_");
    r.statuses_ignore = dlsym(RTLD_DEFAULT, "mpi_fortran_statuses_ignore_");
    // Absent symbols must not compare equal to a null argument.
    if (!r.in_place) r.in_place = &r;
    if (!r.bottom) r.bottom = &r;
    if (!r.status_ignore) r.status_ignore = &r;
    if (!r.statuses_ignore) r.statuses_ignore = &r;
    return r;
  }();
  return s;
}

}  // namespace sitempi::shim
