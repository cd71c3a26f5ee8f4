#include "cost_model.h"

namespace sitempi::core {
namespace {

void add(std::vector<Flow>& out, int src, int dst, uint64_t bytes, uint32_t msgs) {
  if (src != dst) out.push_back({src, dst, bytes, msgs});
}

// Flat algorithms of Open MPI's coll/basic. Each record accounts for the traffic its rank sends,
// except scatter-like calls, whose records account for what their rank receives from the root
// (the receiver knows its own block size; the root only knows the total).
void expand_linear(const CollRecord& r, std::vector<Flow>& out) {
  const int me = r.me, root = r.root, P = r.size;
  const uint64_t m = r.bytes;
  switch (r.coll) {
    case Coll::Barrier:  // fan-in to 0, fan-out from 0
      if (me != 0) { add(out, me, 0, 0, 1); add(out, 0, me, 0, 1); }
      break;
    case Coll::Bcast:
      if (me == root) for (int j = 0; j < P; ++j) add(out, root, j, m, 1);
      break;
    case Coll::Reduce:
    case Coll::Gather:
    case Coll::Gatherv:
      add(out, me, root, m, 1);
      break;
    case Coll::Scatter:
    case Coll::Scatterv:
      add(out, root, me, m, 1);
      break;
    case Coll::Allreduce:  // reduce to 0, then bcast from 0
      add(out, me, 0, m, 1);
      add(out, 0, me, m, 1);
      break;
    case Coll::Allgather:
    case Coll::Allgatherv:  // gather to 0, then 0 sends the whole vector to everyone
      add(out, me, 0, m, 1);
      for (int j = 1; j < P; ++j) add(out, 0, j, m, me == 0 ? 1 : 0);
      break;
    case Coll::Alltoall:
      for (int j = 0; j < P; ++j) add(out, me, j, m, 1);
      break;
    case Coll::ReduceScatterBlock:  // reduce of the whole vector (P blocks) to 0, scatter from 0
      add(out, me, 0, m * uint64_t(P), 1);
      add(out, 0, me, m, 1);
      break;
    case Coll::ReduceScatter:  // the record holds the whole vector; the scatter arrives as parts
      add(out, me, 0, m, 1);
      break;
    case Coll::Scan:
    case Coll::Exscan:  // linear chain
      if (me + 1 < P) add(out, me, me + 1, m, 1);
      break;
    default:  // Alltoallv/w arrive as per-peer part records; neighbourhood collectives unmodelled
      break;
  }
}

}  // namespace

void expand(const CollRecord& r, std::vector<Flow>& out) {
  if (r.size <= 1 || r.me < 0 || r.me >= r.size) return;
  if ((r.root >= r.size) || (r.root < 0 && (r.coll == Coll::Bcast || r.coll == Coll::Reduce ||
      r.coll == Coll::Gather || r.coll == Coll::Gatherv || r.coll == Coll::Scatter || r.coll == Coll::Scatterv)))
    return;
  switch (r.alg) {
    case kAlgLibrary: expand_linear(r, out); break;
    default: break;
  }
}

}  // namespace sitempi::core
