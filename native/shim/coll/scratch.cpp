#include "coll/scratch.h"

#include <new>

#include "config.h"
#include "core/scratch_pool.h"

namespace sitempi::coll {

namespace {

core::ScratchPool& pool() {
  // Created at first use (a collective, or MPI_Finalize), after MPI_Init has read the
  // configuration; never destroyed (a buffer may be released while the process exits).
  static auto* p = new core::ScratchPool(shim::config().coll_scratch_bytes);
  return *p;
}

}  // namespace

Scratch& Scratch::operator=(Scratch&& o) noexcept {
  if (this != &o) {
    release();
    p_ = o.p_, cap_ = o.cap_, n_ = o.n_;
    o.p_ = nullptr, o.cap_ = o.n_ = 0;
  }
  return *this;
}

void Scratch::reset(size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (p_ && bytes <= cap_) {
    n_ = bytes;
    return;
  }
  release();
  size_t got = 0;
  char* p = pool().take(bytes, &got);
  if (!p) throw std::bad_alloc();
  p_ = p, cap_ = got, n_ = bytes;
}

void Scratch::release() noexcept {
  if (p_) pool().give(p_, cap_);
  p_ = nullptr, cap_ = n_ = 0;
}

void scratch_drop_all() noexcept { pool().drop_all(); }

}  // namespace sitempi::coll
