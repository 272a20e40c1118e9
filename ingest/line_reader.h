#pragma once
// Cuts a byte stream into blocks of whole lines, in one large reusable buffer.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "ingest/byte_source.h"

namespace edpipe::ingest {

// A block's records (352 bytes each, ~3 per 1 KB of input) are written by the decoder and
// read by the transform right after: 1 MiB blocks keep them in a core's L2 cache between the
// two. 4 MiB blocks made ingest + transform 16 % slower.
constexpr size_t kDefaultReadSize = 1u << 20;
// The first block is smaller: its records are read a few milliseconds after the start, so that
// `edpipe load` can tell the loader the first day it will write to while the rest is read.
constexpr size_t kFirstReadSize = 64u << 10;
constexpr size_t kMaxLineBytes = 16u << 20;  // longer lines are rejected, never a stall
constexpr size_t kBlockPadding = 64;         // readable bytes after every block (SIMDJSON_PADDING)

// Complete lines: every one ends in '\n' except, at the very end of the input, the last.
// data[size, size + kBlockPadding) is readable: the next line's first bytes, or blanks after the
// input's last line. The block may be modified in place.
struct LineBlock {
  char* data = nullptr;
  size_t size = 0;
  uint64_t first_line = 1;  // 1-based number of the block's first line
  uint64_t offset = 0;      // byte offset of data[0] in the (uncompressed) stream
  uint64_t line_count = 0;
  // The bytes stay unchanged until the batch the block is decoded into is cleared (one block per
  // batch, as TraceReader reads): its records then view the block instead of copying their text.
  bool outlives_batch = false;
};

// A line longer than the limit: its first bytes, kept for the dead-letter output.
struct OverlongLine {
  uint64_t line = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string head;
};

class LineReader {
 public:
  LineReader(ByteSource& source, size_t read_size = kDefaultReadSize, size_t max_line = kMaxLineBytes);

  // The next block, or false at the end of the input. Lines over the limit that were passed
  // on the way are appended to `overlong` (they sit before the returned block). A read error
  // ends the input like an end of file (the unfinished last line is handed out as a line) and
  // is thrown by the call after that.
  bool next(LineBlock& block, std::vector<OverlongLine>& overlong);

 private:
  void fill();
  void skip_overlong(std::vector<OverlongLine>& overlong);

  ByteSource& source_;
  size_t read_size_, max_line_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t begin_ = 0, end_ = 0, scanned_ = 0;
  uint64_t line_no_ = 1, offset_ = 0;
  bool eof_ = false, first_fill_ = true;
  std::exception_ptr read_error_;  // raised once the lines read before it are handed out
};

}  // namespace edpipe::ingest
