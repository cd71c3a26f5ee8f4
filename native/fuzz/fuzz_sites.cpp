// libFuzzer target: the site-map parser (native/core/sites.cpp: SITEMPI_SITES / SITEMPI_SITES_FILE
// text, SITEMPI_COLL) and what the shim does with a map it accepted. The first byte picks the job
// size (1-64 ranks) and how many distinct host names the ranks have; the rest is the text. An
// accepted map must place every rank in exactly one named site, and its grouping must be
// consistent. Built with -DSITEMPI_FUZZ=ON (CMakeLists.txt), run by test/fuzz/fuzz.test.ts.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/sites.h"

using namespace sitempi::core;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int world = 1 + (data[0] & 63);
  const int host_count = 1 + (data[0] >> 6);
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> hosts;
  for (int r = 0; r < world; ++r) hosts.push_back("node" + std::to_string(r % host_count) + (r % 2 ? "-b" : "-a"));

  SiteMap map;
  std::string err;
  if (parse_site_map(text, world, hosts, map, err)) {
    if (map.names.empty() || map.site_of.size() != size_t(world)) abort();
    for (uint32_t s : map.site_of)
      if (s >= map.names.size()) abort();
    if (!placement_valid(map.names, map.site_of, world)) abort();
    const Grouping g = group_sites(map.site_of.data(), world);
    if (g.P != world || g.S < 1 || g.S > int(map.names.size()) || g.first[size_t(g.S)] != world) abort();
    for (int s = 0; s < g.S; ++s)
      for (int k = 0; k < g.count(s); ++k)
        if (g.site[size_t(g.of(s)[k])] != s) abort();
  } else if (err.empty()) {
    abort();  // a refusal always says why
  }
  uint32_t mask = 0;
  err.clear();
  if (!parse_coll_switch(text, mask, err)) {
    if (err.empty()) abort();
  } else if (mask & ~covered_colls_mask()) {
    abort();
  }
  return 0;
}
