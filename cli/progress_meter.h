#pragma once
// A one-line progress display on stderr, redrawn a few times a second; only for terminals.
#include <chrono>
#include <cstdint>
#include <optional>

namespace edpipe::cli {

class ProgressMeter {
 public:
  ProgressMeter(bool enabled, std::optional<uint64_t> total_bytes);
  void update(uint64_t raw_bytes, uint64_t records);
  void finish();  // erases the line

 private:
  bool enabled_;
  std::optional<uint64_t> total_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace edpipe::cli
