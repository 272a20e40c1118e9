#pragma once
// Timestamps are microseconds since the Unix epoch, UTC: the resolution of timestamptz.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edpipe {

using Timestamp = int64_t;  // µs since 1970-01-01T00:00:00Z
constexpr Timestamp kMicrosPerSecond = 1'000'000;
constexpr Timestamp kMicrosPerHour = 3600 * kMicrosPerSecond;

enum class ZoneRule {
  Required,    // the wire format: `Z` or ±hh:mm must be present
  DefaultUtc,  // Hasura's created_at: no zone means UTC
};

// RFC 3339: `2026-11-20T10:15:00.123Z`, 0-9 fraction digits (rounded to µs),
// `Z`/`z` or ±hh:mm, `T`/`t`/space between date and time. Years 0001-9999.
[[nodiscard]] std::optional<Timestamp> parse_rfc3339(std::string_view text, ZoneRule zone = ZoneRule::Required) noexcept;

// Integer epoch milliseconds, limited to the same years.
std::optional<Timestamp> from_epoch_millis(int64_t ms) noexcept;

// `2026-11-20T10:15:00.123456Z` (always 6 fraction digits).
std::string format_rfc3339(Timestamp ts);
// The same, appended to `out`.
void append_rfc3339(std::string& out, Timestamp ts);
// `2026-11-20`: a date given as days since 1970-01-01 (a day partition's, core/uuid.h).
std::string format_date(int32_t days_since_epoch);
// `2026-11-20 10:00` style hour label for tables.
std::string format_hour(Timestamp hour_start);

inline Timestamp hour_floor(Timestamp ts) noexcept {
  Timestamp h = ts / kMicrosPerHour;
  if (ts < 0 && ts % kMicrosPerHour) --h;
  return h * kMicrosPerHour;
}

}  // namespace edpipe
