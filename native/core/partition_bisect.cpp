// The initial partition of a small graph by recursive bisection: each bisection grown greedily
// from a random vertex (greedy graph growing), then polished by Fiduccia-Mattheyses passes (C. M.
// Fiduccia and R. M. Mattheyses, "A Linear-Time Heuristic for Improving Network Partitions"); the
// best of `tries` kept. Quadratic in the graph's size: partition.cpp uses it below a few dozen
// vertices and on the coarsest graphs of its multilevel bisections.
#include <algorithm>
#include <cmath>

#include "partition_internal.h"

namespace sitempi::partition::detail {
namespace {

// Weights on either side of a bisection and its cut.
struct Side {
  double w0 = 0, w1 = 0, cut = 0;
};

// Bisections of subsets of the coarsest graph (the vertices whose part is `label`): grown greedily
// from a random vertex (greedy graph growing), then polished by Fiduccia-Mattheyses passes.
class Bisector {
 public:
  Bisector(const G& g, const int32_t* part)
      : side(size_t(g.n)), g_(g), part_(part), gain_(size_t(g.n)), locked_(size_t(g.n)), moves_(size_t(g.n)) {}

  // Grows side 0 from a random vertex until it holds target0 (never above lim0).
  Side grow(const std::vector<int32_t>& set, int32_t label, double target0, double lim0, Rng& rng) {
    for (const int32_t v : set) side[size_t(v)] = 1;
    Side s = gains(set, label);
    int32_t v = set[rng.below(uint32_t(set.size()))];
    if (g_.vwgt[v] > lim0) v = -1;
    while (v >= 0) {
      flip(v, label, s);
      if (s.w0 >= target0) break;
      v = -1;
      double best = -INFINITY;
      for (const int32_t u : set) {
        if (side[size_t(u)] == 1 && s.w0 + g_.vwgt[u] <= lim0 && gain_[size_t(u)] > best) {
          best = gain_[size_t(u)];
          v = u;
        }
      }
    }
    return s;
  }

  // FM passes; keeps the best state seen (within limits first, then cut, then balance).
  void fm(const std::vector<int32_t>& set, int32_t label, Side& s, double target0, double lim0, double lim1,
          int passes) {
    auto excess = [&](double w0, double w1) { return std::max(0.0, w0 - lim0) + std::max(0.0, w1 - lim1); };
    auto better = [&](const Side& a, const Side& b) {
      const double ea = excess(a.w0, a.w1), eb = excess(b.w0, b.w1);
      if (ea != eb) return ea < eb;
      if (a.cut != b.cut) return a.cut < b.cut;
      return std::abs(a.w0 - target0) < std::abs(b.w0 - target0);
    };
    const size_t max_useless = std::max<size_t>(25, set.size() >> 2);
    for (int pass = 0; pass < passes; pass++) {
      for (const int32_t v : set) locked_[size_t(v)] = 0;
      Side best = s;
      size_t best_at = 0, nmoves = 0;
      for (;;) {
        int32_t v = -1;
        double bg = -INFINITY;
        const double e = excess(s.w0, s.w1);
        for (const int32_t u : set) {
          if (locked_[size_t(u)] || gain_[size_t(u)] < bg) continue;
          const double w = g_.vwgt[u];
          const double after = side[size_t(u)] == 0 ? excess(s.w0 - w, s.w1 + w) : excess(s.w0 + w, s.w1 - w);
          if (after > 0 && after >= e) continue;
          // Equal gains: move out of the side that is above its target.
          if (gain_[size_t(u)] > bg || (side[size_t(u)] == 0) == (s.w0 > target0)) {
            bg = gain_[size_t(u)];
            v = u;
          }
        }
        if (v < 0) break;
        flip(v, label, s);
        locked_[size_t(v)] = 1;
        moves_[nmoves++] = v;
        if (better(s, best)) {
          best = s;
          best_at = nmoves;
        } else if (nmoves - best_at > max_useless) {
          break;
        }
      }
      for (size_t i = nmoves; i-- > best_at;) flip(moves_[i], label, s);
      if (best_at == 0) break;
    }
  }

  std::vector<int8_t> side;

 private:
  // gain[v] = what moving v to the other side saves in cut, over edges inside the subset.
  Side gains(const std::vector<int32_t>& set, int32_t label) {
    Side s;
    for (const int32_t v : set) {
      double ext = 0, in = 0;
      for (int32_t j = g_.xadj[v]; j < g_.xadj[v + 1]; j++) {
        const int32_t u = g_.adjncy[j];
        if (part_[u] != label) continue;
        (side[size_t(u)] == side[size_t(v)] ? in : ext) += g_.adjwgt[j];
      }
      gain_[size_t(v)] = ext - in;
      s.cut += ext;
      (side[size_t(v)] == 0 ? s.w0 : s.w1) += g_.vwgt[v];
    }
    s.cut /= 2;
    return s;
  }

  void flip(int32_t v, int32_t label, Side& s) {
    const int8_t from = side[size_t(v)];
    s.cut -= gain_[size_t(v)];
    gain_[size_t(v)] = -gain_[size_t(v)];
    side[size_t(v)] = int8_t(1 - from);
    if (from == 0) {
      s.w0 -= g_.vwgt[v];
      s.w1 += g_.vwgt[v];
    } else {
      s.w1 -= g_.vwgt[v];
      s.w0 += g_.vwgt[v];
    }
    for (int32_t j = g_.xadj[v]; j < g_.xadj[v + 1]; j++) {
      const int32_t u = g_.adjncy[j];
      if (part_[u] != label) continue;
      // u's edge to v was internal and is now external, or the reverse.
      gain_[size_t(u)] += side[size_t(u)] == from ? 2 * g_.adjwgt[j] : -2 * g_.adjwgt[j];
    }
  }

  const G& g_;
  const int32_t* part_;
  std::vector<double> gain_;
  std::vector<uint8_t> locked_;
  std::vector<int32_t> moves_;
};

// Recursive bisection of the vertices onto parts lo .. hi-1: share[p] sets the weight a part should
// get (in proportion), limit[p] the most it may get; parts split in two halves by index.
void bisect(const G& g, Bisector& b, int32_t* part, const double* share, const double* limit, int lo, int hi, int tries,
            Rng& rng) {
  if (hi - lo < 2) return;
  const int mid = lo + ((hi - lo) >> 1);
  std::vector<int32_t> set;
  double w = 0;
  for (int32_t v = 0; v < g.n; v++) {
    if (part[v] != lo) continue;
    set.push_back(v);
    w += g.vwgt[v];
  }
  if (!set.empty()) {
    double s0 = 0, s1 = 0, lim0 = 0, lim1 = 0;
    for (int p = lo; p < mid; p++) s0 += share[p], lim0 += limit[p];
    for (int p = mid; p < hi; p++) s1 += share[p], lim1 += limit[p];
    const double target0 = s0 + s1 > 0 ? w * s0 / (s0 + s1) : w / 2;
    auto excess = [&](const Side& x) { return std::max(0.0, x.w0 - lim0) + std::max(0.0, x.w1 - lim1); };
    Side best;
    std::vector<int8_t> best_side;
    for (int t = 0; t < std::max(1, tries); t++) {
      Side s = b.grow(set, lo, target0, lim0, rng);
      b.fm(set, lo, s, target0, lim0, lim1, 4);
      if (best_side.empty() || excess(s) < excess(best) || (excess(s) == excess(best) && s.cut < best.cut)) {
        best = s;
        best_side.resize(set.size());
        for (size_t i = 0; i < set.size(); i++) best_side[i] = b.side[size_t(set[i])];
      }
    }
    for (size_t i = 0; i < set.size(); i++)
      if (best_side[i] == 1) part[set[i]] = mid;
  }
  bisect(g, b, part, share, limit, lo, mid, tries, rng);
  bisect(g, b, part, share, limit, mid, hi, tries, rng);
}

}  // namespace

void grow_bisect(const G& g, int32_t* part, const double* share, const double* limit, int k, int tries, Rng& rng) {
  Bisector b(g, part);
  bisect(g, b, part, share, limit, 0, k, tries, rng);
}

}  // namespace sitempi::partition::detail
