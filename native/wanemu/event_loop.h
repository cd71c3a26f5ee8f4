// wanemu's one thread: epoll over the TUN devices, a timerfd armed for the next packet arrival or
// downtime end, a signalfd (SIGTERM, SIGINT, SIGHUP) and the control socket with its clients.
// No busy loop: idle, it sleeps in epoll_wait.
#pragma once
#include <cstdint>
#include <map>
#include <string>

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
  void on_timer();
  void rearm();
  void on_listen();
  void on_client(int fd, uint32_t events);
  void flush_client(Client& c);
  void close_client(int fd);
  void shutdown_all();

  std::string control_path_;
  Forwarder fw_;
  Control control_;
  int ep_ = -1, tfd_ = -1, sfd_ = -1, lfd_ = -1;
  int64_t armed_ = -1;
  bool stop_ = false;
  std::map<int, Client> clients_;
};

}  // namespace wanemu
