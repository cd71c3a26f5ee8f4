// Where each rank's block goes when blocks travel packed, site by site: the layout the rooted
// all-to-one and one-to-all algorithms (Gather(v), Scatter(v)) and the exchanges (Allgather(v),
// Alltoall(v)) pack by, and the block sizes a site's leader learns from its members.
#pragma once
#include <cstdint>
#include <vector>

#include "coll/cache.h"
#include "coll/scratch.h"
#include "core/sites.h"

namespace sitempi::coll {

// Packed layout of one block per comm rank, site by site (members in rank order).
struct SiteLayout {
  std::vector<uint64_t> pos;       // byte offset of rank j's block
  std::vector<uint64_t> site_off;  // S + 1 offsets
  uint64_t total = 0;
  SiteLayout(const core::Grouping& g, const std::vector<uint64_t>& block);
  uint64_t site_bytes(int s) const { return site_off[size_t(s) + 1] - site_off[size_t(s)]; }
};

// Blocks of one site in local rank order (its leader first): packed sizes and offsets, as a
// Gatherv / Scatterv over the site's local communicator takes them.
struct SiteBlocks {
  std::vector<int> counts, offs;  // offs from the site's first byte
  int total = 0;
};

// A site other than the root's: its leader learns the members' packed sizes (an MPI_INT Gather
// over the site, skipped when every block has uniform_bytes > 0) and returns their blocks in *at_leader;
// the other members take part with at_leader == nullptr. `mine`: this rank's packed size.
int site_blocks(SiteCache& c, int mine, uint64_t uniform_bytes, SiteBlocks* at_leader);

// Gather(v) and Scatter(v) forward blocks of at least this many bytes one by one, in place
// (below, a header per block would add more than ~2% to the bytes crossing, and they travel packed).
constexpr uint64_t kForwardMinBytes = 4096;

// Whether a site's blocks (`members` of them, `bytes` in all) cross one by one: the same answer
// at the root (from its counts) and at the site's leader (from site_blocks), so also for the v-
// variants, whose other ranks do not know the sizes. SITEMPI_COLL_PACKED=1 packs every site.
inline bool forwarded_site(uint64_t bytes, int members) {
  return !g_coll_packed && bytes >= uint64_t(members) * kForwardMinBytes;
}

// A root's blocks as bytes: block j at base + off[j]. `direct`: base is the application's buffer
// itself (a contiguous type, every offset within an int), so blocks land in or leave from their
// final places; else `staging`, in rank order, which the caller packs into or unpacks from once.
struct RootView {
  char* base = nullptr;
  std::vector<uint64_t> off;
  bool direct = false;
  Scratch staging;
  RootView(void* buf, const int* displs, MPI_Datatype t, const std::vector<uint64_t>& block);
};

// This rank's own block as bytes to send: the buffer itself for a contiguous type, else packed
// into *tmp.
int block_bytes(const void* buf, int count, MPI_Datatype t, Scratch* tmp, const char** bytes, MPI_Comm comm);

}  // namespace sitempi::coll
