// A small native driver of the partitioner for instruction counts (valgrind's callgrind counts
// instructions, which stay the same under any load) and for checking that a change of the
// bookkeeping keeps the placements bit for bit: builds a 3-D stencil or a 2-D wavefront graph as
// bench/partition/graphs.ts does, places it on k equal sites of capacity ceil(1.03 n / k) starting
// from the contiguous split (as the bench does), prints the cut and a hash of the placement (and,
// with DRIVER_CPU set, the CPU seconds of partition()); DRIVER_METIS_GRAPH=FILE also writes the
// graph in METIS's format, for counting gpmetis's instructions the same way.
// Built and run by bench/partition/callgrind.sh.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "../../native/core/partition.h"

using sitempi::partition::GraphView;

// Balanced grid dimensions, non-increasing (as MPI_Dims_create and graphs.ts's dimsCreate).
static std::vector<int> dims_create(int n, int d) {
  std::vector<int> primes;
  int m = n;
  for (int p = 2; p * p <= m; p++)
    while (m % p == 0) {
      primes.push_back(p);
      m /= p;
    }
  if (m > 1) primes.push_back(m);
  std::vector<int> dims(size_t(d), 1);
  for (size_t i = primes.size(); i-- > 0;) {
    size_t s = 0;
    for (size_t j = 1; j < dims.size(); j++)
      if (dims[j] < dims[s]) s = j;
    dims[s] *= primes[i];
  }
  std::sort(dims.rbegin(), dims.rend());
  return dims;
}

int main(int argc, char** argv) {
  const char* pattern = argc > 1 ? argv[1] : "stencil3d";
  const int n = argc > 2 ? std::atoi(argv[2]) : 100000, k = argc > 3 ? std::atoi(argv[3]) : 8;
  const uint32_t seed = argc > 4 ? uint32_t(std::atoi(argv[4])) : 1;
  std::vector<std::vector<std::pair<int, double>>> adj(static_cast<size_t>(n));
  auto add = [&](int a, int b, double w) {
    adj[size_t(a)].push_back({b, w});
    adj[size_t(b)].push_back({a, w});
  };
  if (std::strcmp(pattern, "stencil3d") == 0) {
    const std::vector<int> d = dims_create(n, 3);
    for (int i = 0; i < d[0]; i++)
      for (int j = 0; j < d[1]; j++)
        for (int c = 0; c < d[2]; c++) {
          const int r = (i * d[1] + j) * d[2] + c;
          if (i + 1 < d[0]) add(r, r + d[1] * d[2], 2);
          if (j + 1 < d[1]) add(r, r + d[2], 2);
          if (c + 1 < d[2]) add(r, r + 1, 2);
        }
  } else {
    const std::vector<int> d = dims_create(n, 2);
    for (int i = 0; i < d[0]; i++)
      for (int j = 0; j < d[1]; j++) {
        const int r = i * d[1] + j;
        if (j + 1 < d[1]) add(r, r + 1, 1);
        if (i + 1 < d[0]) add(r, r + d[1], 1);
      }
  }
  std::vector<int32_t> xadj(size_t(n) + 1, 0), adjncy;
  std::vector<double> adjwgt;
  for (int v = 0; v < n; v++) {
    std::sort(adj[size_t(v)].begin(), adj[size_t(v)].end());
    for (const auto& [u, w] : adj[size_t(v)]) {
      adjncy.push_back(u);
      adjwgt.push_back(w);
    }
    xadj[size_t(v) + 1] = int32_t(adjncy.size());
  }
  const GraphView g{n, xadj.data(), adjncy.data(), adjwgt.data(), nullptr};
  if (const char* file = std::getenv("DRIVER_METIS_GRAPH")) {
    // The same graph for gpmetis (edge weights, rounded: the grids' weights are integers).
    FILE* f = std::fopen(file, "w");
    if (!f) return 1;
    std::fprintf(f, "%d %d 001\n", n, int(adjncy.size() / 2));
    for (int v = 0; v < n; v++) {
      for (int32_t j = xadj[size_t(v)]; j < xadj[size_t(v) + 1]; j++)
        std::fprintf(f, "%s%d %.0f", j == xadj[size_t(v)] ? "" : " ", adjncy[size_t(j)] + 1, adjwgt[size_t(j)]);
      std::fprintf(f, "\n");
    }
    std::fclose(f);
  }
  const double cap = std::ceil(1.03 * n / k);
  const std::vector<double> caps(size_t(k), cap);
  std::vector<int32_t> start(static_cast<size_t>(n)), part(static_cast<size_t>(n));
  for (int v = 0; v < n; v++) start[size_t(v)] = int32_t(int64_t(v) * k / n);
  sitempi::partition::Options o;
  o.seed = seed;
  const std::clock_t t0 = std::clock();
  const double cut = sitempi::partition::partition(g, caps, o, start.data(), part.data());
  const double cpu = double(std::clock() - t0) / CLOCKS_PER_SEC;
  uint64_t h = 1469598103934665603ull;
  for (const int32_t p : part) h = (h ^ uint64_t(p)) * 1099511628211ull;
  std::printf("%s n=%d k=%d seed=%u cut=%.0f hash=%016llx\n", pattern, n, k, unsigned(seed), cut,
              (unsigned long long)h);
  if (std::getenv("DRIVER_CPU")) std::printf("  cpu seconds: %.4f\n", cpu);
  return 0;
}
