#include "event_loop.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

#include "util.h"

namespace wanemu {

EventLoop::EventLoop(std::string control_path, int64_t def_latency_ns, uint64_t def_bw, int def_mtu)
    : control_path_(std::move(control_path)),
      fw_(def_latency_ns, def_bw),
      control_(fw_, def_mtu,
               ControlHooks{[this](int fd, int node) {
                              ep_add(fd, EPOLLIN | EPOLLET, tag(kTun, uint32_t(node)));
                              read_tun(node);  // edge-triggered: what came before the watch
                            },
                            [this](int fd) { epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr); }, [this] { stop_ = true; }}) {
}

void EventLoop::ep_add(int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) logf("epoll_ctl add: %s", strerror(errno));
}

void EventLoop::ep_mod(int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::read_tun(int node) {
  if (!fw_.on_tun(node)) unread_.push_back(node);
}

// Arms the timerfd for the next arrival or downtime end (absolute, so never early); a syscall
// only when that deadline changed.
void EventLoop::arm() {
  const int64_t next = fw_.next_deadline();
  if (next == armed_) return;
  itimerspec its{};
  if (next != INT64_MAX) {
    its.it_value.tv_sec = std::max<int64_t>(next, 1) / 1000000000LL;
    its.it_value.tv_nsec = std::max<int64_t>(next, 1) % 1000000000LL;
  }
  timerfd_settime(tfd_, TFD_TIMER_ABSTIME, &its, nullptr);
  armed_ = next;
}

void EventLoop::on_listen() {
  for (;;) {
    int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    Client c;
    c.fd = fd;
    clients_[fd] = std::move(c);
    ep_add(fd, EPOLLIN | EPOLLRDHUP, tag(kClient, uint32_t(fd)));
  }
}

void EventLoop::close_client(int fd) {
  epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  clients_.erase(fd);
}

void EventLoop::flush_client(Client& c) {
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

void EventLoop::on_client(int fd, uint32_t events) {
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
      c.out += control_.handle(line);
      c.out += "\n";
    }
  }
  if (events & (EPOLLHUP | EPOLLERR)) c.close_after_flush = true;
  flush_client(c);
}

void EventLoop::shutdown_all() {
  for (auto& kv : clients_) {
    close(kv.first);
  }
  clients_.clear();
  fw_.close_all();
  if (lfd_ >= 0) close(lfd_);
  unlink(control_path_.c_str());
}

int EventLoop::run() {
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
    // Not at all when a TUN was left with packets at the batch limit.
    int n = epoll_wait(ep_, evs, 64, unread_.empty() ? -1 : 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      logf("epoll_wait: %s", strerror(errno));
      break;
    }
    std::vector<int> again;
    again.swap(unread_);
    for (int node : again) read_tun(node);
    for (int i = 0; i < n; ++i) {
      uint64_t t = evs[i].data.u64;
      uint32_t kind = uint32_t(t >> 32), idx = uint32_t(t & 0xffffffffu);
      switch (kind) {
        case kTimer: {
          uint64_t expirations;
          if (read(tfd_, &expirations, sizeof expirations) > 0) armed_ = -1;
          break;
        }
        case kSignal: {
          signalfd_siginfo si;
          while (read(sfd_, &si, sizeof si) == sizeof si) {
            logf("signal %u, shutting down", si.ssi_signo);
            stop_ = true;
          }
          break;
        }
        case kListen:
          on_listen();
          break;
        case kClient:
          on_client(int(idx), evs[i].events);
          break;
        case kTun:
          read_tun(int(idx));
          break;
      }
    }
    // Release every packet whose time has come, in one pass, and arm for the next.
    fw_.deliver_due(now_ns());
    arm();
  }
  shutdown_all();
  logf("stopped");
  return 0;
}

}  // namespace wanemu
