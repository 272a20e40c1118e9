#include "rejected_line.h"

#include <array>

namespace edpipe {

std::string_view reject_reason_code(RejectReason r) noexcept {
  static constexpr std::array<std::string_view, kRejectReasonCount> kCodes = {
      "invalid_json", "invalid_utf8", "line_too_long",       "missing_field", "wrong_type",
      "bad_uuid",     "bad_timestamp", "unsupported_version", "too_deep"};
  return kCodes[static_cast<size_t>(r)];
}

}  // namespace edpipe
