// Refinement of a k-way partition, as METIS refines: greedy boundary sweeps (vertices move to the
// part they are most connected to when that lowers the cut, or keeps it and evens the loads),
// k-way Fiduccia-Mattheyses (C. M. Fiduccia and R. M. Mattheyses, "A Linear-Time Heuristic for
// Improving Network Partitions": best moves first even at a loss, rolled back to the lowest cut
// seen), and a balancing step that empties parts a coarser level left above their limit.
#include <algorithm>
#include <numeric>

#include "partition_internal.h"

namespace sitempi::partition::detail {

void refine(const G& g, int32_t* part, double* loads, const double* limit, int k, int passes, Rng& rng, Conn& conn,
            const double* least) {
  const int32_t n = g.n;
  Buf<int32_t> list = buf<int32_t>(n), next = buf<int32_t>(n);
  std::vector<int32_t> queued(size_t(n), 0);
  // The boundary vertices in ascending order (the sweeps' random order is drawn from it).
  const std::vector<int32_t>& bnd = conn.boundary_list();
  int32_t len = int32_t(bnd.size());
  std::copy(bnd.begin(), bnd.end(), list.get());
  std::sort(list.get(), list.get() + len);
  for (int pass = 1; pass <= passes && len > 0; pass++) {
    rng.shuffle(list.get(), len);
    int32_t nlen = 0, moved = 0;
    for (int32_t i = 0; i < len; i++) {
      const int32_t v = list[size_t(i)];
      // A vertex whose external degree is below its internal one has no move that keeps the cut.
      double id, ed;
      conn.degrees(part, v, id, ed);
      if (ed < id) continue;
      const int own = part[v];
      const double vw = g.vwgt[v];
      double gain;
      const int to = conn.best_move(v, vw, loads, limit, gain);
      if (to < 0 || (least && loads[own] - vw < least[own])) continue;
      // A move that keeps the cut must even the loads (relative to the limits), so sweeps end.
      if (!(gain > 0 || (gain == 0 && vw > 0 && (loads[to] + vw) * limit[own] < loads[own] * limit[to]))) continue;
      part[v] = to;
      conn.moved(v, own, to);
      loads[own] -= vw;
      loads[to] += vw;
      moved++;
      if (queued[size_t(v)] != pass) {
        queued[size_t(v)] = pass;
        next[size_t(nlen++)] = v;
      }
      for (int32_t j = g.xadj[v]; j < g.xadj[v + 1]; j++) {
        const int32_t u = g.adjncy[j];
        if (queued[size_t(u)] != pass) {
          queued[size_t(u)] = pass;
          next[size_t(nlen++)] = u;
        }
      }
    }
    std::swap(list, next);
    len = nlen;
    if (moved == 0) break;
  }
}

bool rebalance(const G& g, int32_t* part, double* loads, const double* limit, int k) {
  auto over = [&](int p) { return loads[p] > limit[p]; };
  auto any_over = [&] {
    for (int p = 0; p < k; p++)
      if (over(p)) return true;
    return false;
  };
  if (!any_over()) return true;
  Conn conn(g, part, k, false);
  // The most connected part with room; any part with room (the least full) when v touches none.
  auto best_room = [&](int32_t v) {
    const int own = part[v];
    const double vw = g.vwgt[v];
    int to = conn.best_target(own, vw, loads, limit);
    if (to < 0) {
      for (int p = 0; p < k; p++)
        if (p != own && loads[p] + vw <= limit[p] && (to < 0 || loads[p] * limit[to] < loads[to] * limit[p])) to = p;
    }
    return to;
  };
  std::vector<int32_t> cand;
  std::vector<double> gain;
  std::vector<int32_t> order;
  for (int round = 0; round < 4; round++) {
    cand.clear();
    gain.clear();
    for (int32_t v = 0; v < g.n; v++) {
      if (!over(part[v])) continue;
      conn.of(part, v);
      const int to = best_room(v);
      if (to < 0) continue;
      cand.push_back(v);
      gain.push_back(conn.to(to) - conn.to(part[v]));
    }
    order.resize(cand.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return gain[size_t(a)] != gain[size_t(b)] ? gain[size_t(a)] > gain[size_t(b)] : cand[size_t(a)] < cand[size_t(b)];
    });
    for (const int32_t i : order) {
      const int32_t v = cand[size_t(i)];
      const int own = part[v];
      if (!over(own)) continue;
      conn.of(part, v);
      const int to = best_room(v);
      if (to < 0) continue;
      part[v] = to;
      loads[own] -= g.vwgt[v];
      loads[to] += g.vwgt[v];
    }
    if (!any_over()) return true;
  }
  return false;
}

namespace {

// FM's heap starts from the boundary vertices whose external degree is at least this fraction of
// their internal one. On the 3-D stencil most boundary vertices have one neighbour across (a move
// loses five times what it gains), are popped late if ever, and enter the heap anyway when a
// neighbour moves; evaluating them all each round was 4 % of the instructions of a 100 000-rank
// stencil, and the benchmark's cuts moved by 0.1 % without them (geometric mean of 48 cases).
constexpr double kFmSeedExternal = 0.3;

// An indexed max-heap of vertices by gain; equal gains by lower vertex, so that the order never
// depends on history.
class GainHeap {
 public:
  explicit GainHeap(int32_t n) : heap_(buf<int32_t>(n)), pos_(size_t(n), -1), key(buf<double>(n)) {}
  void set(int32_t v, double k) {
    if (pos_[size_t(v)] < 0) {
      key[size_t(v)] = k;
      heap_[size_t(size)] = v;
      pos_[size_t(v)] = size++;
      up(pos_[size_t(v)]);
    } else {
      const double old = key[size_t(v)];
      key[size_t(v)] = k;
      if (k > old)
        up(pos_[size_t(v)]);
      else
        down(pos_[size_t(v)]);
    }
  }
  // Adds v (not in the heap) without ordering; heapify() then orders all in one pass.
  void append(int32_t v, double k) {
    key[size_t(v)] = k;
    heap_[size_t(size)] = v;
    pos_[size_t(v)] = size++;
  }
  void heapify() {
    for (int32_t i = size / 2 - 1; i >= 0; i--) down(i);
  }
  int32_t top() const { return heap_[0]; }
  void remove(int32_t v) {
    const int32_t i = pos_[size_t(v)];
    if (i < 0) return;
    const int32_t last = heap_[size_t(--size)];
    pos_[size_t(v)] = -1;
    if (i == size) return;
    heap_[size_t(i)] = last;
    pos_[size_t(last)] = i;
    up(i);
    down(pos_[size_t(last)]);
  }
  void clear() {
    for (int32_t i = 0; i < size; i++) pos_[size_t(heap_[size_t(i)])] = -1;
    size = 0;
  }
  int32_t size = 0;

 private:
  bool above(int32_t a, int32_t b) const {
    const double ka = key[size_t(a)], kb = key[size_t(b)];
    return ka > kb || (ka == kb && a < b);
  }
  void up(int32_t i) {
    const int32_t v = heap_[size_t(i)];
    while (i > 0) {
      const int32_t p = (i - 1) >> 1;
      if (!above(v, heap_[size_t(p)])) break;
      heap_[size_t(i)] = heap_[size_t(p)];
      pos_[size_t(heap_[size_t(i)])] = i;
      i = p;
    }
    heap_[size_t(i)] = v;
    pos_[size_t(v)] = i;
  }
  void down(int32_t i) {
    const int32_t v = heap_[size_t(i)];
    for (;;) {
      int32_t c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && above(heap_[size_t(c + 1)], heap_[size_t(c)])) c++;
      if (!above(heap_[size_t(c)], v)) break;
      heap_[size_t(i)] = heap_[size_t(c)];
      pos_[size_t(heap_[size_t(i)])] = i;
      i = c;
    }
    heap_[size_t(i)] = v;
    pos_[size_t(v)] = i;
  }
  Buf<int32_t> heap_;
  std::vector<int32_t> pos_;

 public:
  Buf<double> key;
};

}  // namespace

void fm_refine(const G& g, int32_t* part, double* loads, const double* limit, int k, int rounds, int32_t max_useless,
               double work_per_round, Conn& conn, const double* least) {
  const int32_t n = g.n;
  // Moves may overfill a part by one vertex (so that two moves can swap vertices between full
  // parts); only states within the limits are kept.
  int32_t heaviest = 0;
  for (int32_t v = 0; v < n; v++) heaviest = std::max(heaviest, g.vwgt[v]);
  std::vector<double> room(static_cast<size_t>(k));
  for (int p = 0; p < k; p++) room[size_t(p)] = limit[p] + heaviest;
  // The least weight a part may keep (never more than it holds now), moves may go one vertex below.
  std::vector<double> floor_(size_t(k), -1), deep(size_t(k), -1);
  for (int p = 0; p < k && least; p++) {
    floor_[size_t(p)] = std::min(least[p], loads[p]);
    deep[size_t(p)] = floor_[size_t(p)] - heaviest;
  }
  auto bad = [&](int p) { return int(loads[p] > limit[p] || loads[p] < floor_[size_t(p)]); };
  int over = 0;
  for (int p = 0; p < k; p++) over += bad(p);
  GainHeap heap(n);
  Buf<int32_t> target = buf<int32_t>(n), moved_v = buf<int32_t>(n), moved_from = buf<int32_t>(n);
  std::vector<int32_t> locked(size_t(n), 0);
  double work = 0;
  // The best move of v now (heap entry set by the caller), or none (entry removed): its gain, or
  // false.
  auto evaluate = [&](int32_t v, double& gain) {
    work += degree(g, v);
    const int to = conn.best_move(v, g.vwgt[v], loads, room.data(), gain);
    if (to < 0 || loads[part[v]] - g.vwgt[v] < deep[size_t(part[v])]) {
      heap.remove(v);
      return false;
    }
    target[size_t(v)] = to;
    return true;
  };
  for (int round = 1; round <= rounds; round++) {
    heap.clear();
    work = 0;
    double gain;
    // The heap orders by gain then vertex, so the list's order does not matter. Vertices far from
    // a move (external degree under kFmSeedExternal x internal, a flat face of a grid) start
    // outside it and enter when a neighbour moves.
    for (const int32_t v : conn.boundary_list()) {
      double id, ed;
      conn.degrees(part, v, id, ed);
      if (ed >= kFmSeedExternal * id && evaluate(v, gain)) heap.append(v, gain);
    }
    heap.heapify();
    const double budget = work + work_per_round * g.xadj[n];
    double cut = 0, best_cut = 0;  // relative to the round's start
    int32_t best_at = 0, nm = 0;
    while (heap.size > 0) {
      const int32_t v = heap.top();
      if (!evaluate(v, gain)) continue;
      if (gain != heap.key[size_t(v)]) {
        heap.set(v, gain);  // stale: a part filled up since
        continue;
      }
      heap.remove(v);
      const int from = part[v], to = target[size_t(v)];
      part[v] = to;
      conn.moved(v, from, to);
      over -= bad(from) + bad(to);
      loads[from] -= g.vwgt[v];
      loads[to] += g.vwgt[v];
      over += bad(from) + bad(to);
      locked[size_t(v)] = round;
      moved_v[size_t(nm)] = v;
      moved_from[size_t(nm++)] = from;
      cut -= gain;
      if (cut < best_cut && over == 0) {
        best_cut = cut;
        best_at = nm;
      } else if (nm - best_at > max_useless) {
        break;
      }
      if (work > budget) break;
      for (int32_t j = g.xadj[v]; j < g.xadj[v + 1]; j++) {
        const int32_t u = g.adjncy[j];
        double gu;
        if (locked[size_t(u)] != round && evaluate(u, gu)) heap.set(u, gu);
      }
    }
    for (int32_t i = nm - 1; i >= best_at; i--) {
      const int32_t v = moved_v[size_t(i)];
      loads[part[v]] -= g.vwgt[v];
      loads[moved_from[size_t(i)]] += g.vwgt[v];
      conn.moved(v, part[v], moved_from[size_t(i)]);
      part[v] = moved_from[size_t(i)];
    }
    over = 0;
    for (int p = 0; p < k; p++) over += bad(p);
    if (best_at == 0) break;
  }
}

}  // namespace sitempi::partition::detail
