#include "cli/progress_meter.h"

#include <cstdio>
#include <string>

#include "cli/run_summary.h"

namespace edpipe::cli {

ProgressMeter::ProgressMeter(bool enabled, std::optional<uint64_t> total_bytes)
    : enabled_(enabled),
      total_(total_bytes),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}  // the first update draws: a run is seen to start

void ProgressMeter::update(uint64_t raw_bytes, uint64_t records) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? raw_bytes / secs : 0;
  // Bytes as read from disk or the pipe (compressed, for .gz): what the total and the ETA are of.
  std::string line = "\r  " + human_bytes(double(raw_bytes));
  if (total_) line += " / " + human_bytes(double(*total_));
  line += " on disk  " + human_bytes(rate) + "/s  " + std::to_string(records) + " records";
  if (total_ && rate > 0 && *total_ > raw_bytes) {
    const auto eta = static_cast<long>((*total_ - raw_bytes) / rate);
    char buf[32];
    std::snprintf(buf, sizeof buf, "  ETA %ld:%02ld", eta / 60, eta % 60);
    line += buf;
  }
  line += "\x1b[K";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressMeter::finish() {
  if (drawn_) std::fputs("\r\x1b[K", stderr);
  drawn_ = false;
}

}  // namespace edpipe::cli
