// A large collective cut into segments of whole elements, so that its phases overlap: while one
// segment crosses between sites, the site-local phases work on the others (HAN's pipelining, over
// the site hierarchy). Every rank must cut alike, so the cut depends only on what MPI requires to
// be equal on every rank: for reductions the count and datatype, for Bcast the byte count.
// Segments of one logical message count as one cross-site message (Ctx's `continues`), so the
// cost model's predictions hold whether a call was cut or not.
#pragma once
#include <algorithm>
#include <cstdint>

#include "coll/cache.h"
#include "core/cost_model.h"

namespace sitempi::coll {

// At most this many segments per call, where each costs every site-local phase one more call
// (on the testbed, with one rank per node, 64 KiB segments made a 1 MiB Allreduce slower where
// 256 KiB ones made it faster).
constexpr uint64_t kSegments = 8;
// Reduce cuts finer above 1 MiB: segments of at most this size, at most g_reduce_segments of them
// (a 4 MiB call in 32), since its root's site reduce and fold of the last segment follow the
// last byte, and the other sites' reduce of the first precedes the first.
constexpr uint64_t kFineSegmentBytes = 131072;

// Which rule cuts a call: every collective's (at most kSegments), or Reduce's finer one above 1 MiB.
enum class Cut { kDefault, kReduce };

struct Segments {
  int n = 1;    // segments (1: the call runs whole)
  int per = 0;  // elements per segment; the last may have fewer
  int count = 0;

  // `elem_bytes`: bytes per element; `cuttable`: the elements may be addressed segment by
  // segment as runs of bytes (a contiguous datatype, or staged bytes).
  Segments(int elements, uint64_t elem_bytes, bool cuttable, Cut rule = Cut::kDefault)
      : per(elements), count(elements) {
    const uint64_t total = elem_bytes * uint64_t(elements > 0 ? elements : 0);
    if (!cuttable || !g_segment_bytes || elem_bytes == 0 || total < 2 * g_segment_bytes) return;
    const bool fine = rule == Cut::kReduce;
    const uint64_t bytes =
        fine ? std::max(g_segment_bytes, std::min(total / kSegments, kFineSegmentBytes)) : g_segment_bytes;
    const uint64_t most = fine ? g_reduce_segments : kSegments;
    const uint64_t by_size = std::max<uint64_t>(1, bytes / elem_bytes);
    const uint64_t by_cap = (uint64_t(elements) + most - 1) / most;
    per = int(std::max(by_size, by_cap));
    n = int((uint64_t(elements) + uint64_t(per) - 1) / uint64_t(per));
  }
  bool cut() const { return n > 1; }
  int first(int k) const { return k * per; }
  int size(int k) const { return std::min(per, count - k * per); }
};

// The spread algorithms' chunks (Allreduce, Reduce): a site of n members owns one chunk per
// member, cut further into segments only where that makes this many or more: in two (a 128 KiB
// Allreduce on 8 nodes, chunks of 32 KiB) it ran 2-4% slower than whole (medians of five
// alternating rounds), where from four (256 KiB) it ran 10% faster.
constexpr uint64_t kMinChunkSegments = 4;

// Chunk i of a site of n members: elements [lo, lo + len) of `count` (core::rsag_offset), and how
// it is cut (alike on every rank: a function of the count, the site's size and i).
struct SiteChunk {
  int lo = 0, len = 0;
  Segments seg;
  SiteChunk(int count, int n, int i, int elem_bytes, bool cuttable)
      : lo(int(core::rsag_offset(uint64_t(count), n, i))),
        len(int(core::rsag_chunk(uint64_t(count), n, i))),
        seg(len, uint64_t(elem_bytes),
            cuttable && uint64_t(elem_bytes) * uint64_t(len) >= kMinChunkSegments * g_segment_bytes) {}
  int first(int q) const { return lo + seg.first(q); }
};

}  // namespace sitempi::coll
