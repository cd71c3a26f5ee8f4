// Non-blocking collectives as Open MPI 4.1's coll/libnbc sends them (nbc.h): ompi/mca/coll/libnbc/
// nbc_i*.c and the zero-count early returns of ompi/mpi/c/i*.c (Ibcast, Iallreduce, Ireduce,
// Ireduce_scatter(_block) of nothing send nothing; Iscan's schedule returns at once on count 0).
#include "nbc.h"

#include <cstddef>

#include "tuned.h"
#include "tuned_flows.h"

namespace sitempi::core {
namespace {

using tuned_flows::add;
using tuned_flows::pof2_floor;

constexpr uint64_t kLargeBytes = kNbcLargeBytes;                    // the rules' switch (facts.mjs)
constexpr uint64_t kReduceFragmentBytes = kNbcReduceFragmentBytes;  // ireduce's chain fragment

// libnbc's trees exchange the root and rank 0 (RANK2VRANK), they do not rotate the ranks.
int swap_root(int x, int root) { return x == 0 ? root : x == root ? 0 : x; }

// Up the in-order binomial tree (the parent clears v's lowest set bit): the fan-in of Ireduce,
// Iallreduce and the reduce-scatters.
void binomial_up(int me, int root, uint64_t m, std::vector<Flow>& out) {
  const int v = swap_root(me, root);
  if (v) add(out, me, swap_root(v & (v - 1), root), m, 1);
}

// Down the binomial tree (children v + 2^k above v's highest bit): Ibcast, Iallreduce's fan-out.
void binomial_down(int me, int P, int root, uint64_t m, std::vector<Flow>& out) {
  const int v = swap_root(me, root);
  int mask = 1;
  while (mask <= v) mask <<= 1;
  for (; v + mask < P; mask <<= 1) add(out, me, swap_root(v + mask, root), m, 1);
}

// allred_sched_ring: blocks of count/P elements (the first count%P one more), 2(P-1) rounds to
// rank + 1; the first P-1 send every block but block me+2, the others every block but block me+3.
void allreduce_ring(int me, int P, uint64_t elems, uint64_t esize, std::vector<Flow>& out) {
  const uint64_t base = elems / uint64_t(P), split = elems % uint64_t(P);
  auto block = [&](int b) { return (uint64_t(b) < split ? base + 1 : base) * esize; };
  const uint64_t bytes = 2 * elems * esize - block((me + 2) % P) - block((me + 3) % P);
  add(out, me, (me + 1) % P, bytes, uint32_t(2 * (P - 1)));
}

// red_sched_redscat_gather: the fold-in and recursive halving of Rabenseifner's allreduce, then a
// binomial gather of the halves to the root within the power-of-two core (an odd root among the
// folded ranks gets core rank 0's part from real rank 0, and takes its place).
void reduce_redscat_gather(int me, int P, int root, uint64_t elems, uint64_t esize, std::vector<Flow>& out) {
  const int pof2 = pof2_floor(P), rem = P - pof2;
  int nsteps = 0;
  while ((1 << nsteps) < pof2) ++nsteps;
  auto real = [&](int v) { return v < rem ? 2 * v : v + rem; };
  int vrank;
  if (me < 2 * rem) {
    const uint64_t lhalf = elems / 2, rhalf = elems - lhalf;
    if (me % 2) {
      add(out, me, me - 1, (lhalf + rhalf) * esize, 2);  // its left half, then the reduced right half
      vrank = -1;
    } else {
      add(out, me, me + 1, rhalf * esize, 1);
      vrank = me / 2;
    }
  } else {
    vrank = me - rem;
  }
  // what the core rank keeps at each step of the halving (rcount) and sends (scount)
  std::vector<uint64_t> rcount(std::size_t(nsteps), 0), scount(std::size_t(nsteps), 0);
  if (vrank >= 0) {
    uint64_t wsize = elems;
    for (int step = 0, mask = 1; mask < pof2; mask <<= 1, ++step) {
      const int dest = real(vrank ^ mask);
      const std::size_t s = std::size_t(step);
      if (me < dest) {
        rcount[s] = wsize / 2;
        scount[s] = wsize - rcount[s];
      } else {
        scount[s] = wsize / 2;
        rcount[s] = wsize - scount[s];
      }
      add(out, me, dest, scount[s] * esize, 1);
      wsize = rcount[s];
    }
  }
  int vroot;
  const bool odd_root = root < 2 * rem && root % 2;
  if (odd_root) {
    vroot = 0;
    if (me == root) {
      vrank = 0;  // receives only
    } else if (vrank == 0) {
      add(out, me, root, rcount[std::size_t(nsteps - 1)] * esize, 1);
      vrank = -1;
    }
  } else {
    vroot = root < 2 * rem ? root / 2 : root - rem;
  }
  if (vrank < 0 || me == root) return;  // the root only receives in the gather
  for (int step = nsteps - 1, mask = pof2 >> 1; mask > 0; mask >>= 1, --step) {
    const int vdest = vrank ^ mask;
    const int dest = vdest == 0 && odd_root ? root : real(vdest);
    if (vdest >> step == vroot >> step) {
      add(out, me, dest, rcount[std::size_t(step)] * esize, 1);
      return;
    }
  }
}

// red_sched_chain: each rank (root-relative, swapped) sends to the one before it, in fragments.
void reduce_chain(int me, int root, uint64_t m, std::vector<Flow>& out) {
  const int v = swap_root(me, root);
  const uint64_t frags = (m + kReduceFragmentBytes - 1) / kReduceFragmentBytes;
  if (v) add(out, me, swap_root(v - 1, root), m, uint32_t(frags));
}

void each_other(int me, int P, uint64_t m, std::vector<Flow>& out) {
  for (int j = 0; j < P; ++j) add(out, me, j, m, 1);
}

}  // namespace

int nbc_bcast_alg(int P) { return P <= 4 ? kNbcLinear : kNbcBinomial; }

int nbc_allreduce_alg(int P, uint64_t bytes, uint64_t elems) {
  if (P < 4 || bytes < kLargeBytes) return kNbcBinomial;
  return elems >= uint64_t(pof2_floor(P)) ? kNbcRabenseifner : kNbcRing;
}

int nbc_reduce_alg(int P, uint64_t bytes, uint64_t elems) {
  if (P > 2 && elems >= uint64_t(pof2_floor(P))) return kNbcRabenseifner;
  return P > 4 || bytes < kLargeBytes ? kNbcBinomial : kNbcChain;
}

bool expand_nbc(const CollRecord& r, std::vector<Flow>& out) {
  const int P = r.size, me = r.me, root = r.root;
  const uint64_t m = r.bytes;
  const uint64_t elems = r.elems ? r.elems : guess_elems(m);
  const uint64_t esize = elems ? m / elems : 1;
  switch (r.coll) {
    case Coll::Barrier:  // dissemination: ceil(log2 P) rounds to me + 2^k
      for (int d = 1; d < P; d <<= 1) add(out, me, (me + d) % P, 0, 1);
      return true;
    case Coll::Bcast:
      if (!m) return true;
      if (nbc_bcast_alg(P) == kNbcBinomial)
        binomial_down(me, P, root, m, out);
      else if (me == root)
        each_other(me, P, m, out);
      return true;
    case Coll::Reduce:
      if (!m) return true;
      switch (nbc_reduce_alg(P, m, elems)) {
        case kNbcRabenseifner:
          reduce_redscat_gather(me, P, root, elems, esize, out);
          return true;
        case kNbcChain:
          reduce_chain(me, root, m, out);
          return true;
        default:
          binomial_up(me, root, m, out);
          return true;
      }
    case Coll::Allreduce:
      if (!m) return true;
      switch (nbc_allreduce_alg(P, m, elems)) {
        case kNbcRabenseifner:
          allreduce_rabenseifner(me, P, elems, esize, out);  // libnbc's is the same as coll/base's
          return true;
        case kNbcRing:
          allreduce_ring(me, P, elems, esize, out);
          return true;
        default:
          binomial_up(me, 0, m, out);
          binomial_down(me, P, 0, m, out);
          return true;
      }
    case Coll::Gather:
    case Coll::Gatherv:
      if (me != root) add(out, me, root, m, 1);
      return true;
    case Coll::Scatter:
    case Coll::Scatterv:  // (the record: the block this rank receives)
      if (me != root) add(out, root, me, m, 1);
      return true;
    case Coll::Allgather:
    case Coll::Allgatherv:
    case Coll::Alltoall:  // linear: this rank's block to every other
      each_other(me, P, m, out);
      return true;
    case Coll::ReduceScatterBlock:  // the binomial reduce of the P blocks to 0, then 0 sends each
      if (!m) return true;
      binomial_up(me, 0, m * uint64_t(P), out);
      if (me == 0) each_other(0, P, m, out);
      return true;
    case Coll::ReduceScatter:  // the same; the blocks from 0 are the records' own parts
      if (m) binomial_up(me, 0, m, out);
      return true;
    case Coll::Scan:
    case Coll::Exscan:  // a chain; Iexscan sends its 0-byte messages too
      if (me + 1 < P && (m || r.coll == Coll::Exscan)) add(out, me, me + 1, m, 1);
      return true;
    default:
      return false;
  }
}

}  // namespace sitempi::core
