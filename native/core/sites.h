// Where ranks are: parsing static site maps (SITEMPI_SITES / SITEMPI_SITES_FILE, docs/sites.md),
// grouping a communicator's ranks by site, and the SITEMPI_COLL switch. Neither MPI nor Node:
// compiled into the shim (which runs the site-aware collectives) and into the addon (tests and the
// monitor's predictions), so both group ranks in exactly the same way.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cost_model.h"

namespace sitempi::core {

// A placement of the world: site names and the site index of every world rank.
struct SiteMap {
  std::vector<std::string> names;
  std::vector<uint32_t> site_of;  // one entry per world rank
};

// A parsed map before it is applied to a job: per site, rank lists/ranges and host patterns.
struct SiteItem {
  enum Kind : uint8_t { Ranks, Host } kind = Ranks;
  long lo = 0, hi = 0;  // Ranks: lo..hi inclusive
  std::string pattern;  // Host: a glob (*, ?, [...]) matched against the rank's host name
};
struct SiteSpec {
  std::vector<std::string> names;
  std::vector<std::vector<SiteItem>> items;  // per site
  bool uses_hosts = false;                   // needs the ranks' host names to resolve
};

// Syntax errors (unknown tokens, empty or duplicate names) are reported here, before the job size
// is known. Returns false with a one-line reason in err.
bool parse_site_spec(const std::string& text, SiteSpec& out, std::string& err);
// Applies a spec to a job of world_size ranks (hosts[i]: host name of world rank i, needed only
// when spec.uses_hosts). Rejects ranks out of range, overlaps, empty sites and ranks in no site.
bool resolve_site_spec(const SiteSpec& spec, int world_size, const std::vector<std::string>& hosts, SiteMap& out,
                       std::string& err);
// SITEMPI_SITES_FILE: reads a regular, non-empty file of at most kMaxSiteFileBytes. A FIFO, device, socket or
// directory is refused without blocking on it (opened with O_NONBLOCK, then fstat), as is a larger
// file. Returns false with a one-line reason in err.
constexpr size_t kMaxSiteFileBytes = 1u << 20;
bool read_site_file(const std::string& path, std::string& text, std::string& err);
// Both steps.
bool parse_site_map(const std::string& text, int world_size, const std::vector<std::string>& hosts, SiteMap& out,
                    std::string& err);
// A placement pushed by the monitor is usable: one entry per world rank, indices in range.
bool placement_valid(const std::vector<std::string>& names, const std::vector<uint32_t>& site_of, int world_size);

bool glob_match(const char* pattern, const char* text);
// One entry of a rank or CPU list: "N" or "LO-HI" (not checked for LO <= HI).
bool parse_range(const std::string& tok, long& lo, long& hi);

// A communicator's ranks grouped by site. Sites are numbered in the order of their first rank
// (so site 0 holds comm rank 0); each site's leader is its lowest rank; members are ascending.
struct Grouping {
  int P = 0, S = 0;
  std::vector<int> site;        // compact site index of each comm rank
  std::vector<int> local_rank;  // rank inside its site (comm-rank order)
  std::vector<int> first;       // S + 1 offsets into members
  std::vector<int> members;     // comm ranks, site by site
  bool contiguous = false;      // each site's ranks form one range, sites in rank order

  int leader(int s) const { return members[size_t(first[size_t(s)])]; }
  int count(int s) const { return first[size_t(s) + 1] - first[size_t(s)]; }
  const int* of(int s) const { return members.data() + first[size_t(s)]; }
};
// Who reduces rank j's block over site s in the spread Reduce_scatter (kAlgSitePairwise): j
// itself in its own site; in another, the member whose local rank is j's modulo the site's size
// (so the blocks of a site of the same size pair off one to one).
inline int spread_owner(const Grouping& g, int j, int s) {
  if (g.site[size_t(j)] == s) return j;
  return g.of(s)[g.local_rank[size_t(j)] % g.count(s)];
}
// site_of: any site ids (e.g. world site indices), one per comm rank.
Grouping group_sites(const uint32_t* site_of, int P);
Grouping group_sites(const int32_t* site_of, int P);

// SITEMPI_COLL: comma-separated tokens, left to right. "on"/"all" enable every covered collective,
// "off"/"none" disable all; "name" or "+name" enables one, "-name" disables it (a name without v
// also covers its v-variant: "gather" is Gather and Gatherv). A list that starts with a plain name
// starts from nothing enabled ("bcast,allreduce"); one that starts with "-name" starts from all.
// The empty string means all. Bit i of the mask is Coll(i).
constexpr uint32_t coll_bit(Coll c) { return 1u << static_cast<uint32_t>(c); }
uint32_t covered_colls_mask();
bool parse_coll_switch(const std::string& text, uint32_t& mask, std::string& err);
const char* coll_name(Coll c);  // lower case, as in SITEMPI_COLL

}  // namespace sitempi::core
