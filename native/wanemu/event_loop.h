// wanemu's one thread: epoll over the TUN devices (edge-triggered), one timerfd armed for the
// earliest packet arrival or downtime end of all links (re-armed only when that changes), a
// signalfd (SIGTERM, SIGINT, SIGHUP) and the control socket with its clients. Each wakeup reads
// what the TUNs have and releases every packet whose time has come, in one pass.
// No busy loop: idle, it sleeps in epoll_wait.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "control.h"
#include "forwarder.h"

namespace wanemu {

class EventLoop {
 public:
  EventLoop(std::string control_path, int64_t def_latency_ns, uint64_t def_bw, int def_mtu);
  // Until shutdown or a signal; 0, or 1 when the loop could not be set up.
  int run();

 private:
  // epoll data: kind << 32 | index
  enum Kind : uint32_t { kTimer = 1, kSignal = 2, kListen = 3, kClient = 4, kTun = 5 };
  static uint64_t tag(Kind k, uint32_t i) { return (uint64_t(k) << 32) | i; }

  struct Client {
    int fd = -1;
    std::string in, out;
    bool close_after_flush = false;
  };

  void ep_add(int fd, uint32_t events, uint64_t tag);
  void ep_mod(int fd, uint32_t events, uint64_t tag);
  void arm();
  void read_tun(int node);
  void on_listen();
  void on_client(int fd, uint32_t events);
  void flush_client(Client& c);
  void close_client(int fd);
  void shutdown_all();

  std::string control_path_;
  Forwarder fw_;
  Control control_;
  int ep_ = -1, tfd_ = -1, sfd_ = -1, lfd_ = -1;
  int64_t armed_ = -1;  // the deadline the timerfd is set for (INT64_MAX: disarmed)
  bool stop_ = false;
  std::vector<int> unread_;  // TUNs left with packets at the batch limit: read on the next pass
  std::map<int, Client> clients_;
};

}  // namespace wanemu
