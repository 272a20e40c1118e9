#pragma once
// What a row says, derived from its merged state: statuses, durations, created_at.
// Pure functions: the same state and watermark always give the same row.
#include <optional>
#include <string_view>

#include "row_state.h"

namespace edpipe {

enum class InvocationStatus : uint8_t { Running, Completed, Failed, Abandoned };
enum class EventStatus : uint8_t { Detecting, NotDetected, DetectionFailed, Handling, Completed, HandlerFailed, Abandoned };
enum class JobStatus : uint8_t { Running, Completed, Failed, Abandoned };
constexpr size_t kInvocationStatusCount = 4, kEventStatusCount = 7, kJobStatusCount = 4;

std::string_view status_name(InvocationStatus s) noexcept;
std::string_view status_name(EventStatus s) noexcept;
std::string_view status_name(JobStatus s) noexcept;

constexpr Timestamp kDefaultAbandonAfter = 15 * 60 * kMicrosPerSecond;

// The wire format's abandon rule: no invocation.end, and the newest record of the invocation is
// older than the watermark (the newest ts ever seen, never the wall clock) minus the window.
struct AbandonRule {
  Timestamp watermark = kNoLastTs;
  Timestamp abandon_after = kDefaultAbandonAfter;
  bool is_abandoned(bool has_end, Timestamp last_ts) const noexcept {
    return !has_end && watermark != kNoLastTs && last_ts < watermark - abandon_after;
  }
  bool is_abandoned(const InvocationState& s) const noexcept { return is_abandoned(s.end.has_value(), s.last_ts); }
};

// Milliseconds between two timestamps, rounded to nearest, never negative (clock skew).
int64_t millis_between(Timestamp from, Timestamp to) noexcept;

// Invocations.
InvocationStatus invocation_status(const InvocationState& s, const AbandonRule& rule) noexcept;
Timestamp created_at(const InvocationState& s) noexcept;
std::optional<int64_t> total_duration_ms(const InvocationState& s) noexcept;
std::string_view source_function(const InvocationState& s) noexcept;  // "" until the start is seen

// Event executions. `invocation_abandoned` is the parent's verdict under the same rule.
EventStatus event_status(const EventExecutionState& s, bool invocation_abandoned) noexcept;
Timestamp created_at(const EventExecutionState& s) noexcept;
std::string_view event_name(const EventExecutionState& s) noexcept;
bool detected(const EventExecutionState& s) noexcept;
std::optional<int64_t> detection_duration_ms(const EventExecutionState& s) noexcept;
std::optional<int64_t> handler_duration_ms(const EventExecutionState& s) noexcept;

// Job executions.
JobStatus job_status(const JobExecutionState& s, bool invocation_abandoned) noexcept;
Timestamp created_at(const JobExecutionState& s) noexcept;
std::string_view job_name(const JobExecutionState& s) noexcept;
std::optional<Uuid> event_execution_id(const JobExecutionState& s) noexcept;
std::optional<int64_t> duration_ms(const JobExecutionState& s) noexcept;

}  // namespace edpipe
