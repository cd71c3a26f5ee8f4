// The multilevel scheme of METIS (G. Karypis and V. Kumar, "A Fast and High Quality Multilevel
// Scheme for Partitioning Irregular Graphs", and "Multilevel k-way Partitioning Scheme for
// Irregular Graphs"): coarsen by heavy-edge matching, bisect the coarsest graph recursively (each
// bisection itself multilevel, grown at its coarsest in partition_bisect.cpp), then project back
// level by level, refining at each (partition_refine.cpp). Capacities are hard at the
// finest level; coarser levels may go 3% past a site's proportional share, since their vertices
// are lumps of ranks.
#include "partition.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "partition_internal.h"

namespace sitempi::partition {

double edge_cut(const GraphView& g, const int32_t* part) {
  double cut = 0;
  for (int32_t v = 0; v < g.n; v++)
    for (int32_t j = g.xadj[v]; j < g.xadj[v + 1]; j++)
      if (g.adjncy[j] > v && part[g.adjncy[j]] != part[v]) cut += g.adjwgt[j];
  return cut;
}

namespace detail {
namespace {

// part[]'s cut, read only until it reaches bound (then returns a value at least bound): the start
// placement is kept only when its cut is below the multilevel cut (a contiguous split of a 3-D grid
// over 8 sites is twice that). Edge weights are non-negative (validateGraph), so a partial sum at
// the bound stays there.
double cut_below(const G& g, const int32_t* part, double bound) {
  double cut = 0;
  for (int32_t v = 0; v < g.n; v++) {
    const int32_t pv = part[v];
    for (int32_t j = g.xadj[v]; j < g.xadj[v + 1]; j++) {
      const int32_t u = g.adjncy[j];
      if (u > v && part[u] != pv) cut += g.adjwgt[j];
    }
    if (cut >= bound) return cut;
  }
  return cut;
}

// One coarse level: its graph (storage owned here) and where each finer vertex went.
struct Level {
  std::vector<int32_t> xadj, vwgt;
  Buf<int32_t> cmap;  // every entry written by contract()
  // Sized for the finer graph's adjacency and filled to xadj.back(): written once, never zeroed.
  Buf<int32_t> adjncy;
  Buf<double> adjwgt;
  G view() const { return G{int32_t(vwgt.size()), xadj.data(), adjncy.get(), adjwgt.get(), vwgt.data()}; }
};

// The visiting order of the matching: random, then stably bucketed by degree (capped at 0.7 x the
// average, as METIS does), so that vertices with few neighbours choose before theirs are taken.
// Its arrays left uninitialised, every entry written (zeroing them first was 1 to 2 % of the
// instructions of a 100 000-vertex grid, as valgrind counts memset, a count per byte).
Buf<int32_t> visit_order(const G& g, Rng& rng) {
  const int32_t n = g.n;
  Buf<int32_t> perm = buf<int32_t>(n);
  for (int32_t i = 0; i < n; i++) perm[size_t(i)] = i;
  rng.scramble(perm.get(), n);
  const int32_t cap = std::max<int32_t>(1, int32_t(std::floor(0.7 * g.xadj[n] / std::max<int32_t>(1, n))));
  std::vector<int32_t> count(size_t(cap) + 2, 0);
  for (int32_t v = 0; v < n; v++) count[size_t(std::min(cap, degree(g, v))) + 1]++;
  for (int32_t d = 0; d <= cap; d++) count[size_t(d) + 1] += count[size_t(d)];
  Buf<int32_t> order = buf<int32_t>(n);
  for (int32_t i = 0; i < n; i++) {
    const int32_t v = perm[size_t(i)];
    order[size_t(count[size_t(std::min(cap, degree(g, v)))]++)] = v;
  }
  return order;
}

// match[v] = v's partner (v itself when unmatched): the unmatched neighbour v shares the heaviest
// edge with, the pair weighing at most max_vwgt; isolated vertices are paired with each other.
std::vector<int32_t> heavy_edge_matching(const G& g, int64_t max_vwgt, Rng& rng) {
  const int32_t n = g.n;
  std::vector<int32_t> match(size_t(n), -1);
  const Buf<int32_t> order = visit_order(g, rng);
  int32_t lonely = -1;
  for (int32_t i = 0; i < n; i++) {
    const int32_t u = order[size_t(i)];
    if (match[size_t(u)] != -1) continue;
    int32_t best = u;
    const int64_t room = max_vwgt - g.vwgt[u];
    if (degree(g, u) == 0) {
      if (lonely >= 0 && g.vwgt[lonely] <= room) {
        best = lonely;
        lonely = -1;
      } else {
        lonely = u;
      }
    } else if (room >= 0) {
      double best_w = -1;
      for (int32_t j = g.xadj[u]; j < g.xadj[u + 1]; j++) {
        const int32_t v = g.adjncy[j];
        // The weight first: it is read in order, match[] and vwgt[] at random.
        if (g.adjwgt[j] > best_w && match[size_t(v)] == -1 && g.vwgt[v] <= room) {
          best_w = g.adjwgt[j];
          best = v;
        }
      }
    }
    match[size_t(u)] = best;
    match[size_t(best)] = u;
  }
  return match;
}

// Contracts matched pairs; coarse vertices are numbered in the order of their lower fine vertex.
std::unique_ptr<Level> contract(const G& g, const std::vector<int32_t>& match) {
  const int32_t n = g.n;
  auto l = std::make_unique<Level>();
  l->cmap = buf<int32_t>(n);
  int32_t cn = 0;
  for (int32_t u = 0; u < n; u++) {
    if (match[size_t(u)] < u) continue;
    l->cmap[size_t(u)] = cn;
    l->cmap[size_t(match[size_t(u)])] = cn++;
  }
  l->xadj.assign(size_t(cn) + 1, 0);
  // Left uninitialised: zeroing the fine graph's size on every level cost more than the rest.
  l->adjncy = buf<int32_t>(g.xadj[n]);
  l->adjwgt = buf<double>(g.xadj[n]);
  l->vwgt.resize(size_t(cn));
  // pos[c'] = where c' sits in the current coarse row; a position before the row's start is stale.
  std::vector<int32_t> pos_v(size_t(cn), -1);
  // Raw pointers in locals: through the members, every int written to the coarse rows could alias
  // g's arrays and the vectors, which the compiler then read again per entry (a third of the loop).
  int32_t* const pos = pos_v.data();
  const int32_t* const cmap = l->cmap.get();
  const int32_t *const xadj = g.xadj, *const adjncy = g.adjncy;
  const double* const adjwgt = g.adjwgt;
  int32_t* const cadj = l->adjncy.get();
  double* const cwgt = l->adjwgt.get();
  int32_t* const cxadj = l->xadj.data();
  int32_t* const cvwgt = l->vwgt.data();
  int32_t out = 0, c = 0;
  for (int32_t u = 0; u < n; u++) {
    const int32_t v = match[size_t(u)];
    if (v < u) continue;
    const int32_t start = out;
    cvwgt[c] = v == u ? g.vwgt[u] : g.vwgt[u] + g.vwgt[v];
    // u's row, then v's: two plain loops (one loop over both sides cost a select per entry).
    auto merge = [&](int32_t x) {
      const double* w = adjwgt + xadj[x];
      int32_t o = out;
      for (const int32_t *a = adjncy + xadj[x], *const e = adjncy + xadj[x + 1]; a < e; a++, w++) {
        const int32_t cy = cmap[*a];
        if (cy == c) continue;
        const int32_t p = pos[cy];
        if (p >= start) {
          cwgt[p] += *w;
        } else {
          pos[cy] = o;
          cadj[o] = cy;
          cwgt[o++] = *w;
        }
      }
      out = o;
    };
    merge(u);
    if (v != u) merge(v);
    cxadj[++c] = out;
  }
  return l;
}

// Coarse levels may exceed a site's proportional share by this fraction (METIS's default ufactor).
constexpr double kCoarseSlack = 0.03;
// The refinements keep every part at least at its proportional share / this factor, as METIS's k-way
// refinement keeps its parts above target / ubfactor (minpwgts). Without it, on a random graph over
// unequal sites, vertices drained move by move from the smallest site into the larger ones (each
// move a gain) until those were full and nothing could swap: random 1 024 ranks over 40/30/20/10 %
// ended with 75 ranks on the 10 % site and a cut 1.086 x METIS's (1.039 and 1.045 x at 10 000 and
// 100 000). 1.3 measured best of 1.06 to 1.3 on the benchmark's 48 cases (1.03 cost the grids,
// which gain from uneven loads).
constexpr double kLeastFactor = 1.3;
// Graphs up to this size are bisected directly by greedy growing (quadratic in their size);
// larger ones by a multilevel bisection of their own, coarsened to kBisectCoarsenTo vertices.
constexpr int32_t kGrowMax = 80;
constexpr int32_t kBisectCoarsenTo = 40;
// Graphs under this many vertices keep FM's long tail on their k-way levels (see refine_level).
constexpr int32_t kLongTailBelow = 8192;

std::vector<double> loads_of(const G& g, const int32_t* part, int k) {
  std::vector<double> loads(size_t(k), 0.0);
  for (int32_t v = 0; v < g.n; v++) loads[size_t(part[v])] += g.vwgt[v];
  return loads;
}

// Limits of one level: the capacities at the finest, the share plus slack (or the capacity) above.
std::vector<double> level_limits(const std::vector<double>& caps, double weight, bool finest) {
  if (finest) return caps;
  double sum = 0;
  for (const double c : caps) sum += c;
  std::vector<double> l(caps.size());
  for (size_t s = 0; s < caps.size(); s++)
    l[s] = std::max(caps[s], std::floor(weight * caps[s] / sum * (1 + kCoarseSlack)));
  return l;
}

// The least weight the refinements leave on each part: its proportional share / kLeastFactor.
std::vector<double> least_loads(const std::vector<double>& caps, double weight) {
  double sum = 0;
  for (const double c : caps) sum += c;
  std::vector<double> l(caps.size());
  for (size_t s = 0; s < caps.size(); s++) l[s] = std::floor(weight * caps[s] / sum / kLeastFactor);
  return l;
}

// The cut of part[], read from the vertices in bnd (every vertex with a neighbour in another
// part): edge_cut's sum in edge_cut's order (ascending vertices), so the same value bit for bit,
// without reading the adjacency of the interior vertices.
double boundary_cut(const G& g, const int32_t* part, const std::vector<int32_t>& bnd, Marks& marks) {
  int32_t* const flag = marks.stamps.data();
  const int32_t mark = marks.take(1);
  for (const int32_t v : bnd) flag[v] = mark;
  double cut = 0;
  for (int32_t v = 0; v < g.n; v++) {
    if (flag[v] != mark) continue;
    for (int32_t j = g.xadj[v]; j < g.xadj[v + 1]; j++)
      if (g.adjncy[j] > v && part[g.adjncy[j]] != part[v]) cut += g.adjwgt[j];
  }
  return cut;
}

// Greedy sweeps then FM on one level, sharing one connectivity table (interior: see Conn); returns
// the cut. When asked, writes which vertices end with every neighbour in their own part: the next
// finer level's interior vertices, once projected.
// Not inlined into its caller: inlined, the multilevel loop ran 1 % more instructions (a 10 000-
// vertex 3-D stencil, counted by callgrind).
[[gnu::noinline]] double refine_level(const G& g, int32_t* part, double* loads, const double* limit, int k,
                                      const Options& o, Rng& rng, Marks& marks, const uint8_t* interior = nullptr,
                                      std::vector<uint8_t>* ends_interior = nullptr, const double* least = nullptr) {
  Conn conn(g, part, k, true, interior);
  refine(g, part, loads, limit, k, o.passes, rng, conn, marks, least);
  // FM's tail: a round stops after n / 64 moves without a gain, at most 500 and at least 15
  // (METIS's least in its 2-way FM), or 50 on the k-way levels (more than 2 parts) of a graph under
  // kLongTailBelow vertices. A floor of 50 everywhere made the coarse levels' rounds of a 10 000-
  // vertex grid mostly tail (2 to 5 % of its instructions); on k-way levels of 1 024-vertex graphs,
  // every level small, the long tail finds cut (a floor of 15 there: 2-D wavefront over 8 sites
  // 1.09 x METIS's cut, was 1.00).
  const int32_t floor_ = marks.finest < kLongTailBelow && k > 2 ? 50 : 15;
  const int32_t useless = std::max<int32_t>(floor_, std::min<int32_t>(500, g.n >> 6));
  if (o.fm_rounds > 0) fm_refine(g, part, loads, limit, k, o.fm_rounds, useless, o.fm_work, conn, marks, least);
  if (ends_interior) {
    ends_interior->assign(size_t(g.n), 1);
    for (const int32_t v : conn.boundary_list()) (*ends_interior)[size_t(v)] = 0;
  }
  return boundary_cut(g, part, conn.boundary_list(), marks);
}

double multilevel(const G& fine, const std::vector<double>& caps, double weight, const Options& o, Rng& rng,
                  Marks& marks, int32_t coarsen_to, bool top, std::vector<int32_t>& out);

// The subgraph induced by the vertices whose part is `label`; ids[i] = its vertex i's number in g.
Level induced(const G& g, const int32_t* part, int32_t label, std::vector<int32_t>& ids, std::vector<int32_t>& local) {
  Level l;
  ids.clear();
  for (int32_t v = 0; v < g.n; v++) {
    if (part[v] != label) continue;
    local[size_t(v)] = int32_t(ids.size());
    ids.push_back(v);
  }
  l.xadj.reserve(ids.size() + 1);
  l.xadj.push_back(0);
  l.adjncy = buf<int32_t>(g.xadj[g.n]);
  l.adjwgt = buf<double>(g.xadj[g.n]);
  int32_t out = 0;
  for (const int32_t v : ids) {
    l.vwgt.push_back(g.vwgt[v]);
    for (int32_t j = g.xadj[v]; j < g.xadj[v + 1]; j++) {
      const int32_t u = g.adjncy[j];
      if (part[u] != label) continue;
      l.adjncy[size_t(out)] = local[size_t(u)];
      l.adjwgt[size_t(out++)] = g.adjwgt[j];
    }
    l.xadj.push_back(out);
  }
  return l;
}

// Recursive bisection of the coarsest graph onto parts lo .. hi-1, as METIS starts its k-way
// scheme: each bisection is the best of ceil(tries / 2) multilevel bisections of the part's subgraph
// (coarsened on its own, grown, refined back), so that a coarsest graph of thousands of vertices
// costs linear time, not the quadratic time of greedy growing on it.
void bisect_multilevel(const G& g, int32_t* part, const double* limit, int lo, int hi, const Options& o, Rng& rng,
                       Marks& marks, std::vector<int32_t>& local) {
  if (hi - lo < 2) return;
  const int mid = lo + ((hi - lo) >> 1);
  std::vector<int32_t> ids;
  Level sub = induced(g, part, lo, ids, local);
  if (!ids.empty()) {
    double lim0 = 0, lim1 = 0, w = 0;
    for (int p = lo; p < mid; p++) lim0 += limit[p];
    for (int p = mid; p < hi; p++) lim1 += limit[p];
    for (const int32_t x : sub.vwgt) w += x;
    const std::vector<double> caps2 = {lim0, lim1};
    auto excess = [&](const std::vector<int32_t>& side) {
      double w0 = 0;
      for (size_t i = 0; i < side.size(); i++)
        if (side[i] == 0) w0 += sub.vwgt[i];
      return std::max(0.0, w0 - lim0) + std::max(0.0, w - w0 - lim1);
    };
    std::vector<int32_t> best, side;
    double best_cut = 0, best_excess = 0;
    // Half as many multilevel bisections as greedy growings: each costs a pass over its levels.
    for (int t = 0; t < std::max(1, (o.tries + 1) / 2); t++) {
      const double cut = multilevel(sub.view(), caps2, w, o, rng, marks, kBisectCoarsenTo, false, side);
      const double e = excess(side);
      if (best.empty() || e < best_excess || (e == best_excess && cut < best_cut)) {
        best.swap(side);
        best_cut = cut;
        best_excess = e;
      }
    }
    for (size_t i = 0; i < ids.size(); i++)
      if (best[i] == 1) part[ids[i]] = mid;
  }
  bisect_multilevel(g, part, limit, lo, mid, o, rng, marks, local);
  bisect_multilevel(g, part, limit, mid, hi, o, rng, marks, local);
}

// One multilevel run: coarsen to about coarsen_to vertices, partition the coarsest graph (greedy
// growing when it is small or when this run is itself a bisection, multilevel bisections
// otherwise), uncoarsen with refinement. top: the caller's run, which throws when the finest level
// cannot be brought within the capacities (a bisection's result may stay above; the caller's
// rebalancing takes it from there).
double multilevel(const G& fine, const std::vector<double>& caps, double weight, const Options& o, Rng& rng,
                  Marks& marks, int32_t coarsen_to, bool top, std::vector<int32_t>& out) {
  const int k = int(caps.size());
  // Coarsen while it pays: stop at coarsen_to vertices or when a level barely shrinks.
  std::vector<std::unique_ptr<Level>> levels;
  const int64_t max_vwgt = std::max<int64_t>(1, int64_t(std::ceil(1.5 * weight / coarsen_to)));
  G cur = fine;
  while (cur.n > coarsen_to) {
    auto next = contract(cur, heavy_edge_matching(cur, max_vwgt, rng));
    const int32_t was = cur.n;
    if (next->vwgt.size() == size_t(cur.n)) break;
    levels.push_back(std::move(next));
    cur = levels.back()->view();
    if (cur.n > 0.9 * was) break;
  }
  std::vector<int32_t> part(size_t(cur.n), 0);
  {
    const std::vector<double> limit = level_limits(caps, weight, levels.empty());
    if (cur.n <= kGrowMax || !top) {
      grow_bisect(cur, part.data(), caps.data(), limit.data(), k, o.tries, rng);
    } else {
      std::vector<int32_t> local(size_t(cur.n));
      bisect_multilevel(cur, part.data(), limit.data(), 0, k, o, rng, marks, local);
    }
  }
  std::vector<double> loads = loads_of(cur, part.data(), k);
  const std::vector<double> least = least_loads(caps, weight);
  std::vector<uint8_t> coarse_interior, interior;
  double cut = 0;
  for (size_t i = levels.size() + 1; i-- > 0;) {
    const G graph = i == 0 ? fine : levels[i - 1]->view();
    bool hinted = false;
    if (i < levels.size()) {
      // Project: a fine vertex goes where its coarse vertex went, and is interior if that was.
      const int32_t* const cmap = levels[i]->cmap.get();
      std::vector<int32_t> finer(size_t(graph.n));
      interior.resize(size_t(graph.n));
      for (int32_t v = 0; v < graph.n; v++) {
        finer[size_t(v)] = part[size_t(cmap[size_t(v)])];
        interior[size_t(v)] = coarse_interior[size_t(cmap[size_t(v)])];
      }
      part.swap(finer);
      levels[i].reset();
      hinted = true;
    }
    const std::vector<double> limit = level_limits(caps, weight, i == 0);
    // The balancing step moves vertices only when a part is over its limit; the hint is then stale.
    for (int p = 0; p < k; p++) hinted = hinted && loads[size_t(p)] <= limit[size_t(p)];
    if (!rebalance(graph, part.data(), loads.data(), limit.data(), k) && i == 0 && top)
      throw std::runtime_error(
          "partition: the vertex weights do not fit the capacities (no site has room for what is left)");
    cut = refine_level(graph, part.data(), loads.data(), limit.data(), k, o, rng, marks,
                       hinted ? interior.data() : nullptr, i > 0 ? &coarse_interior : nullptr, least.data());
  }
  out.swap(part);
  return cut;
}

}  // namespace
}  // namespace detail

// Throws unless every index the partitioner follows stays inside the arrays (what the caller's
// full validation adds, symmetry and no repeated neighbours, only affects the quality).
static void check_shape(const GraphView& g, const int32_t* start, int k) {
  if (g.xadj[0] != 0) throw std::invalid_argument("partition: xadj[0] must be 0");
  for (int32_t v = 0; v < g.n; v++) {
    if (g.xadj[v + 1] < g.xadj[v]) throw std::invalid_argument("partition: xadj decreases");
    if (g.vwgt && g.vwgt[v] < 0) throw std::invalid_argument("partition: negative vertex weight");
    if (start && (start[v] < 0 || start[v] >= k)) throw std::invalid_argument("partition: start outside the sites");
  }
  // One pass without a branch per entry (one unsigned comparison catches negatives too).
  bool outside = false;
  for (int32_t j = 0; j < g.xadj[g.n]; j++) outside |= uint32_t(g.adjncy[j]) >= uint32_t(g.n);
  if (outside) throw std::invalid_argument("partition: neighbour outside the graph");
}

double partition(const GraphView& g, const std::vector<double>& caps, const Options& o, const int32_t* start,
                 int32_t* part) {
  using namespace detail;
  check_shape(g, start, int(caps.size()));
  const int k = int(caps.size());
  std::vector<int32_t> ones;
  G fine = g;
  if (!fine.vwgt) {
    ones.assign(size_t(g.n), 1);
    fine.vwgt = ones.data();
  }
  if (k <= 1 || g.n == 0) {
    std::fill(part, part + g.n, 0);
    return 0;
  }
  double weight = 0;
  for (int32_t v = 0; v < g.n; v++) weight += fine.vwgt[v];
  const int cuts = o.cuts > 0 ? o.cuts : std::max(1, std::min(8, int((512 + g.n - 1) / g.n)));
  // As METIS's k-way scheme: coarsen to about n / (40 log2 k) vertices (as METIS 5.2), at least 30 per site.
  const int32_t coarsen_to = std::max<int32_t>(
      2, o.coarsen_to > 0 ? o.coarsen_to : std::max<int32_t>(30 * k, int32_t(g.n / (40 * std::log2(double(k))))));
  std::vector<int32_t> best, p;
  double best_cut = 0;
  Marks marks(g.n);
  for (int c = 0; c < cuts; c++) {
    Rng rng(o.seed + uint32_t(c));
    const double cut = multilevel(fine, caps, weight, o, rng, marks, coarsen_to, true, p);
    if (best.empty() || cut < best_cut) {
      best.swap(p);
      best_cut = cut;
    }
  }
  // The placement the ranks start from, when its cut is below the multilevel cut: rank order often
  // carries the application's locality (a slab decomposition of a stencil). Kept as it is, not
  // refined: refining it was a second refinement of the finest graph (5 to 14 % of the
  // instructions of the 2-site grids, where it wins), for at most 3 % of cut on the benchmark.
  if (start) {
    const double cut = cut_below(fine, start, best_cut);
    if (cut < best_cut) {
      std::vector<double> loads = loads_of(fine, start, k);
      bool fits = true;
      for (int s = 0; s < k; s++) fits = fits && loads[size_t(s)] <= caps[size_t(s)];
      if (fits) {
        best.assign(start, start + g.n);
        best_cut = cut;
      }
    }
  }
  std::copy(best.begin(), best.end(), part);
  return best_cut;
}

}  // namespace sitempi::partition
