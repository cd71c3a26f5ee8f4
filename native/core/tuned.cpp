#include "tuned.h"
#include "tuned_flows.h"

#include <cstddef>

namespace sitempi::core {
namespace {

using tuned_flows::add;
using tuned_flows::pof2_floor;

// coll_base_allreduce.c, ompi_coll_base_allreduce_intra_recursivedoubling. The extra ranks beyond
// the largest power of two: even ranks < 2*extra hand their vector to the odd rank above and get
// the result back from it.
void allreduce_recursive_doubling(int me, int P, uint64_t m, std::vector<Flow>& out) {
  const int adj = pof2_floor(P), extra = P - adj;
  int newrank;
  if (me < 2 * extra) {
    if (me % 2 == 0) {
      add(out, me, me + 1, m, 1);
      return;  // then only receives the result
    }
    newrank = me >> 1;
  } else {
    newrank = me - extra;
  }
  for (int d = 1; d < adj; d <<= 1) {
    const int nr = newrank ^ d;
    const int remote = nr < extra ? nr * 2 + 1 : nr + extra;
    add(out, me, remote, m, 1);
  }
  if (me < 2 * extra) add(out, me, me - 1, m, 1);  // odd: the result back to its even neighbour
}

// ompi_coll_base_allreduce_intra_ring: blocks of count/P elements (the first count%P one more); a
// reduce-scatter then an allgather around the ring, each rank sending to rank+1. In the first it
// sends every block but block rank+1, in the second every block but block rank+2.
void allreduce_ring(int me, int P, uint64_t elems, uint64_t esize, std::vector<Flow>& out) {
  const uint64_t late = elems / uint64_t(P), split = elems % uint64_t(P);
  auto block = [&](int b) { return (uint64_t(b) < split ? late + 1 : late) * esize; };
  const uint64_t all = elems * esize;
  const uint64_t bytes = 2 * all - block((me + 1) % P) - block((me + 2) % P);
  add(out, me, (me + 1) % P, bytes, uint32_t(2 * (P - 1)));
}

}  // namespace

// ompi_coll_base_allreduce_intra_redscat_allgather (Rabenseifner): ranks beyond the largest power
// of two fold in pairwise (halves exchanged, the odd rank's half sent back to the even one), then
// recursive halving and recursive doubling among the power of two, and the result to the odd
// ranks that folded in.
void allreduce_rabenseifner(int me, int P, uint64_t elems, uint64_t esize, std::vector<Flow>& out) {
  const int pof2 = pof2_floor(P), rem = P - pof2;
  const uint64_t lhalf = elems / 2, rhalf = elems - lhalf;
  int vrank;
  if (me < 2 * rem) {
    if (me % 2 != 0) {
      add(out, me, me - 1, (lhalf + rhalf) * esize, 2);  // its left half, then its reduced right half
      return;                                            // receives the result at the end
    }
    add(out, me, me + 1, rhalf * esize, 1);
    vrank = me / 2;
  } else {
    vrank = me - rem;
  }
  auto rank_of = [&](int v) { return v < rem ? v * 2 : v + rem; };
  // recursive halving: the window halves each step; the lower rank keeps the lower half
  std::vector<uint64_t> scount;
  uint64_t wsize = elems;
  for (int mask = 1; mask < pof2; mask <<= 1) {
    const int dest = rank_of(vrank ^ mask);
    uint64_t s, r;
    if (me < dest) {
      r = wsize / 2;
      s = wsize - r;
    } else {
      s = wsize / 2;
      r = wsize - s;
    }
    add(out, me, dest, s * esize, 1);
    scount.push_back(r);  // what it keeps (and sends back in the allgather)
    wsize = r;
  }
  // recursive doubling: back in reverse order, each step sending what it holds
  int step = int(scount.size()) - 1;
  for (int mask = pof2 >> 1; mask > 0; mask >>= 1, --step)
    add(out, me, rank_of(vrank ^ mask), scount[std::size_t(step)] * esize, 1);
  if (me < 2 * rem) add(out, me, me + 1, elems * esize, 1);
}

int tuned_allreduce_rule(int P, uint64_t b) { return tuned_table::allreduce::rule(P, b); }

int tuned_allreduce_alg(int P, uint64_t bytes, uint64_t elems) {
  int alg = tuned_allreduce_rule(P, bytes);
  if (alg == kArSegmentedRing) alg = kArRing;
  if (alg == kArRing && elems < uint64_t(P)) alg = kArRecursiveDoubling;
  if (alg == kArRabenseifner && elems < uint64_t(pof2_floor(P))) alg = kArLinear;
  return alg;
}

uint64_t guess_elems(uint64_t bytes) {
  if (bytes % 8 == 0) return bytes / 8;
  if (bytes % 4 == 0) return bytes / 4;
  return bytes;
}

bool expand_tuned(const CollRecord& r, std::vector<Flow>& out) {
  if (r.coll != Coll::Allreduce) return expand_tuned_coll(r, out);
  const int P = r.size, me = r.me;
  const uint64_t m = r.bytes;
  const uint64_t elems = r.elems ? r.elems : guess_elems(m);
  const uint64_t esize = elems ? m / elems : 1;
  switch (tuned_allreduce_alg(P, m, elems)) {
    case kArRecursiveDoubling:
      allreduce_recursive_doubling(me, P, m, out);
      return true;
    case kArRing:
      allreduce_ring(me, P, elems, esize, out);
      return true;
    case kArRabenseifner:
      allreduce_rabenseifner(me, P, elems, esize, out);
      return true;
    default:  // linear, and non-overlapping (reduce + bcast): the flat model
      return false;
  }
}

}  // namespace sitempi::core
