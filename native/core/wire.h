// Protobuf wire format of proto/sitempi.proto, written directly into a byte vector (no protobuf
// runtime in the shim). One frame = 4-byte little-endian length + one Envelope message.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "facts.h"  // kProtocolVersion, kMaxFrameBytes (generated from native/shim/gen/facts.mjs)

namespace sitempi::wire {

// One intercepted call. Times are ns since Hello.start_ns (the shim converts its tick counts).
struct Record {
  uint32_t fn;   // function id | role << kRoleShift
  int32_t peer;  // world rank, -1 none
  uint64_t bytes;
  uint32_t comm;   // rank-local communicator id
  uint32_t alg;    // collective algorithm, 0 = the MPI library's own
  uint64_t start;  // ns
  uint64_t duration;
  uint32_t cross_msgs;  // collectives: messages and bytes this rank sent to other sites
  uint64_t cross_bytes;
  uint32_t tag;  // point-to-point tag (0 elsewhere)
};

// The shim's in-memory form of a record, written on the application's critical path: 32 bytes
// (a Record is 64). A tag below kTagInline rides in the high half of `fn` (function id | role
// takes the low 16 bits). What rarely occurs — an algorithm id, cross-site counts, a duration of
// 2^32 ticks (about 1.5 s) or more, a larger tag — goes into a second, extension slot right after
// it, which the encoder folds back into the record.
struct Slot {
  uint32_t fn;        // Record.fn | tag << 16; kExtension: this slot extends the one before
  int32_t peer;       // extension: alg
  uint64_t bytes;     // extension: cross_bytes
  uint64_t start;     // extension: the full duration
  uint32_t comm;      // extension: cross_msgs
  uint32_t duration;  // kLongDuration: the full duration is in the extension; extension: the tag
};
static_assert(sizeof(Slot) == 32, "two slots per cache line");
constexpr uint32_t kExtension = 0xFFFFFFFFu;  // never a function id | role (below 2^16)
constexpr uint32_t kLongDuration = 0xFFFFFFFFu;
constexpr uint32_t kTagInline = 0xFFFFu;  // in Slot.fn's high half: the tag is in the extension
constexpr uint32_t kFnMask = 0xFFFFu;

inline bool needs_extension(uint32_t alg, uint32_t cross_msgs, uint64_t cross_bytes, uint64_t duration,
                            uint32_t tag = 0) {
  return (alg | cross_msgs | cross_bytes) != 0 || duration >= kLongDuration || tag >= kTagInline;
}
// Writes one record as one or two slots; returns how many. fn (id | role) must be below 2^16.
inline int pack(Slot* s, uint32_t fn, int32_t peer, uint64_t bytes, uint32_t comm, uint32_t alg, uint64_t start,
                uint64_t duration, uint32_t cross_msgs, uint64_t cross_bytes, uint32_t tag = 0) {
  s->fn = fn | ((tag < kTagInline ? tag : kTagInline) << 16);
  s->peer = peer;
  s->bytes = bytes;
  s->start = start;
  s->comm = comm;
  if (!needs_extension(alg, cross_msgs, cross_bytes, duration, tag)) {
    s->duration = uint32_t(duration);
    return 1;
  }
  s->duration = duration >= kLongDuration ? kLongDuration : uint32_t(duration);
  Slot& e = s[1];
  e.fn = kExtension;
  e.peer = int32_t(alg);
  e.bytes = cross_bytes;
  e.start = duration;
  e.comm = cross_msgs;
  e.duration = tag;
  return 2;
}
// The record at slot i (of n), folding its extension in, pack's inverse; i moves past what it
// read. s[i] is a record, never an extension.
inline Record unpack(const Slot* s, size_t n, size_t& i) {
  const Slot& x = s[i++];
  Record r{x.fn & kFnMask, x.peer, x.bytes, x.comm, 0, x.start, x.duration, 0, 0, x.fn >> 16};
  if (i < n && s[i].fn == kExtension) {
    const Slot& e = s[i++];
    r.alg = uint32_t(e.peer);
    r.cross_msgs = e.comm;
    r.cross_bytes = e.bytes;
    r.duration = e.start;
    if (r.tag == kTagInline) r.tag = e.duration;
  }
  return r;
}

struct Hello {
  std::string job, host, token, program;
  std::string job_key;  // the launcher's per-job secret (empty: none)
  uint32_t rank = 0, size = 0, pid = 0;
  uint64_t start_ns = 0;
};

struct Bye {
  uint64_t end_ns = 0, records = 0, dropped = 0, mpi_ns = 0;
};

struct CommDef {
  uint32_t local_id = 0;
  uint64_t global_id = 0;
  std::vector<uint32_t> members, remote_members;
};

struct Placement {
  uint64_t epoch = 0;
  std::vector<std::string> sites;
  std::vector<uint32_t> site_of;
};

// Each appends one complete frame to out.
void append_hello(std::vector<uint8_t>& out, const Hello& h);
// Times in `records` may be raw clock ticks: they are written as (t - origin) * ns_per_tick (and
// durations as d * ns_per_tick), so that the records themselves are only read.
struct TimeScale {
  uint64_t origin = 0;
  double ns_per_tick = 1.0;
};
void append_batch(std::vector<uint8_t>& out, uint64_t seq, uint64_t dropped, uint64_t epoch, const Slot* slots,
                  size_t n, TimeScale time = TimeScale{});
// The same from whole records (tests, the addon; the shim's batches with extensions).
void append_batch(std::vector<uint8_t>& out, uint64_t seq, uint64_t dropped, uint64_t epoch, const Record* records,
                  size_t n, TimeScale time = TimeScale{});
void append_comm_def(std::vector<uint8_t>& out, const CommDef& c);
void append_bye(std::vector<uint8_t>& out, const Bye& b);
void append_placement(std::vector<uint8_t>& out, const Placement& p);
void append_error(std::vector<uint8_t>& out, const std::string& message);

// What the shim reads from the monitor.
enum class Incoming { Placement, Ack, Error, Other, Malformed };
struct IncomingMessage {
  Incoming kind = Incoming::Other;
  Placement placement;
  uint64_t ack_seq = 0;
  std::string error;
};
// Decodes one Envelope body (without the length prefix).
IncomingMessage decode_envelope(const uint8_t* data, size_t len);

}  // namespace sitempi::wire
