// Where the sender's frames go: the monitor's socket or a per-rank file. The Sender's loop is the
// same for both; what differs between them is this interface.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/wire.h"

namespace sitempi::shim {

class Sink {
 public:
  virtual ~Sink() = default;
  // Connects or creates the file; false: not now.
  virtual bool open() = 0;
  // Writes whole frames; false: they were not all written (see intact()).
  virtual bool write_all(const uint8_t* p, size_t n, uint32_t timeout_ms) = 0;
  virtual void close() = 0;
  // After a failed write: whether the stream still ends at a frame boundary, so that later frames
  // may follow (a file cut back to its last whole frame), or is broken (a socket with part of a
  // frame sent: close and reopen).
  virtual bool intact() const = 0;
  // After a failed open or a broken stream: whether opening again may help (a monitor may come
  // back; a wrong token or an unwritable directory do not get better).
  virtual bool may_reopen() const = 0;
  // What the other side sends: a descriptor to poll (-1: it sends nothing) and its reader, false
  // when the connection is gone.
  virtual int read_fd() const { return -1; }
  virtual bool read_incoming() { return true; }
  // Why records were lost, when nobody else will say it (empty otherwise): the sender prints it
  // on stderr with the count at the end. A monitor counts losses itself.
  virtual std::string loss_notice() const { return ""; }
  virtual std::string name() const = 0;  // for the log
};

// sitempi-<job>-<rank>.smpi in `dir`, created exclusively (never through a symlink, never over an
// existing file: the next free sitempi-<job>-<rank>.<n>.smpi is taken instead), mode 0600.
std::unique_ptr<Sink> file_sink(const std::string& dir, const std::string& job, uint32_t rank);
// tcp://host:port or unix:/path; placements the monitor pushes go to on_placement.
std::unique_ptr<Sink> socket_sink(const std::string& url, std::function<void(wire::Placement&&)> on_placement);

}  // namespace sitempi::shim
