#include "row_state.h"

#include <tuple>

namespace edpipe {
namespace {

// The orders that decide which of two records of the same step wins:
//  - starts: the earlier one;
//  - ends: a failed end beats a completed one, then the earlier one (wire format "duplicates").
// Ties fall through to the whole record, so the order is total and the choice deterministic.
template <class B>
auto start_key(const Stamped<B>& s) {
  return std::tie(s.ts, s.body);
}
auto end_key(const Stamped<InvocationEnd>& s) { return std::tie(s.body.status, s.ts, s.body); }
auto end_key(const Stamped<JobEnd>& s) { return std::tie(s.body.status, s.ts, s.body); }
template <class B>  // detection and handler ends: failed means "has an error"
auto error_end_key(const Stamped<B>& s) {
  return std::make_tuple(!s.body.error.has_value(), std::cref(s.ts), std::cref(s.body));
}

template <class T, class KeyFn>
void keep_winner(std::optional<T>& into, const std::optional<T>& from, KeyFn key) {
  if (from && (!into || key(*from) < key(*into))) into = from;
}
template <class T, class KeyFn>
void keep_winner(std::optional<T>& into, T&& candidate, KeyFn key) {
  if (!into || key(candidate) < key(*into)) into = std::move(candidate);
}

void keep_min_text(std::optional<std::string>& into, const std::optional<std::string>& from) {
  if (from && (!into || *from < *into)) into = from;
}

template <class S>
void merge_times(S& into, const S& from) {
  into.first_ts = std::min(into.first_ts, from.first_ts);
  into.last_ts = std::max(into.last_ts, from.last_ts);
  keep_min_text(into.correlation_id, from.correlation_id);
}

constexpr auto kStart = [](const auto& s) { return start_key(s); };
constexpr auto kEnd = [](const auto& s) { return end_key(s); };
constexpr auto kErrorEnd = [](const auto& s) { return error_end_key(s); };

}  // namespace

void merge_into(InvocationState& a, const InvocationState& b) {
  keep_winner(a.start, b.start, kStart);
  keep_winner(a.end, b.end, kEnd);
  merge_times(a, b);
}

void merge_into(EventExecutionState& a, const EventExecutionState& b) {
  a.invocation_id = std::min(a.invocation_id, b.invocation_id);
  keep_winner(a.detection_start, b.detection_start, kStart);
  keep_winner(a.detection_end, b.detection_end, kErrorEnd);
  keep_winner(a.handler_start, b.handler_start, kStart);
  keep_winner(a.handler_end, b.handler_end, kErrorEnd);
  merge_times(a, b);
}

void merge_into(JobExecutionState& a, const JobExecutionState& b) {
  a.invocation_id = std::min(a.invocation_id, b.invocation_id);
  keep_winner(a.start, b.start, kStart);
  keep_winner(a.end, b.end, kEnd);
  merge_times(a, b);
}

InvocationState merge(const InvocationState& a, const InvocationState& b) {
  InvocationState r = a;
  merge_into(r, b);
  return r;
}
EventExecutionState merge(const EventExecutionState& a, const EventExecutionState& b) {
  EventExecutionState r = a;
  merge_into(r, b);
  return r;
}
JobExecutionState merge(const JobExecutionState& a, const JobExecutionState& b) {
  JobExecutionState r = a;
  merge_into(r, b);
  return r;
}
JobLogRow merge(const JobLogRow& a, const JobLogRow& b) { return std::min(a, b); }

void apply(InvocationState& s, Timestamp ts, InvocationStart&& b) {
  keep_winner(s.start, Stamped<InvocationStart>{ts, std::move(b)}, kStart);
}
void apply(InvocationState& s, Timestamp ts, InvocationEnd&& b) {
  keep_winner(s.end, Stamped<InvocationEnd>{ts, std::move(b)}, kEnd);
}
void apply(EventExecutionState& s, Timestamp ts, DetectionStart&& b) {
  keep_winner(s.detection_start, Stamped<DetectionStart>{ts, std::move(b)}, kStart);
}
void apply(EventExecutionState& s, Timestamp ts, DetectionEnd&& b) {
  keep_winner(s.detection_end, Stamped<DetectionEnd>{ts, std::move(b)}, kErrorEnd);
}
void apply(EventExecutionState& s, Timestamp ts, HandlerStart&& b) {
  keep_winner(s.handler_start, Stamped<HandlerStart>{ts, std::move(b)}, kStart);
}
void apply(EventExecutionState& s, Timestamp ts, HandlerEnd&& b) {
  keep_winner(s.handler_end, Stamped<HandlerEnd>{ts, std::move(b)}, kErrorEnd);
}
void apply(JobExecutionState& s, Timestamp ts, JobStart&& b) {
  keep_winner(s.start, Stamped<JobStart>{ts, std::move(b)}, kStart);
}
void apply(JobExecutionState& s, Timestamp ts, JobEnd&& b) {
  keep_winner(s.end, Stamped<JobEnd>{ts, std::move(b)}, kEnd);
}

}  // namespace edpipe
