#include "sender.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "clock.h"
#include "config.h"
#include "recorder.h"
#include "sender_cpus.h"
#include "sink.h"

namespace sitempi::shim {

namespace {

std::mutex g_mu;  // guards the fields below
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

void wake_sender() {
  if (g_wake_fd >= 0) {
    uint64_t one = 1;
    (void)!write(g_wake_fd, &one, sizeof one);
  }
}

// A placement the monitor pushed: kept when newer than the one in the mailbox.
void deliver(wire::Placement&& p) {
  std::lock_guard<std::mutex> g(g_mailbox_mu);
  if (p.epoch > g_mailbox_epoch.load()) {
    g_mailbox = std::move(p);
    g_mailbox_epoch.store(g_mailbox.epoch);
  }
}

// How long one blocking write may take: until the stop deadline once Finalize has begun.
uint32_t write_budget_ms() {
  std::lock_guard<std::mutex> g(g_mu);
  if (!g_stopping) return config().finalize_timeout_ms;
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(g_stop_deadline - std::chrono::steady_clock::now()).count();
  return left > 0 ? uint32_t(left) : 0;
}

class Sender {
 public:
  Sender() {
    const Config& c = config();
    if (c.monitor.empty())
      sink_ = file_sink(c.output_dir, g_hello.job, g_hello.rank);
    else
      sink_ = socket_sink(c.monitor, deliver);
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
      // Rounded up: poll() waits whole ms, and a wait rounded down to 0 spun through the last
      // millisecond before every flush (with SITEMPI_FLUSH_MS=3, a quarter of a core).
      int wait_ms =
          int(std::chrono::ceil<std::chrono::milliseconds>(next_flush - std::chrono::steady_clock::now()).count());
      if (!connected_ && !gave_up_) wait_ms = std::min<int>(wait_ms, int(backoff_ms_));
      poll(fds, 2, std::max(wait_ms, 0));
      if (fds[0].revents & POLLIN) {
        uint64_t v;
        (void)!read(g_wake_fd, &v, sizeof v);
      }
      if (fds[1].revents && !sink_->read_incoming())
        disconnect(sink_->may_reopen() ? "monitor closed the connection" : "refused");
      if (std::chrono::steady_clock::now() >= next_flush) {
        g_flush_gen.fetch_add(1, std::memory_order_relaxed);  // threads hand off partial chunks
        next_flush = std::chrono::steady_clock::now() + std::chrono::milliseconds(c.flush_ms);
      }
    }
    // Final: everything queued, then Bye.
    if (connected_) {
      wire::Bye bye{g_clock.to_ns(ticks()), records_total(), records_dropped() + lost_,
                    g_clock.span_ns(mpi_ticks_total())};
      out_.clear();
      wire::append_bye(out_, bye);
      sink_->write_all(out_.data(), out_.size(), write_budget_ms());
    }
    sink_->close();
    const std::string why = sink_->loss_notice();
    if (!why.empty())
      fprintf(stderr, "sitempi: rank %u: %s; %llu of %llu records lost\n", g_hello.rank, why.c_str(),
              (unsigned long long)(records_dropped() + lost_), (unsigned long long)records_total());
  }

 private:
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
      if (connected_) {
        backoff_ms_ = 10;
        log("connected to %s", sink_->name().c_str());
        return;
      }
      sink_->close();
      if (!sink_->may_reopen()) gave_up_ = true;  // e.g. a file on a full disk: one file, not many
      return;
    }
    if (!sink_->may_reopen()) {
      gave_up_ = true;
      return;
    }
    backoff_ms_ = std::min<uint32_t>(backoff_ms_ * 2, config().backoff_max_ms);
    next_attempt_ = now + std::chrono::milliseconds(backoff_ms_);
    if (stopping) gave_up_ = true;  // one last try at Finalize, then give up
  }

  void disconnect(const char* why) {
    log("disconnected: %s", why);
    sink_->close();
    connected_ = false;
    if (!sink_->may_reopen()) gave_up_ = true;
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
    uint64_t records = 0, batches = 0;
    while ((connected_ || gave_up_) && take_full_chunk(ch)) {  // a write may fail on the way
      if (connected_) {
        const uint64_t dropped = records_dropped() + lost_;
        wire::append_batch(out_, seq_++, dropped - reported_dropped_, ch.epoch, ch.recs, ch.n, g_clock.scale());
        reported_dropped_ = dropped;
        records += ch.records;
        ++batches;
      } else {
        lost_ += ch.records;
      }
      return_chunk(ch);
      if (out_.size() > kFrameBufferBytes) {
        send(records, batches);
        records = batches = 0;
      }
    }
    send(records, batches);
  }

  void send(uint64_t records, uint64_t batches) {
    if (out_.empty() || !connected_) {
      out_.clear();
      return;
    }
    if (!sink_->write_all(out_.data(), out_.size(), write_budget_ms())) {
      lost_ += records;  // what was in flight on a broken connection, or did not fit in the file
      if (sink_->intact())
        seq_ -= batches;  // nothing of them is in the stream: no gap
      else
        disconnect("write failed");
    }
    out_.clear();
  }

  std::unique_ptr<Sink> sink_;
  bool connected_ = false, gave_up_ = false;
  uint32_t backoff_ms_ = 10;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::vector<uint8_t> out_;
  uint64_t seq_ = 0, lost_ = 0, reported_dropped_ = 0;
};

}  // namespace

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
  recorder_on_chunk(wake_sender);
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
  if (g_stopped_cv.wait_for(g, std::chrono::milliseconds(timeout_ms + config().connect_timeout_ms + 500),
                            [] { return g_stopped; })) {
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
