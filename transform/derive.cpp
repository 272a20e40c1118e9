#include "transform/derive.h"

namespace edpipe::transform {

std::string_view status_name(InvocationStatus s) noexcept {
  constexpr std::string_view kNames[] = {"running", "completed", "failed", "abandoned"};
  return kNames[static_cast<size_t>(s)];
}
std::string_view status_name(EventStatus s) noexcept {
  constexpr std::string_view kNames[] = {"detecting", "not_detected", "detection_failed", "handling",
                                         "completed", "handler_failed", "abandoned"};
  return kNames[static_cast<size_t>(s)];
}
std::string_view status_name(JobStatus s) noexcept {
  constexpr std::string_view kNames[] = {"running", "completed", "failed", "abandoned"};
  return kNames[static_cast<size_t>(s)];
}

int64_t millis_between(Timestamp from, Timestamp to) noexcept {
  if (to <= from) return 0;
  return (to - from + 500) / 1000;
}

namespace {
template <class End, class Start>
std::optional<int64_t> step_duration(const std::optional<Stamped<End>>& end, const std::optional<Stamped<Start>>& start) {
  if (!end) return std::nullopt;
  if (end->body.duration_ms) return end->body.duration_ms;
  if (!start) return std::nullopt;
  return millis_between(start->ts, end->ts);
}
}  // namespace

namespace {
template <class End>
uint8_t end_facts_of(const std::optional<Stamped<End>>& end, bool abandoned) noexcept {
  return end_facts(end.has_value(), end && end->body.status == ingest::Outcome::Failed, abandoned);
}
}  // namespace

InvocationStatus invocation_status(const InvocationState& s, const AbandonRule& rule) noexcept {
  return apply_rules(kInvocationStatusRules, end_facts_of(s.end, rule.is_abandoned(s)));
}
Timestamp created_at(const InvocationState& s) noexcept { return s.start ? s.start->ts : s.first_ts; }
std::optional<int64_t> total_duration_ms(const InvocationState& s) noexcept { return step_duration(s.end, s.start); }
std::string_view source_function(const InvocationState& s) noexcept {
  return s.start ? std::string_view(s.start->body.source_function) : std::string_view();
}

EventStatus event_status(const EventExecutionState& s, bool invocation_abandoned) noexcept {
  uint8_t f = 0;
  if (s.handler_end) f |= kHandlerEnded | (s.handler_end->body.error ? kHandlerFailed : 0);
  if (s.detection_end)
    f |= kDetectionEnded | (s.detection_end->body.error ? kDetectionFailed : 0) |
         (s.detection_end->body.detected ? kDetected : 0);
  if (s.handler_start) f |= kHandlerStarted;
  if (invocation_abandoned) f |= kInvocationAbandoned;
  return apply_rules(kEventStatusRules, f);
}
Timestamp created_at(const EventExecutionState& s) noexcept {
  return s.detection_start ? s.detection_start->ts : s.first_ts;
}
std::string_view event_name(const EventExecutionState& s) noexcept {
  if (s.detection_start) return s.detection_start->body.event_name;
  if (s.detection_end) return s.detection_end->body.event_name;
  if (s.handler_start) return s.handler_start->body.event_name;
  if (s.handler_end) return s.handler_end->body.event_name;
  return {};
}
bool detected(const EventExecutionState& s) noexcept { return s.detection_end && s.detection_end->body.detected; }
std::optional<int64_t> detection_duration_ms(const EventExecutionState& s) noexcept {
  return step_duration(s.detection_end, s.detection_start);
}
std::optional<int64_t> handler_duration_ms(const EventExecutionState& s) noexcept {
  return step_duration(s.handler_end, s.handler_start);
}

JobStatus job_status(const JobExecutionState& s, bool invocation_abandoned) noexcept {
  return apply_rules(kJobStatusRules, end_facts_of(s.end, invocation_abandoned));
}
Timestamp created_at(const JobExecutionState& s) noexcept { return s.start ? s.start->ts : s.first_ts; }
std::string_view job_name(const JobExecutionState& s) noexcept {
  if (s.start) return s.start->body.job_name;
  if (s.end) return s.end->body.job_name;
  return {};
}
std::optional<Uuid> event_execution_id(const JobExecutionState& s) noexcept {
  if (s.start) return s.start->body.event_execution_id;
  if (s.end) return s.end->body.event_execution_id;
  return std::nullopt;
}
std::optional<int64_t> duration_ms(const JobExecutionState& s) noexcept { return step_duration(s.end, s.start); }

}  // namespace edpipe::transform
