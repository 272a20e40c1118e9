#include "transform/row_tally.h"

#include <tuple>

#include "transform/content_hash.h"

namespace edpipe::transform {

uint32_t RowTally::invocation_index(const Uuid& id) {
  bool inserted;
  uint32_t& idx = invocation_ids_.get(id, inserted);
  if (inserted) {
    idx = static_cast<uint32_t>(invocations_.size());
    invocations_.emplace_back();
  }
  return idx;
}

// A child id that comes with two parents (hostile or broken emitters) belongs to the smaller
// parent id, as in merge() (row_state.cpp): the same whichever fragment comes first.
void RowTally::adopt_parent(uint32_t& parent, bool inserted, const Uuid& invocation_id) {
  const uint32_t candidate = invocation_index(invocation_id);
  if (inserted || invocation_id < invocation_ids_.key_at(parent)) parent = candidate;
}

uint32_t RowTally::intern(std::string_view name) {
  auto it = name_ids_.find(name);
  if (it != name_ids_.end()) return it->second;
  auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  name_ids_.emplace(names_.back(), id);
  return id;
}

namespace {
// The orders of row_state.cpp on what an entry keeps: the failed-ness, the ts, then the content
// rank (computed only for a tie: the entry keeps the winner's).
template <class B>
bool wins(bool failed, Timestamp ts, const B& body, bool has, bool kept_failed, Timestamp kept_ts, ContentRank& kept_rank) {
  if (!has) {
    kept_rank = content_rank(body);
    return true;
  }
  if (failed != kept_failed) return failed;
  if (ts != kept_ts) {
    if (ts > kept_ts) return false;
    kept_rank = content_rank(body);
    return true;
  }
  const ContentRank r = content_rank(body);
  if (r >= kept_rank) return false;
  kept_rank = r;
  return true;
}
}  // namespace

// The same winners as row_state.cpp's merge, on the compact entries.
// The rows' keys are known ahead: each map's slot for a row a few places on is fetched while
// this one is added (children also look up their parent).
void RowTally::add(const RowBatch& batch) {
  constexpr size_t kAhead = 8;
  auto add_all = [&](const auto& rows, const auto& map, auto with_parent) {
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i + kAhead < rows.size()) {
        map.prefetch(rows[i + kAhead].id);
        if constexpr (with_parent) invocation_ids_.prefetch(rows[i + kAhead].invocation_id);
      }
      add(rows[i]);
    }
  };
  add_all(batch.invocations, invocation_ids_, std::false_type{});
  add_all(batch.event_executions, events_, std::true_type{});
  add_all(batch.job_executions, jobs_, std::true_type{});
  add_all(batch.job_logs, logs_, std::false_type{});
}

void RowTally::add(const InvocationState& s) {
  InvocationEntry& e = invocations_[invocation_index(s.id)];
  e.first_ts = std::min(e.first_ts, s.first_ts);
  e.last_ts = std::max(e.last_ts, s.last_ts);
  if (s.start && wins(false, s.start->ts, s.start->body, e.has_start, false, e.start_ts, e.start_rank)) {
    e.has_start = true;
    e.start_ts = s.start->ts;
    e.function = intern(s.start->body.source_function);
    e.chained = s.start->body.source_job_id.has_value();
  }
  if (s.end && wins(s.end->body.status == ingest::Outcome::Failed, s.end->ts, s.end->body, e.has_end,
                    e.end_status == ingest::Outcome::Failed, e.end_ts, e.end_rank)) {
    e.has_end = true;
    e.end_status = s.end->body.status;
    e.end_ts = s.end->ts;
    e.end_duration_ms = s.end->body.duration_ms.value_or(-1);
  }
}

void RowTally::add(const EventExecutionState& s) {
  bool inserted;
  EventEntry& e = events_.get(s.id, inserted);
  adopt_parent(e.invocation, inserted, s.invocation_id);
  if (const auto& d = s.detection_start;
      d && wins(false, d->ts, d->body, e.has_detection_start, false, e.detection_start_ts, e.detection_start_rank)) {
    e.has_detection_start = true;
    e.detection_start_ts = d->ts;
    e.detection_start_name = intern(d->body.event_name);
  }
  if (const auto& d = s.detection_end;
      d && wins(d->body.error.has_value(), d->ts, d->body, e.has_detection_end, e.detection_error, e.detection_end_ts,
                e.detection_end_rank)) {
    e.has_detection_end = true;
    e.detection_error = d->body.error.has_value();
    e.detection_end_ts = d->ts;
    e.detection_end_name = intern(d->body.event_name);
    e.detected = d->body.detected;
  }
  e.has_handler_start = e.has_handler_start || s.handler_start.has_value();
  if (s.handler_end) {  // a failed end wins; which of two alike does not change what is counted
    e.has_handler_end = true;
    e.handler_error = e.handler_error || s.handler_end->body.error.has_value();
  }
}

void RowTally::add(const JobExecutionState& s) {
  bool inserted;
  JobEntry& e = jobs_.get(s.id, inserted);
  adopt_parent(e.invocation, inserted, s.invocation_id);
  if (const auto& st = s.start; st && wins(false, st->ts, st->body, e.has_start, false, e.start_ts, e.start_rank)) {
    e.has_start = true;
    e.start_ts = st->ts;
    e.start_name = intern(st->body.job_name);
  }
  if (const auto& en = s.end; en && wins(en->body.status == ingest::Outcome::Failed, en->ts, en->body, e.has_end,
                                         e.end_status == ingest::Outcome::Failed, e.end_ts, e.end_rank)) {
    e.has_end = true;
    e.end_status = en->body.status;
    e.end_ts = en->ts;
    e.end_name = intern(en->body.job_name);
  }
}

void RowTally::add(const JobLogRow& l) {
  bool inserted;
  ContentRank& kept = logs_.get(l.id, inserted);
  if (inserted) kept = l.rank;
  else if (l.rank != kept) {  // two lines of one seq that differ (without seq, one line twice)
    if (l.log.seq) ++log_conflicts_;
    kept = std::min(kept, l.rank);
  }
}

TallyResult RowTally::finish(const AbandonRule& rule) const {
  TallyResult r;
  r.invocations = invocations_.size();
  r.event_executions = events_.size();
  r.job_executions = jobs_.size();
  r.job_logs = logs_.size();
  r.log_conflicts = log_conflicts_;

  // Each invocation's contribution to its hour, children counted from the children.
  std::vector<InvocationContribution> contrib(invocations_.size());
  std::vector<bool> abandoned(invocations_.size());
  for (size_t i = 0; i < invocations_.size(); ++i) {
    const InvocationEntry& e = invocations_[i];
    abandoned[i] = rule.is_abandoned(e.has_end, e.last_ts);
    InvocationContribution& c = contrib[i];
    c.status = apply_rules(kInvocationStatusRules, end_facts(e.has_end, e.end_status == ingest::Outcome::Failed, abandoned[i]));
    const Timestamp created = e.has_start ? e.start_ts : e.first_ts;
    c.key = {hour_floor(created), e.has_start ? names_[e.function] : std::string()};
    if (e.has_end) {
      if (e.end_duration_ms >= 0) c.duration_ms = e.end_duration_ms;
      else if (e.has_start) c.duration_ms = millis_between(e.start_ts, e.end_ts);
    }
    r.invocations_by_status[static_cast<size_t>(c.status)]++;
    if (e.chained) r.chained_invocations++;
  }
  events_.for_each([&](const Uuid&, const EventEntry& e) {
    uint8_t f = 0;
    if (e.has_handler_end) f |= kHandlerEnded | (e.handler_error ? kHandlerFailed : 0);
    if (e.has_detection_end) f |= kDetectionEnded | (e.detection_error ? kDetectionFailed : 0) | (e.detected ? kDetected : 0);
    if (e.has_handler_start) f |= kHandlerStarted;
    if (abandoned[e.invocation]) f |= kInvocationAbandoned;
    const EventStatus st = apply_rules(kEventStatusRules, f);
    r.events_by_status[static_cast<size_t>(st)]++;
    if (e.has_detection_end && e.detected) {
      contrib[e.invocation].events_detected++;
      contrib[e.invocation].detected_events.push_back(names_[e.name()]);
    }
  });
  jobs_.for_each([&](const Uuid&, const JobEntry& e) {
    const JobStatus st = apply_rules(kJobStatusRules, end_facts(e.has_end, e.end_status == ingest::Outcome::Failed, abandoned[e.invocation]));
    r.jobs_by_status[static_cast<size_t>(st)]++;
    auto& c = contrib[e.invocation];
    c.jobs_run++;
    if (st == JobStatus::Completed) c.jobs_succeeded++;
    if (st == JobStatus::Failed) {
      c.jobs_failed++;
      c.failed_jobs.push_back(names_[e.has_start ? e.start_name : e.end_name]);
    }
  });
  for (const auto& c : contrib) r.rollups[c.key].add(c);
  r.hourly_rows = r.rollups.size();
  return r;
}

}  // namespace edpipe::transform
