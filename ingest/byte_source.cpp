#include "ingest/byte_source.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "ingest/input_error.h"

namespace edpipe::ingest {
namespace {

class FdSource final : public ByteSource {
 public:
  FdSource(std::string name, int fd, bool owned) : name_(std::move(name)), fd_(fd), owned_(owned) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  size_t read(char* buf, size_t n) override {
    size_t done = 0;
    if (!pushback_.empty()) {
      done = std::min(n, pushback_.size() - pushback_pos_);
      std::memcpy(buf, pushback_.data() + pushback_pos_, done);
      pushback_pos_ += done;
      if (pushback_pos_ == pushback_.size()) pushback_.clear();
      return done;
    }
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) {
        consumed_ += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      if (errno == EINTR) continue;
      throw InputError(name_, std::string("read failed at byte ") + std::to_string(consumed_) + ": " +
                                  std::strerror(errno));
    }
  }
  uint64_t raw_bytes_consumed() const noexcept override { return consumed_; }
  // Reads the first bytes for format detection and puts them back.
  std::string peek(size_t n) {
    std::string head(n, '\0');
    size_t got = 0;
    while (got < n) {
      size_t r = read(head.data() + got, n - got);
      if (r == 0) break;
      got += r;
    }
    head.resize(got);
    pushback_.assign(head.begin(), head.end());
    pushback_pos_ = 0;
    return head;
  }
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
  int fd_;
  bool owned_;
  uint64_t consumed_ = 0;
  std::vector<char> pushback_;
  size_t pushback_pos_ = 0;
};

class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<FdSource> in) : in_(std::move(in)), inbuf_(1 << 18) {
    std::memset(&zs_, 0, sizeof zs_);
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) throw InputError(in_->name(), "cannot initialise zlib");
  }
  ~GzipSource() override { inflateEnd(&zs_); }

  size_t read(char* buf, size_t n) override {
    if (!deferred_error_.empty()) throw InputError(in_->name(), deferred_error_);
    if (done_) return 0;
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    requested_ = zs_.avail_out;
    try {
      inflate_some();
    } catch (const Deferred& d) {
      out_total_ += d.produced;
      return d.produced;
    }
    size_t produced = requested_ - zs_.avail_out;
    out_total_ += produced;
    return produced;
  }
  uint64_t raw_bytes_consumed() const noexcept override { return in_->raw_bytes_consumed() - zs_.avail_in; }

 private:
  void inflate_some() {
    while (zs_.avail_out > 0) {
      if (zs_.avail_in == 0) {
        size_t r = in_->read(inbuf_.data(), inbuf_.size());
        if (r == 0) {
          // The end of the file: fine between members, a truncated archive inside one.
          if (in_member_) fail("truncated gzip stream (unexpected end of file)");
          done_ = true;
          break;
        }
        zs_.next_in = reinterpret_cast<Bytef*>(inbuf_.data());
        zs_.avail_in = static_cast<uInt>(r);
      }
      in_member_ = true;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Multi-member gzip (`cat a.gz b.gz`): start the next member, if any.
        in_member_ = false;
        inflateReset(&zs_);
        continue;
      }
      if (rc == Z_BUF_ERROR && zs_.avail_in == 0) continue;
      if (rc != Z_OK) fail(std::string("corrupt gzip data (") + (zs_.msg ? zs_.msg : "zlib error") + ")");
    }
  }
  // What was inflated before the damage is handed out first; the error comes with the next read.
  [[noreturn]] void fail(const std::string& why) {
    const size_t produced = requested_ - zs_.avail_out;
    std::string message = why + " at compressed byte " + std::to_string(raw_bytes_consumed()) +
                          ", uncompressed byte " + std::to_string(out_total_ + produced);
    if (produced == 0) throw InputError(in_->name(), message);
    deferred_error_ = std::move(message);
    throw Deferred{produced};
  }
  struct Deferred {
    size_t produced;
  };
  std::unique_ptr<FdSource> in_;
  std::vector<char> inbuf_;
  z_stream zs_;
  bool in_member_ = false;
  bool done_ = false;
  uint64_t out_total_ = 0;
  size_t requested_ = 0;
  std::string deferred_error_;
};

}  // namespace

std::unique_ptr<ByteSource> open_byte_source(const std::string& path) {
  std::unique_ptr<FdSource> src;
  if (path == "-") {
    src = std::make_unique<FdSource>("<stdin>", 0, false);
  } else {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError(path, std::strerror(errno));
    src = std::make_unique<FdSource>(path, fd, true);
  }
  std::string head = src->peek(2);
  if (head.size() == 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
    return std::make_unique<GzipSource>(std::move(src));
  return src;
}

}  // namespace edpipe::ingest
