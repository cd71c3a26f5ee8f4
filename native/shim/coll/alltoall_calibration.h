// Alltoall choices the cost model makes without confidence (core::alltoall_candidates: pairwise and
// the library modelled within its error of each other, grouped or the library below 1 KiB) are
// settled by timing, once per communicator and size. First both run untimed, in turn (the model's
// choice first), core::kAlltoallCalibrationWarmup times each: a size's first calls pay for the
// connections and for TCP warming to the size (on the testbed the library's first 1-4 calls of 256
// KiB took 66-308 ms, retransmission timeouts among them, the later ones 60-84). Then
// core::kAlltoallCalibrationRounds rounds each time both candidates, in turn and in alternating
// order (second, first | first, second | ...), so that neither always follows the other. Every
// rank then takes the slowest rank's time of each call (one small Allreduce on its private
// duplicate, so that all choose alike), and core::calibrated_choice keeps the model's choice (the
// library against grouped) unless the other wins by 10% in the mean of the rounds' ratios. One
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
  static constexpr int kWarmup = core::kAlltoallCalibrationWarmup;
  static constexpr int kRounds = core::kAlltoallCalibrationRounds;
  static constexpr int kCalls = core::kAlltoallCalibrationCalls;
  static_assert(kCalls == 2 * kWarmup + 2 * kRounds, "untimed calls of both, then both each round");
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
  const int stage = e->stage++;
  if (stage < 2 * C::kWarmup) return call(stage % 2 ? k.second : k.first);
  // timed call i of 2 * kRounds: round i / 2; even rounds run `second` first, odd rounds `first`
  const int i = stage - 2 * C::kWarmup, round = i / 2;
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
