// native/core/wire: frames as a protobuf reader sees them (a small independent reader below),
// the shim's 32-byte slots against whole records, and the shim's decoder of monitor messages.
#include <cstring>
#include <map>
#include <random>

#include "check.h"
#include "core/wire.h"
#include "facts.h"

using namespace sitempi::wire;

namespace {

// Fields of one message: varints by number, length-delimited fields as byte strings (repeated
// fields keep every occurrence).
struct Fields {
  std::map<uint32_t, std::vector<uint64_t>> varints;
  std::map<uint32_t, std::vector<std::string>> lens;
  bool ok = true;
};
uint64_t read_varint(const uint8_t*& p, const uint8_t* end, bool& ok) {
  uint64_t v = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    const uint8_t b = *p++;
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  ok = false;
  return 0;
}
Fields parse(const std::string& msg) {
  Fields f;
  const auto* p = reinterpret_cast<const uint8_t*>(msg.data());
  const uint8_t* end = p + msg.size();
  while (p < end && f.ok) {
    const uint64_t key = read_varint(p, end, f.ok);
    const uint32_t field = uint32_t(key >> 3);
    if ((key & 7) == 0) {
      f.varints[field].push_back(read_varint(p, end, f.ok));
    } else if ((key & 7) == 2) {
      const uint64_t n = read_varint(p, end, f.ok);
      if (n > uint64_t(end - p)) {
        f.ok = false;
        break;
      }
      f.lens[field].emplace_back(reinterpret_cast<const char*>(p), size_t(n));
      p += n;
    } else {
      f.ok = false;
    }
  }
  return f;
}
std::vector<uint64_t> packed(const Fields& f, uint32_t field) {
  std::vector<uint64_t> out;
  auto it = f.lens.find(field);
  if (it == f.lens.end()) return out;
  for (const std::string& s : it->second) {
    bool ok = true;
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    const uint8_t* end = p + s.size();
    while (p < end && ok) out.push_back(read_varint(p, end, ok));
  }
  return out;
}
// One frame: checks the length prefix, returns the single Envelope field's number and body.
uint32_t unframe(const std::vector<uint8_t>& frame, std::string& body) {
  if (frame.size() < 4) return 0;
  const uint32_t len =
      uint32_t(frame[0]) | uint32_t(frame[1]) << 8 | uint32_t(frame[2]) << 16 | uint32_t(frame[3]) << 24;
  if (len != frame.size() - 4) return 0;
  const Fields env = parse(std::string(frame.begin() + 4, frame.end()));
  if (!env.ok || env.lens.size() != 1 || !env.varints.empty() || env.lens.begin()->second.size() != 1) return 0;
  body = env.lens.begin()->second[0];
  return env.lens.begin()->first;
}
int64_t unzigzag(uint64_t v) { return int64_t(v >> 1) ^ -int64_t(v & 1); }

}  // namespace

TEST(wire_hello_fields) {
  Hello h;
  h.job = "job-1";
  h.host = "node7";
  h.token = "s3cret";
  h.program = "/bin/app";
  h.rank = 3;
  h.size = 8;
  h.pid = 4242;
  h.start_ns = 1700000000123456789ull;
  std::vector<uint8_t> out;
  append_hello(out, h);
  std::string body;
  CHECK_EQ(unframe(out, body), 1u);
  const Fields f = parse(body);
  CHECK(f.ok);
  CHECK_EQ(f.varints.at(1)[0], uint64_t(kProtocolVersion));
  CHECK_EQ(f.lens.at(2)[0], std::string("job-1"));
  CHECK_EQ(f.varints.at(3)[0], 3u);
  CHECK_EQ(f.varints.at(4)[0], 8u);
  CHECK_EQ(f.lens.at(5)[0], std::string("node7"));
  CHECK_EQ(f.varints.at(6)[0], 4242u);
  CHECK_EQ(f.varints.at(7)[0], 1700000000123456789ull);
  CHECK_EQ(f.lens.at(8)[0], std::string("s3cret"));
  CHECK_EQ(f.lens.at(9)[0], std::string("/bin/app"));
}

TEST(wire_batch_columns_round_trip) {
  std::vector<Record> r = {
      {5, -1, 0, 0, 0, 100, 10, 0, 0, 0},
      {7 | (sitempi::shim::kRoleSend << sitempi::shim::kRoleShift), 3, 1u << 20, 2, 0, 250, 0, 0, 0, 77},
      {9, 0, 5000000000ull, 1, 1, 240, 3000000000ull, 4, 65536, 1u << 30},  // starts before its predecessor
  };
  std::vector<uint8_t> out;
  append_batch(out, 11, 2, 3, r.data(), r.size());
  std::string body;
  CHECK_EQ(unframe(out, body), 2u);
  const Fields f = parse(body);
  CHECK(f.ok);
  CHECK_EQ(f.varints.at(1)[0], 11u);
  CHECK_EQ(f.varints.at(2)[0], 2u);
  CHECK_EQ(f.varints.at(3)[0], 3u);
  const auto fn = packed(f, 4), peer = packed(f, 5), bytes = packed(f, 6), comm = packed(f, 7), start = packed(f, 8),
             dur = packed(f, 9), alg = packed(f, 10), xm = packed(f, 11), xb = packed(f, 12), tag = packed(f, 13);
  CHECK_EQ(fn.size(), r.size());
  CHECK_EQ(peer.size(), r.size());
  CHECK_EQ(start.size(), r.size());
  CHECK_EQ(alg.size(), r.size());
  CHECK_EQ(xb.size(), r.size());
  CHECK_EQ(tag.size(), r.size());
  if (fn.size() != r.size() || start.size() != 3 || alg.size() != 3 || xb.size() != 3 || tag.size() != 3) return;
  uint64_t t = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    CHECK_EQ(fn[i], uint64_t(r[i].fn));
    CHECK_EQ(unzigzag(peer[i]), int64_t(r[i].peer));
    CHECK_EQ(bytes[i], r[i].bytes);
    CHECK_EQ(comm[i], uint64_t(r[i].comm));
    CHECK_EQ(dur[i], r[i].duration);
    CHECK_EQ(alg[i], uint64_t(r[i].alg));
    CHECK_EQ(xm[i], uint64_t(r[i].cross_msgs));
    CHECK_EQ(xb[i], r[i].cross_bytes);
    CHECK_EQ(tag[i], uint64_t(r[i].tag));
    t += start[i];
    // Start times are delta-coded and never go back: a record stamped before its predecessor gets
    // the predecessor's start.
    CHECK_EQ(t, i == 2 ? uint64_t(250) : r[i].start);
  }
}

TEST(wire_batch_leaves_out_zero_columns) {
  Record r[2] = {{1, 0, 8, 0, 0, 1, 1, 0, 0, 0}, {2, 1, 8, 0, 0, 2, 1, 0, 0, 0}};
  std::vector<uint8_t> out;
  append_batch(out, 0, 0, 0, r, 2);
  std::string body;
  CHECK_EQ(unframe(out, body), 2u);
  const Fields f = parse(body);
  CHECK(f.lens.count(4) == 1);
  CHECK(f.lens.count(10) == 0 && f.lens.count(11) == 0 && f.lens.count(12) == 0 && f.lens.count(13) == 0);
  CHECK(f.varints.empty());  // seq, dropped and epoch are 0: not written
}

TEST(wire_batch_time_scale) {
  Record r[2] = {{1, 0, 0, 0, 0, 1000, 10, 0, 0, 0}, {1, 0, 0, 0, 0, 1500, 3, 0, 0, 0}};
  std::vector<uint8_t> out;
  append_batch(out, 0, 0, 0, r, 2, TimeScale{900, 2.5});
  std::string body;
  unframe(out, body);
  const Fields f = parse(body);
  const auto start = packed(f, 8), dur = packed(f, 9);
  CHECK_EQ(start.size(), 2u);
  CHECK_EQ(dur.size(), 2u);
  if (start.size() != 2 || dur.size() != 2) return;
  CHECK_EQ(start[0], 250u);              // (1000 - 900) * 2.5
  CHECK_EQ(start[0] + start[1], 1500u);  // (1500 - 900) * 2.5
  CHECK_EQ(dur[0], 25u);
  CHECK_EQ(dur[1], 7u);  // 7.5 rounded down
}

// The shim stores 32-byte slots (with an extension slot for rare fields); its batches must be the
// same bytes as batches of the whole records.
TEST(wire_slots_encode_as_records) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 50; ++round) {
    const size_t n = 1 + rng() % 300;
    std::vector<Record> recs;
    std::vector<Slot> slots(2 * n);
    size_t used = 0;
    uint64_t t = rng() % 1000;
    for (size_t i = 0; i < n; ++i) {
      Record x{};
      x.fn = uint32_t(rng() % 4096);
      x.peer = int32_t(rng() % 9) - 1;
      x.bytes = rng() % 3 ? rng() % 100000 : rng();
      x.comm = uint32_t(rng() % 5);
      const bool rare = rng() % 4 == 0;
      x.alg = rare ? uint32_t(rng() % 3) : 0;
      x.cross_msgs = rare ? uint32_t(rng() % 10) : 0;
      x.cross_bytes = rare ? rng() % 1000000 : 0;
      x.start = t += rng() % 10000;
      x.duration = rng() % 16 == 0 ? (uint64_t(1) << 32) + rng() % 1000 : rng() % 100000;
      // tags in half of the rounds: small (in the slot), at the slot's limit and large (extension)
      const uint64_t tags[] = {0, 1, 77, kTagInline - 1, kTagInline, 1u << 30};
      x.tag = round % 2 ? uint32_t(tags[rng() % 6]) : 0;
      used += size_t(pack(&slots[used], x.fn, x.peer, x.bytes, x.comm, x.alg, x.start, x.duration, x.cross_msgs,
                          x.cross_bytes, x.tag));
      recs.push_back(x);
    }
    const TimeScale ts{recs[0].start / 2, 0.37 + double(round) / 10};
    std::vector<uint8_t> a, b;
    append_batch(a, uint64_t(round), 1, 2, recs.data(), recs.size(), ts);
    append_batch(b, uint64_t(round), 1, 2, slots.data(), used, ts);
    CHECK(a == b);
  }
}

TEST(wire_pack_uses_an_extension_only_when_needed) {
  Slot s[2];
  CHECK_EQ(pack(s, 1, 2, 3, 4, 0, 5, 6, 0, 0), 1);
  CHECK_EQ(s[0].duration, 6u);
  CHECK_EQ(pack(s, 1, 2, 3, 4, 1, 5, 6, 0, 0), 2);
  CHECK_EQ(s[1].fn, kExtension);
  CHECK_EQ(pack(s, 1, 2, 3, 4, 0, 5, uint64_t(kLongDuration), 0, 0), 2);
  CHECK_EQ(s[0].duration, kLongDuration);
  CHECK_EQ(s[1].start, uint64_t(kLongDuration));
  CHECK_EQ(pack(s, 1, 2, 3, 4, 0, 5, 6, 0, 0, kTagInline - 1), 1);  // the tag rides in fn's high half
  CHECK_EQ(s[0].fn, 1u | (kTagInline - 1) << 16);
  CHECK_EQ(pack(s, 1, 2, 3, 4, 0, 5, 6, 0, 0, kTagInline), 2);
  CHECK_EQ(s[1].duration, kTagInline);
}

TEST(wire_comm_def_bye_error_fields) {
  CommDef c;
  c.local_id = 4;
  c.global_id = 0x123456789ull;
  c.members = {0, 5, 300};
  c.remote_members = {7};
  std::vector<uint8_t> out;
  append_comm_def(out, c);
  std::string body;
  CHECK_EQ(unframe(out, body), 7u);
  Fields f = parse(body);
  CHECK_EQ(f.varints.at(1)[0], 4u);
  CHECK_EQ(f.varints.at(2)[0], 0x123456789ull);
  CHECK(packed(f, 3) == (std::vector<uint64_t>{0, 5, 300}));
  CHECK(packed(f, 4) == (std::vector<uint64_t>{7}));

  out.clear();
  append_bye(out, Bye{9, 100, 3, 77});
  CHECK_EQ(unframe(out, body), 6u);
  f = parse(body);
  CHECK_EQ(f.varints.at(1)[0], 9u);
  CHECK_EQ(f.varints.at(2)[0], 100u);
  CHECK_EQ(f.varints.at(3)[0], 3u);
  CHECK_EQ(f.varints.at(4)[0], 77u);

  out.clear();
  append_error(out, "bad token");
  CHECK_EQ(unframe(out, body), 5u);
  CHECK_EQ(parse(body).lens.at(1)[0], std::string("bad token"));
}

TEST(wire_decode_placement_round_trip) {
  Placement p;
  p.epoch = 12;
  p.sites = {"A", "", "site-c"};
  p.site_of = {0, 2, 2, 1, 0, 300};
  std::vector<uint8_t> out;
  append_placement(out, p);
  const IncomingMessage m = decode_envelope(out.data() + 4, out.size() - 4);
  CHECK(m.kind == Incoming::Placement);
  CHECK_EQ(m.placement.epoch, 12u);
  CHECK(m.placement.sites == p.sites);
  CHECK(m.placement.site_of == p.site_of);
}

TEST(wire_decode_ack_error_other) {
  const uint8_t ack[] = {0x22, 0x02, 0x08, 0x96, 0x01};  // Envelope.ack { seq: 150 } -- truncated below
  IncomingMessage m = decode_envelope(ack, sizeof ack);
  CHECK(m.kind == Incoming::Malformed);  // the Ack body claims 2 bytes but its varint needs 3
  const uint8_t ack_ok[] = {0x22, 0x03, 0x08, 0x96, 0x01};
  m = decode_envelope(ack_ok, sizeof ack_ok);
  CHECK(m.kind == Incoming::Ack);
  CHECK_EQ(m.ack_seq, 150u);

  std::vector<uint8_t> out;
  append_error(out, "job refused");
  m = decode_envelope(out.data() + 4, out.size() - 4);
  CHECK(m.kind == Incoming::Error);
  CHECK_EQ(m.error, std::string("job refused"));

  out.clear();
  append_bye(out, Bye{1, 2, 3, 4});  // a message the shim does not read
  m = decode_envelope(out.data() + 4, out.size() - 4);
  CHECK(m.kind == Incoming::Other);
}

// Whatever arrives, the decoder returns (no crash, no overrun); every truncation of a valid
// placement is reported as malformed or as a placement no longer than the original.
TEST(wire_decode_never_overruns) {
  Placement p;
  p.epoch = 3;
  p.sites = {"A", "B"};
  p.site_of = {0, 1, 0, 1, 0, 1, 0, 1};
  std::vector<uint8_t> out;
  append_placement(out, p);
  const std::vector<uint8_t> body(out.begin() + 4, out.end());
  for (size_t n = 0; n < body.size(); ++n) {
    std::vector<uint8_t> cut(body.begin(), body.begin() + long(n));  // exact size: ASan-friendly
    const IncomingMessage m = decode_envelope(cut.data(), cut.size());
    CHECK(m.kind != Incoming::Placement || m.placement.site_of.size() <= p.site_of.size());
    CHECK(n == 0 || m.kind == Incoming::Malformed);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> junk(rng() % 64);
    for (auto& b : junk) b = uint8_t(rng());
    if (i % 2 && junk.size() > 2) {
      junk[0] = 0x1a;
      junk[1] = uint8_t(junk.size() - 2);
    }  // Placement-shaped
    (void)decode_envelope(junk.data(), junk.size());
  }
  CHECK(true);
}
