// A bounded pool of large byte blocks, for temporary buffers that are needed again and again
// (the shim's collectives: coll/scratch.h). Fresh memory costs a page fault per 4 KiB at first
// touch, in a VM also a trap to the hypervisor; a kept block costs nothing. Blocks below
// `kKeepFrom` are left to malloc, whose own free lists keep them warm. Thread-safe.
#pragma once
#include <cstddef>
#include <mutex>
#include <vector>

namespace sitempi::core {

class ScratchPool {
 public:
  static constexpr size_t kKeepFrom = size_t(64) << 10;

  // Keeps at most `limit` bytes of free blocks (0: keeps none).
  explicit ScratchPool(size_t limit) : limit_(limit) {}
  ~ScratchPool() { drop_all(); }
  ScratchPool(const ScratchPool&) = delete;
  ScratchPool& operator=(const ScratchPool&) = delete;

  // A block of at least `bytes` (its real size in *got): the smallest kept one that is large
  // enough, else a new one from malloc (nullptr if that fails). Contents undefined.
  char* take(size_t bytes, size_t* got);
  // Returns a block from take(): kept if it is large enough to keep and fits under the limit (the
  // oldest kept blocks are freed to make room), freed otherwise.
  void give(char* p, size_t size) noexcept;
  // Frees every kept block.
  void drop_all() noexcept;
  size_t kept_bytes() noexcept;
  size_t kept_blocks() noexcept;

 private:
  struct Block {
    char* p;
    size_t size;
  };
  const size_t limit_;
  std::mutex m_;
  std::vector<Block> free_;  // oldest first
  size_t bytes_ = 0;
};

}  // namespace sitempi::core
