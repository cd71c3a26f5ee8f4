// native/core/scratch_pool: which blocks are kept, reused and freed, and the bound on what is kept.
#include <cstring>
#include <vector>

#include "check.h"
#include "core/scratch_pool.h"

using namespace sitempi::core;

namespace {
constexpr size_t KiB = 1024, MiB = 1024 * KiB;
}

TEST(scratch_pool_reuses_a_returned_block) {
  ScratchPool pool(8 * MiB);
  size_t got = 0;
  char* a = pool.take(1 * MiB, &got);
  CHECK(a != nullptr);
  CHECK_EQ(got, 1 * MiB);
  std::memset(a, 1, got);  // the whole block is usable
  pool.give(a, got);
  CHECK_EQ(pool.kept_bytes(), 1 * MiB);
  size_t again = 0;
  CHECK(pool.take(512 * KiB, &again) == a);  // a smaller request takes the kept, larger block
  CHECK_EQ(again, 1 * MiB);
  CHECK_EQ(pool.kept_bytes(), size_t(0));
  size_t other = 0;
  char* b = pool.take(1 * MiB, &other);  // the kept one is out: a new block
  CHECK(b != a);
  pool.give(a, again);
  pool.give(b, other);
  CHECK_EQ(pool.kept_blocks(), size_t(2));
}

TEST(scratch_pool_takes_the_smallest_block_that_fits) {
  ScratchPool pool(16 * MiB);
  size_t g1 = 0, g2 = 0, g3 = 0;
  char* big = pool.take(4 * MiB, &g1);
  char* mid = pool.take(2 * MiB, &g2);
  char* small = pool.take(128 * KiB, &g3);
  pool.give(big, g1);
  pool.give(mid, g2);
  pool.give(small, g3);
  size_t got = 0;
  CHECK(pool.take(1 * MiB, &got) == mid);
  CHECK_EQ(got, 2 * MiB);
  pool.give(mid, got);
  CHECK(pool.take(3 * MiB, &got) == big);
  pool.give(big, got);
  char* fresh = pool.take(8 * MiB, &got);  // nothing kept is large enough
  CHECK(fresh != big && fresh != mid && fresh != small);
  CHECK_EQ(got, 8 * MiB);
  pool.give(fresh, got);
}

TEST(scratch_pool_keeps_at_most_its_limit_dropping_the_oldest) {
  ScratchPool pool(3 * MiB);
  std::vector<char*> blocks;
  std::vector<size_t> sizes;
  for (int i = 0; i < 4; ++i) {
    size_t got = 0;
    blocks.push_back(pool.take(1 * MiB, &got));
    sizes.push_back(got);
  }
  for (int i = 0; i < 4; ++i) {
    pool.give(blocks[size_t(i)], sizes[size_t(i)]);
    CHECK(pool.kept_bytes() <= 3 * MiB);
  }
  CHECK_EQ(pool.kept_blocks(), size_t(3));
  // The first one returned made room: the three newest are the ones handed out again.
  std::vector<char*> again;
  for (int i = 0; i < 3; ++i) {
    size_t got = 0;
    again.push_back(pool.take(1 * MiB, &got));
  }
  for (char* p : again) CHECK(p != blocks[0]);
  for (char* p : again) pool.give(p, 1 * MiB);
  size_t got = 0;
  char* huge = pool.take(4 * MiB, &got);  // above the limit: freed at once, nothing else dropped
  pool.give(huge, got);
  CHECK_EQ(pool.kept_bytes(), 3 * MiB);
  pool.drop_all();
  CHECK_EQ(pool.kept_bytes(), size_t(0));
  CHECK_EQ(pool.kept_blocks(), size_t(0));
}

TEST(scratch_pool_leaves_small_blocks_and_a_zero_limit_to_malloc) {
  ScratchPool pool(8 * MiB);
  size_t got = 0;
  char* small = pool.take(ScratchPool::kKeepFrom - 1, &got);
  CHECK(small != nullptr);
  pool.give(small, got);
  CHECK_EQ(pool.kept_blocks(), size_t(0));
  ScratchPool none(0);
  char* big = none.take(1 * MiB, &got);
  none.give(big, got);
  CHECK_EQ(none.kept_blocks(), size_t(0));
  char* empty = none.take(0, &got);  // a zero-byte request still gets a block to free
  CHECK(empty != nullptr);
  none.give(empty, got);
  none.give(nullptr, 0);  // and giving nothing back is harmless
}
