#include "ingest/rejected_line.h"

#include <algorithm>

#include <array>

namespace edpipe::ingest {

std::string_view reject_reason_code(RejectReason r) noexcept {
  static constexpr std::array<std::string_view, kRejectReasonCount> kCodes = {
      "invalid_json", "invalid_utf8", "line_too_long",       "missing_field", "wrong_type",
      "bad_uuid",     "bad_timestamp", "unsupported_version", "too_deep"};
  return kCodes[static_cast<size_t>(r)];
}

RejectedLine RejectedLine::broken(SourcePos pos, RejectReason reason, std::string detail, std::string_view raw) {
  RejectedLine r;
  r.pos = pos;
  r.reason = reason;
  r.detail = std::move(detail);
  r.raw.assign(raw.substr(0, kMaxRawKept));
  r.raw_size = raw.size();
  return r;
}

RejectedLine RejectedLine::too_long(SourcePos pos, std::string_view head, uint64_t size, uint64_t limit) {
  RejectedLine r = broken(pos, RejectReason::LineTooLong,
                          (size ? "line of " + std::to_string(size) + " bytes" : std::string("line")) +
                              " exceeds the limit of " + std::to_string(limit) + " bytes",
                          head);
  r.raw_size = std::max<uint64_t>(size, head.size());
  return r;
}

}  // namespace edpipe::ingest
