// The algorithms' temporary buffers. Fresh memory costs a page fault per 4 KiB at first touch (in
// a VM, a trap to the hypervisor too) and zero-filling it costs a pass over it: for a 4 MiB
// Reduce_scatter on 8 ranks that was a quarter of the machine's CPU. Buffers from 64 KiB up are
// therefore kept after a call, up to SITEMPI_COLL_SCRATCH_BYTES per process, and handed out again
// uninitialised; smaller ones come from malloc (its own free lists keep them warm).
#pragma once
#include <cstddef>

namespace sitempi::coll {

// A byte buffer for one call's (or one non-blocking collective's) lifetime; movable, not copyable.
class Scratch {
 public:
  Scratch() = default;
  explicit Scratch(size_t bytes) { reset(bytes); }
  Scratch(Scratch&& o) noexcept : p_(o.p_), cap_(o.cap_), n_(o.n_) { o.p_ = nullptr, o.cap_ = o.n_ = 0; }
  Scratch& operator=(Scratch&& o) noexcept;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { release(); }

  // Room for `bytes` (at least one byte, so data() is never null); the contents are undefined.
  void reset(size_t bytes);
  char* data() { return p_; }
  const char* data() const { return p_; }
  size_t size() const { return n_; }

 private:
  void release() noexcept;
  char* p_ = nullptr;
  size_t cap_ = 0;  // the block's real size (a kept block may be larger than asked for)
  size_t n_ = 0;
};

// Frees every kept block (MPI_Finalize); later buffers are allocated and kept again as before.
void scratch_drop_all() noexcept;
// Bytes held in kept blocks now (for the tests).
size_t scratch_kept_bytes() noexcept;

}  // namespace sitempi::coll
