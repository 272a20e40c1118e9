#pragma once
// Follows files like `tail -F` (and a pipe on stdin that never ends), handing out complete
// lines only, with the read position of every file.
//
// - A position (FilePosition) only ever points just past a complete line. A partial last
//   line waits for its newline, or for a definite end: stdin's end, the end of a `.gz`, or a
//   file rotated away that stayed unchanged for the rotate wait.
// - A file is known by device + inode, and a hash of its first bytes tells inode reuse and
//   truncation apart from the same file grown. A file whose size falls below the position
//   (copytruncate) starts over; a file renamed away is read to its end before it is let go;
//   new files matching the patterns are picked up at every rescan.
// - `.gz` files are read through zlib; their position counts uncompressed bytes, and resuming
//   inflates up to it again.
// The positions are saved by whoever consumes the lines, in the same transaction as the rows
// they produced (load/row_loader.h), so a restart resumes exactly where the database stands.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ingest/file_position.h"
#include "ingest/ingest_batch.h"
#include "ingest/input_error.h"
#include "ingest/line_framing.h"

namespace edpipe::ingest {

constexpr uint32_t kHeadBytes = 256;

struct TailOptions {
  std::vector<std::string> patterns;  // files, directories, globs; "-" follows stdin
  bool from_beginning = false;        // ignore saved positions
  std::chrono::milliseconds rescan_interval{1000};
  std::chrono::milliseconds rotate_wait{5000};
  size_t read_size = 4u << 20;        // per poll, all files together
};

class RecordDecoder;

class FileTailer {
 public:
  // Called before a file is first followed; throws to refuse it (another process owns it).
  using ClaimFile = std::function<void(const FilePosition&)>;

  FileTailer(TailOptions options, FramingOptions framing, std::vector<FilePosition> saved,
             ClaimFile claim = nullptr);
  ~FileTailer();

  // Clears `batch` and fills it with the complete lines that arrived since the last call (about
  // read_size bytes at most). Returns false when there was nothing new.
  bool poll(IngestBatch& batch);
  // The position of every followed file (stdin has none), and of files let go since the last call.
  std::vector<FilePosition> positions();

  // Every followed file is read to its current end (and stdin, if followed, has ended).
  bool caught_up() const;
  // Only stdin was followed and it has ended: nothing more can come.
  bool finished() const;
  const std::string& input_name(uint32_t input) const { return names_.at(input); }
  size_t followed_files() const noexcept { return files_.size(); }
  uint64_t bytes_read() const noexcept { return bytes_read_; }
  // Files that could not be read (they are let go; the others go on).
  std::vector<InputError> take_errors();

 private:
  struct Followed;
  void rescan();
  void follow(const std::string& path, uint64_t device, uint64_t inode);
  bool read_some(Followed& f, IngestBatch& batch, size_t budget);
  void hand_out(Followed& f, bool definite_end, IngestBatch& batch);
  void refresh_head(Followed& f);
  bool same_head(Followed& f);

  TailOptions options_;
  std::unique_ptr<RecordDecoder> decoder_;
  std::map<std::pair<uint64_t, uint64_t>, FilePosition> saved_;
  ClaimFile claim_;
  std::map<std::pair<uint64_t, uint64_t>, std::unique_ptr<Followed>> files_;
  std::unique_ptr<Followed> stdin_;
  std::vector<FilePosition> let_go_;
  std::vector<std::string> names_;
  std::vector<InputError> errors_;
  std::set<std::pair<uint64_t, uint64_t>> unreadable_;
  std::chrono::steady_clock::time_point last_scan_{};
  bool scanned_ = false;
  uint64_t bytes_read_ = 0;
  size_t first_served_ = 0;
  std::string chunk_;  // reused read buffer
};

uint64_t fnv1a64(std::string_view bytes) noexcept;

}  // namespace edpipe::ingest
