#include "coll/scratch.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "config.h"

namespace sitempi::coll {

namespace {

constexpr size_t kKeepFrom = size_t(64) << 10;  // smaller blocks go back to malloc

struct Block {
  char* p;
  size_t size;
};

// The kept blocks, oldest first. A mutex, not a lock-free list: it is taken twice per buffer of
// at least 64 KiB, whose filling costs far more.
struct Pool {
  std::mutex m;
  std::vector<Block> free;
  size_t bytes = 0;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: buffers may be released during exit
  return *p;
}

size_t limit() { return shim::config().coll_scratch_bytes; }

// The smallest kept block that holds `bytes`, taken out of the pool; null if none.
char* take(size_t bytes, size_t* got) {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.m);
  size_t best = pl.free.size();
  for (size_t i = 0; i < pl.free.size(); ++i)
    if (pl.free[i].size >= bytes && (best == pl.free.size() || pl.free[i].size < pl.free[best].size)) best = i;
  if (best == pl.free.size()) return nullptr;
  const Block b = pl.free[best];
  pl.free.erase(pl.free.begin() + std::ptrdiff_t(best));
  pl.bytes -= b.size;
  *got = b.size;
  return b.p;
}

// Keeps the block if it fits under the limit (the oldest kept ones make room); frees it otherwise.
void give(char* p, size_t size) {
  const size_t cap = limit();
  if (size < kKeepFrom || size > cap) {
    std::free(p);
    return;
  }
  std::vector<char*> dropped;
  {
    Pool& pl = pool();
    std::lock_guard<std::mutex> lock(pl.m);
    size_t k = 0;
    while (pl.bytes + size > cap) {
      pl.bytes -= pl.free[k].size;
      dropped.push_back(pl.free[k++].p);
    }
    pl.free.erase(pl.free.begin(), pl.free.begin() + std::ptrdiff_t(k));
    pl.free.push_back(Block{p, size});
    pl.bytes += size;
  }
  for (char* d : dropped) std::free(d);
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
  char* p = bytes >= kKeepFrom ? take(bytes, &got) : nullptr;
  if (!p) {
    p = static_cast<char*>(std::malloc(bytes));
    if (!p) throw std::bad_alloc();
    got = bytes;
  }
  p_ = p, cap_ = got, n_ = bytes;
}

void Scratch::release() noexcept {
  if (p_) give(p_, cap_);
  p_ = nullptr, cap_ = n_ = 0;
}

void scratch_drop_all() noexcept {
  std::vector<Block> all;
  {
    Pool& pl = pool();
    std::lock_guard<std::mutex> lock(pl.m);
    all.swap(pl.free);
    pl.bytes = 0;
  }
  for (const Block& b : all) std::free(b.p);
}

size_t scratch_kept_bytes() noexcept {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.m);
  return pl.bytes;
}

}  // namespace sitempi::coll
