// The control protocol: one command per line on the Unix socket, one JSON object per line back
// (always with "ok"; "error" when ok is false). README.md has the commands.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "forwarder.h"

namespace wanemu {

// What a command needs from the event loop.
struct ControlHooks {
  std::function<void(int fd, int node)> watch_tun;  // node-add: poll the new TUN
  std::function<void(int fd)> unwatch_tun;          // node-del: before the TUN is closed
  std::function<void()> stop;                       // shutdown
};

class Control {
 public:
  Control(Forwarder& fw, int def_mtu, ControlHooks hooks);
  // One command line (without its newline) -> one JSON reply (without newline).
  std::string handle(const std::string& line);

 private:
  std::string cmd_node_add(const std::vector<std::string>& a);
  std::string cmd_node_del(const std::vector<std::string>& a);
  std::string cmd_link_set(const std::vector<std::string>& a);
  std::string cmd_migrate(const std::vector<std::string>& a);
  std::string status_json(bool full);

  Forwarder& fw_;
  int def_mtu_;
  ControlHooks hooks_;
  int64_t started_;
};

}  // namespace wanemu
