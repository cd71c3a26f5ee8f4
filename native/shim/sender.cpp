#include "sender.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>
#include <map>
#include <unordered_map>
#include <vector>

#include "config.h"
#include "recorder.h"
#include "sender_cpus.h"

namespace sitempi::shim {

TickClock g_clock;

void TickClock::calibrate() {
  if (calibrated_) return;
  uint64_t elapsed = mono_ns() - mono0_;
  if (elapsed < 5000000) std::this_thread::sleep_for(std::chrono::nanoseconds(5000000 - elapsed));
  const uint64_t t = ticks(), m = mono_ns();
  if (t > tick0_ && m > mono0_) ns_per_tick_ = double(m - mono0_) / double(t - tick0_);
  calibrated_ = true;
}

namespace {

std::mutex g_mu;                      // guards the fields below
std::deque<wire::CommDef> g_announce;
// Announcements of live communicators, resent after a reconnect. A freed communicator's is
// dropped at the next drain (its last records are then sent, or in the thread chunks that
// follow; only a reconnect in between leaves those without their CommDef).
std::unordered_map<uint32_t, std::vector<uint8_t>> g_announced_frames;
std::vector<uint32_t> g_forget;
std::map<uint64_t, std::vector<uint8_t>> g_site_frames;  // per epoch: sent once, resent on reconnect
std::vector<std::vector<uint8_t>> g_site_queue;
bool g_stopping = false;
bool g_stopped = false;
std::chrono::steady_clock::time_point g_stop_deadline;  // set with g_stopping
std::condition_variable g_stopped_cv;

std::mutex g_mailbox_mu;
wire::Placement g_mailbox;
std::atomic<uint64_t> g_mailbox_epoch{0};

int g_wake_fd = -1;
std::thread g_thread;
wire::Hello g_hello;

// Where frames go: a socket to the monitor or a file.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual bool open() = 0;                 // false: try again later
  virtual bool write_all(const uint8_t* p, size_t n, uint32_t timeout_ms) = 0;
  virtual int read_fd() const { return -1; }
  virtual void close() = 0;
};

class FileSink : public Sink {
 public:
  explicit FileSink(std::string path) : path_(std::move(path)) {}
  bool open() override {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) log("cannot write %s: %s", path_.c_str(), strerror(errno));
    return fd_ >= 0;
  }
  bool write_all(const uint8_t* p, size_t n, uint32_t) override {
    while (n) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w; n -= size_t(w);
    }
    return true;
  }
  void close() override { if (fd_ >= 0) ::close(fd_); fd_ = -1; }
  bool reopen_allowed() const { return false; }

 private:
  std::string path_;
  int fd_ = -1;
};

class SocketSink : public Sink {
 public:
  explicit SocketSink(std::string url) : url_(std::move(url)) {}
  bool open() override {
    close();
    sockaddr_storage addr{};
    socklen_t len = 0;
    int family = 0;
    if (url_.rfind("unix:", 0) == 0) {
      std::string path = url_.substr(5);
      auto* un = reinterpret_cast<sockaddr_un*>(&addr);
      un->sun_family = AF_UNIX;
      if (path.size() >= sizeof un->sun_path) { log("socket path too long: %s", path.c_str()); return false; }
      memcpy(un->sun_path, path.c_str(), path.size() + 1);
      len = sizeof(sockaddr_un);
      family = AF_UNIX;
    } else {
      std::string hp = url_.rfind("tcp://", 0) == 0 ? url_.substr(6) : url_;
      size_t colon = hp.rfind(':');
      if (colon == std::string::npos) { log("bad SITEMPI_MONITOR %s (tcp://host:port or unix:/path)", url_.c_str()); return false; }
      std::string host = hp.substr(0, colon), port = hp.substr(colon + 1);
      if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
      addrinfo hints{}, *res = nullptr;
      hints.ai_socktype = SOCK_STREAM;
      if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) { log("cannot resolve %s", hp.c_str()); return false; }
      memcpy(&addr, res->ai_addr, res->ai_addrlen);
      len = res->ai_addrlen;
      family = res->ai_family;
      freeaddrinfo(res);
    }
    fd_ = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    if (family != AF_UNIX) { int one = 1; setsockopt(fd_, IPPROTO_TCP, 1 /*TCP_NODELAY*/, &one, sizeof one); }
    int rc = connect(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    if (rc < 0 && errno != EINPROGRESS) { close(); return false; }
    if (rc < 0) {
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, int(config().connect_timeout_ms)) <= 0) { close(); return false; }
      int err = 0;
      socklen_t el = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &el);
      if (err) { close(); return false; }
    }
    return true;
  }
  bool write_all(const uint8_t* p, size_t n, uint32_t timeout_ms) override {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (n) {
      ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL);
      if (w > 0) { p += w; n -= size_t(w); continue; }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
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
  // Reads what the monitor sent; false when the connection is gone or the monitor refused us.
  bool read_incoming() {
    uint8_t buf[4096];
    for (;;) {
      ssize_t r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (r > 0) { inbox_.insert(inbox_.end(), buf, buf + r); continue; }
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (r < 0 && errno == EINTR) continue;
      return false;  // closed or error
    }
    size_t off = 0;
    while (inbox_.size() - off >= 4) {
      uint32_t n = uint32_t(inbox_[off]) | uint32_t(inbox_[off + 1]) << 8 | uint32_t(inbox_[off + 2]) << 16 | uint32_t(inbox_[off + 3]) << 24;
      if (n > wire::kMaxFrameBytes) return false;
      if (inbox_.size() - off - 4 < n) break;
      wire::IncomingMessage m = wire::decode_envelope(inbox_.data() + off + 4, n);
      off += 4 + n;
      if (m.kind == wire::Incoming::Error) {
        log("monitor refused the connection: %s", m.error.c_str());
        refused_ = true;
        return false;
      }
      if (m.kind == wire::Incoming::Placement) {
        std::lock_guard<std::mutex> g(g_mailbox_mu);
        if (m.placement.epoch > g_mailbox_epoch.load()) {
          g_mailbox = std::move(m.placement);
          g_mailbox_epoch.store(g_mailbox.epoch);
        }
      }
    }
    inbox_.erase(inbox_.begin(), inbox_.begin() + long(off));
    return true;
  }
  bool refused() const { return refused_; }

 private:
  std::string url_;
  int fd_ = -1;
  std::vector<uint8_t> inbox_;
  bool refused_ = false;
};

// How long one blocking write may take: until the stop deadline once Finalize has begun.
uint32_t write_budget_ms() {
  std::lock_guard<std::mutex> g(g_mu);
  if (!g_stopping) return config().finalize_timeout_ms;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(g_stop_deadline - std::chrono::steady_clock::now()).count();
  return left > 0 ? uint32_t(left) : 0;
}

class Sender {
 public:
  Sender() {
    const Config& c = config();
    if (c.monitor.empty()) {
      file_mode_ = true;
      sink_.reset(new FileSink(c.output_dir + "/sitempi-" + sanitize(g_hello.job) + "-" + std::to_string(g_hello.rank) + ".smpi"));
    } else {
      sink_.reset(new SocketSink(c.monitor));
    }
  }

  void run() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);  // the application's handlers run in its own threads
    place_sender_thread(config().sender_cpus, config().local_ranks);
    pthread_setname_np(pthread_self(), "sitempi-sender");  // top -H, gdb, /proc; set once placed
    g_clock.calibrate();
    const Config& c = config();
    auto next_flush = std::chrono::steady_clock::now() + std::chrono::milliseconds(c.flush_ms);
    for (;;) {
      bool stopping;
      {
        std::lock_guard<std::mutex> g(g_mu);
        stopping = g_stopping;
      }
      if (!connected_) try_connect(stopping);
      drain(stopping);
      if (stopping) break;
      pollfd fds[2] = {{g_wake_fd, POLLIN, 0}, {connected_ ? sink_->read_fd() : -1, POLLIN, 0}};
      int wait_ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(next_flush - std::chrono::steady_clock::now()).count());
      if (!connected_ && !gave_up_) wait_ms = std::min<int>(wait_ms, int(backoff_ms_));
      poll(fds, 2, std::max(wait_ms, 0));
      if (fds[0].revents & POLLIN) { uint64_t v; (void)!read(g_wake_fd, &v, sizeof v); }
      if (fds[1].revents) {
        auto* s = static_cast<SocketSink*>(sink_.get());
        if (!s->read_incoming()) disconnect(s->refused() ? "refused" : "monitor closed the connection");
      }
      if (std::chrono::steady_clock::now() >= next_flush) {
        g_flush_gen.fetch_add(1, std::memory_order_relaxed);  // threads hand off partial chunks
        next_flush = std::chrono::steady_clock::now() + std::chrono::milliseconds(c.flush_ms);
      }
    }
    // Final: everything queued, then Bye.
    if (connected_) {
      wire::Bye bye{g_clock.to_ns(ticks()), records_total(), records_dropped() + lost_, g_clock.span_ns(mpi_ticks_total())};
      out_.clear();
      wire::append_bye(out_, bye);
      sink_->write_all(out_.data(), out_.size(), write_budget_ms());
    }
    sink_->close();
  }

 private:
  static std::string sanitize(const std::string& s) {
    std::string r = s;
    for (char& ch : r) if (!isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') ch = '_';
    return r;
  }

  void try_connect(bool stopping) {
    if (gave_up_) return;
    auto now = std::chrono::steady_clock::now();
    if (!stopping && now < next_attempt_) return;
    if (sink_->open()) {
      out_.clear();
      wire::append_hello(out_, g_hello);
      {
        std::lock_guard<std::mutex> g(g_mu);
        for (const auto& f : g_announced_frames) out_.insert(out_.end(), f.second.begin(), f.second.end());
        for (const auto& f : g_site_frames) out_.insert(out_.end(), f.second.begin(), f.second.end());
      }
      connected_ = sink_->write_all(out_.data(), out_.size(), std::min(config().connect_timeout_ms, write_budget_ms()));
      if (connected_) { backoff_ms_ = 10; log("connected to %s", file_mode_ ? "file" : config().monitor.c_str()); }
      else sink_->close();
      return;
    }
    if (file_mode_) { gave_up_ = true; return; }  // an unwritable directory will not get better
    backoff_ms_ = std::min<uint32_t>(backoff_ms_ * 2, config().backoff_max_ms);
    next_attempt_ = now + std::chrono::milliseconds(backoff_ms_);
    if (stopping) gave_up_ = true;  // one last try at Finalize, then give up
  }

  void disconnect(const char* why) {
    log("disconnected: %s", why);
    sink_->close();
    connected_ = false;
    if (static_cast<SocketSink*>(sink_.get())->refused()) gave_up_ = true;  // a wrong token stays wrong
    next_attempt_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff_ms_);
  }

  // Sends queued announcements and chunks. Disconnected, chunks stay queued (the application then
  // drops new records once the queue is full); once given up, they are discarded and counted.
  void drain(bool stopping) {
    if (stopping) flush_all_threads();
    if (!connected_ && !gave_up_) return;
    out_.clear();
    {
      std::lock_guard<std::mutex> g(g_mu);
      while (!g_announce.empty()) {
        std::vector<uint8_t> f;
        wire::append_comm_def(f, g_announce.front());
        out_.insert(out_.end(), f.begin(), f.end());
        g_announced_frames[g_announce.front().local_id] = std::move(f);
        g_announce.pop_front();
      }
      for (uint32_t id : g_forget) g_announced_frames.erase(id);
      g_forget.clear();
      for (const auto& f : g_site_queue) out_.insert(out_.end(), f.begin(), f.end());
      g_site_queue.clear();
    }
    Chunk ch;
    uint64_t records = 0;
    while (take_full_chunk(ch)) {
      if (connected_) {
        const uint64_t dropped = records_dropped() + lost_;
        wire::append_batch(out_, seq_++, dropped - reported_dropped_, ch.epoch, ch.recs, ch.n, g_clock.scale());
        reported_dropped_ = dropped;
        records += ch.n;
      } else {
        lost_ += ch.n;
      }
      return_chunk(ch);
      if (out_.size() > (1u << 20)) { send(records); records = 0; }
    }
    send(records);
  }

  void send(uint64_t records) {
    if (out_.empty() || !connected_) { out_.clear(); return; }
    if (!sink_->write_all(out_.data(), out_.size(), write_budget_ms())) {
      lost_ += records;  // what was in flight on a broken connection
      disconnect("write failed");
    }
    out_.clear();
  }

  std::unique_ptr<Sink> sink_;
  bool file_mode_ = false, connected_ = false, gave_up_ = false;
  uint32_t backoff_ms_ = 10;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::vector<uint8_t> out_;
  uint64_t seq_ = 0, lost_ = 0, reported_dropped_ = 0;
};

}  // namespace

void wake_sender() {
  if (g_wake_fd >= 0) { uint64_t one = 1; (void)!write(g_wake_fd, &one, sizeof one); }
}

void sender_sites_in_force(uint64_t epoch, const std::vector<uint32_t>& site_of) {
  std::lock_guard<std::mutex> g(g_mu);
  if (g_site_frames.count(epoch)) return;
  wire::Placement p;
  p.epoch = epoch;
  p.site_of = site_of;
  std::vector<uint8_t> f;
  wire::append_placement(f, p);
  g_site_frames[epoch] = f;
  g_site_queue.push_back(std::move(f));
}

void sender_forget(uint32_t local_id) {
  std::lock_guard<std::mutex> g(g_mu);
  g_forget.push_back(local_id);
}

void sender_announce(wire::CommDef def) {
  {
    std::lock_guard<std::mutex> g(g_mu);
    g_announce.push_back(std::move(def));
  }
}

void sender_start(const wire::Hello& hello) {
  g_hello = hello;
  g_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  g_thread = std::thread([] {
    Sender s;
    s.run();
    std::lock_guard<std::mutex> g(g_mu);
    g_stopped = true;
    g_stopped_cv.notify_all();
  });
}

void sender_stop(uint32_t timeout_ms) {
  if (!g_thread.joinable()) return;
  std::unique_lock<std::mutex> g(g_mu);
  g_stopping = true;
  g_stop_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  g.unlock();
  wake_sender();
  g.lock();
  if (g_stopped_cv.wait_for(g, std::chrono::milliseconds(timeout_ms + config().connect_timeout_ms + 500), [] { return g_stopped; })) {
    g.unlock();
    g_thread.join();
  } else {
    g.unlock();
    log("monitor did not take the last records within %u ms; leaving them", timeout_ms);
    g_thread.detach();  // never stall the application's exit
  }
}

uint64_t mailbox_epoch() { return g_mailbox_epoch.load(std::memory_order_relaxed); }

bool mailbox_get(wire::Placement& out) {
  std::lock_guard<std::mutex> g(g_mailbox_mu);
  if (g_mailbox_epoch.load() == 0) return false;
  out = g_mailbox;
  return true;
}

}  // namespace sitempi::shim
