#pragma once
// The ingest stage's face: inputs in, batches of records and line fates out.
#include <memory>
#include <string>
#include <vector>

#include "ingest/ingest_batch.h"
#include "ingest/input_error.h"
#include "ingest/input_set.h"
#include "ingest/line_framing.h"

namespace edpipe::ingest {

class RecordDecoder;

class TraceReader {
 public:
  // Throws FramingError for a bad --line-regex.
  explicit TraceReader(std::vector<InputSpec> inputs, FramingOptions framing = {});
  ~TraceReader();

  // Clears `batch` and fills it with the next block of lines. False once every input is done.
  // An input that fails (cannot be opened, read error, corrupt gzip) is recorded in failures()
  // and the reader goes on with the next one; what was read before the failure stays.
  bool next(IngestBatch& batch);

  const std::vector<InputSpec>& inputs() const noexcept { return inputs_; }
  const std::vector<InputError>& failures() const noexcept { return failures_; }
  // On-disk bytes consumed so far (compressed bytes for .gz): progress against total_size().
  uint64_t raw_bytes_consumed() const noexcept;
  std::optional<uint64_t> total_size() const noexcept { return total_size_; }

 private:
  bool open_next();
  void close_current();

  std::vector<InputSpec> inputs_;
  std::vector<InputError> failures_;
  std::optional<uint64_t> total_size_;
  size_t next_input_ = 0;
  int64_t current_ = -1;
  uint64_t finished_raw_bytes_ = 0;
  struct Current;
  std::unique_ptr<Current> cur_;
  std::unique_ptr<RecordDecoder> decoder_;  // one for the whole run: its parser's buffers are reused
};

}  // namespace edpipe::ingest
