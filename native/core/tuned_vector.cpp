// Allgatherv, Reduce_scatter_block and Reduce_scatter as Open MPI's coll/tuned runs them (v4.1.x):
// the fixed rules pick the algorithm (build/generated/tuned_table.h) and the flows follow
// ompi/mca/coll/base/coll_base_{allgatherv,reduce_scatter_block,reduce_scatter}.c. A
// Reduce_scatter record holds the whole vector only: its blocks are taken as equal (total exact).
//
// An Allgatherv record holds only its rank's block: the rules' mean block (total / P) is taken as
// that block (exact when the blocks are equal), and the record accounts for the path of its own
// block through the algorithm (bytes exact for any blocks); a message that carries several blocks
// is counted in the record of one of them (the first it carries). Gatherv, Scatterv, Scan and
// Exscan have no tuned rules in 4.1: coll/basic runs them (Scan and Exscan: cost_model.cpp's chain).
#include <cstddef>

#include "tuned.h"
#include "tuned_flows.h"
#include "tuned_table.h"

namespace sitempi::core {
namespace {

using tuned_flows::add;
using tuned_flows::pof2_floor;

namespace tt = tuned_table;

int log2_of(int pof2) {
  int k = 0;
  while ((1 << k) < pof2) ++k;
  return k;
}

// ompi_mirror_perm: the low nbits bits of x reversed.
int mirror(int x, int nbits) {
  int y = 0;
  for (int i = 0; i < nbits; ++i)
    if (x & (1 << i)) y |= 1 << (nbits - 1 - i);
  return y;
}

// The blocks of a reduce-scatter, rank i's block base (+1 for i < extra): Reduce_scatter_block's
// are all equal; a Reduce_scatter record holds only the whole vector, taken as P equal parts.
// After the fold-in, core rank k holds the blocks of real ranks first(k) .. last(k).
struct Blocks {
  int P, rem;
  uint64_t base, extra;
  uint64_t of(int i) const { return base + (uint64_t(i) < extra ? 1 : 0); }
  // ranks a .. b, a <= b
  uint64_t real(int a, int b) const {
    const uint64_t n = uint64_t(b - a + 1);
    const uint64_t lo = uint64_t(a) < extra ? uint64_t(a) : extra,
                   hi = uint64_t(b) + 1 < extra ? uint64_t(b) + 1 : extra;
    return base * n + (hi - lo);
  }
  int first(int k) const { return k < rem ? 2 * k : k + rem; }
  int last(int k) const { return k < rem ? 2 * k + 1 : k + rem; }
  // core blocks lo .. hi (ompi_range_sum, ompi_sum_counts)
  uint64_t core(int lo, int hi) const { return lo > hi ? 0 : real(first(lo), last(hi)); }
  uint64_t all() const { return real(0, P - 1); }
};

Blocks blocks_of(int P, uint64_t base, uint64_t extra) { return Blocks{P, P - pof2_floor(P), base, extra}; }

// Ranks beyond the largest power of two: even ranks below 2 * rem hand the whole vector to the
// odd rank above and sit out. Returns the rank's place in the power-of-two core, -1 if it sits out.
int fold_in(int me, int rem, uint64_t all, std::vector<Flow>& out) {
  if (me < 2 * rem) {
    if (me % 2 == 0) {
      add(out, me, me + 1, all, 1);
      return -1;
    }
    return me / 2;
  }
  return me - rem;
}
int core_rank(int v, int rem) { return v < rem ? v * 2 + 1 : v + rem; }

// ompi_coll_base_reduce_scatter_block_intra_recursivedoubling: at distance mask, every block
// outside both subtrees of 2^k ranks; subtrees cut short by P pass their result on by halving.
void rsb_recursive_doubling(int me, int P, uint64_t m, std::vector<Flow>& out) {
  auto outside = [&](int root, int mask) {
    return m * uint64_t(root) + (P >= root + mask ? m * uint64_t(P - root - mask) : 0);
  };
  for (int mask = 1; mask < P; mask <<= 1) {
    const int remote = me ^ mask, cur = me / mask * mask, rroot = remote / mask * mask;
    if (remote < P) add(out, me, remote, outside(cur, mask), 1);
    if (rroot + mask > P) {
      const int alldata = P - cur - mask;
      for (int h = mask >> 1; h > 0; h >>= 1) {
        const int peer = me ^ h, troot = me / (h << 1) * (h << 1);
        if (peer > me && me < troot + alldata && peer >= troot + alldata) add(out, me, peer, outside(rroot, mask), 1);
      }
    }
  }
}

// Recursive halving (ompi_coll_base_reduce_scatter_block_intra_recursivehalving and
// ompi_coll_base_reduce_scatter_intra_basic_recursivehalving send alike): the farthest core
// partner first, the lower rank keeping the lower half of the window; empty halves not sent.
void recursive_halving(int me, const Blocks& b, std::vector<Flow>& out) {
  const int pof2 = b.P - b.rem, rem = b.rem;
  const int v = fold_in(me, rem, b.all(), out);
  if (v >= 0) {
    int si = 0, ri = 0, last = pof2;
    for (int mask = pof2 >> 1; mask > 0; mask >>= 1) {
      const int peer = core_rank(v ^ mask, rem);
      uint64_t send;
      if (v < (v ^ mask)) {
        si = ri + mask;
        send = b.core(si, last - 1);
      } else {
        ri = si + mask;
        send = b.core(si, ri - 1);
      }
      if (send) add(out, me, peer, send, 1);
      si = ri;
      last = ri + mask;
    }
  }
  if (me < 2 * rem && me % 2 && b.of(me - 1)) add(out, me, me - 1, b.of(me - 1), 1);  // the folded rank's block
}

// Butterfly (..._reduce_scatter_block_intra_butterfly, ..._reduce_scatter_intra_butterfly): the
// nearest core partner first, keeping the lower half when the bit is clear; then each core rank
// holds the result of core block mirror(v) and sends it to its owners. Reduce_scatter_block on a
// power of two permutes the blocks first instead (`permuted`): no final exchange.
void butterfly(int me, const Blocks& b, bool permuted, std::vector<Flow>& out) {
  const int pof2 = b.P - b.rem, rem = b.rem, bits = log2_of(pof2);
  const int v = fold_in(me, rem, b.all(), out);
  if (v < 0) return;  // receives its block at the end
  int nblocks = pof2, si = 0, ri = 0;
  for (int mask = 1; mask < pof2; mask <<= 1) {
    nblocks /= 2;
    if ((v & mask) == 0)
      si += nblocks;
    else
      ri += nblocks;
    add(out, me, core_rank(v ^ mask, rem), b.core(si, si + nblocks - 1), 1);
    si = ri;
  }
  if (permuted) return;
  const int vpeer = mirror(v, bits), peer = core_rank(vpeer, rem);
  if (vpeer < rem) add(out, me, peer - 1, b.of(peer - 1), 1);
  if (vpeer != v) add(out, me, peer, b.of(peer), 1);
}

// The library's Reduce of `all` bytes to rank 0, then a scatter of the blocks from it (Scatter
// by its rules for Reduce_scatter_block; coll/basic's linear Scatterv for Reduce_scatter).
void reduce_then_scatter(const CollRecord& r, const Blocks& b, bool scatterv, std::vector<Flow>& out) {
  CollRecord part = r;
  part.coll = Coll::Reduce;
  part.root = 0;
  part.bytes = b.all();
  expand_tuned_coll(part, out);
  if (scatterv) {
    if (r.me == 0)
      for (int j = 1; j < r.size; ++j)
        if (b.of(j)) add(out, 0, j, b.of(j), 1);
    return;
  }
  part.coll = Coll::Scatter;
  part.bytes = b.base;
  expand_tuned_coll(part, out);
}

void reduce_scatter_block(const CollRecord& r, std::vector<Flow>& out) {
  const int P = r.size, me = r.me;
  const uint64_t m = r.bytes;
  if (m == 0) return;  // every algorithm returns at once on rcount 0
  const Blocks b = blocks_of(P, m, 0);
  switch (tt::reduceScatterBlock::rule(P, m)) {
    case tt::reduceScatterBlock::kRecursiveDoubling:
      rsb_recursive_doubling(me, P, m, out);
      return;
    case tt::reduceScatterBlock::kRecursiveHalving:
      recursive_halving(me, b, out);
      return;
    case tt::reduceScatterBlock::kButterfly:
      butterfly(me, b, b.rem == 0, out);
      return;
    default:  // basic_linear
      reduce_then_scatter(r, b, false, out);
      return;
  }
}

// ompi_coll_base_reduce_scatter_intra_ring: P - 1 steps to rank + 1, each with one block, every
// block but this rank's own.
void reduce_scatter(const CollRecord& r, std::vector<Flow>& out) {
  const int P = r.size, me = r.me;
  const uint64_t all = r.bytes;
  if (all == 0) return;
  const Blocks b = blocks_of(P, all / uint64_t(P), all % uint64_t(P));
  switch (tt::reduceScatter::rule(P, all)) {
    case tt::reduceScatter::kRecursiveHalving:
      recursive_halving(me, b, out);
      return;
    case tt::reduceScatter::kRing:
      add(out, me, (me + 1) % P, all - b.of(me), uint32_t(P - 1));
      return;
    case tt::reduceScatter::kButterfly:
      butterfly(me, b, false, out);
      return;
    default:  // non-overlapping
      reduce_then_scatter(r, b, true, out);
      return;
  }
}

// The path of rank j's block (m bytes) through the allgatherv algorithms.
void allgatherv(const CollRecord& r, std::vector<Flow>& out) {
  const int P = r.size, j = r.me;
  const uint64_t m = r.bytes;
  int alg = tt::allgatherv::rule(P, m);
  if (alg == tt::allgatherv::kNeighbor && P % 2) alg = tt::allgatherv::kRing;
  if (alg == tt::allgatherv::kTwoProc && P != 2) alg = tt::allgatherv::kRing;
  switch (alg) {
    case tt::allgatherv::kDefault: {
      // coll/basic's Gatherv to 0 (no message for an empty block), then the library's Bcast of
      // the whole vector from 0, by the rules for P blocks; its messages counted in rank 0's record
      if (m) add(out, j, 0, m, 1);
      CollRecord b = r;
      b.coll = Coll::Bcast;
      b.root = 0;
      b.bytes = m * uint64_t(P);
      std::vector<Flow> edges;
      for (b.me = 0; b.me < P; ++b.me) expand_tuned_coll(b, edges);
      for (const Flow& f : edges) add(out, f.src, f.dst, m, j == 0 ? f.msgs : 0);
      return;
    }
    case tt::allgatherv::kBruck:
      // at distance d rank s sends blocks s .. s + cnt - 1 to s - d: block j from ranks j - i
      for (int d = 1; d < P; d <<= 1) {
        const int cnt = d <= P / 2 ? d : P - d;
        for (int i = 0; i < cnt; ++i) {
          const int s = ((j - i) % P + P) % P;
          add(out, s, (s - d + P) % P, m, i == 0 ? 1 : 0);
        }
      }
      return;
    case tt::allgatherv::kNeighbor: {
      // step 0: each rank swaps its block with neighbour[0] (even: +1, odd: -1); then the pair
      // (2p, 2p + 1) spreads one rank further each step, left from 2p and right from 2p + 1, in
      // messages of two blocks (counted in block 2p's record)
      const int p2 = j - j % 2;
      add(out, j, j % 2 ? j - 1 : j + 1, m, 1);
      const uint32_t msg = j % 2 ? 0 : 1;
      for (int i = 1; i < P / 2; ++i) {
        add(out, ((p2 - i + 1) % P + P) % P, ((p2 - i) % P + P) % P, m, msg);
        add(out, (p2 + i) % P, (p2 + 1 + i) % P, m, msg);
      }
      return;
    }
    default:  // ring (and two_proc, the ring on two ranks): block j goes round, one hop a step
      for (int k = 0; k < P - 1; ++k) add(out, (j + k) % P, (j + k + 1) % P, m, 1);
      return;
  }
}

}  // namespace

bool expand_tuned_vector(const CollRecord& r, std::vector<Flow>& out) {
  switch (r.coll) {
    case Coll::Allgatherv:
      allgatherv(r, out);
      return true;
    case Coll::ReduceScatterBlock:
      reduce_scatter_block(r, out);
      return true;
    case Coll::ReduceScatter:
      reduce_scatter(r, out);
      return true;
    case Coll::Gatherv:  // coll/basic's linear algorithms, which send nothing for an empty block
      if (r.me != r.root && r.bytes) add(out, r.me, r.root, r.bytes, 1);
      return true;
    case Coll::Scatterv:  // (the record: the block this rank receives)
      if (r.me != r.root && r.bytes) add(out, r.root, r.me, r.bytes, 1);
      return true;
    default:
      return false;
  }
}

}  // namespace sitempi::core
