#include "tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "util.h"

namespace wanemu {

namespace {

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

// Creates and configures the TUN in the namespace we are in now.
std::string create_here(const std::string& ifname, uint32_t ip, int prefix, int mtu, int& fd_out) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::string("open /dev/net/tun: ") + strerror(errno);
  std::string err;
  ifreq ifr{};
  // No checksum offload (IFF_VNET_HDR + TUN_F_CSUM): it would spare wanemu the receiver's
  // checksum, but it also turns on scatter-gather and GSO in the nodes' TCP stacks, and the
  // testbed's results should not change with the emulator (tried: same CPU per GB within noise,
  // and the migration test's same-site round trips were no better; native/wanemu/README.md).
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    err = std::string("TUNSETIFF ") + ifname + ": " + strerror(errno);
  } else {
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
    return err;
  }
  fd_out = fd;
  return err;
}

}  // namespace

std::string open_tun(const std::string& netns, const std::string& ifname, uint32_t ip, int prefix, int mtu, int& fd) {
  if (netns == "-") return create_here(ifname, ip, prefix, mtu, fd);
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return std::string("open /proc/self/ns/net: ") + strerror(errno);
  std::string p = "/run/netns/" + netns;
  int target = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    std::string e = "open " + p + ": " + strerror(errno);
    close(self);
    return e;
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    std::string e = std::string("setns: ") + strerror(errno);
    close(self);
    close(target);
    return e;
  }
  std::string err = create_here(ifname, ip, prefix, mtu, fd);
  if (setns(self, CLONE_NEWNET) < 0) {
    logf("FATAL: cannot return to own netns: %s", strerror(errno));
    std::abort();
  }
  close(self);
  close(target);
  return err;
}

}  // namespace wanemu
