// Alltoall choices the cost model makes without confidence (core::alltoall_candidates: pairwise and
// the library modelled within its error of each other, grouped or the library below 1 KiB) are
// settled by timing, once per
// communicator and size: the first call runs the model's choice untimed (it opens the
// connections both use), the second the other one timed, the third the model's choice timed;
// every rank then takes the larger of each time over the communicator (one small Allreduce on
// its private duplicate, so that all choose alike) and every later call of that size runs the
// faster. Each call's record says which ran (alg), the timed ones included. A new placement
// builds a new cache, so relocation calibrates again. SITEMPI_COLL_ALLTOALL=model skips it.
#pragma once
#include <mpi.h>

#include <cstdint>

#include "core/cost_model.h"

namespace sitempi::coll {

struct AlltoallCalibration {
  // sizes a communicator calibrates (a sweep of 8 B-4 MiB has 20); others take the model's choice
  static constexpr int kSizes = 24;
  struct Entry {
    uint64_t m = 0;
    int stage = 0;         // calls so far, up to 3 (then `chosen` holds)
    double t[2] = {0, 0};  // seconds of `first`, of `second`
    uint32_t chosen = 0;
  };
  Entry e[kSizes];
  int n = 0;

  Entry* entry(uint64_t m) {
    for (int i = 0; i < n; ++i)
      if (e[i].m == m) return &e[i];
    if (n == kSizes) return nullptr;
    e[n].m = m;
    return &e[n++];
  }
};

// Runs one Alltoall of m bytes per pair under the calibration of `cal`; `call(alg)` runs algorithm
// alg (core::Alg, 0: the library) and returns its MPI error code.
template <typename Call>
int calibrated_alltoall(AlltoallCalibration& cal, MPI_Comm priv, uint64_t m, const core::AlltoallCandidates& k,
                        Call&& call) {
  AlltoallCalibration::Entry* e = cal.entry(m);
  if (!e) return call(k.first);
  switch (e->stage) {
    case 0:
      e->stage = 1;
      return call(k.first);
    case 1:
    case 2: {
      const int which = e->stage == 1 ? 1 : 0;
      const double t0 = PMPI_Wtime();
      const int rc = call(which ? k.second : k.first);
      e->t[which] = PMPI_Wtime() - t0;
      if (++e->stage < 3) return rc;
      double slowest[2] = {e->t[0], e->t[1]};
      if (PMPI_Allreduce(e->t, slowest, 2, MPI_DOUBLE, MPI_MAX, priv) != MPI_SUCCESS) {
        slowest[0] = 0;  // cannot agree: the model's choice (every rank sees the same failure)
        slowest[1] = 1;
      }
      e->chosen = slowest[1] < slowest[0] ? k.second : k.first;
      return rc;
    }
    default:
      return call(e->chosen);
  }
}

}  // namespace sitempi::coll
