// Pieces of the partitioner shared by its files (partition.cpp: driver, coarsening, multilevel
// bisection; partition_bisect.cpp: greedy growing; partition_refine.cpp: the refinements;
// partition_conn.cpp: their connectivity table). Not part of the API
// (partition.h).
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "partition.h"

namespace sitempi::partition::detail {

// Scratch arrays that every use writes before it reads: left uninitialised (zeroing arrays of n
// entries on every level was a fifth of the instructions on a 100 000-vertex grid).
template <class T>
using Buf = std::unique_ptr<T[]>;
template <class T>
Buf<T> buf(int32_t n) {
  return Buf<T>(new T[size_t(std::max<int32_t>(n, 1))]);
}

// A small seeded generator (mulberry32, as the TypeScript side used): the only source of
// randomness, so that a seed gives the same placement on every run and every machine.
class Rng {
 public:
  explicit Rng(uint32_t seed) : s_(seed) {}
  uint32_t next() {
    uint32_t t = (s_ += 0x6d2b79f5u);
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return t ^ (t >> 14);
  }
  uint32_t below(uint32_t n) { return next() % n; }
  // A partial shuffle, as METIS permutes its visiting orders: len / 8 random swaps of 4 entries,
  // so that most entries stay near where they were. Random enough to vary the matchings and
  // sweeps, and the memory is then read mostly in order (a full shuffle misses the cache on
  // nearly every vertex of a large graph).
  void scramble(int32_t* a, int32_t len) {
    if (len < 8) return shuffle(a, len);
    for (int32_t i = 0; i < len / 8; i++) {
      const int32_t v = int32_t(below(uint32_t(len - 3))), u = int32_t(below(uint32_t(len - 3)));
      std::swap(a[v], a[u + 2]);
      std::swap(a[v + 1], a[u + 3]);
      std::swap(a[v + 2], a[u]);
      std::swap(a[v + 3], a[u + 1]);
    }
  }
  void shuffle(int32_t* a, int32_t len) {
    for (int32_t i = len - 1; i > 0; i--) {
      const int32_t j = int32_t(next() % uint32_t(i + 1));
      const int32_t t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

 private:
  uint32_t s_;
};

// A graph whose vertex weights are always present (GraphView with vwgt set).
using G = GraphView;

inline int32_t degree(const G& g, int32_t v) { return g.xadj[v + 1] - g.xadj[v]; }

// The connectivity of vertices to each of the k parts, read by the refinements. With the table
// (kept move by move, as METIS keeps its per-vertex part degrees) the best move of a vertex costs
// O(its parts); without, it is recomputed from the adjacency (the balancing step, which moves few).
// The table holds, per vertex, its total edge weight and the weight and number of its neighbours in
// its own part; only vertices with a neighbour elsewhere get a row of (part, weight, count) for the
// other parts (METIS's ckrinfo pools), created when a neighbour's move first makes them boundary.
// interior (optional, with the table): vertices known to have every neighbour in their own part
// (their coarse vertex had, and nothing moved since the projection), whose adjacency is then only
// summed, not looked up.
class Conn {
 public:
  Conn(const G& g, const int32_t* part, int k, bool table, const uint8_t* interior = nullptr);
  // Fills w[p] for every part p that v has a neighbour in (listed in parts[0 .. count), ascending).
  void of(const int32_t* part, int32_t v);
  // v went from part `from` to part `to` (part[] of the others as they are now).
  void moved(int32_t v, int from, int to);
  // v's internal and external degree: the weight of its edges inside and outside its own part.
  void degrees(const int32_t* part, int32_t v, double& in, double& out) const;
  // Whether v has a neighbour in a part other than its own.
  bool boundary(const int32_t* part, int32_t v) const;
  // The part other than own, with room for weight vw, that v is most connected to; -1 if none.
  int best_target(int own, double vw, const double* loads, const double* limit) const;
  // With the table: v's best move read straight from its row (no of() first), the same choice as
  // of() then best_target(); gain = weight into it minus weight into v's own part. -1 if none.
  int best_move(int32_t v, double vw, const double* loads, const double* limit, double& gain) const;
  // The vertices with a neighbour in another part, in no particular order (with the table only).
  const std::vector<int32_t>& boundary_list() const { return bnd_; }
  // Weight of v's edges into p (after of(v)).
  double to(int p) const { return seen_[size_t(p)] == stamp_ ? w[size_t(p)] : 0; }

  std::vector<double> w;
  std::vector<int32_t> parts;
  int count = 0;

 private:
  struct Entry {
    int32_t part, n;
    double w;
  };
  void add(int32_t u, int p, double a, int32_t dn);
  void sum_weights(int32_t v) const;
  void shift(int32_t u, int from, int to, double a);
  int32_t new_row(int32_t v);
  void mark(int32_t v);
  const G& g_;
  const int32_t* part_;
  int k_;
  bool table_;
  std::vector<int32_t> seen_, cnt_;
  int32_t stamp_ = 0;
  // Per vertex, together so that one vertex's bookkeeping is one cache line, not six.
  struct Info {
    double wsum, inw;  // total edge weight, weight into its own part
    int32_t inn;       // neighbours in its own part
    int32_t row;       // start of its row in pool_ (-1: none yet; kUnsummed: wsum, inw not yet summed)
    int32_t rlen;      // entries in its row
    int32_t bpos;      // where it sits in bnd_ (-1: interior)
  };
  static constexpr int32_t kUnsummed = -2;
  // Written by const reads too (sum_weights(): the interior vertices' weights, summed when first read).
  Buf<Info> info_;
  std::vector<int32_t> bnd_;
  Buf<Entry> pool_;
  int32_t pool_len_ = 0, pool_cap_ = 0;
};

// In the header, so that the refinements' loops inline it (it is read once per evaluated vertex).
inline int Conn::best_move(int32_t v, double vw, const double* loads, const double* limit, double& gain) const {
  const Info& in = info_[size_t(v)];
  if (in.rlen == 0) return -1;
  const Entry* r = &pool_[size_t(in.row)];
  int best = -1;
  double best_w = -1;
  // The row is in no order: equal weights and loads go to the lower part, as an ascending scan.
  for (int32_t i = 0; i < in.rlen; i++) {
    const int p = r[i].part;
    if (loads[p] + vw > limit[p]) continue;
    const double x = r[i].w;
    if (x > best_w || (x == best_w && (loads[p] * limit[best] < loads[best] * limit[p] ||
                                       (loads[p] * limit[best] == loads[best] * limit[p] && p < best)))) {
      best = p;
      best_w = x;
    }
  }
  if (best >= 0) gain = best_w - (in.inn > 0 ? in.inw : 0);
  return best;
}

// Per-vertex marks the refinements share over every level of one partition() call, sized for its
// finest graph and never cleared: each use takes stamps no use took before (so one array serves
// the sweeps' queue, FM's locks and the cut's flags, which never overlap in time), and the heap
// leaves its positions at -1. Zeroing arrays of n entries on every level and call was 4 to 7 % of
// the instructions on graphs of 10 000 vertices, as valgrind counts them.
struct Marks {
  explicit Marks(int32_t n) : stamps(size_t(std::max<int32_t>(n, 1)), 0), heap_pos(stamps.size(), -1), finest(n) {}
  // Stamps stamp .. stamp + count - 1, none taken before.
  int32_t take(int32_t count) {
    const int32_t s = stamp;
    stamp += count;
    return s;
  }
  std::vector<int32_t> stamps, heap_pos;
  int32_t stamp = 1;
  const int32_t finest;  // vertices of the finest graph
};

// Recursive bisection of g onto parts 0 .. k-1 by greedy growing and FM (partition_bisect.cpp):
// share[p] sets the weight part p should get (in proportion), limit[p] the most it may get.
void grow_bisect(const G& g, int32_t* part, const double* share, const double* limit, int k, int tries, Rng& rng);

// Greedy boundary refinement (refine), k-way FM (fm_refine) and the balancing step (rebalance) of
// partition_refine.cpp; see there. refine and fm_refine need conn with the table (its boundary list).
// least (optional): the weight each part keeps at least (moves out of a part stop there).
void refine(const G& g, int32_t* part, double* loads, const double* limit, int k, int passes, Rng& rng, Conn& conn,
            Marks& marks, const double* least = nullptr);
void fm_refine(const G& g, int32_t* part, double* loads, const double* limit, int k, int rounds, int32_t max_useless,
               double work_per_round, Conn& conn, Marks& marks, const double* least = nullptr);
bool rebalance(const G& g, int32_t* part, double* loads, const double* limit, int k);

}  // namespace sitempi::partition::detail
