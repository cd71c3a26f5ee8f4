// native/core/sites: site maps (SITEMPI_SITES syntax and its errors), grouping, SITEMPI_COLL.
#include "check.h"
#include "core/sites.h"

using namespace sitempi::core;

namespace {
bool parses(const std::string& text, int n, SiteMap& map, std::string& err,
            const std::vector<std::string>& hosts = {}) {
  err.clear();
  return parse_site_map(text, n, hosts, map, err);
}
}  // namespace

TEST(sites_parse_ranges_lists_and_comments) {
  SiteMap m;
  std::string err;
  CHECK(parses("A:0-3;B:4-7", 8, m, err));
  CHECK(m.names == (std::vector<std::string>{"A", "B"}));
  CHECK(m.site_of == (std::vector<uint32_t>{0, 0, 0, 0, 1, 1, 1, 1}));
  CHECK(parses(" A : 0,2,4,6 ;B:1,3 , 5,7", 8, m, err));
  CHECK(m.site_of == (std::vector<uint32_t>{0, 1, 0, 1, 0, 1, 0, 1}));
  CHECK(parses("# two sites\nwest: 0-1   # the first\n\neast:2\n", 3, m, err));
  CHECK(m.names == (std::vector<std::string>{"west", "east"}));
  CHECK(m.site_of == (std::vector<uint32_t>{0, 0, 1}));
}

TEST(sites_parse_host_patterns) {
  SiteMap m;
  std::string err;
  const std::vector<std::string> hosts = {"node0", "node5", "node1", "node7"};
  CHECK(parses("A:@node[0-3]*;B:@node[4-7]*", 4, m, err, hosts));
  CHECK(m.site_of == (std::vector<uint32_t>{0, 1, 0, 1}));
  CHECK(!parses("A:@node[0-3]*;B:@node[4-7]*", 4, m, err));  // host names unknown
  CHECK(!parses("A:@node[0-3]*;B:@other*", 4, m, err, hosts));
  CHECK(err.find("empty") != std::string::npos);
  CHECK(glob_match("n?de[0-3]*", "node2x"));
  CHECK(!glob_match("n?de[0-3]*", "node4"));
}

TEST(sites_parse_errors_name_the_problem) {
  SiteMap m;
  std::string err;
  const struct {
    const char* text;
    const char* says;
  } bad[] = {
      {"A:0-3;B:3-7", "both"},
      {"A:0-3;B:4-8", "out of range"},
      {"A:0-3;B:5-7", "in no site"},
      {"A:0-3;A:4-7", "named twice"},
      {"A:0-3;B", "NAME:RANKS"},
      {"A:0-3;B:", "empty"},
      {"A:0-3;B:4,,7", "empty entry"},
      {"A:0-3;B:x", "unknown rank"},
      {"A:3-0;B:4-7", "empty range"},
      {"A b:0-3;B:4-7", "bad site name"},
      {"", "no sites"},
      {"A:0-3;B:4-99999999999", "unknown rank"},
  };
  for (const auto& b : bad) {
    CHECK(!parses(b.text, 8, m, err));
    if (err.find(b.says) == std::string::npos)
      ::sitempi::test::fail(__FILE__, __LINE__, std::string(b.text) + ": " + err);
  }
  long lo = 0, hi = 0;
  CHECK(parse_range("3", lo, hi) && lo == 3 && hi == 3);
  CHECK(parse_range(" 2 - 9 ", lo, hi) && lo == 2 && hi == 9);
  CHECK(!parse_range("-1", lo, hi));
}

TEST(sites_placement_valid) {
  CHECK(placement_valid({"A", "B"}, {0, 1, 1}, 3));
  CHECK(!placement_valid({"A", "B"}, {0, 2, 1}, 3));  // index out of range
  CHECK(!placement_valid({"A"}, {0, 0}, 3));          // not one entry per rank
  CHECK(!placement_valid({}, {}, 0));
}

TEST(sites_grouping) {
  const uint32_t world[6] = {7, 3, 7, 3, 9, 9};  // any site ids; numbered by first rank
  const Grouping g = group_sites(world, 6);
  CHECK_EQ(g.S, 3);
  CHECK(g.site == (std::vector<int>{0, 1, 0, 1, 2, 2}));
  CHECK(g.local_rank == (std::vector<int>{0, 0, 1, 1, 0, 1}));
  CHECK_EQ(g.leader(0), 0);
  CHECK_EQ(g.leader(1), 1);
  CHECK_EQ(g.leader(2), 4);
  CHECK_EQ(g.count(2), 2);
  CHECK_EQ(g.of(1)[1], 3);
  CHECK(!g.contiguous);
  const int32_t blocks[5] = {2, 2, 0, 0, 0};
  CHECK(group_sites(blocks, 5).contiguous);
}

TEST(sites_coll_switch) {
  uint32_t mask = 0;
  std::string err;
  const uint32_t all = covered_colls_mask();
  CHECK(parse_coll_switch("", mask, err) && mask == all);
  CHECK(parse_coll_switch("off", mask, err) && mask == 0);
  CHECK(parse_coll_switch("bcast, Allreduce", mask, err) &&
        mask == (coll_bit(Coll::Bcast) | coll_bit(Coll::Allreduce)));
  CHECK(parse_coll_switch("-alltoall", mask, err) &&
        mask == (all & ~coll_bit(Coll::Alltoall) & ~coll_bit(Coll::Alltoallv)));
  CHECK(parse_coll_switch("all,-gather", mask, err));
  CHECK(!(mask & coll_bit(Coll::Gather)) && !(mask & coll_bit(Coll::Gatherv)) && (mask & coll_bit(Coll::Scatter)));
  CHECK(parse_coll_switch("gatherv", mask, err) && mask == coll_bit(Coll::Gatherv));
  CHECK(!parse_coll_switch("bcast,scan", mask, err));  // scans are not covered
  CHECK(err.find("scan") != std::string::npos);
  CHECK_EQ(std::string(coll_name(Coll::Allgatherv)), std::string("allgatherv"));
  CHECK(!(all & coll_bit(Coll::Scan)));
}
