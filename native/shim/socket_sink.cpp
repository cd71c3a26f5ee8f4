// The connection to the monitor (TCP or Unix socket): frames out, Placement/Error frames in.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "config.h"
#include "sink.h"

namespace sitempi::shim {
namespace {

class SocketSink : public Sink {
 public:
  SocketSink(std::string url, std::function<void(wire::Placement&&)> on_placement)
      : url_(std::move(url)), on_placement_(std::move(on_placement)) {}
  bool open() override {
    close();
    sockaddr_storage addr{};
    socklen_t len = 0;
    int family = 0;
    MonitorAddress where;
    const std::string why = parse_monitor_address(url_, where);
    if (!why.empty()) {
      log("bad SITEMPI_MONITOR %s: %s", url_.c_str(), why.c_str());
      return false;
    }
    if (where.unix_socket) {
      auto* un = reinterpret_cast<sockaddr_un*>(&addr);
      un->sun_family = AF_UNIX;
      memcpy(un->sun_path, where.path.c_str(), where.path.size() + 1);  // at most 107 bytes + NUL
      len = sizeof(sockaddr_un);
      family = AF_UNIX;
    } else {
      addrinfo hints{}, *res = nullptr;
      hints.ai_socktype = SOCK_STREAM;
      if (getaddrinfo(where.host.c_str(), where.port.c_str(), &hints, &res) != 0 || !res) {
        log("cannot resolve %s:%s", where.host.c_str(), where.port.c_str());
        return false;
      }
      memcpy(&addr, res->ai_addr, res->ai_addrlen);
      len = res->ai_addrlen;
      family = res->ai_family;
      freeaddrinfo(res);
    }
    fd_ = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    if (family != AF_UNIX) {
      int one = 1;
      setsockopt(fd_, IPPROTO_TCP, 1 /*TCP_NODELAY*/, &one, sizeof one);
    }
    int rc = connect(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    if (rc < 0 && errno != EINPROGRESS) {
      close();
      return false;
    }
    if (rc < 0) {
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, int(config().connect_timeout_ms)) <= 0) {
        close();
        return false;
      }
      int err = 0;
      socklen_t el = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &el);
      if (err) {
        close();
        return false;
      }
    }
    return true;
  }
  bool write_all(const uint8_t* p, size_t n, uint32_t timeout_ms) override {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (n) {
      ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL);
      if (w > 0) {
        p += w;
        n -= size_t(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return false;
        pollfd pf{fd_, POLLOUT, 0};
        poll(&pf, 1, int(left));
        continue;
      }
      return false;
    }
    return true;
  }
  int read_fd() const override { return fd_; }
  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    inbox_.clear();
  }
  bool intact() const override { return false; }          // part of a frame may have gone out
  bool may_reopen() const override { return !refused_; }  // a wrong token stays wrong
  std::string name() const override { return url_; }
  // Reads what the monitor sent; false when the connection is gone or the monitor refused us.
  bool read_incoming() override {
    uint8_t buf[4096];
    for (;;) {
      ssize_t r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (r > 0) {
        inbox_.insert(inbox_.end(), buf, buf + r);
        continue;
      }
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (r < 0 && errno == EINTR) continue;
      return false;  // closed or error
    }
    size_t off = 0;
    while (inbox_.size() - off >= 4) {
      uint32_t n = uint32_t(inbox_[off]) | uint32_t(inbox_[off + 1]) << 8 | uint32_t(inbox_[off + 2]) << 16 |
                   uint32_t(inbox_[off + 3]) << 24;
      if (n > wire::kMaxFrameBytes) return false;
      if (inbox_.size() - off - 4 < n) break;
      wire::IncomingMessage m = wire::decode_envelope(inbox_.data() + off + 4, n);
      off += 4 + n;
      if (m.kind == wire::Incoming::Error) {
        log("monitor refused the connection: %s", m.error.c_str());
        refused_ = true;
        return false;
      }
      if (m.kind == wire::Incoming::Placement) on_placement_(std::move(m.placement));
    }
    inbox_.erase(inbox_.begin(), inbox_.begin() + long(off));
    return true;
  }

 private:
  std::string url_;
  std::function<void(wire::Placement&&)> on_placement_;
  int fd_ = -1;
  std::vector<uint8_t> inbox_;
  bool refused_ = false;
};

}  // namespace

std::unique_ptr<Sink> socket_sink(const std::string& url, std::function<void(wire::Placement&&)> on_placement) {
  return std::make_unique<SocketSink>(url, std::move(on_placement));
}

}  // namespace sitempi::shim
