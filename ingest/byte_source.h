#pragma once
// Sequential byte streams over one input: a file, stdin, or a gzip stream of either.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace edpipe::ingest {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to n bytes; returns 0 only at the end. Throws InputError.
  virtual size_t read(char* buf, size_t n) = 0;
  // Bytes consumed from the underlying file (compressed bytes for gzip): drives progress.
  virtual uint64_t raw_bytes_consumed() const noexcept = 0;
};

// Opens `path` ("-" is stdin). Gzip (also multi-member) is recognised by its magic bytes,
// so a `.gz` piped to stdin works too.
std::unique_ptr<ByteSource> open_byte_source(const std::string& path);

}  // namespace edpipe::ingest
