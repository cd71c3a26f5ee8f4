#include "core/scratch_pool.h"

#include <cstdlib>

namespace sitempi::core {

char* ScratchPool::take(size_t bytes, size_t* got) {
  if (bytes >= kKeepFrom) {
    std::lock_guard<std::mutex> lock(m_);
    size_t best = free_.size();
    for (size_t i = 0; i < free_.size(); ++i)
      if (free_[i].size >= bytes && (best == free_.size() || free_[i].size < free_[best].size)) best = i;
    if (best < free_.size()) {
      const Block b = free_[best];
      free_.erase(free_.begin() + std::ptrdiff_t(best));
      bytes_ -= b.size;
      *got = b.size;
      return b.p;
    }
  }
  *got = bytes;
  return static_cast<char*>(std::malloc(bytes ? bytes : 1));
}

void ScratchPool::give(char* p, size_t size) noexcept {
  if (p && size >= kKeepFrom && size <= limit_) {
    std::lock_guard<std::mutex> lock(m_);
    try {
      free_.reserve(free_.size() + 1);  // so that push_back below cannot throw
    } catch (...) {
      std::free(p);
      return;
    }
    size_t k = 0;  // the oldest blocks make room
    while (bytes_ + size > limit_) {
      bytes_ -= free_[k].size;
      std::free(free_[k++].p);
    }
    free_.erase(free_.begin(), free_.begin() + std::ptrdiff_t(k));
    free_.push_back(Block{p, size});
    bytes_ += size;
    return;
  }
  std::free(p);
}

void ScratchPool::drop_all() noexcept {
  std::vector<Block> all;
  {
    std::lock_guard<std::mutex> lock(m_);
    all.swap(free_);
    bytes_ = 0;
  }
  for (const Block& b : all) std::free(b.p);
}

size_t ScratchPool::kept_bytes() noexcept {
  std::lock_guard<std::mutex> lock(m_);
  return bytes_;
}

size_t ScratchPool::kept_blocks() noexcept {
  std::lock_guard<std::mutex> lock(m_);
  return free_.size();
}

}  // namespace sitempi::core
