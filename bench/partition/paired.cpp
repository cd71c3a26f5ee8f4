// sitempi's partitioner and METIS's library timed side by side in one process: the same graph
// (METIS's text format, as bench/partition/metis.ts writes it), the same capacities, calls
// alternating (which goes first alternates too), each timed by the thread's CPU clock. On a shared,
// noisy host the two see the same machine state round by round, so the median of the per-round
// ratios says which is faster where two separate processes, or gpmetis's 1 ms timer, cannot.
//
//   paired GRAPH CAPS REPS     CAPS: comma-separated capacities, one per site
// prints one JSON line: {"cut", "metisCut", "sitempi": [s...], "metis": [s...]}.
// METIS runs as gpmetis -ptype=kway -ufactor=U -tpwgts=F -seed=1 does (bench/partition/metis.ts
// maps the capacities the same way); sitempi runs as partition() with its defaults (the contiguous
// split as start). Built and run by bench/partition/run.ts (g++ ... -lmetis, Debian's libmetis-dev).
#include <metis.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "../../native/core/partition.h"

namespace {

struct Csr {
  int32_t n = 0;
  std::vector<int32_t> xadj, adjncy;
  std::vector<double> adjwgt;
};

// Reads "n m 001" then one line per vertex of (neighbour + 1, weight) pairs.
bool read_graph(const char* file, Csr& g) {
  FILE* f = std::fopen(file, "r");
  if (!f) return false;
  std::string text;
  char buf[1 << 16];
  for (size_t r; (r = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, r);
  std::fclose(f);
  const char* p = text.c_str();
  char* end = nullptr;
  g.n = int32_t(std::strtol(p, &end, 10));
  const long m = std::strtol(end, &end, 10);
  if (g.n <= 0 || m < 0 || std::strtol(end, &end, 10) != 1) return false;
  p = std::strchr(end, '\n');
  g.xadj.assign(size_t(g.n) + 1, 0);
  for (int32_t v = 0; v < g.n; v++) {
    if (!p) return false;
    p++;
    const char* eol = std::strchr(p, '\n');
    if (!eol) eol = p + std::strlen(p);
    while (p < eol) {
      const long u = std::strtol(p, &end, 10);
      if (end == p || end > eol) break;
      const double w = std::strtod(end, &end);
      if (u < 1 || u > g.n) return false;
      g.adjncy.push_back(int32_t(u - 1));
      g.adjwgt.push_back(w);
      p = end;
      while (p < eol && *p == ' ') p++;
    }
    p = eol;
    g.xadj[size_t(v) + 1] = int32_t(g.adjncy.size());
  }
  return long(g.adjncy.size()) == 2 * m;
}

double thread_cpu() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: paired GRAPH CAPS REPS\n");
    return 2;
  }
  Csr g;
  if (!read_graph(argv[1], g)) {
    std::fprintf(stderr, "paired: %s is not a graph in METIS's format (fmt 001)\n", argv[1]);
    return 1;
  }
  std::vector<double> caps;
  for (char* c = argv[2]; *c;) {
    char* end = nullptr;
    caps.push_back(std::strtod(c, &end));
    if (end == c) return 2;
    c = *end == ',' ? end + 1 : end;
  }
  const int reps = std::max(1, std::atoi(argv[3]));
  const int32_t k = int32_t(caps.size());
  double sum = 0;
  for (const double c : caps) sum += c;

  // sitempi's defaults: the contiguous split of rank order as start (src/partition contiguousPlacement).
  std::vector<int32_t> start(static_cast<size_t>(g.n)), part(static_cast<size_t>(g.n));
  {
    double cum = 0;
    int32_t from = 0;
    for (int32_t s = 0; s < k; s++) {
      cum += caps[size_t(s)];
      const int32_t to = s == k - 1 ? g.n : int32_t(std::floor(double(g.n) * cum / sum));
      std::fill(start.begin() + from, start.begin() + to, s);
      from = to;
    }
  }
  const sitempi::partition::GraphView view{g.n, g.xadj.data(), g.adjncy.data(), g.adjwgt.data(), nullptr};
  const sitempi::partition::Options opts;

  // METIS: integer edge weights, tpwgts = cap / sum rounded to 7 decimals (as gpmetis reads them
  // from metis.ts's file), ufactor = floor(1000 (sum / n - 1)).
  std::vector<idx_t> mx(g.xadj.begin(), g.xadj.end()), ma(g.adjncy.begin(), g.adjncy.end()), mw(g.adjncy.size());
  for (size_t j = 0; j < mw.size(); j++) mw[j] = idx_t(std::llround(g.adjwgt[j]));
  std::vector<real_t> tpwgts(static_cast<size_t>(k));
  for (int32_t s = 0; s < k; s++) tpwgts[size_t(s)] = real_t(std::round(caps[size_t(s)] / sum * 1e7) / 1e7);
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_PTYPE] = METIS_PTYPE_KWAY;
  options[METIS_OPTION_UFACTOR] = idx_t(std::max(0.0, std::floor(1000 * (sum / g.n - 1) + 1e-9)));
  options[METIS_OPTION_SEED] = 1;
  std::vector<idx_t> mpart(static_cast<size_t>(g.n));

  double cut = 0;
  idx_t mcut = 0;
  auto run_sitempi = [&] {
    const double t0 = thread_cpu();
    cut = sitempi::partition::partition(view, caps, opts, start.data(), part.data());
    return thread_cpu() - t0;
  };
  auto run_metis = [&] {
    idx_t n = g.n, ncon = 1, nparts = k;
    const double t0 = thread_cpu();
    const int rc = METIS_PartGraphKway(&n, &ncon, mx.data(), ma.data(), nullptr, nullptr, mw.data(), &nparts,
                                       tpwgts.data(), nullptr, options, &mcut, mpart.data());
    const double t = thread_cpu() - t0;
    if (rc != METIS_OK) {
      std::fprintf(stderr, "paired: METIS_PartGraphKway returned %d\n", rc);
      std::exit(1);
    }
    return t;
  };
  run_sitempi();  // one untimed call each: allocator and caches as in a long-running monitor
  run_metis();
  std::vector<double> ts, tm;
  for (int r = 0; r < reps; r++) {
    if (r % 2 == 0) {
      ts.push_back(run_sitempi());
      tm.push_back(run_metis());
    } else {
      tm.push_back(run_metis());
      ts.push_back(run_sitempi());
    }
  }
  auto list = [](const std::vector<double>& xs) {
    std::string s;
    char b[32];
    for (const double x : xs) {
      std::snprintf(b, sizeof b, "%s%.9g", s.empty() ? "" : ",", x);
      s += b;
    }
    return s;
  };
  std::printf("{\"cut\":%.0f,\"metisCut\":%lld,\"sitempi\":[%s],\"metis\":[%s]}\n", cut, (long long)mcut,
              list(ts).c_str(), list(tm).c_str());
  return 0;
}
