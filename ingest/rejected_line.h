#pragma once
// A record candidate that breaks the wire format: kept with where it came from and why.
#include <string>

#include "ingest/trace_record.h"

namespace edpipe::ingest {

enum class RejectReason : uint8_t {
  InvalidJson,         // torn or otherwise not JSON (starts with `{`)
  InvalidUtf8,
  LineTooLong,
  MissingField,
  WrongType,           // a field of the wrong JSON type or an unknown enum value
  BadUuid,
  BadTimestamp,
  UnsupportedVersion,
  TooDeep,             // nesting beyond the parser's depth limit
};
constexpr size_t kRejectReasonCount = 9;
std::string_view reject_reason_code(RejectReason r) noexcept;  // stable snake_case code

constexpr size_t kMaxRawKept = 64 * 1024;

struct RejectedLine {
  SourcePos pos;
  RejectReason reason;
  std::string detail;  // human sentence naming the field, e.g. "field `ts`: not an RFC 3339 timestamp"
  std::string raw;     // the line as read (cut at kMaxRawKept bytes for over-long lines)
  uint64_t raw_size = 0;  // the line's full length in bytes

  // One way to build each kind: the raw text kept is cut the same way everywhere.
  static RejectedLine broken(SourcePos pos, RejectReason reason, std::string detail, std::string_view raw);
  // A line longer than `limit` bytes, of which `head` (its first bytes) was kept; `size` is
  // its full length when known (0: it had not ended yet).
  static RejectedLine too_long(SourcePos pos, std::string_view head, uint64_t size, uint64_t limit);
};

}  // namespace edpipe::ingest
