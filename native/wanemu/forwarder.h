// The packet path: the node table (one TUN device per node) and the FIFO link of each directed
// site pair. Packets between nodes of one site pass at once; between sites they serialize at the
// link's bandwidth and then wait its one-way latency:
//     departure = max(now, link.next_free) + size / bandwidth
//     arrival   = departure + latency
// so a busy link queues like a real one (drop-tail when its backlog exceeds the queue limit).
// A node in a migration downtime has its packets held (or dropped) until the downtime ends.
// A packet is read once into a pool buffer and moved, not copied, until it is written (packet.h).
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "packet.h"

namespace wanemu {

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

  // The drop-tail limit: queue_bytes, or one round trip's worth of bandwidth, at least 1 MiB.
  uint64_t effective_queue() const;
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

class Forwarder {
 public:
  Forwarder(int64_t def_latency_ns, uint64_t def_bw) : def_latency_ns_(def_latency_ns), def_bw_(def_bw) {}

  // Reads what node idx's TUN has (at most a batch) and forwards it; false when it stopped at
  // the batch limit with more to read (the TUN is edge-triggered: call again soon).
  bool on_tun(int idx);
  // Delivers the packets due by `now` and releases the nodes whose downtime ended.
  void deliver_due(int64_t now);
  // The earliest arrival or downtime end pending (INT64_MAX: none).
  int64_t next_deadline() const;

  // Nodes keep their index for good (a removed node stays as !alive).
  int add_node(Node n);
  void remove_node(int idx);                     // closes its TUN, forgets what it held
  int find_node(const std::string& name) const;  // a live node's index, or -1
  int find_ip(uint32_t ip) const;                // likewise by address
  Node& node(int idx) { return nodes_[size_t(idx)]; }
  const std::deque<Node>& nodes() const { return nodes_; }
  // Moves a live node to `site`; a downtime (ns, 0: none) holds or drops its packets meanwhile.
  void migrate(int idx, const std::string& site, int64_t downtime_ns, bool drop);

  // The link of a directed site pair, made with the default parameters on first use.
  Link& link(const std::string& a, const std::string& b);
  const std::map<std::pair<std::string, std::string>, Link>& links() const { return links_; }
  const std::map<std::pair<std::string, std::string>, Counters>& local() const { return local_; }
  const Counters& unroutable() const { return unroutable_; }
  void reset_counters();
  void close_all();  // TUN devices disappear with their last fd

 private:
  // Each takes the packet over: it ends written, queued, held or back in the pool.
  void forward(int src, Packet&& p);
  void deliver(int dst, Packet&& p);
  void hold(Node& n, Packet&& p, int dst, bool outbound);
  void release_held(int idx);

  int64_t def_latency_ns_;
  uint64_t def_bw_;
  uint64_t hold_limit_ = 16ull * 1024 * 1024;  // bytes held per node in a downtime

  std::deque<Node> nodes_;              // index stable (dead nodes kept as !alive)
  std::map<uint32_t, int> by_ip_;       // ip -> node index
  std::map<std::string, int> by_name_;  // name -> node index
  std::map<std::pair<std::string, std::string>, Link> links_;
  std::map<std::pair<std::string, std::string>, Counters> local_;  // same-site, per site (a,a)
  Counters unroutable_;
  PacketPool pool_;
};

}  // namespace wanemu
