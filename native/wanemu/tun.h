// A node's TUN device: created inside the node's network namespace, given its address, MTU and
// up state, with IPv6 off (router solicitations would only be noise on the data network).
#pragma once
#include <cstdint>
#include <string>

namespace wanemu {

// Opens TUN `ifname` (non-blocking) in /run/netns/NETNS ("-": wanemu's own namespace) and
// configures it. Returns "" and the descriptor in `fd`, or what failed (fd untouched).
std::string open_tun(const std::string& netns, const std::string& ifname, uint32_t ip, int prefix, int mtu, int& fd);

}  // namespace wanemu
