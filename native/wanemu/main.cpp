// wanemu — the WAN emulator of the sitempi testbed.
//
// It owns one TUN device per virtual node (created inside the node's network
// namespace) and forwards IPv4 packets between them. Packets between nodes of
// the same site pass at once; packets between sites go through a FIFO link per
// directed site pair that serializes at the link's bandwidth and then delays by
// its one-way latency:
//     departure = max(now, link.next_free) + size / bandwidth
//     arrival   = departure + latency
// so a busy link queues like a real one (drop-tail when its backlog exceeds the
// queue limit). One thread, epoll + timerfd + signalfd: no busy loop.
//
// Control: a Unix stream socket, one command per line, one JSON object per line
// back (always with "ok"). Commands:
//   ping
//   node-add NAME SITE IPV4/PREFIX NETNS IFNAME [MTU]   (NETNS "-" = wanemu's own)
//   node-del NAME
//   link-set FROM TO LATENCY_US BANDWIDTH_BPS [QUEUE_BYTES]   (directed; 0 bps = unlimited,
//                                                            0 queue = auto)
//   migrate NAME SITE [DOWNTIME_MS [hold|drop]]
//   status | counters | reset-counters | shutdown
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr const char* kVersion = "1";
constexpr size_t kMaxPacket = 65536;
constexpr int kReadBatch = 64;
constexpr uint64_t kMinAutoQueue = 1024 * 1024;
constexpr uint64_t kDefaultHoldLimit = 16ull * 1024 * 1024;

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

bool g_verbose = false;

void logf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void logf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "wanemu: ");
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += char(c);
        }
    }
  }
  return o + "\"";
}

std::string err_json(const std::string& msg) {
  return "{\"ok\":false,\"error\":" + json_str(msg) + "}";
}

struct Packet {
  std::unique_ptr<uint8_t[]> data;
  uint32_t len = 0;
  int dst = -1;          // node index
  int64_t arrive = 0;    // ns, CLOCK_MONOTONIC
  bool outbound = false; // for held packets: true = sent by the held node
};

struct Counters {
  uint64_t bytes = 0, packets = 0, drop_bytes = 0, drop_packets = 0;
};

struct Link {
  std::string from, to;
  int64_t latency_ns = 0;
  uint64_t bw_bps = 0;       // 0 = unlimited
  uint64_t queue_bytes = 0;  // 0 = auto
  int64_t next_free = 0;     // when the serializer is free again
  std::deque<Packet> q;      // in flight, FIFO, by arrival
  uint64_t inflight_bytes = 0;
  Counters c;
  uint64_t max_backlog_bytes = 0;

  uint64_t effective_queue() const {
    if (queue_bytes) return queue_bytes;
    if (!bw_bps) return UINT64_MAX;
    // one round trip's worth (2 x one-way latency) of bandwidth, at least 1 MiB
    long double bdp = (long double)bw_bps / 8.0L * (2.0L * latency_ns) / 1e9L;
    return std::max<uint64_t>(kMinAutoQueue, uint64_t(bdp));
  }
};

struct Node {
  std::string name, site, netns, ifname;
  uint32_t ip = 0;  // host order
  int prefix = 0;
  int mtu = 0;
  int fd = -1;
  bool alive = true;
  int64_t down_until = 0;  // 0 = up
  bool drop_when_down = false;
  std::deque<Packet> held;
  uint64_t held_bytes = 0;
  Counters tx, rx;  // tx: read from its TUN; rx: written to its TUN
  uint64_t migrations = 0;
};

struct Client {
  int fd = -1;
  std::string in, out;
  bool close_after_flush = false;
};

class Emu {
 public:
  Emu(std::string control, int64_t def_lat_ns, uint64_t def_bw, int def_mtu)
      : control_path_(std::move(control)), def_latency_ns_(def_lat_ns), def_bw_(def_bw),
        def_mtu_(def_mtu) {}

  int run();

 private:
  // event loop tags: we store small integers in epoll data: kind<<32 | index
  enum Kind : uint32_t { kTimer = 1, kSignal = 2, kListen = 3, kClient = 4, kTun = 5 };

  std::string control_path_;
  int64_t def_latency_ns_;
  uint64_t def_bw_;
  int def_mtu_;
  uint64_t hold_limit_ = kDefaultHoldLimit;

  int ep_ = -1, tfd_ = -1, sfd_ = -1, lfd_ = -1;
  int64_t armed_ = -1;
  bool stop_ = false;
  int64_t started_ = 0;

  std::deque<Node> nodes_;                  // index stable (dead nodes kept as !alive)
  std::map<uint32_t, int> by_ip_;           // ip -> node index
  std::map<std::string, int> by_name_;      // name -> node index
  std::map<std::pair<std::string, std::string>, Link> links_;
  std::map<std::pair<std::string, std::string>, Counters> local_;  // same-site, per site (a,a)
  Counters unroutable_;
  std::map<int, Client> clients_;
  uint8_t buf_[kMaxPacket];

  void ep_add(int fd, uint32_t events, uint64_t tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) logf("epoll_ctl add: %s", strerror(errno));
  }
  void ep_mod(int fd, uint32_t events, uint64_t tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
  }
  static uint64_t tag(Kind k, uint32_t i) { return (uint64_t(k) << 32) | i; }

  Link& link(const std::string& a, const std::string& b) {
    auto key = std::make_pair(a, b);
    auto it = links_.find(key);
    if (it != links_.end()) return it->second;
    Link l;
    l.from = a;
    l.to = b;
    l.latency_ns = def_latency_ns_;
    l.bw_bps = def_bw_;
    return links_.emplace(key, std::move(l)).first->second;
  }

  void on_tun(int idx);
  void forward(int src, const uint8_t* data, uint32_t len, std::unique_ptr<uint8_t[]> owned);
  void deliver(int dst, const uint8_t* data, uint32_t len);
  void hold(Node& n, const uint8_t* data, uint32_t len, std::unique_ptr<uint8_t[]> owned,
            int dst, bool outbound);
  void on_timer();
  void release_held(int idx);
  void rearm();

  void on_listen();
  void on_client(int fd, uint32_t events);
  void flush_client(Client& c);
  void close_client(int fd);
  std::string handle(const std::string& line);

  std::string cmd_node_add(const std::vector<std::string>& a);
  std::string cmd_node_del(const std::vector<std::string>& a);
  std::string cmd_link_set(const std::vector<std::string>& a);
  std::string cmd_migrate(const std::vector<std::string>& a);
  std::string status_json(bool full);
  std::string link_json(const Link& l, bool full);
  void shutdown_all();
};

std::unique_ptr<uint8_t[]> copy_packet(const uint8_t* d, uint32_t len) {
  std::unique_ptr<uint8_t[]> p(new uint8_t[len]);
  std::memcpy(p.get(), d, len);
  return p;
}

void Emu::on_tun(int idx) {
  for (int i = 0; i < kReadBatch; ++i) {
    Node& n = nodes_[idx];
    if (!n.alive || n.fd < 0) return;
    ssize_t r = read(n.fd, buf_, sizeof buf_);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) logf("read %s: %s", n.name.c_str(), strerror(errno));
      return;
    }
    if (r < 20) continue;
    n.tx.bytes += uint64_t(r);
    n.tx.packets++;
    forward(idx, buf_, uint32_t(r), nullptr);
  }
}

// Forward a packet sent by node src. If owned is null the data lives in buf_
// (or elsewhere transient) and is copied only if it has to wait.
void Emu::forward(int src, const uint8_t* data, uint32_t len, std::unique_ptr<uint8_t[]> owned) {
  if ((data[0] >> 4) != 4) {  // IPv4 only
    unroutable_.drop_bytes += len;
    unroutable_.drop_packets++;
    return;
  }
  Node& s = nodes_[src];
  uint32_t dip;
  std::memcpy(&dip, data + 16, 4);
  dip = ntohl(dip);
  auto it = by_ip_.find(dip);
  if (it == by_ip_.end() || !nodes_[it->second].alive) {
    unroutable_.drop_bytes += len;
    unroutable_.drop_packets++;
    return;
  }
  int dst = it->second;
  int64_t now = now_ns();
  if (s.down_until) {
    if (s.down_until > now) {
      hold(s, data, len, std::move(owned), dst, true);
      return;
    }
    release_held(src);  // downtime over: what was held goes first
  }
  Node& d = nodes_[dst];
  if (d.site == s.site) {
    Counters& c = local_[{s.site, d.site}];
    c.bytes += len;
    c.packets++;
    deliver(dst, data, len);
    return;
  }
  Link& l = link(s.site, d.site);
  int64_t start = std::max(now, l.next_free);
  uint64_t backlog = 0;
  if (l.bw_bps && l.next_free > now)
    backlog = uint64_t((long double)(l.next_free - now) * l.bw_bps / 8e9L);
  if (backlog + len > l.effective_queue() && backlog > 0) {
    l.c.drop_bytes += len;
    l.c.drop_packets++;
    return;
  }
  l.max_backlog_bytes = std::max(l.max_backlog_bytes, backlog + len);
  int64_t ser = l.bw_bps ? int64_t((long double)len * 8e9L / l.bw_bps) : 0;
  int64_t departure = start + ser;
  l.next_free = departure;
  Packet p;
  p.data = owned ? std::move(owned) : copy_packet(data, len);
  p.len = len;
  p.dst = dst;
  p.arrive = departure + l.latency_ns;
  l.inflight_bytes += len;
  l.q.push_back(std::move(p));
}

void Emu::hold(Node& n, const uint8_t* data, uint32_t len, std::unique_ptr<uint8_t[]> owned,
               int dst, bool outbound) {
  if (n.drop_when_down || n.held_bytes + len > hold_limit_) {
    n.rx.drop_bytes += outbound ? 0 : len;
    n.rx.drop_packets += outbound ? 0 : 1;
    n.tx.drop_bytes += outbound ? len : 0;
    n.tx.drop_packets += outbound ? 1 : 0;
    return;
  }
  Packet p;
  p.data = owned ? std::move(owned) : copy_packet(data, len);
  p.len = len;
  p.dst = dst;
  p.outbound = outbound;
  n.held_bytes += len;
  n.held.push_back(std::move(p));
}

void Emu::deliver(int dst, const uint8_t* data, uint32_t len) {
  Node& d = nodes_[dst];
  if (!d.alive || d.fd < 0) return;
  if (d.down_until) {
    if (d.down_until > now_ns()) {
      hold(d, data, len, nullptr, dst, false);
      return;
    }
    release_held(dst);
  }
  ssize_t w = write(d.fd, data, len);
  if (w < 0) {
    d.rx.drop_bytes += len;
    d.rx.drop_packets++;
    if (g_verbose) logf("write %s: %s", d.name.c_str(), strerror(errno));
    return;
  }
  d.rx.bytes += len;
  d.rx.packets++;
}

void Emu::release_held(int idx) {
  Node& n = nodes_[idx];
  n.down_until = 0;
  std::deque<Packet> held;
  held.swap(n.held);
  n.held_bytes = 0;
  for (auto& p : held) {
    if (p.outbound) {
      const uint8_t* d = p.data.get();
      uint32_t len = p.len;
      forward(idx, d, len, std::move(p.data));
    } else {
      deliver(p.dst, p.data.get(), p.len);
    }
  }
}

void Emu::on_timer() {
  uint64_t exp;
  while (read(tfd_, &exp, sizeof exp) > 0) {
  }
  armed_ = -1;
  int64_t now = now_ns();
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].alive && nodes_[i].down_until && nodes_[i].down_until <= now) release_held(int(i));
  for (auto& kv : links_) {
    Link& l = kv.second;
    while (!l.q.empty() && l.q.front().arrive <= now) {
      Packet p = std::move(l.q.front());
      l.q.pop_front();
      l.inflight_bytes -= p.len;
      l.c.bytes += p.len;
      l.c.packets++;
      deliver(p.dst, p.data.get(), p.len);
    }
  }
}

void Emu::rearm() {
  int64_t next = INT64_MAX;
  for (auto& kv : links_)
    if (!kv.second.q.empty()) next = std::min(next, kv.second.q.front().arrive);
  for (auto& n : nodes_)
    if (n.alive && n.down_until) next = std::min(next, n.down_until);
  if (next == INT64_MAX) {
    if (armed_ != -1) {
      itimerspec its{};
      timerfd_settime(tfd_, TFD_TIMER_ABSTIME, &its, nullptr);
      armed_ = -1;
    }
    return;
  }
  if (next == armed_) return;
  if (next <= 0) next = 1;
  itimerspec its{};
  its.it_value.tv_sec = next / 1000000000LL;
  its.it_value.tv_nsec = next % 1000000000LL;
  timerfd_settime(tfd_, TFD_TIMER_ABSTIME, &its, nullptr);
  armed_ = next;
}

// ---------------------------------------------------------------- control

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream is(s);
  std::string w;
  while (is >> w) out.push_back(w);
  return out;
}

bool parse_u64(const std::string& s, uint64_t& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long x = std::strtoull(s.c_str(), &end, 10);
  if (errno || *end || s[0] == '-') return false;
  v = x;
  return true;
}

bool parse_double(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double x = std::strtod(s.c_str(), &end);
  if (errno || *end || !(x >= 0)) return false;
  v = x;
  return true;
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::string ip_str(uint32_t ip) {
  in_addr a;
  a.s_addr = htonl(ip);
  char b[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, b, sizeof b);
  return b;
}

// Configure address, MTU and up state of an interface in the current netns.
std::string configure_if(const std::string& ifname, uint32_t ip, int prefix, int mtu) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return std::string("socket: ") + strerror(errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(ip);
  std::string err;
  if (ioctl(s, SIOCSIFADDR, &ifr) < 0) err = std::string("SIOCSIFADDR: ") + strerror(errno);
  if (err.empty()) {
    std::memset(&ifr.ifr_addr, 0, sizeof ifr.ifr_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(prefix == 0 ? 0 : (0xffffffffu << (32 - prefix)));
    if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) err = std::string("SIOCSIFNETMASK: ") + strerror(errno);
  }
  if (err.empty()) {
    ifr.ifr_mtu = mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) err = std::string("SIOCSIFMTU: ") + strerror(errno);
  }
  if (err.empty()) {
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
      err = std::string("SIOCGIFFLAGS: ") + strerror(errno);
    } else {
      ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
      if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) err = std::string("SIOCSIFFLAGS: ") + strerror(errno);
    }
  }
  close(s);
  return err;
}

std::string Emu::cmd_node_add(const std::vector<std::string>& a) {
  if (a.size() < 6 || a.size() > 7)
    return err_json("usage: node-add NAME SITE IPV4/PREFIX NETNS IFNAME [MTU]");
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
  auto existing = by_name_.find(name);
  if (existing != by_name_.end() && nodes_[existing->second].alive) {
    Node& n = nodes_[existing->second];
    if (n.ip == ip && n.netns == ns && n.ifname == ifname)
      return "{\"ok\":true,\"existing\":true}";
    return err_json("node " + name + " exists with other parameters");
  }
  auto ipit = by_ip_.find(ip);
  if (ipit != by_ip_.end() && nodes_[ipit->second].alive)
    return err_json("address " + ipstr + " already used by node " + nodes_[ipit->second].name);

  int self = -1, target = -1;
  if (ns != "-") {
    self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) return err_json(std::string("open /proc/self/ns/net: ") + strerror(errno));
    std::string p = "/run/netns/" + ns;
    target = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      std::string e = "open " + p + ": " + strerror(errno);
      close(self);
      return err_json(e);
    }
    if (setns(target, CLONE_NEWNET) < 0) {
      std::string e = std::string("setns: ") + strerror(errno);
      close(self);
      close(target);
      return err_json(e);
    }
  }
  std::string err;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    err = std::string("open /dev/net/tun: ") + strerror(errno);
  } else {
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
      err = std::string("TUNSETIFF ") + ifname + ": " + strerror(errno);
    } else {
      // No IPv6 on the data network (router solicitations would only be noise);
      // /proc/sys/net follows the netns we are in now.
      std::string p6 = "/proc/sys/net/ipv6/conf/" + ifname + "/disable_ipv6";
      int f6 = open(p6.c_str(), O_WRONLY | O_CLOEXEC);
      if (f6 >= 0) {
        if (write(f6, "1", 1) < 0) {
        }
        close(f6);
      }
      err = configure_if(ifname, ip, prefix, mtu);
    }
    if (!err.empty()) {
      close(fd);
      fd = -1;
    }
  }
  if (ns != "-") {
    if (setns(self, CLONE_NEWNET) < 0) {
      logf("FATAL: cannot return to own netns: %s", strerror(errno));
      std::abort();
    }
    close(self);
    close(target);
  }
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
  int idx = int(nodes_.size());
  nodes_.push_back(std::move(n));
  by_name_[name] = idx;
  by_ip_[ip] = idx;
  ep_add(fd, EPOLLIN, tag(kTun, uint32_t(idx)));
  if (g_verbose) logf("node %s site %s ip %s ns %s if %s", name.c_str(), site.c_str(), ipstr.c_str(), ns.c_str(), ifname.c_str());
  return "{\"ok\":true}";
}

std::string Emu::cmd_node_del(const std::vector<std::string>& a) {
  if (a.size() != 2) return err_json("usage: node-del NAME");
  auto it = by_name_.find(a[1]);
  if (it == by_name_.end() || !nodes_[it->second].alive) return "{\"ok\":true,\"existing\":false}";
  Node& n = nodes_[it->second];
  epoll_ctl(ep_, EPOLL_CTL_DEL, n.fd, nullptr);
  close(n.fd);
  n.fd = -1;
  n.alive = false;
  n.held.clear();
  n.held_bytes = 0;
  n.down_until = 0;
  by_ip_.erase(n.ip);
  by_name_.erase(it);
  return "{\"ok\":true,\"existing\":true}";
}

std::string Emu::cmd_link_set(const std::vector<std::string>& a) {
  if (a.size() < 5 || a.size() > 6)
    return err_json("usage: link-set FROM TO LATENCY_US BANDWIDTH_BPS [QUEUE_BYTES]");
  if (!valid_name(a[1]) || !valid_name(a[2])) return err_json("bad site name");
  if (a[1] == a[2]) return err_json("a link joins two different sites");
  double lat_us;
  uint64_t bw, q = 0;
  if (!parse_double(a[3], lat_us) || lat_us > 60e6) return err_json("bad latency");
  if (!parse_u64(a[4], bw)) return err_json("bad bandwidth");
  if (a.size() == 6 && !parse_u64(a[5], q)) return err_json("bad queue size");
  Link& l = link(a[1], a[2]);
  l.latency_ns = int64_t(lat_us * 1000.0 + 0.5);
  l.bw_bps = bw;
  l.queue_bytes = q;
  return "{\"ok\":true}";
}

std::string Emu::cmd_migrate(const std::vector<std::string>& a) {
  if (a.size() < 3 || a.size() > 5) return err_json("usage: migrate NAME SITE [DOWNTIME_MS [hold|drop]]");
  auto it = by_name_.find(a[1]);
  if (it == by_name_.end() || !nodes_[it->second].alive) return err_json("no node " + a[1]);
  if (!valid_name(a[2])) return err_json("bad site name");
  double down_ms = 0;
  if (a.size() >= 4 && (!parse_double(a[3], down_ms) || down_ms > 3600e3)) return err_json("bad downtime");
  bool drop = false;
  if (a.size() == 5) {
    if (a[4] == "drop") drop = true;
    else if (a[4] != "hold") return err_json("mode must be hold or drop");
  }
  int idx = it->second;
  Node& n = nodes_[idx];
  std::string from = n.site;
  int64_t now = now_ns();
  // A migration that starts while a downtime is running ends the old one first.
  if (n.down_until) release_held(idx);
  n.site = a[2];
  n.migrations++;
  if (down_ms > 0) {
    n.down_until = now + int64_t(down_ms * 1e6);
    n.drop_when_down = drop;
  }
  if (g_verbose) logf("migrate %s %s -> %s downtime %.3f ms", n.name.c_str(), from.c_str(), n.site.c_str(), down_ms);
  return "{\"ok\":true,\"from\":" + json_str(from) + ",\"to\":" + json_str(n.site) + "}";
}

std::string counters_json(const Counters& c) {
  return "{\"bytes\":" + std::to_string(c.bytes) + ",\"packets\":" + std::to_string(c.packets) +
         ",\"dropBytes\":" + std::to_string(c.drop_bytes) + ",\"dropPackets\":" + std::to_string(c.drop_packets) + "}";
}

std::string Emu::link_json(const Link& l, bool full) {
  std::string o = "{\"from\":" + json_str(l.from) + ",\"to\":" + json_str(l.to);
  if (full) {
    char b[64];
    std::snprintf(b, sizeof b, "%.3f", l.latency_ns / 1000.0);
    o += std::string(",\"latencyUs\":") + b + ",\"bandwidthBps\":" + std::to_string(l.bw_bps) +
         ",\"queueBytes\":" + std::to_string(l.queue_bytes) +
         ",\"effectiveQueueBytes\":" + (l.effective_queue() == UINT64_MAX ? std::string("null") : std::to_string(l.effective_queue())) +
         ",\"inflightBytes\":" + std::to_string(l.inflight_bytes) +
         ",\"inflightPackets\":" + std::to_string(l.q.size()) +
         ",\"maxBacklogBytes\":" + std::to_string(l.max_backlog_bytes);
  }
  Counters c = l.c;
  o += ",\"bytes\":" + std::to_string(c.bytes) + ",\"packets\":" + std::to_string(c.packets) +
       ",\"dropBytes\":" + std::to_string(c.drop_bytes) + ",\"dropPackets\":" + std::to_string(c.drop_packets) + "}";
  return o;
}

std::string Emu::status_json(bool full) {
  std::string o = "{\"ok\":true";
  if (full) {
    o += ",\"pid\":" + std::to_string(getpid()) + ",\"version\":" + json_str(kVersion) +
         ",\"uptimeMs\":" + std::to_string((now_ns() - started_) / 1000000) + ",\"nodes\":[";
    bool first = true;
    int64_t now = now_ns();
    for (auto& n : nodes_) {
      if (!n.alive) continue;
      if (!first) o += ",";
      first = false;
      int64_t left = n.down_until > now ? n.down_until - now : 0;
      char b[48];
      std::snprintf(b, sizeof b, "%.3f", left / 1e6);
      o += "{\"name\":" + json_str(n.name) + ",\"site\":" + json_str(n.site) + ",\"ip\":" +
           json_str(ip_str(n.ip)) + ",\"prefix\":" + std::to_string(n.prefix) + ",\"netns\":" + json_str(n.netns) +
           ",\"ifname\":" + json_str(n.ifname) + ",\"mtu\":" + std::to_string(n.mtu) +
           ",\"downMsLeft\":" + b + ",\"heldBytes\":" + std::to_string(n.held_bytes) +
           ",\"migrations\":" + std::to_string(n.migrations) + ",\"tx\":" + counters_json(n.tx) +
           ",\"rx\":" + counters_json(n.rx) + "}";
    }
    o += "]";
  }
  o += ",\"links\":[";
  bool first = true;
  for (auto& kv : links_) {
    if (!first) o += ",";
    first = false;
    o += link_json(kv.second, full);
  }
  o += "],\"local\":[";
  first = true;
  for (auto& kv : local_) {
    if (!first) o += ",";
    first = false;
    o += "{\"site\":" + json_str(kv.first.first) + ",\"bytes\":" + std::to_string(kv.second.bytes) +
         ",\"packets\":" + std::to_string(kv.second.packets) + "}";
  }
  o += "],\"unroutable\":" + counters_json(unroutable_) + "}";
  return o;
}

std::string Emu::handle(const std::string& line) {
  auto a = split_ws(line);
  if (a.empty()) return err_json("empty command");
  const std::string& c = a[0];
  if (c == "ping") return "{\"ok\":true,\"pid\":" + std::to_string(getpid()) + ",\"version\":" + json_str(kVersion) + "}";
  if (c == "node-add") return cmd_node_add(a);
  if (c == "node-del") return cmd_node_del(a);
  if (c == "link-set") return cmd_link_set(a);
  if (c == "migrate") return cmd_migrate(a);
  if (c == "status") return status_json(true);
  if (c == "counters") return status_json(false);
  if (c == "reset-counters") {
    for (auto& kv : links_) kv.second.c = Counters{}, kv.second.max_backlog_bytes = 0;
    for (auto& kv : local_) kv.second = Counters{};
    for (auto& n : nodes_) n.tx = Counters{}, n.rx = Counters{};
    unroutable_ = Counters{};
    return "{\"ok\":true}";
  }
  if (c == "shutdown") {
    stop_ = true;
    return "{\"ok\":true}";
  }
  return err_json("unknown command: " + c);
}

void Emu::on_listen() {
  for (;;) {
    int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    Client c;
    c.fd = fd;
    clients_[fd] = std::move(c);
    ep_add(fd, EPOLLIN | EPOLLRDHUP, tag(kClient, uint32_t(fd)));
  }
}

void Emu::close_client(int fd) {
  epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  clients_.erase(fd);
}

void Emu::flush_client(Client& c) {
  while (!c.out.empty()) {
    ssize_t w = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      c.out.clear();
      c.close_after_flush = true;
      break;
    }
    c.out.erase(0, size_t(w));
  }
  if (c.out.empty() && c.close_after_flush) {
    close_client(c.fd);
    return;
  }
  ep_mod(c.fd, EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : uint32_t(EPOLLOUT)), tag(kClient, uint32_t(c.fd)));
}

void Emu::on_client(int fd, uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& c = it->second;
  if (events & EPOLLIN) {
    char b[4096];
    for (;;) {
      ssize_t r = recv(fd, b, sizeof b, 0);
      if (r > 0) {
        c.in.append(b, size_t(r));
        if (c.in.size() > 1 << 20) {
          close_client(fd);
          return;
        }
        continue;
      }
      if (r == 0) c.close_after_flush = true;
      break;
    }
    size_t pos;
    while ((pos = c.in.find('\n')) != std::string::npos) {
      std::string line = c.in.substr(0, pos);
      c.in.erase(0, pos + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      c.out += handle(line);
      c.out += "\n";
    }
  }
  if (events & (EPOLLHUP | EPOLLERR)) c.close_after_flush = true;
  flush_client(c);
}

void Emu::shutdown_all() {
  for (auto& kv : clients_) {
    close(kv.first);
  }
  clients_.clear();
  for (auto& n : nodes_)
    if (n.fd >= 0) close(n.fd), n.fd = -1;  // TUN devices disappear with their last fd
  if (lfd_ >= 0) close(lfd_);
  unlink(control_path_.c_str());
}

int Emu::run() {
  started_ = now_ns();
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  sigset_t ss;
  sigemptyset(&ss);
  sigaddset(&ss, SIGTERM);
  sigaddset(&ss, SIGINT);
  sigaddset(&ss, SIGHUP);
  sigprocmask(SIG_BLOCK, &ss, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ep_ = epoll_create1(EPOLL_CLOEXEC);
  tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  sfd_ = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
  if (ep_ < 0 || tfd_ < 0 || sfd_ < 0) {
    logf("epoll/timerfd/signalfd: %s", strerror(errno));
    return 1;
  }
  ep_add(tfd_, EPOLLIN, tag(kTimer, 0));
  ep_add(sfd_, EPOLLIN, tag(kSignal, 0));

  lfd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (control_path_.size() >= sizeof sa.sun_path) {
    logf("control socket path too long: %s", control_path_.c_str());
    return 1;
  }
  std::strcpy(sa.sun_path, control_path_.c_str());
  unlink(control_path_.c_str());
  mode_t old = umask(0077);
  if (bind(lfd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || listen(lfd_, 16) < 0) {
    logf("control socket %s: %s", control_path_.c_str(), strerror(errno));
    umask(old);
    return 1;
  }
  umask(old);
  ep_add(lfd_, EPOLLIN, tag(kListen, 0));
  logf("ready, control %s, pid %d", control_path_.c_str(), int(getpid()));

  epoll_event evs[64];
  while (!stop_) {
    int n = epoll_wait(ep_, evs, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      logf("epoll_wait: %s", strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      uint64_t t = evs[i].data.u64;
      uint32_t kind = uint32_t(t >> 32), idx = uint32_t(t & 0xffffffffu);
      switch (kind) {
        case kTimer: on_timer(); break;
        case kSignal: {
          signalfd_siginfo si;
          while (read(sfd_, &si, sizeof si) == sizeof si) {
            logf("signal %u, shutting down", si.ssi_signo);
            stop_ = true;
          }
          break;
        }
        case kListen: on_listen(); break;
        case kClient: on_client(int(idx), evs[i].events); break;
        case kTun: on_tun(int(idx)); break;
      }
    }
    // Deliver whatever became due while we were busy, then arm for the next.
    on_timer();
    rearm();
  }
  shutdown_all();
  logf("stopped");
  return 0;
}

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: wanemu --control PATH [--default-latency-us N] [--default-bandwidth-bps N]\n"
               "              [--mtu N] [--pidfile PATH] [--verbose]\n"
               "Forwards IPv4 between per-node TUN devices with per-site-pair FIFO links.\n"
               "Control commands (one per line on the Unix socket): ping, node-add, node-del,\n"
               "link-set, migrate, status, counters, reset-counters, shutdown.\n");
  std::exit(rc);
}

}  // namespace

int main(int argc, char** argv) {
  std::string control, pidfile;
  double lat_us = 5000;
  uint64_t bw = 1000000000ull;
  uint64_t mtu = 65000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&](const char* what) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "wanemu: %s needs a value\n", what);
        usage(2);
      }
      return argv[++i];
    };
    if (a == "--control") control = need("--control");
    else if (a == "--pidfile") pidfile = need("--pidfile");
    else if (a == "--default-latency-us") {
      if (!parse_double(need("--default-latency-us"), lat_us)) usage(2);
    } else if (a == "--default-bandwidth-bps") {
      if (!parse_u64(need("--default-bandwidth-bps"), bw)) usage(2);
    } else if (a == "--mtu") {
      if (!parse_u64(need("--mtu"), mtu) || mtu < 576 || mtu > 65535) usage(2);
    } else if (a == "--verbose" || a == "-v") g_verbose = true;
    else if (a == "--help" || a == "-h") usage(0);
    else {
      std::fprintf(stderr, "wanemu: unknown argument %s\n", a.c_str());
      usage(2);
    }
  }
  if (control.empty()) usage(2);
  if (!pidfile.empty()) {
    FILE* f = std::fopen(pidfile.c_str(), "w");
    if (f) {
      std::fprintf(f, "%d\n", int(getpid()));
      std::fclose(f);
    }
  }
  Emu emu(control, int64_t(lat_us * 1000), bw, int(mtu));
  int rc = emu.run();
  if (!pidfile.empty()) unlink(pidfile.c_str());
  return rc;
}
