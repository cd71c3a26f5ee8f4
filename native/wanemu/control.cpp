#include "control.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "tun.h"
#include "util.h"

namespace wanemu {

namespace {

constexpr const char* kVersion = "1";

std::string counters_json(const Counters& c) {
  return "{\"bytes\":" + std::to_string(c.bytes) + ",\"packets\":" + std::to_string(c.packets) +
         ",\"dropBytes\":" + std::to_string(c.drop_bytes) + ",\"dropPackets\":" + std::to_string(c.drop_packets) + "}";
}

std::string link_json(const Link& l, bool full) {
  std::string o = "{\"from\":" + json_str(l.from) + ",\"to\":" + json_str(l.to);
  if (full) {
    char b[64];
    std::snprintf(b, sizeof b, "%.3f", l.latency_ns / 1000.0);
    o += std::string(",\"latencyUs\":") + b + ",\"bandwidthBps\":" + std::to_string(l.bw_bps) +
         ",\"queueBytes\":" + std::to_string(l.queue_bytes) + ",\"effectiveQueueBytes\":" +
         (l.effective_queue() == UINT64_MAX ? std::string("null") : std::to_string(l.effective_queue())) +
         ",\"inflightBytes\":" + std::to_string(l.inflight_bytes) +
         ",\"inflightPackets\":" + std::to_string(l.q.size()) +
         ",\"maxBacklogBytes\":" + std::to_string(l.max_backlog_bytes);
  }
  Counters c = l.c;
  o += ",\"bytes\":" + std::to_string(c.bytes) + ",\"packets\":" + std::to_string(c.packets) +
       ",\"dropBytes\":" + std::to_string(c.drop_bytes) + ",\"dropPackets\":" + std::to_string(c.drop_packets) + "}";
  return o;
}

}  // namespace

Control::Control(Forwarder& fw, int def_mtu, ControlHooks hooks)
    : fw_(fw), def_mtu_(def_mtu), hooks_(std::move(hooks)), started_(now_ns()) {}

std::string Control::cmd_node_add(const std::vector<std::string>& a) {
  if (a.size() < 6 || a.size() > 7) return err_json("usage: node-add NAME SITE IPV4/PREFIX NETNS IFNAME [MTU]");
  const std::string &name = a[1], &site = a[2], &cidr = a[3], &ns = a[4], &ifname = a[5];
  if (!valid_name(name) || !valid_name(site)) return err_json("bad node or site name");
  if (ns != "-" && !valid_name(ns)) return err_json("bad netns name");
  if (ifname.empty() || ifname.size() >= IFNAMSIZ || !valid_name(ifname)) return err_json("bad interface name");
  auto slash = cidr.find('/');
  std::string ipstr = cidr.substr(0, slash);
  int prefix = 32;
  if (slash != std::string::npos) {
    uint64_t p;
    if (!parse_u64(cidr.substr(slash + 1), p) || p > 32) return err_json("bad prefix length");
    prefix = int(p);
  }
  in_addr ia;
  if (inet_pton(AF_INET, ipstr.c_str(), &ia) != 1) return err_json("bad IPv4 address: " + ipstr);
  uint32_t ip = ntohl(ia.s_addr);
  int mtu = def_mtu_;
  if (a.size() == 7) {
    uint64_t m;
    if (!parse_u64(a[6], m) || m < 576 || m > 65535) return err_json("bad MTU");
    mtu = int(m);
  }
  const int existing = fw_.find_node(name);
  if (existing >= 0) {
    const Node& n = fw_.node(existing);
    if (n.ip == ip && n.netns == ns && n.ifname == ifname) return "{\"ok\":true,\"existing\":true}";
    return err_json("node " + name + " exists with other parameters");
  }
  const int user = fw_.find_ip(ip);
  if (user >= 0) return err_json("address " + ipstr + " already used by node " + fw_.node(user).name);

  int fd = -1;
  const std::string err = open_tun(ns, ifname, ip, prefix, mtu, fd);
  if (!err.empty()) return err_json(err);

  Node n;
  n.name = name;
  n.site = site;
  n.netns = ns;
  n.ifname = ifname;
  n.ip = ip;
  n.prefix = prefix;
  n.mtu = mtu;
  n.fd = fd;
  hooks_.watch_tun(fd, fw_.add_node(std::move(n)));
  if (g_verbose)
    logf("node %s site %s ip %s ns %s if %s", name.c_str(), site.c_str(), ipstr.c_str(), ns.c_str(), ifname.c_str());
  return "{\"ok\":true}";
}

std::string Control::cmd_node_del(const std::vector<std::string>& a) {
  if (a.size() != 2) return err_json("usage: node-del NAME");
  const int idx = fw_.find_node(a[1]);
  if (idx < 0) return "{\"ok\":true,\"existing\":false}";
  hooks_.unwatch_tun(fw_.node(idx).fd);
  fw_.remove_node(idx);
  return "{\"ok\":true,\"existing\":true}";
}

std::string Control::cmd_link_set(const std::vector<std::string>& a) {
  if (a.size() < 5 || a.size() > 6) return err_json("usage: link-set FROM TO LATENCY_US BANDWIDTH_BPS [QUEUE_BYTES]");
  if (!valid_name(a[1]) || !valid_name(a[2])) return err_json("bad site name");
  if (a[1] == a[2]) return err_json("a link joins two different sites");
  double lat_us;
  uint64_t bw, q = 0;
  if (!parse_double(a[3], lat_us) || lat_us > 60e6) return err_json("bad latency");
  if (!parse_u64(a[4], bw)) return err_json("bad bandwidth");
  if (a.size() == 6 && !parse_u64(a[5], q)) return err_json("bad queue size");
  Link& l = fw_.link(a[1], a[2]);
  l.latency_ns = int64_t(lat_us * 1000.0 + 0.5);
  l.bw_bps = bw;
  l.queue_bytes = q;
  return "{\"ok\":true}";
}

std::string Control::cmd_migrate(const std::vector<std::string>& a) {
  if (a.size() < 3 || a.size() > 5) return err_json("usage: migrate NAME SITE [DOWNTIME_MS [hold|drop]]");
  const int idx = fw_.find_node(a[1]);
  if (idx < 0) return err_json("no node " + a[1]);
  if (!valid_name(a[2])) return err_json("bad site name");
  double down_ms = 0;
  if (a.size() >= 4 && (!parse_double(a[3], down_ms) || down_ms > 3600e3)) return err_json("bad downtime");
  bool drop = false;
  if (a.size() == 5) {
    if (a[4] == "drop")
      drop = true;
    else if (a[4] != "hold")
      return err_json("mode must be hold or drop");
  }
  Node& n = fw_.node(idx);
  const std::string from = n.site;
  fw_.migrate(idx, a[2], int64_t(down_ms * 1e6), drop);
  if (g_verbose) logf("migrate %s %s -> %s downtime %.3f ms", n.name.c_str(), from.c_str(), n.site.c_str(), down_ms);
  return "{\"ok\":true,\"from\":" + json_str(from) + ",\"to\":" + json_str(n.site) + "}";
}

std::string Control::status_json(bool full) {
  std::string o = "{\"ok\":true";
  if (full) {
    o += ",\"pid\":" + std::to_string(getpid()) + ",\"version\":" + json_str(kVersion) +
         ",\"uptimeMs\":" + std::to_string((now_ns() - started_) / 1000000) + ",\"nodes\":[";
    bool first = true;
    int64_t now = now_ns();
    for (auto& n : fw_.nodes()) {
      if (!n.alive) continue;
      if (!first) o += ",";
      first = false;
      int64_t left = n.down_until > now ? n.down_until - now : 0;
      char b[48];
      std::snprintf(b, sizeof b, "%.3f", left / 1e6);
      o += "{\"name\":" + json_str(n.name) + ",\"site\":" + json_str(n.site) + ",\"ip\":" + json_str(ip_str(n.ip)) +
           ",\"prefix\":" + std::to_string(n.prefix) + ",\"netns\":" + json_str(n.netns) +
           ",\"ifname\":" + json_str(n.ifname) + ",\"mtu\":" + std::to_string(n.mtu) + ",\"downMsLeft\":" + b +
           ",\"heldBytes\":" + std::to_string(n.held_bytes) + ",\"migrations\":" + std::to_string(n.migrations) +
           ",\"tx\":" + counters_json(n.tx) + ",\"rx\":" + counters_json(n.rx) + "}";
    }
    o += "]";
  }
  o += ",\"links\":[";
  bool first = true;
  for (auto& kv : fw_.links()) {
    if (!first) o += ",";
    first = false;
    o += link_json(kv.second, full);
  }
  o += "],\"local\":[";
  first = true;
  for (auto& kv : fw_.local()) {
    if (!first) o += ",";
    first = false;
    o += "{\"site\":" + json_str(kv.first.first) + ",\"bytes\":" + std::to_string(kv.second.bytes) +
         ",\"packets\":" + std::to_string(kv.second.packets) + "}";
  }
  o += "],\"unroutable\":" + counters_json(fw_.unroutable()) + "}";
  return o;
}

std::string Control::handle(const std::string& line) {
  auto a = split_ws(line);
  if (a.empty()) return err_json("empty command");
  const std::string& c = a[0];
  if (c == "ping")
    return "{\"ok\":true,\"pid\":" + std::to_string(getpid()) + ",\"version\":" + json_str(kVersion) + "}";
  if (c == "node-add") return cmd_node_add(a);
  if (c == "node-del") return cmd_node_del(a);
  if (c == "link-set") return cmd_link_set(a);
  if (c == "migrate") return cmd_migrate(a);
  if (c == "status") return status_json(true);
  if (c == "counters") return status_json(false);
  if (c == "reset-counters") {
    fw_.reset_counters();
    return "{\"ok\":true}";
  }
  if (c == "shutdown") {
    hooks_.stop();
    return "{\"ok\":true}";
  }
  return err_json("unknown command: " + c);
}

}  // namespace wanemu
