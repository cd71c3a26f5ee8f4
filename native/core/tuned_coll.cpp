// The collectives other than Allreduce as Open MPI's coll/tuned runs them (v4.1.x): the fixed
// rules pick the algorithm (build/generated/tuned_table.h, from native/shim/gen/tuned_rules.mjs)
// and the flows follow ompi/mca/coll/base (trees from coll_base_topo.c). The rules run with
// segsize 0 and faninout 0: one message per tree edge, and a chain is a single chain.
// Approximations (docs/replay.md): split-binary bcast as the binary tree, scatter_allgather bcasts
// and rabenseifner reduce as binomial, in-order trees as their plain ones, the barrier's tree as
// bruck, the linear allgather with the flat model's gather + bcast.
#include <cstddef>

#include "tuned.h"
#include "tuned_flows.h"
#include "tuned_table.h"

namespace sitempi::core {
namespace {

using tuned_flows::add;
using tuned_flows::pof2_floor;

namespace tt = tuned_table;

// A tree over root-relative ranks v (real rank (v + root) % P).
struct Tree {
  int parent = -1;
  std::vector<int> children;
};

// ompi_coll_base_topo_build_chain with one chain: v - 1 -> v -> v + 1.
Tree chain_tree(int P, int v) {
  Tree t;
  t.parent = v - 1;
  if (v + 1 < P) t.children.push_back(v + 1);
  return t;
}

Tree linear_tree(int P, int v) {
  Tree t;
  t.parent = v ? 0 : -1;
  if (!v)
    for (int c = 1; c < P; ++c) t.children.push_back(c);
  return t;
}

// ompi_coll_base_topo_build_tree: levels filled breadth first, children v + delta * (i + 1).
Tree fanout_tree(int P, int v, int fanout) {
  Tree t;
  int level = 0, num = 0, pow = 1;
  for (; num + pow <= v; ++level, pow *= fanout) num += pow;
  const int delta = pow;  // fanout^level
  for (int i = 0; i < fanout; ++i) {
    const long c = long(v) + long(delta) * (i + 1);
    if (c >= P) break;
    t.children.push_back(int(c));
  }
  if (v == 0) return t;
  const int slimit = num;  // nodes on the levels above mine
  int sp = v;
  if (sp < fanout) {
    sp = 0;
  } else {
    while (sp >= slimit) sp -= delta / fanout;
  }
  t.parent = sp;
  return t;
}

// ompi_coll_base_topo_build_bmtree: parent clears v's highest bit, children v + 2^k above it.
Tree binomial_tree(int P, int v) {
  Tree t;
  int mask = 1;
  while (mask <= v) mask <<= 1;
  if (v) t.parent = v ^ (mask >> 1);
  for (; v + mask < P; mask <<= 1) t.children.push_back(v + mask);  // stops at the first past P
  return t;
}

// ompi_coll_base_topo_build_in_order_bmtree (binomial reduce, gather, scatter): parent clears v's
// lowest bit, children v + 2^k below it.
Tree in_order_binomial_tree(int P, int v) {
  Tree t;
  for (int mask = 1; mask < P; mask <<= 1) {
    const int remote = v ^ mask;
    if (remote < v) {
      t.parent = remote;
      break;
    }
    if (remote < P) t.children.push_back(remote);
  }
  return t;
}

// ompi_coll_base_topo_build_kmtree (radix coll_tuned_bcast_knomial_radix, 4).
Tree knomial_tree(int P, int v, int radix) {
  Tree t;
  int mask = 1;
  while (mask < P) {
    if (v % (radix * mask)) {
      t.parent = v / (radix * mask) * (radix * mask);
      break;
    }
    mask *= radix;
  }
  for (mask /= radix; mask > 0; mask /= radix)
    for (int r = 1; r < radix; ++r)
      if (long(v) + long(mask) * r < P) t.children.push_back(v + mask * r);
  return t;
}

constexpr int kKnomialRadix = 4;

Tree tree_of(char kind, int P, int v) {
  switch (kind) {
    case 'l':
      return linear_tree(P, v);
    case 'c':
      return chain_tree(P, v);
    case '2':
      return fanout_tree(P, v, 2);
    case 'k':
      return knomial_tree(P, v, kKnomialRadix);
    case 'o':
      return in_order_binomial_tree(P, v);
    default:
      return binomial_tree(P, v);
  }
}

char bcast_tree(int alg) {
  switch (alg) {
    case tt::bcast::kBasicLinear:
      return 'l';
    case tt::bcast::kChain:
    case tt::bcast::kPipeline:
      return 'c';
    case tt::bcast::kSplitBinaryTree:
    case tt::bcast::kBinaryTree:
      return '2';
    case tt::bcast::kKnomial:
      return 'k';
    default:
      return 'b';
  }
}

char reduce_tree(int alg) {
  switch (alg) {
    case tt::reduce::kLinear:
      return 'l';
    case tt::reduce::kChain:
    case tt::reduce::kPipeline:
      return 'c';
    case tt::reduce::kBinary:
    case tt::reduce::kInOrderBinary:
      return '2';
    default:
      return 'o';
  }
}

int real(int v, int root, int P) { return (v + root) % P; }

// Ranks in the subtree of v (v included).
uint64_t subtree(char kind, int P, int v) {
  uint64_t n = 1;
  for (int c : tree_of(kind, P, v).children) n += subtree(kind, P, c);
  return n;
}

// Down the tree: this rank sends `per_block` x (the child's subtree, or 1) to each child.
void down(const CollRecord& r, char kind, uint64_t m, bool subtrees, std::vector<Flow>& out) {
  const int P = r.size, v = (r.me - r.root + P) % P;
  for (int c : tree_of(kind, P, v).children)
    add(out, r.me, real(c, r.root, P), subtrees ? m * subtree(kind, P, c) : m, 1);
}

// Up the tree: this rank sends m (or m x its subtree) to its parent.
void up(const CollRecord& r, char kind, uint64_t m, bool subtrees, std::vector<Flow>& out) {
  const int P = r.size, v = (r.me - r.root + P) % P;
  const Tree t = tree_of(kind, P, v);
  if (t.parent >= 0) add(out, r.me, real(t.parent, r.root, P), subtrees ? m * subtree(kind, P, v) : m, 1);
}

void allgather(const CollRecord& r, std::vector<Flow>& out) {
  const int P = r.size, me = r.me;
  const uint64_t m = r.bytes;
  int alg = tt::allgather::rule(P, m);
  if (alg == tt::allgather::kRecursiveDoubling && pof2_floor(P) != P) alg = tt::allgather::kBruck;
  if (alg == tt::allgather::kNeighbor && P % 2) alg = tt::allgather::kRing;
  switch (alg) {
    case tt::allgather::kTwoProc:
      add(out, me, 1 - me, m, 1);
      return;
    case tt::allgather::kRecursiveDoubling:
      for (int d = 1; d < P; d <<= 1) add(out, me, me ^ d, m * uint64_t(d), 1);
      return;
    case tt::allgather::kRing:
      add(out, me, (me + 1) % P, m * uint64_t(P - 1), uint32_t(P - 1));
      return;
    case tt::allgather::kNeighbor: {
      // coll_base_allgather.c: one block to neighbour[0], then two blocks alternately to each
      const bool even = me % 2 == 0;
      const int n0 = even ? (me + 1) % P : me - 1, n1 = even ? (me - 1 + P) % P : (me + 1) % P;
      uint32_t k0 = 0, k1 = 0;
      for (int i = 1; i < P / 2; ++i) (i % 2 ? k1 : k0)++;
      add(out, me, n0, m + 2 * m * k0, 1 + k0);
      if (k1) add(out, me, n1, 2 * m * k1, k1);
      return;
    }
    default:  // bruck: at distance d, min(d, P - d) blocks to me - d
      for (int d = 1; d < P; d <<= 1) add(out, me, (me - d + P) % P, m * uint64_t(d < P - d ? d : P - d), 1);
      return;
  }
}

void alltoall(const CollRecord& r, std::vector<Flow>& out) {
  const int P = r.size, me = r.me;
  const uint64_t m = r.bytes;
  switch (tt::alltoall::rule(P, m)) {
    case tt::alltoall::kModifiedBruck:
      for (int d = 1; d < P; d <<= 1) {
        // the blocks whose index has bit d: d of every 2d, and what of the last 2d passes d
        const uint64_t full = uint64_t(P) / (2 * uint64_t(d)) * uint64_t(d), rest = uint64_t(P) % (2 * uint64_t(d));
        add(out, me, (me + d) % P, m * (full + (rest > uint64_t(d) ? rest - uint64_t(d) : 0)), 1);
      }
      return;
    case tt::alltoall::kTwoProc:
      add(out, me, 1 - me, m, 1);
      return;
    default:  // linear, pairwise, linear_sync: one block to every other rank
      for (int j = 0; j < P; ++j) add(out, me, j, m, 1);
      return;
  }
}

void barrier(const CollRecord& r, std::vector<Flow>& out) {
  const int P = r.size, me = r.me;
  switch (tt::barrier::rule(P, 0)) {
    case tt::barrier::kLinear:
      if (me) {
        add(out, me, 0, 0, 1);
        add(out, 0, me, 0, 1);
      }
      return;
    case tt::barrier::kDoubleRing:
      add(out, me, (me + 1) % P, 0, 2);
      return;
    case tt::barrier::kRecursiveDoubling:
    case tt::barrier::kTwoProc: {
      const int adj = pof2_floor(P);
      if (me >= adj) {
        add(out, me, me - adj, 0, 1);
        return;
      }
      for (int d = 1; d < adj; d <<= 1) add(out, me, me ^ d, 0, 1);
      if (me + adj < P) add(out, me, me + adj, 0, 1);
      return;
    }
    default:  // bruck (and the tree): log2 P rounds to me + d
      for (int d = 1; d < P; d <<= 1) add(out, me, (me + d) % P, 0, 1);
      return;
  }
}

}  // namespace

bool expand_tuned_coll(const CollRecord& r, std::vector<Flow>& out) {
  const int P = r.size;
  const uint64_t m = r.bytes;
  switch (r.coll) {
    case Coll::Barrier:
      barrier(r, out);
      return true;
    case Coll::Bcast:
      down(r, bcast_tree(tt::bcast::rule(P, m)), m, false, out);
      return true;
    case Coll::Reduce:
      up(r, reduce_tree(tt::reduce::rule(P, m)), m, false, out);
      return true;
    case Coll::Gather: {
      const int alg = tt::gather::rule(P, m);
      if (alg == tt::gather::kLinearSync && r.me == r.root)
        for (int j = 0; j < P; ++j) add(out, r.root, j, 0, 1);  // the root's go-ahead to each
      up(r, alg == tt::gather::kBinomial ? 'o' : 'l', m, true, out);
      return true;
    }
    case Coll::Scatter:
      down(r, tt::scatter::rule(P, m) == tt::scatter::kBinomial ? 'o' : 'l', m, true, out);
      return true;
    case Coll::Allgather:
      if (tt::allgather::rule(P, m) == tt::allgather::kLinear) return false;  // gather + bcast: flat
      allgather(r, out);
      return true;
    case Coll::Alltoall:
      alltoall(r, out);
      return true;
    default:
      return expand_tuned_vector(r, out);
  }
}

}  // namespace sitempi::core
