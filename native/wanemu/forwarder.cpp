#include "forwarder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "util.h"

namespace wanemu {

namespace {

constexpr int kReadBatch = 64;
constexpr uint64_t kMinAutoQueue = 1024 * 1024;

}  // namespace

uint64_t Link::effective_queue() const {
  if (queue_bytes) return queue_bytes;
  if (!bw_bps) return UINT64_MAX;
  // one round trip's worth (2 x one-way latency) of bandwidth, at least 1 MiB
  long double bdp = (long double)bw_bps / 8.0L * (2.0L * latency_ns) / 1e9L;
  return std::max<uint64_t>(kMinAutoQueue, uint64_t(bdp));
}

bool Forwarder::on_tun(int idx) {
  for (int i = 0; i < kReadBatch; ++i) {
    Node& n = nodes_[idx];
    if (!n.alive || n.fd < 0) return true;
    Packet p = pool_.take();
    ssize_t r = read(n.fd, p.data.get(), kBufBytes);
    if (r < 0) {
      pool_.give(p);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) logf("read %s: %s", n.name.c_str(), strerror(errno));
      return true;
    }
    if (r < 20) {
      pool_.give(p);
      continue;
    }
    p.len = uint32_t(r);
    n.tx.bytes += p.len;
    n.tx.packets++;
    forward(idx, std::move(p));
  }
  return false;
}

// Forward a packet sent by node src.
void Forwarder::forward(int src, Packet&& p) {
  const uint32_t len = p.len;
  if ((p.ip()[0] >> 4) != 4) {  // IPv4 only
    unroutable_.drop_bytes += len;
    unroutable_.drop_packets++;
    pool_.give(p);
    return;
  }
  Node& s = nodes_[src];
  uint32_t dip;
  std::memcpy(&dip, p.ip() + 16, 4);
  dip = ntohl(dip);
  auto it = by_ip_.find(dip);
  if (it == by_ip_.end() || !nodes_[it->second].alive) {
    unroutable_.drop_bytes += len;
    unroutable_.drop_packets++;
    pool_.give(p);
    return;
  }
  int dst = it->second;
  int64_t now = now_ns();
  if (s.down_until) {
    if (s.down_until > now) {
      hold(s, std::move(p), dst, true);
      return;
    }
    release_held(src);  // downtime over: what was held goes first
  }
  Node& d = nodes_[dst];
  if (d.site == s.site) {
    Counters& c = local_[{s.site, d.site}];
    c.bytes += len;
    c.packets++;
    deliver(dst, std::move(p));
    return;
  }
  Link& l = link(s.site, d.site);
  int64_t start = std::max(now, l.next_free);
  uint64_t backlog = 0;
  if (l.bw_bps && l.next_free > now) backlog = uint64_t((long double)(l.next_free - now) * l.bw_bps / 8e9L);
  if (backlog + len > l.effective_queue() && backlog > 0) {
    l.c.drop_bytes += len;
    l.c.drop_packets++;
    pool_.give(p);
    return;
  }
  l.max_backlog_bytes = std::max(l.max_backlog_bytes, backlog + len);
  int64_t ser = l.bw_bps ? int64_t((long double)len * 8e9L / l.bw_bps) : 0;
  int64_t departure = start + ser;
  l.next_free = departure;
  pool_.shrink_to_fit(p);
  p.dst = dst;
  p.arrive = departure + l.latency_ns;
  l.inflight_bytes += len;
  l.q.push_back(std::move(p));
}

void Forwarder::hold(Node& n, Packet&& p, int dst, bool outbound) {
  const uint32_t len = p.len;
  if (n.drop_when_down || n.held_bytes + len > hold_limit_) {
    n.rx.drop_bytes += outbound ? 0 : len;
    n.rx.drop_packets += outbound ? 0 : 1;
    n.tx.drop_bytes += outbound ? len : 0;
    n.tx.drop_packets += outbound ? 1 : 0;
    pool_.give(p);
    return;
  }
  pool_.shrink_to_fit(p);
  p.dst = dst;
  p.outbound = outbound;
  n.held_bytes += len;
  n.held.push_back(std::move(p));
}

void Forwarder::deliver(int dst, Packet&& p) {
  Node& d = nodes_[dst];
  if (!d.alive || d.fd < 0) {
    pool_.give(p);
    return;
  }
  if (d.down_until) {
    if (d.down_until > now_ns()) {
      hold(d, std::move(p), dst, false);
      return;
    }
    release_held(dst);
  }
  ssize_t w = write(d.fd, p.data.get(), p.len);
  if (w < 0) {
    d.rx.drop_bytes += p.len;
    d.rx.drop_packets++;
    if (g_verbose) logf("write %s: %s", d.name.c_str(), strerror(errno));
  } else {
    d.rx.bytes += p.len;
    d.rx.packets++;
  }
  pool_.give(p);
}

void Forwarder::release_held(int idx) {
  Node& n = nodes_[idx];
  n.down_until = 0;
  std::deque<Packet> held;
  held.swap(n.held);
  n.held_bytes = 0;
  for (auto& p : held) {
    const int dst = p.dst;
    if (p.outbound)
      forward(idx, std::move(p));
    else
      deliver(dst, std::move(p));
  }
}

void Forwarder::deliver_due(int64_t now) {
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
      const int dst = p.dst;
      deliver(dst, std::move(p));
    }
  }
}

int64_t Forwarder::next_deadline() const {
  int64_t next = INT64_MAX;
  for (auto& kv : links_)
    if (!kv.second.q.empty()) next = std::min(next, kv.second.q.front().arrive);
  for (auto& n : nodes_)
    if (n.alive && n.down_until) next = std::min(next, n.down_until);
  return next;
}

int Forwarder::add_node(Node n) {
  const int idx = int(nodes_.size());
  by_name_[n.name] = idx;
  by_ip_[n.ip] = idx;
  nodes_.push_back(std::move(n));
  return idx;
}

void Forwarder::remove_node(int idx) {
  Node& n = nodes_[size_t(idx)];
  close(n.fd);
  n.fd = -1;
  n.alive = false;
  n.held.clear();
  n.held_bytes = 0;
  n.down_until = 0;
  by_ip_.erase(n.ip);
  by_name_.erase(n.name);
}

int Forwarder::find_node(const std::string& name) const {
  auto it = by_name_.find(name);
  return it != by_name_.end() && nodes_[size_t(it->second)].alive ? it->second : -1;
}

int Forwarder::find_ip(uint32_t ip) const {
  auto it = by_ip_.find(ip);
  return it != by_ip_.end() && nodes_[size_t(it->second)].alive ? it->second : -1;
}

void Forwarder::migrate(int idx, const std::string& site, int64_t downtime_ns, bool drop) {
  Node& n = nodes_[size_t(idx)];
  const int64_t now = now_ns();
  // A migration that starts while a downtime is running ends the old one first.
  if (n.down_until) release_held(idx);
  n.site = site;
  n.migrations++;
  if (downtime_ns > 0) {
    n.down_until = now + downtime_ns;
    n.drop_when_down = drop;
  }
}

Link& Forwarder::link(const std::string& a, const std::string& b) {
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

void Forwarder::reset_counters() {
  for (auto& kv : links_) kv.second.c = Counters{}, kv.second.max_backlog_bytes = 0;
  for (auto& kv : local_) kv.second = Counters{};
  for (auto& n : nodes_) n.tx = Counters{}, n.rx = Counters{};
  unroutable_ = Counters{};
}

void Forwarder::close_all() {
  for (auto& n : nodes_)
    if (n.fd >= 0) close(n.fd), n.fd = -1;
}

}  // namespace wanemu
