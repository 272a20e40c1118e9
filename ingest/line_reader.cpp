#include "ingest/line_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/text_arena.h"  // EDPIPE_ASAN
#include "ingest/rejected_line.h"

namespace edpipe::ingest {

LineReader::LineReader(ByteSource& source, size_t read_size, size_t max_line)
    : source_(source), read_size_(read_size), max_line_(max_line) {
  cap_ = read_size_;
  buf_.reset(new char[cap_ + kBlockPadding]);
}

void LineReader::fill() {
#ifdef EDPIPE_ASAN
  // A view of this block (a record's text, when the block outlives its batch) must not be read
  // once fill() moves on: under ASan the block is a new one each time and the old one freed, so
  // such a read is a use-after-free at once instead of the next block's bytes.
  {
    std::unique_ptr<char[]> fresh(new char[cap_ + kBlockPadding]);
    std::memcpy(fresh.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    scanned_ -= begin_;
    begin_ = 0;
    buf_ = std::move(fresh);
  }
#endif
  // Keep the unfinished line, move it to the front, and grow only when a line needs it.
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    scanned_ -= begin_;
    begin_ = 0;
  }
  if (end_ == cap_) {
    size_t new_cap = std::min(cap_ * 2, max_line_ + 1 + read_size_);
    std::unique_ptr<char[]> bigger(new char[new_cap + kBlockPadding]);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ = new_cap;
  }
  // Fill the buffer (the first time only kFirstReadSize of it); a short read (a pipe) ends the
  // fill once a whole line is there.
  const size_t want = first_fill_ ? std::min(cap_, end_ + kFirstReadSize) : cap_;
  first_fill_ = false;
  while (end_ < want && !eof_) {
    size_t r = 0;
    try {
      r = source_.read(buf_.get() + end_, want - end_);
    } catch (const std::exception&) {
      read_error_ = std::current_exception();
      eof_ = true;
      break;
    }
    if (r == 0) {
      eof_ = true;
      break;
    }
    bool has_newline = std::memchr(buf_.get() + end_, '\n', r) != nullptr;
    end_ += r;
    if (has_newline && end_ < want) {
      // Regular files return full reads; stop early only for streams that trickle.
      if (r < (want - (end_ - r)) / 2) break;
    }
  }
  // The padding after the input read so far is blanks, not what an earlier fill left there: a
  // parser may look at the byte after a document (simdjson does, when the last line has no
  // newline), and its verdict must not depend on stale memory.
  std::memset(buf_.get() + end_, ' ', kBlockPadding);
}

void LineReader::skip_overlong(std::vector<OverlongLine>& overlong) {
  OverlongLine o;
  o.line = line_no_;
  o.offset = offset_;
  o.head.assign(buf_.get() + begin_, std::min<size_t>(end_ - begin_, kMaxRawKept));
  uint64_t size = 0;
  for (;;) {
    const char* nl = static_cast<const char*>(std::memchr(buf_.get() + begin_, '\n', end_ - begin_));
    if (nl) {
      size_t n = static_cast<size_t>(nl - (buf_.get() + begin_));
      size += n;
      begin_ += n + 1;
      offset_ += size + 1;
      break;
    }
    size += end_ - begin_;
    begin_ = end_ = scanned_ = 0;
    if (eof_) {
      offset_ += size;
      break;
    }
    fill();
    if (end_ == 0 && eof_) {
      offset_ += size;
      break;
    }
  }
  scanned_ = begin_;
  o.size = size;
  ++line_no_;
  overlong.push_back(std::move(o));
}

bool LineReader::next(LineBlock& block, std::vector<OverlongLine>& overlong) {
  for (;;) {
    // Emit every complete line in the buffer as one block.
    char* base = buf_.get();
    const char* last_nl = nullptr;
    if (end_ > scanned_) {
      last_nl = static_cast<const char*>(memrchr(base + scanned_, '\n', end_ - scanned_));
      scanned_ = end_;
    }
    if (last_nl) {
      size_t block_end = static_cast<size_t>(last_nl - base) + 1;
      block.data = base + begin_;
      block.size = block_end - begin_;
      block.first_line = line_no_;
      block.offset = offset_;
      uint64_t lines = 0;
      for (const char* p = block.data; (p = static_cast<const char*>(std::memchr(p, '\n', base + block_end - p)));
           ++p)
        ++lines;
      block.line_count = lines;
      line_no_ += lines;
      offset_ += block.size;
      begin_ = block_end;
      // A line over the limit that still fitted in the buffer is rejected by the decoder.
      return true;
    }
    if (end_ - begin_ > max_line_) {
      skip_overlong(overlong);
      continue;
    }
    if (eof_) {
      if (end_ == begin_) {
        if (read_error_) std::rethrow_exception(std::exchange(read_error_, nullptr));
        return false;
      }
      // The last line has no newline: it still counts.
      block.data = base + begin_;
      block.size = end_ - begin_;
      block.first_line = line_no_;
      block.offset = offset_;
      block.line_count = 1;
      line_no_ += 1;
      offset_ += block.size;
      begin_ = scanned_ = end_;
      return true;
    }
    fill();
  }
}

}  // namespace edpipe::ingest
