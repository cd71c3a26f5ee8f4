// native/core/partition: optimal cuts on graphs whose optimum is known, hard capacities, the same
// placement for the same seed, and the error for vertex weights that cannot fit.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "core/partition.h"
#include "core/partition_internal.h"

using namespace sitempi::partition;

namespace {

// A CSR graph built from undirected edges (a, b, w).
struct Csr {
  std::vector<int32_t> xadj, adjncy, vwgt;
  std::vector<double> adjwgt;
  GraphView view() const {
    return {int32_t(xadj.size()) - 1, xadj.data(), adjncy.data(), adjwgt.data(), vwgt.empty() ? nullptr : vwgt.data()};
  }
};

Csr from_edges(int n, const std::vector<std::vector<int>>& edges) {
  std::vector<std::vector<std::pair<int, double>>> adj(static_cast<size_t>(n));
  for (const auto& e : edges) {
    adj[size_t(e[0])].push_back({e[1], e[2]});
    adj[size_t(e[1])].push_back({e[0], e[2]});
  }
  Csr g;
  g.xadj.push_back(0);
  for (const auto& row : adj) {
    for (const auto& [v, w] : row) {
      g.adjncy.push_back(v);
      g.adjwgt.push_back(w);
    }
    g.xadj.push_back(int32_t(g.adjncy.size()));
  }
  return g;
}

// A side x side grid, 4 neighbours, unit weights.
Csr grid(int side) {
  std::vector<std::vector<int>> e;
  for (int r = 0; r < side; r++)
    for (int c = 0; c < side; c++) {
      if (c + 1 < side) e.push_back({r * side + c, r * side + c + 1, 1});
      if (r + 1 < side) e.push_back({r * side + c, (r + 1) * side + c, 1});
    }
  return from_edges(side * side, e);
}

std::vector<double> loads(const Csr& g, const std::vector<int32_t>& part, int k) {
  std::vector<double> l(static_cast<size_t>(k), 0.0);
  for (size_t v = 0; v < part.size(); v++) l[size_t(part[v])] += g.vwgt.empty() ? 1 : g.vwgt[v];
  return l;
}

}  // namespace

TEST(partition_two_cliques_and_a_grid_at_their_optimum) {
  // Two 20-cliques joined by one light edge: the optimum cuts only that edge.
  std::vector<std::vector<int>> e;
  for (int c = 0; c < 2; c++)
    for (int a = 0; a < 20; a++)
      for (int b = a + 1; b < 20; b++) e.push_back({c * 20 + a, c * 20 + b, 5});
  e.push_back({3, 27, 1});
  Csr cliques = from_edges(40, e);
  std::vector<int32_t> part(40);
  CHECK_EQ(partition(cliques.view(), {20, 20}, Options{}, nullptr, part.data()), 1.0);
  CHECK_EQ(edge_cut(cliques.view(), part.data()), 1.0);
  // A 12 x 12 grid in two halves of 72: the optimum cuts 12 edges.
  Csr g = grid(12);
  part.assign(144, -1);
  CHECK_EQ(partition(g.view(), {72, 72}, Options{}, nullptr, part.data()), 12.0);
  CHECK(loads(g, part, 2) == (std::vector<double>{72, 72}));
}

TEST(partition_keeps_capacities_hard_and_is_deterministic) {
  Csr g = grid(60);
  const std::vector<double> caps = {1300, 1000, 900, 400, 0};
  for (uint32_t seed : {1u, 7u}) {
    Options o;
    o.seed = seed;
    std::vector<int32_t> a(3600), b(3600);
    const double cut = partition(g.view(), caps, o, nullptr, a.data());
    CHECK_EQ(partition(g.view(), caps, o, nullptr, b.data()), cut);
    CHECK(a == b);
    CHECK_EQ(edge_cut(g.view(), a.data()), cut);
    const std::vector<double> l = loads(g, a, 5);
    for (size_t s = 0; s < caps.size(); s++) CHECK(l[s] <= caps[s]);
    CHECK(cut < 60 * 3);  // four strips' worth at most
  }
}

TEST(partition_keeps_a_better_start_and_refuses_weights_that_cannot_fit) {
  // A ring of 100: the contiguous halves are optimal (cut 2) and kept.
  std::vector<std::vector<int>> e;
  for (int v = 0; v < 100; v++) e.push_back({v, (v + 1) % 100, 1});
  Csr ring = from_edges(100, e);
  std::vector<int32_t> start(100), part(100);
  for (int v = 0; v < 100; v++) start[size_t(v)] = v < 50 ? 0 : 1;
  CHECK_EQ(partition(ring.view(), {50, 50}, Options{}, start.data(), part.data()), 2.0);
  // A start above the capacities (cut 0: everything on site 0) is not returned: the caps hold.
  std::fill(start.begin(), start.end(), 0);
  CHECK_EQ(partition(ring.view(), {50, 50}, Options{}, start.data(), part.data()), 2.0);
  CHECK_EQ(int(std::count(part.begin(), part.end(), 0)), 50);
  // Three vertices of weight 2 on two sites of 3: total 6 fits the sum, not the bins.
  Csr w = from_edges(3, {{0, 1, 1}, {1, 2, 1}});
  w.vwgt = {2, 2, 2};
  bool threw = false;
  try {
    partition(w.view(), {3, 3}, Options{}, nullptr, part.data());
  } catch (const std::runtime_error&) {
    threw = true;
  }
  CHECK(threw);
}

// The connectivity table (rows for boundary vertices only, created as moves make vertices
// boundary) agrees with a recount from the adjacency after any sequence of moves, and so does one
// built with the interior vertices given.
TEST(partition_connectivity_table_matches_a_recount_after_moves) {
  using namespace sitempi::partition::detail;
  const int n = 300, k = 5;
  Rng rng(11);
  std::vector<std::vector<int>> edges;
  for (int v = 0; v < n; v++)
    for (int i = 0; i < 3; i++) {
      const int u = int(rng.below(uint32_t(n)));
      bool dup = u == v;
      for (const auto& e : edges) dup = dup || (e[0] == v && e[1] == u) || (e[0] == u && e[1] == v);
      if (!dup) edges.push_back({v, u, 1 + int(rng.below(9))});
    }
  Csr c = from_edges(n, edges);
  c.vwgt.assign(size_t(n), 1);
  const GraphView g = c.view();
  // Parts in runs of 60 of a random graph: most vertices start on the boundary, a few interior.
  std::vector<int32_t> part(static_cast<size_t>(n));
  for (int v = 0; v < n; v++) part[size_t(v)] = v / 60;
  auto agrees = [&](Conn& table) {
    Conn recount(g, part.data(), k, false);
    int boundary = 0, wrong = 0;
    for (int32_t v = 0; v < n; v++) {
      table.of(part.data(), v);
      recount.of(part.data(), v);
      wrong += table.count != recount.count;
      for (int p = 0; p < k; p++) wrong += table.to(p) != recount.to(p);
      for (int i = 1; i < table.count; i++) wrong += table.parts[size_t(i - 1)] >= table.parts[size_t(i)];
      double ti, te, ri, re;
      table.degrees(part.data(), v, ti, te);
      recount.degrees(part.data(), v, ri, re);
      wrong += ti != ri || te != re;
      const bool b = recount.boundary(part.data(), v);
      wrong += table.boundary(part.data(), v) != b;
      boundary += b;
      const std::vector<int32_t>& list = table.boundary_list();
      wrong += (std::find(list.begin(), list.end(), v) != list.end()) != b;
    }
    CHECK_EQ(int(table.boundary_list().size()), boundary);
    return wrong;
  };
  Conn table(g, part.data(), k, true);
  CHECK_EQ(agrees(table), 0);
  for (int step = 1; step <= 1500; step++) {
    const int32_t v = int32_t(rng.below(uint32_t(n)));
    const int from = part[size_t(v)], to = int((uint32_t(from) + 1 + rng.below(k - 1)) % k);
    part[size_t(v)] = to;
    table.moved(v, from, to);
    if (step % 250 == 0) CHECK_EQ(agrees(table), 0);
  }
  std::vector<uint8_t> interior(static_cast<size_t>(n));
  for (int32_t v = 0; v < n; v++) interior[size_t(v)] = !Conn(g, part.data(), k, false).boundary(part.data(), v);
  Conn hinted(g, part.data(), k, true, interior.data());
  CHECK_EQ(agrees(hinted), 0);
}

// A table built with the interior vertices given sums their edge weights only when first read or
// touched by a move (moved themselves, or a neighbour leaving their part): on a grid in quadrants,
// where most vertices are interior, it agrees with a recount before and after random moves.
TEST(partition_connectivity_table_with_interior_hint_matches_a_recount_after_moves) {
  using namespace sitempi::partition::detail;
  const int side = 20, n = side * side, k = 4;
  std::vector<std::vector<int>> edges;
  for (int i = 0; i < side; i++)
    for (int j = 0; j < side; j++) {
      const int v = i * side + j;
      if (j + 1 < side) edges.push_back({v, v + 1, 1 + (v % 7)});
      if (i + 1 < side) edges.push_back({v, v + side, 1 + (v % 5)});
    }
  Csr c = from_edges(n, edges);
  c.vwgt.assign(size_t(n), 1);
  const GraphView g = c.view();
  std::vector<int32_t> part(static_cast<size_t>(n));
  for (int v = 0; v < n; v++) part[size_t(v)] = (v / side >= side / 2) * 2 + (v % side >= side / 2);
  std::vector<uint8_t> interior(static_cast<size_t>(n));
  int inside = 0;
  for (int32_t v = 0; v < n; v++)
    inside += interior[size_t(v)] = !Conn(g, part.data(), k, false).boundary(part.data(), v);
  CHECK(inside > n / 2);
  Conn lazy(g, part.data(), k, true, interior.data());
  Rng rng(5);
  for (int step = 1; step <= 400; step++) {
    const int32_t v = int32_t(rng.below(uint32_t(n)));
    const int from = part[size_t(v)], to = int((uint32_t(from) + 1 + rng.below(k - 1)) % k);
    part[size_t(v)] = to;
    lazy.moved(v, from, to);
    if (step % 100 != 0) continue;
    Conn recount(g, part.data(), k, false);
    int wrong = 0;
    for (int32_t u = 0; u < n; u++) {
      double ti, te, ri, re;
      lazy.degrees(part.data(), u, ti, te);
      recount.degrees(part.data(), u, ri, re);
      wrong += ti != ri || te != re || lazy.boundary(part.data(), u) != recount.boundary(part.data(), u);
      lazy.of(part.data(), u);
      recount.of(part.data(), u);
      for (int p = 0; p < k; p++) wrong += lazy.to(p) != recount.to(p);
    }
    CHECK_EQ(wrong, 0);
  }
}
