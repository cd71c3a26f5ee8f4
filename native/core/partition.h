// The min-cut placement of a graph's vertices (a job's ranks) over sites with capacities,
// multilevel like METIS's k-way scheme (src/partition/partition.ts is the TypeScript front end and
// docs/partition.md the description). Neither MPI nor Node.
#pragma once
#include <cstdint>
#include <vector>

namespace sitempi::partition {

// An undirected graph in compressed sparse rows, every edge stored in both directions with the
// same weight, no self loops, no repeated neighbours (the caller checks). vwgt null: unit weights.
struct GraphView {
  int32_t n = 0;
  const int32_t* xadj = nullptr;
  const int32_t* adjncy = nullptr;
  const double* adjwgt = nullptr;
  const int32_t* vwgt = nullptr;
};

struct Options {
  uint32_t seed = 1;
  // Whole multilevel runs (seeds seed, seed + 1, ...), the least cut kept; 0: ceil(512 / n)
  // between 1 and 8 (graphs under 512 vertices cost microseconds a run and vary more).
  int cuts = 0;
  // Tries per bisection of the coarsest graph: greedy growings at the coarsest graph of each
  // multilevel bisection, and half as many (rounded up) multilevel bisections; the best kept.
  int tries = 4;
  // Most greedy refinement sweeps per level.
  int passes = 8;
  // Rounds of k-way Fiduccia-Mattheyses per level, each bounded by fm_work reads of the adjacency.
  int fm_rounds = 3;
  double fm_work = 1;
  // Coarsening stops at this many vertices; 0: n / (40 log2 k), at least 30 per site.
  int32_t coarsen_to = 0;
};

// Places g's vertices on caps.size() sites, site s holding at most caps[s] vertex weight (caps
// non-negative, summing to at least the total weight: the caller checks), with the least cut it
// finds; writes part[0 .. n) and returns the cut. start (null: none) is a placement returned as it
// is when it fits the capacities and its cut is below the multilevel cut. Throws
// std::runtime_error when vertex weights cannot fit the capacities.
double partition(const GraphView& g, const std::vector<double>& caps, const Options& o, const int32_t* start,
                 int32_t* part);

// Sum of the weights of the edges between different parts (each edge counted once).
double edge_cut(const GraphView& g, const int32_t* part);

}  // namespace sitempi::partition
