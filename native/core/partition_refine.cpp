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
            Marks& marks, const double* least) {
  const int32_t n = g.n;
  Buf<int32_t> list = buf<int32_t>(n), next = buf<int32_t>(n);
  // queued[v] == base + pass: v is on the next pass's list; == base: on the boundary list.
  int32_t* const queued = marks.stamps.data();
  const int32_t base = marks.take(passes + 1);
  // The boundary vertices in ascending order (the sweeps' random order is drawn from it): sorted
  // when few, read off marks in queued[] when more than n / 16 (then a sort costs more than a scan
  // of n marks: a 3-D stencil's boundary, not a 2-D wavefront's).
  const std::vector<int32_t>& bnd = conn.boundary_list();
  int32_t len = int32_t(bnd.size());
  if (len > n / 16) {
    for (const int32_t v : bnd) queued[v] = base;
    len = 0;
    for (int32_t v = 0; v < n; v++)
      if (queued[v] == base) list[size_t(len++)] = v;
  } else {
    std::copy(bnd.begin(), bnd.end(), list.get());
    std::sort(list.get(), list.get() + len);
  }
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
      const int32_t mark = base + pass;
      if (queued[v] != mark) {
        queued[v] = mark;
        next[size_t(nlen++)] = v;
      }
      for (int32_t j = g.xadj[v]; j < g.xadj[v + 1]; j++) {
        const int32_t u = g.adjncy[j];
        if (queued[u] != mark) {
          queued[u] = mark;
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
// depends on history. Each slot holds its gain beside its vertex, so that a comparison reads the
// slots it compares and nothing else (a separate gain array cost a scattered read per comparison).
class GainHeap {
 public:
  // pos: n entries, all -1 (Marks::heap_pos), left so when the heap goes.
  GainHeap(int32_t n, int32_t* pos) : heap_(buf<Slot>(n)), pos_(pos) {}
  ~GainHeap() { clear(); }
  GainHeap(const GainHeap&) = delete;
  GainHeap& operator=(const GainHeap&) = delete;
  void set(int32_t v, double k) {
    const int32_t i = pos_[v];
    if (i < 0) {
      heap_[size_t(size)] = Slot{k, v};
      pos_[v] = size;
      up(size++);
    } else {
      const double old = heap_[size_t(i)].k;
      heap_[size_t(i)].k = k;
      if (k > old)
        up(i);
      else
        down(i);
    }
  }
  // Adds v (not in the heap) without ordering; heapify() then orders all in one pass.
  void append(int32_t v, double k) {
    heap_[size_t(size)] = Slot{k, v};
    pos_[v] = size++;
  }
  void heapify() {
    for (int32_t i = size / 2 - 1; i >= 0; i--) down(i);
  }
  int32_t top() const { return heap_[0].v; }
  double top_gain() const { return heap_[0].k; }
  void remove(int32_t v) {
    const int32_t i = pos_[v];
    if (i < 0) return;
    const Slot last = heap_[size_t(--size)];
    pos_[v] = -1;
    if (i == size) return;
    heap_[size_t(i)] = last;
    pos_[last.v] = i;
    up(i);
    down(pos_[last.v]);
  }
  void clear() {
    for (int32_t i = 0; i < size; i++) pos_[heap_[size_t(i)].v] = -1;
    size = 0;
  }
  int32_t size = 0;

 private:
  struct Slot {
    double k;
    int32_t v;
  };
  static bool above(const Slot& a, const Slot& b) { return a.k > b.k || (a.k == b.k && a.v < b.v); }
  void up(int32_t i) {
    const Slot x = heap_[size_t(i)];
    while (i > 0) {
      const int32_t p = (i - 1) >> 1;
      if (!above(x, heap_[size_t(p)])) break;
      heap_[size_t(i)] = heap_[size_t(p)];
      pos_[heap_[size_t(i)].v] = i;
      i = p;
    }
    heap_[size_t(i)] = x;
    pos_[x.v] = i;
  }
  void down(int32_t i) {
    const Slot x = heap_[size_t(i)];
    for (;;) {
      int32_t c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && above(heap_[size_t(c + 1)], heap_[size_t(c)])) c++;
      if (!above(heap_[size_t(c)], x)) break;
      heap_[size_t(i)] = heap_[size_t(c)];
      pos_[heap_[size_t(i)].v] = i;
      i = c;
    }
    heap_[size_t(i)] = x;
    pos_[x.v] = i;
  }
  Buf<Slot> heap_;
  int32_t* pos_;
};

}  // namespace

void fm_refine(const G& g, int32_t* part, double* loads, const double* limit, int k, int rounds, int32_t max_useless,
               double work_per_round, Conn& conn, Marks& marks, const double* least) {
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
  GainHeap heap(n, marks.heap_pos.data());
  Buf<int32_t> target = buf<int32_t>(n), moved_v = buf<int32_t>(n), moved_from = buf<int32_t>(n);
  // locked[v] == base + round: v moved in this round.
  int32_t* const locked = marks.stamps.data();
  const int32_t base = marks.take(rounds + 1);
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
      if (gain != heap.top_gain()) {
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
      locked[v] = base + round;
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
        if (locked[u] != base + round && evaluate(u, gu)) heap.set(u, gu);
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
