#include "ingest/trace_record.h"

#include <array>

namespace edpipe::ingest {
namespace {
constexpr std::array<std::string_view, kRecordTypeCount> kTypeNames = {
    "invocation.start",      "invocation.end",      "event.detection.start",
    "event.detection.end",   "event.handler.start", "event.handler.end",
    "job.start",             "job.end",             "job.log",
};
constexpr std::array<std::string_view, 4> kLevelNames = {"debug", "info", "warn", "error"};
}  // namespace

std::string_view record_type_name(RecordType t) noexcept { return kTypeNames[static_cast<size_t>(t)]; }

std::optional<RecordType> record_type_from_name(std::string_view name) noexcept {
  // Every record asks: by length first, so each name is compared with at most two others.
  auto is = [&](RecordType t) { return kTypeNames[static_cast<size_t>(t)] == name; };
  switch (name.size()) {
    case 7:
      if (is(RecordType::JobLog)) return RecordType::JobLog;
      if (is(RecordType::JobEnd)) return RecordType::JobEnd;
      break;
    case 9: if (is(RecordType::JobStart)) return RecordType::JobStart; break;
    case 14: if (is(RecordType::InvocationEnd)) return RecordType::InvocationEnd; break;
    case 16: if (is(RecordType::InvocationStart)) return RecordType::InvocationStart; break;
    case 17: if (is(RecordType::HandlerEnd)) return RecordType::HandlerEnd; break;
    case 19:
      if (is(RecordType::DetectionEnd)) return RecordType::DetectionEnd;
      if (is(RecordType::HandlerStart)) return RecordType::HandlerStart;
      break;
    case 21: if (is(RecordType::DetectionStart)) return RecordType::DetectionStart; break;
    default: break;
  }
  return std::nullopt;
}

std::string_view outcome_name(Outcome o) noexcept { return o == Outcome::Failed ? "failed" : "completed"; }

std::string_view log_level_name(LogLevel l) noexcept { return kLevelNames[static_cast<size_t>(l)]; }

std::optional<LogLevel> log_level_from_name(std::string_view name) noexcept {
  for (size_t i = 0; i < kLevelNames.size(); ++i)
    if (kLevelNames[i] == name) return static_cast<LogLevel>(i);
  return std::nullopt;
}

}  // namespace edpipe::ingest
