#pragma once
// The dead-letter output: one JSON object per rejected line, enough to find and replay it.
// Safe to write from several threads.
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "ingest/input_set.h"
#include "ingest/rejected_line.h"

namespace edpipe::ingest {

class DeadLetterWriter {
 public:
  // Throws std::runtime_error naming the file when it cannot be opened.
  explicit DeadLetterWriter(const std::string& path);
  ~DeadLetterWriter();
  DeadLetterWriter(const DeadLetterWriter&) = delete;
  DeadLetterWriter& operator=(const DeadLetterWriter&) = delete;

  void write(const RejectedLine& line, const std::string& input_name);
  // One JSON object already rendered (ending in a newline): rows the database refused.
  void write_raw(const std::string& json_line);
  // Flushes to the OS; throws std::runtime_error (disk full, ...) so no rejection goes unrecorded.
  void flush();

  static std::string to_json(const RejectedLine& line, const std::string& input_name);

 private:
  void put(const std::string& s);
  std::string path_;
  std::FILE* file_ = nullptr;
  std::mutex mu_;  // rejected lines and refused rows are written from different threads
};

}  // namespace edpipe::ingest
