#pragma once
// What a row says, derived from its merged state: statuses, durations, created_at.
// Pure functions: the same state and watermark always give the same row.
#include <optional>
#include <string_view>

#include "transform/row_state.h"

namespace edpipe::transform {

enum class InvocationStatus : uint8_t { Running, Completed, Failed, Abandoned };
enum class EventStatus : uint8_t { Detecting, NotDetected, DetectionFailed, Handling, Completed, HandlerFailed, Abandoned };
enum class JobStatus : uint8_t { Running, Completed, Failed, Abandoned };
constexpr size_t kInvocationStatusCount = 4, kEventStatusCount = 7, kJobStatusCount = 4;

std::string_view status_name(InvocationStatus s) noexcept;
std::string_view status_name(EventStatus s) noexcept;
std::string_view status_name(JobStatus s) noexcept;

// The status rules, written once as data. The functions below evaluate them, the dry run's tally
// evaluates them on its compact entries, and the loader writes them as SQL CASE expressions
// (load_sql.cpp): memory, the dry run and the database derive statuses from one table. A rule
// applies when every fact of `all_of` holds and none of `none_of`; the first that applies wins.
template <class Status>
struct StatusRule {
  uint8_t all_of = 0, none_of = 0;
  Status status;
};
template <class Status, size_t N>
constexpr Status apply_rules(const StatusRule<Status> (&rules)[N], uint8_t facts) noexcept {
  for (const auto& r : rules)
    if ((facts & r.all_of) == r.all_of && (facts & r.none_of) == 0) return r.status;
  return rules[N - 1].status;
}

// Invocations and jobs: the end record, and the abandon verdict (a job's is its invocation's).
enum EndFact : uint8_t { kEnded = 1, kEndFailed = 2, kAbandoned = 4 };
constexpr int kEndFactCount = 3;
constexpr uint8_t end_facts(bool has_end, bool failed, bool abandoned) noexcept {
  return static_cast<uint8_t>((has_end ? kEnded : 0) | (has_end && failed ? kEndFailed : 0) | (abandoned ? kAbandoned : 0));
}
inline constexpr StatusRule<InvocationStatus> kInvocationStatusRules[] = {
    {kEnded | kEndFailed, 0, InvocationStatus::Failed},
    {kEnded, 0, InvocationStatus::Completed},
    {kAbandoned, 0, InvocationStatus::Abandoned},
    {0, 0, InvocationStatus::Running},
};
inline constexpr StatusRule<JobStatus> kJobStatusRules[] = {
    {kEnded | kEndFailed, 0, JobStatus::Failed},
    {kEnded, 0, JobStatus::Completed},
    {kAbandoned, 0, JobStatus::Abandoned},
    {0, 0, JobStatus::Running},
};

// Event executions: which steps were seen, how they ended, and the invocation's verdict.
enum EventFact : uint8_t {
  kHandlerEnded = 1,
  kHandlerFailed = 2,
  kDetectionEnded = 4,
  kDetectionFailed = 8,
  kDetected = 16,
  kHandlerStarted = 32,
  kInvocationAbandoned = 64,
};
constexpr int kEventFactCount = 7;
inline constexpr StatusRule<EventStatus> kEventStatusRules[] = {
    {kHandlerEnded | kHandlerFailed, 0, EventStatus::HandlerFailed},
    {kHandlerEnded, 0, EventStatus::Completed},
    {kDetectionEnded | kDetectionFailed, 0, EventStatus::DetectionFailed},
    {kDetectionEnded, kDetected, EventStatus::NotDetected},
    {kInvocationAbandoned, 0, EventStatus::Abandoned},  // still detecting or handling
    {kDetectionEnded, 0, EventStatus::Handling},
    {kHandlerStarted, 0, EventStatus::Handling},
    {0, 0, EventStatus::Detecting},
};

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

}  // namespace edpipe::transform
