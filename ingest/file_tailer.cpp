#include "ingest/file_tailer.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>
#include <utility>

#include "ingest/byte_source.h"
#include "ingest/input_set.h"
#include "ingest/line_reader.h"
#include "ingest/record_decoder.h"

namespace edpipe::ingest {

uint64_t fnv1a64(std::string_view bytes) noexcept {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

namespace {

using Clock = std::chrono::steady_clock;

// Reads up to n bytes at `offset`; fewer only at the end of the file.
size_t pread_full(int fd, char* buf, size_t n, uint64_t offset) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(offset + got));
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "read failed at byte " + std::to_string(offset + got));
    }
    got += static_cast<size_t>(r);
  }
  return got;
}

std::string read_head(int fd, uint32_t n) {
  std::string head(n, '\0');
  head.resize(pread_full(fd, head.data(), n, 0));
  return head;
}

}  // namespace

struct FileTailer::Followed {
  enum Kind : uint8_t { Plain, Gzip, Stream };
  Kind kind = Plain;
  FilePosition position;
  uint32_t input = 0;
  int fd = -1;                          // Plain: the open file (kept open through renames)
  std::unique_ptr<ByteSource> source;   // Gzip, Stream
  uint64_t read_pos = 0;                // next byte to read: position.offset + pending + skipped
  std::string pending;                  // bytes past position.offset not handed out: an unfinished line
  uint64_t skipping = 0;                // bytes of an over-long line being skipped (already rejected)
  bool gone = false;                    // no pattern names it any more: rotated away or deleted
  bool ended = false;                   // definite end reached: nothing more will be read
  bool at_end = false;                  // the last read found nothing new
  Clock::time_point last_change = Clock::now();

  ~Followed() {
    if (fd >= 0) ::close(fd);
  }
};

FileTailer::FileTailer(TailOptions options, FramingOptions framing, std::vector<FilePosition> saved,
                       ClaimFile claim)
    : options_(std::move(options)), decoder_(std::make_unique<RecordDecoder>(std::move(framing))),
      claim_(std::move(claim)) {
  for (auto& position : saved) saved_[{position.device, position.inode}] = std::move(position);
  if (std::find(options_.patterns.begin(), options_.patterns.end(), "-") != options_.patterns.end()) {
    stdin_ = std::make_unique<Followed>();
    stdin_->kind = Followed::Stream;
    stdin_->source = open_byte_source("-");
    names_.push_back("-");
    stdin_->input = 0;
  }
}

FileTailer::~FileTailer() = default;

std::vector<InputError> FileTailer::take_errors() { return std::exchange(errors_, {}); }

void FileTailer::rescan() {
  last_scan_ = Clock::now();
  scanned_ = true;
  std::vector<std::string> file_patterns;
  for (const auto& p : options_.patterns)
    if (p != "-") file_patterns.push_back(p);
  if (file_patterns.empty()) return;
  // Patterns that match nothing yet are fine: the files may come later.
  const InputSetResult found = expand_inputs(file_patterns);
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (const auto& in : found.inputs) {
    struct stat st {};
    if (::stat(in.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const std::pair<uint64_t, uint64_t> key{st.st_dev, st.st_ino};
    if (!seen.insert(key).second) continue;
    auto it = files_.find(key);
    if (it != files_.end()) {
      it->second->position.path = in.path;  // renamed within the patterns: the same file
      it->second->gone = false;
    } else if (!unreadable_.count(key)) {
      follow(in.path, key.first, key.second);
    }
  }
  for (auto& [key, f] : files_) {
    if (!seen.count(key) && !f->gone) {
      f->gone = true;
      f->last_change = Clock::now();
    }
  }
}

void FileTailer::follow(const std::string& path, uint64_t device, uint64_t inode) {
  auto f = std::make_unique<Followed>();
  f->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd < 0) {
    errors_.emplace_back(path, std::strerror(errno));
    unreadable_.insert({device, inode});  // reported once, not at every rescan
    return;
  }
  struct stat st {};
  if (::fstat(f->fd, &st) != 0 || static_cast<uint64_t>(st.st_dev) != device ||
      static_cast<uint64_t>(st.st_ino) != inode)
    return;  // replaced between stat and open: the next rescan sees the new one
  f->position.device = device;
  f->position.inode = inode;
  f->position.path = path;
  const std::string magic = read_head(f->fd, 2);
  f->kind = magic == "\x1f\x8b" ? Followed::Gzip : Followed::Plain;

  auto saved = saved_.find({device, inode});
  if (!options_.from_beginning && saved != saved_.end()) {
    const FilePosition& s = saved->second;
    const bool same_head = fnv1a64(read_head(f->fd, s.head_bytes)) == s.head_hash;
    const bool long_enough = f->kind == Followed::Gzip || static_cast<uint64_t>(st.st_size) >= s.offset;
    if (same_head && long_enough) {  // otherwise a reused inode or a truncated file: from the start
      f->position.offset = s.offset;
      f->position.line = s.line;
    }
  }
  if (claim_) claim_(f->position);

  if (f->kind == Followed::Gzip) {
    try {
      f->source = open_byte_source(path);
      uint64_t left = f->position.offset;
      chunk_.resize(1 << 16);
      while (left > 0) {
        size_t n = f->source->read(chunk_.data(), std::min<uint64_t>(left, chunk_.size()));
        if (n == 0) break;
        left -= n;
      }
      if (left > 0) {  // shorter than the saved position: not the file it was
        f->source = open_byte_source(path);
        f->position.offset = f->position.line = 0;
      }
    } catch (const InputError& e) {
      errors_.push_back(e);
      unreadable_.insert({device, inode});
      return;
    }
  }
  f->read_pos = f->position.offset;
  refresh_head(*f);
  f->input = static_cast<uint32_t>(names_.size());
  names_.push_back(path);
  files_[{device, inode}] = std::move(f);
}

bool FileTailer::same_head(Followed& f) {
  if (f.position.head_bytes == 0) return true;
  return fnv1a64(read_head(f.fd, f.position.head_bytes)) == f.position.head_hash;
}

void FileTailer::refresh_head(Followed& f) {
  if (f.fd < 0 || f.position.head_bytes >= kHeadBytes) return;
  const std::string head = read_head(f.fd, kHeadBytes);
  if (head.size() > f.position.head_bytes || f.position.head_bytes == 0) {
    f.position.head_bytes = static_cast<uint32_t>(head.size());
    f.position.head_hash = fnv1a64(head);
  }
}

bool FileTailer::read_some(Followed& f, IngestBatch& batch, size_t budget) {
  if (f.ended) return false;
  const auto now = Clock::now();
  size_t n = 0;
  bool definite_end = false;
  switch (f.kind) {
    case Followed::Plain: {
      struct stat st {};
      if (::fstat(f.fd, &st) != 0) throw InputError(f.position.path, std::strerror(errno));
      const auto size = static_cast<uint64_t>(st.st_size);
      // Truncated (copytruncate), or truncated and written again past the position already:
      // the first bytes are no longer those the position was taken on. Start over.
      if (size < f.read_pos || (size > f.read_pos && !same_head(f))) {
        f.position.offset = f.position.line = 0;
        f.position.head_bytes = 0;
        f.read_pos = f.skipping = 0;
        f.pending.clear();
        refresh_head(f);
      }
      if (size == f.read_pos) {
        f.at_end = true;
        if (f.gone && now - f.last_change >= options_.rotate_wait) definite_end = true;
        break;
      }
      n = static_cast<size_t>(std::min<uint64_t>(budget, size - f.read_pos));
      chunk_.resize(n);
      try {
        n = pread_full(f.fd, chunk_.data(), n, f.read_pos);
      } catch (const std::system_error& e) {
        throw InputError(f.position.path, e.what());
      }
      f.at_end = f.read_pos + n >= size;
      break;
    }
    case Followed::Stream: {
      pollfd p{0, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) {
        f.at_end = true;
        break;
      }
      [[fallthrough]];
    }
    case Followed::Gzip:
      chunk_.resize(budget);
      n = f.source->read(chunk_.data(), chunk_.size());
      f.at_end = n == 0;
      definite_end = n == 0;
      break;
  }
  if (n > 0) {
    f.read_pos += n;
    f.last_change = now;
    f.pending.append(chunk_.data(), n);
  }
  const uint64_t before = batch.counts.total;
  if (n > 0 || definite_end) hand_out(f, definite_end, batch);
  if (definite_end) f.ended = true;
  return batch.counts.total > before;
}

void FileTailer::hand_out(Followed& f, bool definite_end, IngestBatch& batch) {
  std::string& buf = f.pending;
  if (f.skipping > 0) {  // the rest of an over-long line, up to its newline
    const size_t nl = buf.find('\n');
    if (nl == std::string::npos && !definite_end) {
      f.skipping += buf.size();
      buf.clear();
      return;
    }
    const size_t cut = nl == std::string::npos ? buf.size() : nl + 1;
    f.position.offset += f.skipping + cut;
    f.position.line += 1;
    f.skipping = 0;
    buf.erase(0, cut);
  }
  const size_t last_nl = buf.rfind('\n');
  const size_t block_len = definite_end ? buf.size() : (last_nl == std::string::npos ? 0 : last_nl + 1);
  if (block_len == 0) {
    if (buf.size() > kMaxLineBytes) {
      // No newline within the limit: reject the line now, skip it up to its newline.
      batch.reject(RejectedLine::too_long({f.input, f.position.line + 1, f.position.offset}, buf, 0, kMaxLineBytes), true);
      f.skipping = buf.size();
      buf.clear();
    }
    return;
  }
  std::string rest = buf.substr(block_len);
  buf.resize(block_len);
  buf.append(kBlockPadding, ' ');
  LineBlock block;
  block.data = buf.data();
  block.size = block_len;
  block.first_line = f.position.line + 1;
  block.offset = f.position.offset;
  block.line_count = static_cast<uint64_t>(std::count(buf.data(), buf.data() + block_len, '\n')) +
                     (buf[block_len - 1] != '\n' ? 1 : 0);
  decoder_->decode(block, f.input, batch);
  f.position.offset += block_len;
  f.position.line += block.line_count;
  bytes_read_ += block_len;
  buf = std::move(rest);
}

bool FileTailer::poll(IngestBatch& batch) {
  batch.clear();
  if (!scanned_ || Clock::now() - last_scan_ >= options_.rescan_interval) rescan();
  // One read budget for all files together: memory does not grow with the number of files
  // that have a backlog (a slow database during rotations). The first file served rotates.
  bool any = false;
  size_t budget = options_.read_size;
  auto guarded = [&](Followed& f) {
    if (budget == 0) return;
    const uint64_t before = batch.bytes;
    try {
      any |= read_some(f, batch, budget);
    } catch (const InputError& e) {
      errors_.push_back(e);
      f.ended = true;
    }
    const uint64_t used = batch.bytes - before;
    budget = used >= budget ? 0 : budget - static_cast<size_t>(used);
  };
  if (stdin_) guarded(*stdin_);
  const size_t n = files_.size();
  std::vector<std::pair<uint64_t, uint64_t>> order;
  order.reserve(n);
  for (const auto& [key, f] : files_) order.push_back(key);
  if (n > 0) std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(first_served_++ % n), order.end());
  for (const auto& key : order) {
    auto it = files_.find(key);
    Followed& f = *it->second;
    guarded(f);
    if (f.ended && f.gone) {
      // Let go: its final position goes out with the next positions.
      let_go_.push_back(f.position);
      saved_[it->first] = f.position;
      files_.erase(it);
    }
  }
  return any;
}

std::vector<FilePosition> FileTailer::positions() {
  std::vector<FilePosition> out = std::exchange(let_go_, {});
  for (auto& [key, f] : files_) {
    refresh_head(*f);
    out.push_back(f->position);
  }
  return out;
}

bool FileTailer::caught_up() const {
  if (stdin_ && !stdin_->ended) return false;
  for (const auto& [key, f] : files_)
    if (!f->at_end && !f->ended) return false;
  return true;
}

bool FileTailer::finished() const {
  return stdin_ && stdin_->ended && files_.empty() &&
         std::all_of(options_.patterns.begin(), options_.patterns.end(), [](const auto& p) { return p == "-"; });
}

}  // namespace edpipe::ingest
