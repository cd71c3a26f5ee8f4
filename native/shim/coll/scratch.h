// The algorithms' temporary buffers: uninitialised (zero-filling a buffer the call overwrites
// anyway is a pass over it for nothing) and, from 64 KiB up, kept for the next call in one pool
// per process of at most SITEMPI_COLL_SCRATCH_BYTES (core/scratch_pool.h). For a 4 MiB
// Reduce_scatter on 8 ranks, fresh zeroed buffers were a quarter of the machine's CPU.
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
  // Throws std::bad_alloc (the dispatcher turns it into MPI_ERR_NO_MEM).
  void reset(size_t bytes);
  char* data() { return p_; }
  const char* data() const { return p_; }
  size_t size() const { return n_; }
  bool empty() const { return !p_; }  // never reset (or moved from)

 private:
  void release() noexcept;
  char* p_ = nullptr;
  size_t cap_ = 0;  // the block's real size (a kept block may be larger than asked for)
  size_t n_ = 0;
};

// Frees every kept block (MPI_Finalize).
void scratch_drop_all() noexcept;

}  // namespace sitempi::coll
