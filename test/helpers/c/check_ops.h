/* What the C test programs that check collectives against PMPI share: a seeded hash for test
 * data and a non-commutative user operation (to check rank order). Compiled in with -I
 * test/helpers/c (compileMpi in test/helpers/mpi.ts). */
#ifndef SITEMPI_TEST_CHECK_OPS_H
#define SITEMPI_TEST_CHECK_OPS_H
#include <stdint.h>

static inline uint32_t hash3(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u) * 0x85EBCA77u ^ (c + 0x165667B1u) * 0xC2B2AE3Du;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  h *= 0x297A2D39u;
  h ^= h >> 15;
  return h;
}

/* 2x2 matrices over Z/256 packed in an int (a0 a1 / a2 a3, one byte each): *b = *a x *b.
 * Associative, not commutative. */
static inline void matmul8(const int *a, int *b) {
  unsigned x = (unsigned)*a, y = (unsigned)*b;
  unsigned a0 = x & 255, a1 = (x >> 8) & 255, a2 = (x >> 16) & 255, a3 = x >> 24;
  unsigned b0 = y & 255, b1 = (y >> 8) & 255, b2 = (y >> 16) & 255, b3 = y >> 24;
  unsigned c0 = (a0 * b0 + a1 * b2) & 255, c1 = (a0 * b1 + a1 * b3) & 255;
  unsigned c2 = (a2 * b0 + a3 * b2) & 255, c3 = (a2 * b1 + a3 * b3) & 255;
  *b = (int)(c0 | c1 << 8 | c2 << 16 | c3 << 24);
}

#endif
