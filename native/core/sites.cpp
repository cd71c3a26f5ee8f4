#include "sites.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace sitempi::core {
namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

bool valid_name(const std::string& n) {
  if (n.empty()) return false;
  for (char ch : n) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (!(isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

bool parse_long(const std::string& s, long& v) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (!isdigit(static_cast<unsigned char>(c))) return false;
  v = std::stol(s);
  return true;
}

std::string list_ranks(const std::vector<int>& r) {
  std::string s;
  for (size_t i = 0; i < r.size() && i < 8; ++i) s += (i ? ", " : "") + std::to_string(r[i]);
  if (r.size() > 8) s += ", ... (" + std::to_string(r.size()) + " in all)";
  return s;
}

template <typename T>
Grouping group_impl(const T* site_of, int P) {
  Grouping g;
  g.P = P;
  g.site.assign(size_t(P), 0);
  g.local_rank.assign(size_t(P), 0);
  std::unordered_map<int64_t, int> index;
  std::vector<int> counts;
  g.contiguous = true;
  int prev = -1;
  for (int i = 0; i < P; ++i) {
    auto it = index.find(int64_t(site_of[i]));
    int s;
    if (it == index.end()) {
      s = int(counts.size());
      index.emplace(int64_t(site_of[i]), s);
      counts.push_back(0);
    } else {
      s = it->second;
    }
    if (s < prev) g.contiguous = false;
    prev = s;
    g.site[size_t(i)] = s;
    g.local_rank[size_t(i)] = counts[size_t(s)]++;
  }
  g.S = int(counts.size());
  g.first.assign(size_t(g.S) + 1, 0);
  for (int s = 0; s < g.S; ++s) g.first[size_t(s) + 1] = g.first[size_t(s)] + counts[size_t(s)];
  g.members.assign(size_t(P), 0);
  for (int i = 0; i < P; ++i) g.members[size_t(g.first[size_t(g.site[size_t(i)])] + g.local_rank[size_t(i)])] = i;
  return g;
}

}  // namespace

bool parse_range(const std::string& tok, long& lo, long& hi) {
  const size_t dash = tok.find('-');
  if (dash == std::string::npos) return parse_long(trim(tok), lo) && (hi = lo, true);
  return parse_long(trim(tok.substr(0, dash)), lo) && parse_long(trim(tok.substr(dash + 1)), hi);
}

bool glob_match(const char* pattern, const char* text) { return fnmatch(pattern, text, 0) == 0; }

bool parse_site_spec(const std::string& text, SiteSpec& out, std::string& err) {
  out = SiteSpec{};
  // Comments run to the end of a line; newlines and ';' separate sites.
  std::vector<std::string> entries;
  std::string cur;
  bool comment = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      comment = false;
      entries.push_back(cur);
      cur.clear();
      continue;
    }
    if (comment) continue;
    if (c == '#') {
      comment = true;
      continue;
    }
    if (c == ';') {
      entries.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  entries.push_back(cur);
  for (const std::string& raw : entries) {
    const std::string e = trim(raw);
    if (e.empty()) continue;
    const size_t colon = e.find(':');
    if (colon == std::string::npos) {
      err = "'" + e + "' is not of the form NAME:RANKS";
      return false;
    }
    const std::string name = trim(e.substr(0, colon));
    if (!valid_name(name)) {
      err = "bad site name '" + name + "' (letters, digits, _ - . only)";
      return false;
    }
    if (std::find(out.names.begin(), out.names.end(), name) != out.names.end()) {
      err = "site '" + name + "' is named twice";
      return false;
    }
    std::vector<SiteItem> items;
    const std::string rest = e.substr(colon + 1);
    size_t pos = 0;
    while (pos <= rest.size()) {
      size_t comma = rest.find(',', pos);
      if (comma == std::string::npos) comma = rest.size();
      const std::string tok = trim(rest.substr(pos, comma - pos));
      pos = comma + 1;
      if (tok.empty()) {
        if (comma == rest.size()) break;
        err = "empty entry in site '" + name + "'";
        return false;
      }
      SiteItem it;
      if (tok[0] == '@') {
        it.kind = SiteItem::Host;
        it.pattern = trim(tok.substr(1));
        if (it.pattern.empty()) {
          err = "empty host pattern in site '" + name + "'";
          return false;
        }
        out.uses_hosts = true;
      } else {
        long lo = 0, hi = 0;
        if (!parse_range(tok, lo, hi)) {
          err = "unknown rank '" + tok + "' in site '" + name + "' (expected N, LO-HI or @host-pattern)";
          return false;
        }
        if (hi < lo) {
          err = "empty range '" + tok + "' in site '" + name + "'";
          return false;
        }
        it.lo = lo;
        it.hi = hi;
      }
      items.push_back(std::move(it));
    }
    if (items.empty()) {
      err = "site '" + name + "' is empty";
      return false;
    }
    out.names.push_back(name);
    out.items.push_back(std::move(items));
  }
  if (out.names.empty()) {
    err = "no sites";
    return false;
  }
  return true;
}

bool resolve_site_spec(const SiteSpec& spec, int world_size, const std::vector<std::string>& hosts, SiteMap& out,
                       std::string& err) {
  out = SiteMap{};
  if (world_size <= 0) {
    err = "no ranks";
    return false;
  }
  if (spec.uses_hosts && hosts.size() != size_t(world_size)) {
    err = "host names of the ranks are unknown";
    return false;
  }
  std::vector<int> owner(size_t(world_size), -1);
  for (size_t s = 0; s < spec.names.size(); ++s) {
    int members = 0;
    auto claim = [&](long r) -> bool {
      int& o = owner[size_t(r)];
      if (o == int(s)) return true;  // listed twice in the same site: harmless
      if (o >= 0) {
        err = "rank " + std::to_string(r) + " is in both site '" + spec.names[size_t(o)] + "' and site '" +
              spec.names[s] + "'";
        return false;
      }
      o = int(s);
      ++members;
      return true;
    };
    for (const SiteItem& it : spec.items[s]) {
      if (it.kind == SiteItem::Ranks) {
        if (it.hi >= world_size) {
          err = "rank " + std::to_string(it.hi) + " in site '" + spec.names[s] + "' is out of range (the job has " +
                std::to_string(world_size) + " ranks)";
          return false;
        }
        for (long r = it.lo; r <= it.hi; ++r)
          if (!claim(r)) return false;
      } else {
        for (int r = 0; r < world_size; ++r)
          if (glob_match(it.pattern.c_str(), hosts[size_t(r)].c_str()) && !claim(r)) return false;
      }
    }
    if (members == 0) {
      err = "site '" + spec.names[s] + "' is empty" + (spec.uses_hosts ? " (no rank's host matches)" : "");
      return false;
    }
  }
  std::vector<int> missing;
  for (int r = 0; r < world_size; ++r)
    if (owner[size_t(r)] < 0) missing.push_back(r);
  if (!missing.empty()) {
    err = std::string(missing.size() == 1 ? "rank " : "ranks ") + list_ranks(missing) +
          (missing.size() == 1 ? " is" : " are") + " in no site";
    if (spec.uses_hosts) err += " (host " + hosts[size_t(missing[0])] + ")";
    return false;
  }
  out.names = spec.names;
  out.site_of.resize(size_t(world_size));
  for (int r = 0; r < world_size; ++r) out.site_of[size_t(r)] = uint32_t(owner[size_t(r)]);
  return true;
}

bool read_site_file(const std::string& path, std::string& text, std::string& err) {
  text.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    err = std::string("cannot read the file: ") + strerror(errno);
    return false;
  }
  struct stat st;
  bool ok = false;
  if (fstat(fd, &st) != 0)
    err = std::string("cannot stat the file: ") + strerror(errno);
  else if (S_ISDIR(st.st_mode))
    err = "it is a directory";
  else if (!S_ISREG(st.st_mode))
    err = "it is not a regular file (a FIFO, device or socket)";
  else if (uint64_t(st.st_size) > kMaxSiteFileBytes)
    err = "the file is larger than 1 MiB";
  else
    ok = true;
  // Read at most one byte past the bound: a file that grew meanwhile is refused, not truncated.
  char buf[65536];
  while (ok) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = std::string("cannot read the file: ") + strerror(errno);
      ok = false;
      break;
    }
    if (n == 0) break;
    text.append(buf, size_t(n));
    if (text.size() > kMaxSiteFileBytes) {
      err = "the file is larger than 1 MiB";
      ok = false;
    }
  }
  ::close(fd);
  if (ok && text.empty()) {
    err = "the file is empty";
    ok = false;
  }
  if (!ok) text.clear();
  return ok;
}

bool parse_site_map(const std::string& text, int world_size, const std::vector<std::string>& hosts, SiteMap& out,
                    std::string& err) {
  SiteSpec spec;
  return parse_site_spec(text, spec, err) && resolve_site_spec(spec, world_size, hosts, out, err);
}

bool placement_valid(const std::vector<std::string>& names, const std::vector<uint32_t>& site_of, int world_size) {
  if (names.empty() || site_of.size() != size_t(world_size)) return false;
  for (uint32_t s : site_of)
    if (s >= names.size()) return false;
  return true;
}

Grouping group_sites(const uint32_t* site_of, int P) { return group_impl(site_of, P); }
Grouping group_sites(const int32_t* site_of, int P) { return group_impl(site_of, P); }

uint32_t covered_colls_mask() {
  uint32_t m = 0;
  for (const CollName& c : kSiteAwareColls) m |= coll_bit(c.coll);
  return m;
}

const char* coll_name(Coll c) {
  for (const CollName& n : kSiteAwareColls)
    if (n.coll == c) return n.name;
  return "?";
}

bool parse_coll_switch(const std::string& text, uint32_t& mask, std::string& err) {
  const uint32_t all = covered_colls_mask();
  std::vector<std::string> toks;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string t = trim(text.substr(pos, comma - pos));
    for (char& c : t) c = char(tolower(static_cast<unsigned char>(c)));
    if (!t.empty()) toks.push_back(t);
    pos = comma + 1;
  }
  if (toks.empty()) {
    mask = all;
    return true;
  }
  uint32_t m = toks[0][0] == '-' ? all : 0;
  for (const std::string& t : toks) {
    if (t == "on" || t == "all" || t == "1" || t == "yes" || t == "true") {
      m = all;
      continue;
    }
    if (t == "off" || t == "none" || t == "0" || t == "no" || t == "false") {
      m = 0;
      continue;
    }
    const bool off = t[0] == '-';
    const std::string name = (t[0] == '-' || t[0] == '+') ? t.substr(1) : t;
    uint32_t bits = 0;
    for (const CollName& c : kSiteAwareColls) {
      const std::string n = c.name;
      if (n == name || n == name + "v") bits |= coll_bit(c.coll);
    }
    if (!bits) {
      err = "unknown collective '" + name + "'";
      return false;
    }
    m = off ? (m & ~bits) : (m | bits);
  }
  mask = m;
  return true;
}

}  // namespace sitempi::core
