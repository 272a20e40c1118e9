#pragma once
// Where the reading of one followed file stands: what `tail` saves with the rows it produced.
#include <cstdint>
#include <string>

namespace edpipe::ingest {

struct FilePosition {
  uint64_t device = 0, inode = 0;
  uint64_t head_hash = 0;   // FNV-1a of the file's first head_bytes bytes (as stored on disk)
  uint32_t head_bytes = 0;
  uint64_t offset = 0;      // just past the last complete line handed out (uncompressed for .gz)
  uint64_t line = 0;        // lines handed out before `offset`
  std::string path;         // where it was last seen (informational)
  bool operator==(const FilePosition&) const = default;
};

}  // namespace edpipe::ingest
