// The refinements' connectivity table (class Conn, partition_internal.h): per vertex its total
// edge weight and its weight and neighbours in its own part, rows of the other parts only for
// boundary vertices (as METIS's ckrinfo records and nbrinfo pools), and the boundary list, all kept
// move by move.
#include <algorithm>

#include "partition_internal.h"

namespace sitempi::partition::detail {

Conn::Conn(const G& g, const int32_t* part, int k, bool table, const uint8_t* interior)
    : w(size_t(k)), parts(size_t(k)), g_(g), part_(part), k_(k), table_(table), seen_(size_t(k), 0) {
  if (!table_) return;
  const int32_t n = g.n;
  cnt_.resize(size_t(k));
  info_ = buf<Info>(n);
  // Room for rows of about a quarter of the adjacency before the pool first doubles.
  pool_cap_ = std::max<int32_t>(1024, g.xadj[n] / 4);
  pool_ = buf<Entry>(pool_cap_);
  for (int32_t v = 0; v < n; v++) {
    const int32_t b = g.xadj[v], e = g.xadj[v + 1];
    double sum = 0;
    info_[size_t(v)].row = -1;
    info_[size_t(v)].rlen = 0;
    info_[size_t(v)].bpos = -1;
    if (interior && interior[v]) {
      for (int32_t j = b; j < e; j++) sum += g.adjwgt[j];
      info_[size_t(v)].wsum = info_[size_t(v)].inw = sum;
      info_[size_t(v)].inn = e - b;
      continue;
    }
    // The other parts' weights and counts gathered in w[] and cnt_[] (seen_ marks which).
    const int own = part[v];
    const int32_t s = ++stamp_;
    double in = 0;
    int32_t nin = 0;
    int c = 0;
    for (int32_t j = b; j < e; j++) {
      const int p = part[g.adjncy[j]];
      sum += g.adjwgt[j];
      if (p == own) {
        in += g.adjwgt[j];
        nin++;
        continue;
      }
      if (seen_[size_t(p)] != s) {
        seen_[size_t(p)] = s;
        w[size_t(p)] = 0;
        cnt_[size_t(p)] = 0;
        parts[size_t(c++)] = p;
      }
      w[size_t(p)] += g.adjwgt[j];
      cnt_[size_t(p)]++;
    }
    info_[size_t(v)].wsum = sum;
    info_[size_t(v)].inw = in;
    info_[size_t(v)].inn = nin;
    mark(v);
    if (c == 0) continue;
    Entry* r = &pool_[size_t(new_row(v))];
    info_[size_t(v)].rlen = c;
    for (int i = 0; i < c; i++) {
      const int p = parts[size_t(i)];
      r[i] = Entry{p, cnt_[size_t(p)], w[size_t(p)]};
    }
  }
  stamp_++;
}

void Conn::degrees(const int32_t* part, int32_t v, double& in, double& out) const {
  if (table_) {
    in = info_[size_t(v)].inw;
    out = info_[size_t(v)].wsum - in;
    return;
  }
  in = out = 0;
  for (int32_t j = g_.xadj[v]; j < g_.xadj[v + 1]; j++) (part[g_.adjncy[j]] == part[v] ? in : out) += g_.adjwgt[j];
}

void Conn::of(const int32_t* part, int32_t v) {
  const int32_t s = ++stamp_;
  int c = 0;
  if (table_) {
    // Parts listed ascending, as a full table is read: ties between parts go to the lower one.
    auto put = [&](int p, double x) {
      seen_[size_t(p)] = s;
      w[size_t(p)] = x;
      int at = c++;
      for (; at > 0 && parts[size_t(at - 1)] > p; at--) parts[size_t(at)] = parts[size_t(at - 1)];
      parts[size_t(at)] = p;
    };
    if (info_[size_t(v)].inn > 0) put(part[v], info_[size_t(v)].inw);
    const Entry* r = info_[size_t(v)].row >= 0 ? &pool_[size_t(info_[size_t(v)].row)] : nullptr;
    for (int32_t i = 0; i < info_[size_t(v)].rlen; i++) put(r[i].part, r[i].w);
  } else {
    for (int32_t j = g_.xadj[v]; j < g_.xadj[v + 1]; j++) {
      const int32_t p = part[g_.adjncy[j]];
      if (seen_[size_t(p)] != s) {
        seen_[size_t(p)] = s;
        w[size_t(p)] = 0;
        parts[size_t(c++)] = p;
      }
      w[size_t(p)] += g_.adjwgt[j];
    }
  }
  count = c;
}

// A row of min(k - 1, degree) entries for v, room for every other part it can touch; the pool
// doubles when full.
int32_t Conn::new_row(int32_t v) {
  const int32_t need = std::min(k_ - 1, degree(g_, v));
  if (pool_len_ + need > pool_cap_) {
    const int32_t cap = std::max(pool_len_ + need, std::max(1024, 2 * pool_cap_));
    Buf<Entry> p = buf<Entry>(cap);
    std::copy(pool_.get(), pool_.get() + pool_len_, p.get());
    pool_.swap(p);
    pool_cap_ = cap;
  }
  info_[size_t(v)].row = pool_len_;
  pool_len_ += need;
  return info_[size_t(v)].row;
}

// Keeps v in the boundary list exactly while it has a neighbour outside its part.
void Conn::mark(int32_t v) {
  const bool b = info_[size_t(v)].inn < degree(g_, v);
  int32_t& at = info_[size_t(v)].bpos;
  if (b == (at >= 0)) return;
  if (b) {
    at = int32_t(bnd_.size());
    bnd_.push_back(v);
  } else {
    const int32_t last = bnd_.back();
    bnd_[size_t(at)] = last;
    info_[size_t(last)].bpos = at;
    bnd_.pop_back();
    at = -1;
  }
}

// Adds a (weight) and dn (neighbours) to u's entry for p (a part other than u's own), creating
// the entry, and u's row, when missing; an entry left without neighbours is dropped.
void Conn::add(int32_t u, int p, double a, int32_t dn) {
  int32_t r = info_[size_t(u)].row;
  if (r < 0) r = new_row(u);
  Entry* e = &pool_[size_t(r)];
  int32_t& len = info_[size_t(u)].rlen;
  for (int32_t i = 0; i < len; i++) {
    if (e[i].part != p) continue;
    e[i].w += a;
    if ((e[i].n += dn) == 0) e[i] = e[--len];
    return;
  }
  e[len++] = Entry{p, dn, a};
}

void Conn::moved(int32_t v, int from, int to) {
  if (!table_) return;
  // v's own part changes: its entry for `to` becomes its internal degree, the old one an entry.
  {
    double tw = 0;
    int32_t tn = 0;
    const int32_t r = info_[size_t(v)].row;
    if (r >= 0) {
      Entry* e = &pool_[size_t(r)];
      int32_t& len = info_[size_t(v)].rlen;
      for (int32_t i = 0; i < len; i++)
        if (e[i].part == to) {
          tw = e[i].w;
          tn = e[i].n;
          e[i] = e[--len];
          break;
        }
    }
    const double fw = info_[size_t(v)].inw;
    const int32_t fn = info_[size_t(v)].inn;
    info_[size_t(v)].inw = tw;
    info_[size_t(v)].inn = tn;
    if (fn > 0) add(v, from, fw, fn);
    mark(v);
  }
  for (int32_t j = g_.xadj[v]; j < g_.xadj[v + 1]; j++) {
    const int32_t u = g_.adjncy[j];
    const int pu = part_[u];
    const double a = g_.adjwgt[j];
    if (pu == from) {
      info_[size_t(u)].inw -= a;
      info_[size_t(u)].inn--;
    } else {
      add(u, from, -a, -1);
    }
    if (pu == to) {
      info_[size_t(u)].inw += a;
      info_[size_t(u)].inn++;
    } else {
      add(u, to, a, 1);
    }
    mark(u);
  }
}

bool Conn::boundary(const int32_t* part, int32_t v) const {
  if (table_) return info_[size_t(v)].inn < degree(g_, v);
  const int32_t own = part[v];
  for (int32_t j = g_.xadj[v]; j < g_.xadj[v + 1]; j++)
    if (part[g_.adjncy[j]] != own) return true;
  return false;
}

int Conn::best_target(int own, double vw, const double* loads, const double* limit) const {
  int best = -1;
  double best_w = -1;
  for (int i = 0; i < count; i++) {
    const int p = parts[size_t(i)];
    if (p == own || loads[p] + vw > limit[p]) continue;
    const double x = w[size_t(p)];
    if (x > best_w || (x == best_w && loads[p] * limit[best] < loads[best] * limit[p])) {
      best = p;
      best_w = x;
    }
  }
  return best;
}

int Conn::best_move(int32_t v, double vw, const double* loads, const double* limit, double& gain) const {
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

}  // namespace sitempi::partition::detail
