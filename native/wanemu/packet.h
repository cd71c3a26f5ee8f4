// A packet as wanemu keeps it (one buffer, the IP packet) and the pool those buffers come from,
// so that a packet is read once into its buffer and moved, never copied, from the TUN read
// through a link's queue to the TUN write.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace wanemu {

constexpr size_t kMaxPacket = 65536;
constexpr size_t kBufBytes = kMaxPacket;

struct Packet {
  std::unique_ptr<uint8_t[]> data;  // the IP packet
  uint32_t len = 0;                 // its bytes (what links and counters count)
  bool pooled = false;              // data is a pool buffer of kBufBytes
  int dst = -1;                     // node index
  int64_t arrive = 0;               // ns, CLOCK_MONOTONIC
  bool outbound = false;            // for held packets: true = sent by the held node

  const uint8_t* ip() const { return data.get(); }
};

// Full-size buffers for reading; a packet that has to wait and fills less than half of its
// buffer is moved to one of its own size (a copy of at most 32 KB), so that a queue of small
// packets (ACKs) holds no more than twice its bytes.
class PacketPool {
 public:
  Packet take();                  // a pooled buffer, len 0
  void give(Packet& p);           // returns its buffer (pooled ones to the pool), p.data empty
  void shrink_to_fit(Packet& p);  // before a packet waits: see above

 private:
  static constexpr size_t kMaxFree = 64;  // 4 MiB of spare buffers at most
  std::vector<std::unique_ptr<uint8_t[]>> free_;
};

}  // namespace wanemu
