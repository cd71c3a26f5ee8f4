// What the files expanding Open MPI's collectives into flows share (tuned.cpp, tuned_coll.cpp,
// tuned_vector.cpp): adding one flow, and the largest power of two the algorithms fold onto.
#pragma once

#include <cstdint>
#include <vector>

#include "cost_model.h"

namespace sitempi::core::tuned_flows {

// One message (or `msgs` of them) from src to dst; a rank's messages to itself are not traffic.
inline void add(std::vector<Flow>& out, int src, int dst, uint64_t bytes, uint32_t msgs) {
  if (src != dst) out.push_back({src, dst, bytes, msgs});
}

// The largest power of two at most n (n >= 1).
inline int pof2_floor(int n) {
  int p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

}  // namespace sitempi::core::tuned_flows
