// The per-rank file of file mode (no monitor): the frames the monitor would have received.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "config.h"
#include "sink.h"

namespace sitempi::shim {
namespace {

std::string sanitize(const std::string& s) {
  std::string r = s;
  for (char& ch : r)
    if (!isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') ch = '_';
  return r;
}

class FileSink : public Sink {
 public:
  FileSink(const std::string& dir, const std::string& job, uint32_t rank)
      : base_(dir + "/sitempi-" + sanitize(job) + "-" + std::to_string(rank)) {}

  bool open() override {
    // O_EXCL|O_NOFOLLOW: a file or symlink planted under our name is neither followed nor
    // overwritten; a previous run's file is kept.
    for (int n = 0; n < kMaxNames; ++n) {
      path_ = base_ + (n ? "." + std::to_string(n) : "") + ".smpi";
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd_ >= 0) return true;
      if (errno != EEXIST) break;
    }
    log("cannot create %s: %s", path_.c_str(), strerror(errno));
    return false;
  }

  bool write_all(const uint8_t* p, size_t n, uint32_t) override {
    const size_t total = n;
    while (n) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        if (error_.empty()) error_ = w < 0 ? strerror(errno) : "short write";
        // Cut back to the last whole frame, so that the file stays readable and later frames
        // (the Bye at least) may still fit.
        intact_ = ftruncate(fd_, off_t(written_)) == 0 && lseek(fd_, off_t(written_), SEEK_SET) >= 0;
        return false;
      }
      p += w;
      n -= size_t(w);
    }
    written_ += total;
    return true;
  }

  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool intact() const override { return intact_; }
  bool may_reopen() const override { return false; }  // it would start a second stream
  std::string loss_notice() const override {
    return error_.empty() ? "" : "writing " + path_ + " failed (" + error_ + ")";
  }
  std::string name() const override { return path_; }

 private:
  static constexpr int kMaxNames = 100;
  std::string base_, path_;
  int fd_ = -1;
  uint64_t written_ = 0;  // bytes of whole frames in the file
  bool intact_ = true;
  std::string error_;  // the first failed write's reason
};

}  // namespace

std::unique_ptr<Sink> file_sink(const std::string& dir, const std::string& job, uint32_t rank) {
  return std::make_unique<FileSink>(dir, job, rank);
}

}  // namespace sitempi::shim
