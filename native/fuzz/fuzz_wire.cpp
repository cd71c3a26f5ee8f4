// libFuzzer target: what the shim decodes from the monitor (native/core/wire.cpp decode_envelope:
// Placement, Ack, Error, anything else), fed as the sender's socket reader does: length-prefixed
// frames, each bounded by kMaxFrameBytes. A Placement that decodes must survive a round trip
// through the encoder unchanged. Built with -DSITEMPI_FUZZ=ON (CMakeLists.txt), run by
// test/fuzz/fuzz.test.ts.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/sites.h"
#include "core/wire.h"

using namespace sitempi;

namespace {

void check_placement(const wire::Placement& p) {
  std::vector<uint8_t> frame;
  wire::append_placement(frame, p);
  if (frame.size() < 4) abort();
  const wire::IncomingMessage again = wire::decode_envelope(frame.data() + 4, frame.size() - 4);
  if (again.kind != wire::Incoming::Placement || again.placement.epoch != p.epoch || again.placement.sites != p.sites ||
      again.placement.site_of != p.site_of)
    abort();
  // What the shim does next with a pushed placement (coll/cache.cpp): validate it for the job.
  for (int world : {1, 2, int(p.site_of.size())}) core::placement_valid(p.sites, p.site_of, world);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The whole input as one Envelope body.
  wire::IncomingMessage m = wire::decode_envelope(data, size);
  if (m.kind == wire::Incoming::Placement) check_placement(m.placement);
  // The input as a stream of frames.
  size_t off = 0;
  while (size - off >= 4) {
    const uint32_t n = uint32_t(data[off]) | uint32_t(data[off + 1]) << 8 | uint32_t(data[off + 2]) << 16 |
                       uint32_t(data[off + 3]) << 24;
    if (n > wire::kMaxFrameBytes || size - off - 4 < n) break;
    m = wire::decode_envelope(data + off + 4, n);
    if (m.kind == wire::Incoming::Placement) check_placement(m.placement);
    off += 4 + n;
  }
  return 0;
}
