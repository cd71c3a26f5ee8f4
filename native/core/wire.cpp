#include "wire.h"

#include <cstring>

#include "wire_fields.h"  // field numbers, generated from proto/sitempi.proto

namespace sitempi::wire {
namespace {

using E = EnvelopeField;
constexpr uint32_t kVarint = 0, kLen = 2;  // protobuf wire types

inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

// Appends to a vector. Batches, the hot path, reserve their exact size first, so the writes
// below never reallocate there.
class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  void varint(uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
      tmp[n++] = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    tmp[n++] = static_cast<uint8_t>(v);
    out_.insert(out_.end(), tmp, tmp + n);
  }
  void tag(uint32_t field, uint32_t type) { varint((field << 3) | type); }
  void u64(uint32_t field, uint64_t v) {
    if (v) {
      tag(field, kVarint);
      varint(v);
    }
  }
  void bytes(uint32_t field, const void* p, size_t n) {
    if (!n) return;
    tag(field, kLen);
    varint(n);
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void str(uint32_t field, const std::string& s) { bytes(field, s.data(), s.size()); }
  void len_header(uint32_t field, size_t n) {
    tag(field, kLen);
    varint(n);
  }
  void frame_header(size_t body) {
    uint32_t n = static_cast<uint32_t>(body);
    uint8_t le[4] = {uint8_t(n), uint8_t(n >> 8), uint8_t(n >> 16), uint8_t(n >> 24)};
    out_.insert(out_.end(), le, le + 4);
  }
  std::vector<uint8_t>& out_;
};

// Writes packed varints through a raw pointer into space already sized.
inline uint8_t* put_varint(uint8_t* p, uint64_t v) {
  if (v < 0x80) {
    *p = static_cast<uint8_t>(v);
    return p + 1;
  }  // most values: one byte
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

inline size_t field_u64_size(uint32_t field, uint64_t v) { return v ? varint_size(field << 3) + varint_size(v) : 0; }
inline size_t field_len_size(uint32_t field, size_t n) { return n ? varint_size(field << 3) + varint_size(n) + n : 0; }

// Wraps an already-encoded message body as Envelope field `field` in a frame.
void append_enveloped(std::vector<uint8_t>& out, uint32_t field, const std::vector<uint8_t>& body) {
  Writer w(out);
  const size_t env = varint_size(field << 3) + varint_size(body.size()) + body.size();
  w.frame_header(env);
  w.len_header(field, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

void write_packed_u32(Writer& w, uint32_t field, const std::vector<uint32_t>& v) {
  size_t s = 0;
  for (uint32_t x : v) s += varint_size(x);
  if (!s) return;
  w.len_header(field, s);
  for (uint32_t x : v) w.varint(x);
}

}  // namespace

void append_hello(std::vector<uint8_t>& out, const Hello& h) {
  std::vector<uint8_t> body;
  Writer w(body);
  using F = HelloField;
  w.u64(F::kProtocol, kProtocolVersion);
  w.str(F::kJob, h.job);
  w.u64(F::kRank, h.rank);
  w.u64(F::kSize, h.size);
  w.str(F::kHost, h.host);
  w.u64(F::kPid, h.pid);
  w.u64(F::kStartNs, h.start_ns);
  w.str(F::kToken, h.token);
  w.str(F::kProgram, h.program);
  w.str(F::kJobKey, h.job_key);
  append_enveloped(out, E::kHello, body);
}

namespace {

// Ticks to ns in 16.48 fixed point: exact for a scale of 1, monotonic, and no integer/double
// conversions (a slow pair for unsigned 64-bit values) in the per-record loops.
struct FixedScale {
  uint64_t origin, mult;
  explicit FixedScale(TimeScale t) : origin(t.origin), mult(uint64_t(t.ns_per_tick * double(1ull << 48) + 0.5)) {}
  uint64_t span(uint64_t d) const { return uint64_t((unsigned __int128)d * mult >> 48); }
  uint64_t at(uint64_t t) const { return t > origin ? span(t - origin) : 0; }
};

// The packed columns, Batch fields fn..tag (consecutive numbers), one scratch column each (room
// for a 10-byte varint per record). Column k is field kFirstColumn + k.
constexpr uint32_t kFirstColumn = BatchField::kFn;
constexpr int kColumns = int(BatchField::kTag - kFirstColumn + 1);
constexpr int column(uint32_t field) { return int(field - kFirstColumn); }
using B = BatchField;
struct Columns {
  uint8_t* col[kColumns];
  uint8_t* end[kColumns];
  explicit Columns(size_t n) {
    thread_local std::vector<uint8_t> scratch;
    if (scratch.size() < n * 10 * kColumns) scratch.resize(n * 10 * kColumns);
    for (int c = 0; c < kColumns; ++c) col[c] = end[c] = scratch.data() + size_t(c) * n * 10;
  }
};

// One column at a time: short, predictable loops. R is Slot (a batch without extensions) or Record.
template <typename R, typename F>
void put_column(Columns& c, int k, const R* r, size_t n, F value) {
  uint8_t* p = c.col[k];
  for (size_t i = 0; i < n; ++i) p = put_varint(p, value(r[i]));
  c.end[k] = p;
}
// A slot without extension keeps its tag in the high half of fn (wire.h).
inline uint32_t fn_of(const Slot& x) { return x.fn & kFnMask; }
inline uint32_t fn_of(const Record& x) { return x.fn; }

// Function, peer, bytes, communicator, start (delta-coded), duration.
template <typename R>
void put_common_columns(Columns& c, const R* r, size_t n, const FixedScale& fs) {
  put_column(c, column(B::kFn), r, n, [](const R& x) { return uint64_t(fn_of(x)); });
  put_column(c, column(B::kPeer), r, n, [](const R& x) { return zigzag(x.peer); });
  put_column(c, column(B::kBytes), r, n, [](const R& x) { return uint64_t(x.bytes); });
  put_column(c, column(B::kComm), r, n, [](const R& x) { return uint64_t(x.comm); });
  uint64_t prev = 0;
  put_column(c, column(B::kStartDelta), r, n, [&](const R& x) {
    uint64_t start = fs.at(x.start);
    if (start < prev) start = prev;  // stamped before the record it follows: delta 0
    const uint64_t delta = start - prev;
    prev = start;
    return delta;
  });
  put_column(c, column(B::kDuration), r, n, [&](const R& x) { return fs.span(x.duration); });
}

// Assembles the frame; the alg, cross and tag columns are left out when all zero (decoders read a
// missing column as zeros).
void put_batch_frame(std::vector<uint8_t>& out, uint64_t seq, uint64_t dropped, uint64_t epoch, const Columns& c,
                     bool any_alg, bool any_cross, bool any_tag) {
  size_t len[kColumns];
  for (int k = 0; k < kColumns; ++k) len[k] = size_t(c.end[k] - c.col[k]);
  if (!any_alg) len[column(B::kAlg)] = 0;
  if (!any_cross) len[column(B::kCrossMsgs)] = len[column(B::kCrossBytes)] = 0;
  if (!any_tag) len[column(B::kTag)] = 0;
  size_t body = field_u64_size(B::kSeq, seq) + field_u64_size(B::kDropped, dropped) + field_u64_size(B::kEpoch, epoch);
  for (int k = 0; k < kColumns; ++k) body += field_len_size(kFirstColumn + uint32_t(k), len[k]);
  Writer w(out);
  out.reserve(out.size() + body + 16);
  w.frame_header(varint_size(E::kBatch << 3) + varint_size(body) + body);
  w.len_header(E::kBatch, body);
  w.u64(B::kSeq, seq);
  w.u64(B::kDropped, dropped);
  w.u64(B::kEpoch, epoch);
  for (int k = 0; k < kColumns; ++k) w.bytes(kFirstColumn + uint32_t(k), c.col[k], len[k]);
}

}  // namespace

void append_batch(std::vector<uint8_t>& out, uint64_t seq, uint64_t dropped, uint64_t epoch, const Record* r, size_t n,
                  TimeScale time) {
  Columns c(n);
  put_common_columns(c, r, n, FixedScale(time));
  bool any_alg = false, any_cross = false, any_tag = false;
  for (size_t i = 0; i < n; ++i) {
    any_alg |= r[i].alg != 0;
    any_cross |= (r[i].cross_msgs | r[i].cross_bytes) != 0;
    any_tag |= r[i].tag != 0;
  }
  if (any_alg) put_column(c, column(B::kAlg), r, n, [](const Record& x) { return uint64_t(x.alg); });
  if (any_cross) {
    put_column(c, column(B::kCrossMsgs), r, n, [](const Record& x) { return uint64_t(x.cross_msgs); });
    put_column(c, column(B::kCrossBytes), r, n, [](const Record& x) { return x.cross_bytes; });
  }
  if (any_tag) put_column(c, column(B::kTag), r, n, [](const Record& x) { return uint64_t(x.tag); });
  put_batch_frame(out, seq, dropped, epoch, c, any_alg, any_cross, any_tag);
}

void append_batch(std::vector<uint8_t>& out, uint64_t seq, uint64_t dropped, uint64_t epoch, const Slot* s, size_t n,
                  TimeScale time) {
  bool extended = false;
  uint32_t tags = 0;
  for (size_t i = 0; i < n; ++i) {
    extended |= s[i].fn == kExtension;
    tags |= s[i].fn >> 16;
  }
  if (!extended) {  // the common case: the slots are the records
    Columns c(n);
    put_common_columns(c, s, n, FixedScale(time));
    if (tags) put_column(c, column(B::kTag), s, n, [](const Slot& x) { return uint64_t(x.fn >> 16); });
    put_batch_frame(out, seq, dropped, epoch, c, false, false, tags != 0);
    return;
  }
  // Fold each extension into the record before it.
  thread_local std::vector<Record> recs;
  recs.clear();
  for (size_t i = 0; i < n;) recs.push_back(unpack(s, n, i));
  append_batch(out, seq, dropped, epoch, recs.data(), recs.size(), time);
}

void append_comm_def(std::vector<uint8_t>& out, const CommDef& c) {
  std::vector<uint8_t> body;
  Writer w(body);
  using F = CommDefField;
  w.u64(F::kLocalId, c.local_id);
  w.u64(F::kGlobalId, c.global_id);
  write_packed_u32(w, F::kMembers, c.members);
  write_packed_u32(w, F::kRemoteMembers, c.remote_members);
  append_enveloped(out, E::kCommDef, body);
}

void append_bye(std::vector<uint8_t>& out, const Bye& b) {
  std::vector<uint8_t> body;
  Writer w(body);
  using F = ByeField;
  w.u64(F::kEndNs, b.end_ns);
  w.u64(F::kRecords, b.records);
  w.u64(F::kDropped, b.dropped);
  w.u64(F::kMpiNs, b.mpi_ns);
  append_enveloped(out, E::kBye, body);
}

void append_placement(std::vector<uint8_t>& out, const Placement& p) {
  std::vector<uint8_t> body;
  Writer w(body);
  using F = PlacementField;
  w.u64(F::kEpoch, p.epoch);
  for (const auto& s : p.sites) {  // repeated string: one field per element, empty names included
    w.len_header(F::kSites, s.size());
    body.insert(body.end(), s.begin(), s.end());
  }
  write_packed_u32(w, F::kSiteOf, p.site_of);
  append_enveloped(out, E::kPlacement, body);
}

void append_error(std::vector<uint8_t>& out, const std::string& message) {
  std::vector<uint8_t> body;
  Writer(body).str(ErrorField::kMessage, message);
  append_enveloped(out, E::kError, body);
}

namespace {

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  bool done() const { return p_ >= end_ || bad_; }
  bool bad() const { return bad_; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) {
        bad_ = true;
        return 0;
      }
      uint8_t b = *p_++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    bad_ = true;
    return 0;
  }
  // Returns a sub-reader over a length-delimited field.
  Reader sub() {
    uint64_t n = varint();
    if (bad_ || n > uint64_t(end_ - p_)) {
      bad_ = true;
      return Reader(p_, 0);
    }
    Reader r(p_, n);
    p_ += n;
    return r;
  }
  std::string str() {
    Reader r = sub();
    return bad_ ? std::string() : std::string(reinterpret_cast<const char*>(r.p_), r.end_ - r.p_);
  }
  void skip(uint32_t type) {
    switch (type) {
      case 0:
        varint();
        break;
      case 1:
        advance(8);
        break;
      case 2:
        sub();
        break;
      case 5:
        advance(4);
        break;
      default:
        bad_ = true;
    }
  }

 private:
  void advance(size_t n) {
    if (size_t(end_ - p_) < n)
      bad_ = true;
    else
      p_ += n;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  bool bad_ = false;
};

bool decode_placement(Reader r, Placement& p) {
  while (!r.done()) {
    uint64_t key = r.varint();
    uint32_t field = uint32_t(key >> 3), type = uint32_t(key & 7);
    using F = PlacementField;
    if (field == F::kEpoch && type == kVarint)
      p.epoch = r.varint();
    else if (field == F::kSites && type == kLen)
      p.sites.push_back(r.str());
    else if (field == F::kSiteOf && type == kLen) {
      Reader packed = r.sub();
      while (!packed.done()) p.site_of.push_back(uint32_t(packed.varint()));
      if (packed.bad()) return false;
    } else if (field == F::kSiteOf && type == kVarint)
      p.site_of.push_back(uint32_t(r.varint()));
    else
      r.skip(type);
  }
  return !r.bad();
}

}  // namespace

IncomingMessage decode_envelope(const uint8_t* data, size_t len) {
  IncomingMessage m;
  Reader r(data, len);
  while (!r.done()) {
    uint64_t key = r.varint();
    uint32_t field = uint32_t(key >> 3), type = uint32_t(key & 7);
    if (type != kLen) {
      r.skip(type);
      continue;
    }
    Reader body = r.sub();
    if (r.bad()) break;
    if (field == E::kPlacement) {
      m.kind = decode_placement(body, m.placement) ? Incoming::Placement : Incoming::Malformed;
    } else if (field == E::kAck) {
      m.kind = Incoming::Ack;
      while (!body.done()) {
        uint64_t k = body.varint();
        if ((k >> 3) == AckField::kSeq && (k & 7) == kVarint)
          m.ack_seq = body.varint();
        else
          body.skip(uint32_t(k & 7));
      }
    } else if (field == E::kError) {
      m.kind = Incoming::Error;
      while (!body.done()) {
        uint64_t k = body.varint();
        if ((k >> 3) == ErrorField::kMessage && (k & 7) == kLen)
          m.error = body.str();
        else
          body.skip(uint32_t(k & 7));
      }
    } else {
      m.kind = Incoming::Other;
    }
  }
  if (r.bad()) m.kind = Incoming::Malformed;
  return m;
}

}  // namespace sitempi::wire
