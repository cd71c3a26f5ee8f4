// Alltoall choices the cost model makes without confidence (core::alltoall_candidates: pairwise and
// the library modelled within its error of each other, grouped or the library below 1 KiB) are
// settled by timing, once per communicator and size. The first call runs the model's choice
// untimed (it opens the connections both use); then core::kAlltoallCalibrationRounds rounds each
// time both candidates, in turn and in alternating order (second, first | first, second | ...), so
// that neither always follows the other. Every rank then takes the slowest rank's time of each
// call (one small Allreduce on its private duplicate, so that all choose alike), and
// core::calibrated_choice keeps the library unless the other wins the median round by 10%. One
// timing per candidate, as before, chose the slower at 1-4 MiB on the testbed, where a call's time
// is bimodal (retransmission timeouts): docs/sites.md. Each call's record says which ran (alg),
// the timed ones included. A new placement builds a new cache, so relocation calibrates again.
// SITEMPI_COLL_ALLTOALL=model skips it.
#pragma once
#include <mpi.h>

#include <cstdint>

#include "core/cost_model.h"

namespace sitempi::coll {

struct AlltoallCalibration {
  // sizes a communicator calibrates (a sweep of 8 B-4 MiB has 20); others take the model's choice
  static constexpr int kSizes = 24;
  static constexpr int kRounds = core::kAlltoallCalibrationRounds;
  static constexpr int kCalls = 1 + 2 * kRounds;  // untimed, then both candidates each round
  struct Entry {
    uint64_t m = 0;
    int stage = 0;               // calls so far, up to kCalls (then `chosen` holds)
    double t[2 * kRounds] = {};  // seconds: round r's `first` at [r], its `second` at [kRounds + r]
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
  using C = AlltoallCalibration;
  C::Entry* e = cal.entry(m);
  if (!e) return call(k.first);
  if (e->stage >= C::kCalls) return call(e->chosen);
  if (e->stage++ == 0) return call(k.first);
  // timed call i of 2 * kRounds: round i / 2; even rounds run `second` first, odd rounds `first`
  const int i = e->stage - 2, round = i / 2;
  const bool second = (i % 2 == 0) == (round % 2 == 0);
  const double t0 = PMPI_Wtime();
  const int rc = call(second ? k.second : k.first);
  e->t[(second ? C::kRounds : 0) + round] = PMPI_Wtime() - t0;
  if (e->stage < C::kCalls) return rc;
  double slowest[2 * C::kRounds];
  if (PMPI_Allreduce(e->t, slowest, 2 * C::kRounds, MPI_DOUBLE, MPI_MAX, priv) != MPI_SUCCESS)
    e->chosen = k.first;  // cannot agree: the model's choice (every rank sees the same failure)
  else
    e->chosen = core::calibrated_choice(k, slowest, slowest + C::kRounds, C::kRounds);
  return rc;
}

}  // namespace sitempi::coll
