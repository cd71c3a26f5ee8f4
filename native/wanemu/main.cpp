// wanemu — the WAN emulator of the sitempi testbed (README.md beside this file).
//
// It owns one TUN device per virtual node (created inside the node's network namespace) and
// forwards IPv4 packets between them, through a FIFO link per directed site pair between sites.
// One thread, epoll + timerfd + signalfd: no busy loop. The files, one concern each:
//   forwarder.h   the packet path: nodes, links, holding packets in a downtime
//   tun.h         creating and configuring a node's TUN device in its network namespace
//   control.h     the control protocol (one command per line, one JSON object per line back)
//   event_loop.h  the thread: epoll, timer, signals, control socket and its clients
//   util.h        clock, logging, JSON quoting, parsing
//   main.cpp      the command line
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "event_loop.h"
#include "util.h"

namespace {

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
  using namespace wanemu;
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
    if (a == "--control")
      control = need("--control");
    else if (a == "--pidfile")
      pidfile = need("--pidfile");
    else if (a == "--default-latency-us") {
      if (!parse_double(need("--default-latency-us"), lat_us)) usage(2);
    } else if (a == "--default-bandwidth-bps") {
      if (!parse_u64(need("--default-bandwidth-bps"), bw)) usage(2);
    } else if (a == "--mtu") {
      if (!parse_u64(need("--mtu"), mtu) || mtu < 576 || mtu > 65535) usage(2);
    } else if (a == "--verbose" || a == "-v")
      g_verbose = true;
    else if (a == "--help" || a == "-h")
      usage(0);
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
  EventLoop loop(control, int64_t(lat_us * 1000), bw, int(mtu));
  int rc = loop.run();
  if (!pidfile.empty()) unlink(pidfile.c_str());
  return rc;
}
