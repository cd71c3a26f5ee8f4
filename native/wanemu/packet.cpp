#include "packet.h"

#include <cstring>
#include <utility>

namespace wanemu {

Packet PacketPool::take() {
  Packet p;
  if (free_.empty()) {
    p.data.reset(new uint8_t[kBufBytes]);
  } else {
    p.data = std::move(free_.back());
    free_.pop_back();
  }
  p.pooled = true;
  return p;
}

void PacketPool::give(Packet& p) {
  if (p.pooled && p.data && free_.size() < kMaxFree) free_.push_back(std::move(p.data));
  p.data.reset();
  p.pooled = false;
}

void PacketPool::shrink_to_fit(Packet& p) {
  if (!p.pooled || p.len * 2 > kBufBytes) return;
  std::unique_ptr<uint8_t[]> own(new uint8_t[p.len]);
  std::memcpy(own.get(), p.data.get(), p.len);
  give(p);
  p.data = std::move(own);
}

}  // namespace wanemu
