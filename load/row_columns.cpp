#include "load/row_columns.h"

#include "core/json_text.h"
#include "transform/content_hash.h"

namespace edpipe::load {

bool ValueGuard::text_ok(const char* field, std::string_view v) {
  return v.find('\0') == std::string_view::npos || reject(field, v, "text contains a NUL byte");
}
bool ValueGuard::json_ok(const char* field, std::string_view v) {
  return v.find("\\u0000") == std::string_view::npos || reject(field, v, "jsonb cannot hold \\u0000");
}
bool ValueGuard::duration_ok(const char* field, int64_t v) {
  return v <= kMaxInteger || reject(field, std::to_string(v), "duration out of range of integer milliseconds");
}
bool ValueGuard::reject(const char* field, std::string_view value, const char* reason) {
  std::string j = "{\"kind\":\"value\",\"table\":\"" + std::string(table_) + "\",\"id\":\"" + id_.str() +
                  "\",\"field\":\"" + field + "\",\"reason\":" + json_string(reason) + ",\"value\":";
  append_json_string(j, value);
  j += "}\n";
  letters_.push_back(std::move(j));
  return false;
}

namespace {

using W = CopyWriter;
using G = ValueGuard;
using Inv = transform::InvocationState;
using Ev = transform::EventExecutionState;
using Job = transform::JobExecutionState;
using Log = transform::JobLogRow;

// A staged column writes its value from the row; `column` is its own name, which the guard
// reports a refused value under (the dead-letter output names columns as the tables do).
template <class Row>
struct StagedColumn {
  const char* name;
  const char* type;
  void (*put)(W& w, G& g, const char* column, const Row& row);
};
template <class Row, class Derived>
struct DerivedColumn {
  const char* name;
  const char* type;
  void (*put)(W& w, const Row& row, const Derived& d);
};

void put_text(W& w, G& g, const char* column, std::string_view v) {
  if (g.text_ok(column, v)) w.text(v);
  else w.null();
}
void put_text(W& w, G& g, const char* column, const std::optional<ingest::Text>& v) {
  if (v) put_text(w, g, column, *v);
  else w.null();
}
// A derived text, written as its source row's column was (that row refuses what the guard refuses).
void put_opt_text(W& w, const std::optional<std::string_view>& v) {
  if (v) w.text(*v);
  else w.null();
}
void put_json(W& w, G& g, const char* column, const std::optional<ingest::JsonText>& v) {
  if (v && g.json_ok(column, *v)) w.json(*v);
  else w.null();
}
// A duration as the end record reported it (bigint reported_*_ms).
void put_duration(W& w, G& g, const char* column, const std::optional<int64_t>& v) {
  if (v && g.duration_ok(column, *v)) w.int64(*v);
  else w.null();
}
// A derived duration (integer column): left out when it does not fit.
void put_opt_int(W& w, const std::optional<int64_t>& v) {
  if (const auto fits = as_integer_column(v)) w.int32(static_cast<int32_t>(*fits));
  else w.null();
}
// A count of children (integer column); an invocation has far fewer than 2^31.
void put_count(W& w, int64_t n) { w.int32(static_cast<int32_t>(std::min<int64_t>(n, kMaxInteger))); }
void put_uuid(W& w, const std::optional<Uuid>& v) {
  if (v) w.uuid(*v);
  else w.null();
}
void put_bool(W& w, const std::optional<bool>& v) {
  if (v) w.boolean(*v);
  else w.null();
}
void put_ts(W& w, const std::optional<Timestamp>& v) {
  if (v) w.timestamp(*v);
  else w.null();
}
template <class S>
void put_step_ts(W& w, const std::optional<transform::Stamped<S>>& s) {
  if (s) w.timestamp(s->ts);
  else w.null();
}
// A step's content rank (content_hash.h): NULL when the step was not seen.
template <class B>
void put_rank(W& w, const std::optional<transform::Stamped<B>>& step) {
  if (step) w.int64(transform::content_rank(step->body));
  else w.null();
}
template <class E>
void put_outcome(W& w, const std::optional<transform::Stamped<E>>& end) {
  if (end) w.text(ingest::outcome_name(end->body.status));
  else w.null();
}
// An error with neither message nor stack is still an error: its message becomes "".
void put_error_message(W& w, G& g, const char* column, const std::optional<ingest::ErrorInfo>& e) {
  if (e) put_text(w, g, column, e->message.value_or(std::string_view()));
  else w.null();
}
void put_error_stack(W& w, G& g, const char* column, const std::optional<ingest::ErrorInfo>& e) {
  put_text(w, g, column, e ? e->stack : std::optional<ingest::Text>());
}
// The body of a step, or null when it was not seen.
template <class S>
const S* body(const std::optional<transform::Stamped<S>>& s) {
  return s ? &s->body : nullptr;
}

// The invocation's fields from its start record; every one is NULL until the start is seen.
template <class T>
std::optional<T> from_start(const Inv& s, std::optional<T> ingest::InvocationStart::*field) {
  return s.start ? s.start->body.*field : std::nullopt;
}
const StagedColumn<Inv> kInvocationStaged[] = {
    {"id", "uuid", [](W& w, G&, const char*, const Inv& s) { w.uuid(s.id); }},
    {"invocation_day", "date", [](W& w, G&, const char*, const Inv& s) { w.date(invocation_day(s.id)); }},
    {"source_function", "text", [](W& w, G& g, const char* c, const Inv& s) { put_text(w, g, c, transform::source_function(s)); }},
    {"source_system", "text", [](W& w, G& g, const char* c, const Inv& s) { put_text(w, g, c, from_start(s, &ingest::InvocationStart::source_system)); }},
    {"source_table", "text", [](W& w, G& g, const char* c, const Inv& s) { put_text(w, g, c, from_start(s, &ingest::InvocationStart::source_table)); }},
    {"source_operation", "text", [](W& w, G& g, const char* c, const Inv& s) { put_text(w, g, c, from_start(s, &ingest::InvocationStart::source_operation)); }},
    {"source_event_id", "uuid", [](W& w, G&, const char*, const Inv& s) { put_uuid(w, from_start(s, &ingest::InvocationStart::source_event_id)); }},
    {"source_event_time", "timestamptz", [](W& w, G&, const char*, const Inv& s) { put_ts(w, from_start(s, &ingest::InvocationStart::source_event_time)); }},
    {"source_event_payload", "jsonb", [](W& w, G& g, const char* c, const Inv& s) { put_json(w, g, c, from_start(s, &ingest::InvocationStart::source_event_payload)); }},
    {"source_user_email", "text", [](W& w, G& g, const char* c, const Inv& s) { put_text(w, g, c, from_start(s, &ingest::InvocationStart::source_user_email)); }},
    {"source_user_role", "text", [](W& w, G& g, const char* c, const Inv& s) { put_text(w, g, c, from_start(s, &ingest::InvocationStart::source_user_role)); }},
    {"source_job_ref", "uuid", [](W& w, G&, const char*, const Inv& s) { put_uuid(w, from_start(s, &ingest::InvocationStart::source_job_id)); }},
    {"auto_load_modules", "boolean", [](W& w, G&, const char*, const Inv& s) { put_bool(w, from_start(s, &ingest::InvocationStart::auto_load_modules)); }},
    {"event_modules_directory", "text", [](W& w, G& g, const char* c, const Inv& s) { put_text(w, g, c, from_start(s, &ingest::InvocationStart::event_modules_directory)); }},
    {"context_data", "jsonb", [](W& w, G& g, const char* c, const Inv& s) { put_json(w, g, c, from_start(s, &ingest::InvocationStart::context)); }},
    {"started_at", "timestamptz", [](W& w, G&, const char*, const Inv& s) { put_step_ts(w, s.start); }},
    {"ended_at", "timestamptz", [](W& w, G&, const char*, const Inv& s) { put_step_ts(w, s.end); }},
    {"end_status", "text", [](W& w, G&, const char*, const Inv& s) { put_outcome(w, s.end); }},
    {"reported_duration_ms", "bigint", [](W& w, G& g, const char* c, const Inv& s) { put_duration(w, g, c, s.end ? s.end->body.duration_ms : std::nullopt); }},
    {"error_message", "text", [](W& w, G& g, const char* c, const Inv& s) { put_error_message(w, g, c, s.end ? s.end->body.error : std::nullopt); }},
    {"error_stack", "text", [](W& w, G& g, const char* c, const Inv& s) { put_error_stack(w, g, c, s.end ? s.end->body.error : std::nullopt); }},
    {"first_record_at", "timestamptz", [](W& w, G&, const char*, const Inv& s) { w.timestamp(s.first_ts); }},
    {"last_record_at", "timestamptz", [](W& w, G&, const char*, const Inv& s) { w.timestamp(s.last_ts); }},
    {"correlation_id", "text", [](W& w, G& g, const char* c, const Inv& s) { put_text(w, g, c, s.correlation_id); }},
    {"start_rank", "bigint", [](W& w, G&, const char*, const Inv& s) { put_rank(w, s.start); }},
    {"end_rank", "bigint", [](W& w, G&, const char*, const Inv& s) { put_rank(w, s.end); }},
};
// The invocation's jobs that have a duration, and its sum (migration 015: avg_job_duration).
struct JobDurations {
  int64_t count = 0, sum = 0;
};
JobDurations job_durations(const transform::InvocationContribution& c) {
  JobDurations out;
  for (const auto& run : c.runs)
    if (run.kind == transform::NameKind::Job && run.duration_ms) {
      ++out.count;
      out.sum += *run.duration_ms;
    }
  return out;
}

const DerivedColumn<Inv, InvocationDerived> kInvocationDerived[] = {
    {"status", "text", [](W& w, const Inv&, const InvocationDerived& d) { w.text(transform::status_name(d.contribution.status)); }},
    {"created_at", "timestamptz", [](W& w, const Inv&, const InvocationDerived& d) { w.timestamp(d.created_at); }},
    {"total_duration_ms", "integer", [](W& w, const Inv&, const InvocationDerived& d) { put_opt_int(w, d.contribution.duration_ms); }},
    {"events_detected_count", "integer", [](W& w, const Inv&, const InvocationDerived& d) { put_count(w, d.contribution.events_detected); }},
    {"total_jobs_run", "integer", [](W& w, const Inv&, const InvocationDerived& d) { put_count(w, d.contribution.jobs_run); }},
    {"total_jobs_succeeded", "integer", [](W& w, const Inv&, const InvocationDerived& d) { put_count(w, d.contribution.jobs_succeeded); }},
    {"total_jobs_failed", "integer", [](W& w, const Inv&, const InvocationDerived& d) { put_count(w, d.contribution.jobs_failed); }},
    {"source_job_id", "uuid", [](W& w, const Inv& s, const InvocationDerived& d) {
       put_uuid(w, d.source_job_in_batch ? from_start(s, &ingest::InvocationStart::source_job_id) : std::nullopt);
     }},
    {"jobs_timed", "integer", [](W& w, const Inv&, const InvocationDerived& d) { put_count(w, job_durations(d.contribution).count); }},
    {"job_duration_sum_ms", "bigint", [](W& w, const Inv&, const InvocationDerived& d) { w.int64(job_durations(d.contribution).sum); }},
};

// Which step a row's name comes from (its name rank): the first of its steps present.
int16_t event_name_rank(const Ev& s) {
  return s.detection_start ? 0 : s.detection_end ? 1 : s.handler_start ? 2 : s.handler_end ? 3 : 4;
}
std::optional<bool> step_failed(const ingest::DetectionEnd* e) { return e ? std::optional<bool>(e->error.has_value()) : std::nullopt; }
std::optional<bool> step_failed(const ingest::HandlerEnd* e) { return e ? std::optional<bool>(e->error.has_value()) : std::nullopt; }

const StagedColumn<Ev> kEventStaged[] = {
    {"id", "uuid", [](W& w, G&, const char*, const Ev& s) { w.uuid(s.id); }},
    {"invocation_id", "uuid", [](W& w, G&, const char*, const Ev& s) { w.uuid(s.invocation_id); }},
    {"invocation_day", "date", [](W& w, G&, const char*, const Ev& s) { w.date(invocation_day(s.invocation_id)); }},
    {"event_name", "text", [](W& w, G& g, const char* c, const Ev& s) { put_text(w, g, c, transform::event_name(s)); }},
    {"event_name_rank", "smallint", [](W& w, G&, const char*, const Ev& s) { w.int16(event_name_rank(s)); }},
    {"event_module_path", "text", [](W& w, G& g, const char* c, const Ev& s) { put_text(w, g, c, s.detection_start ? s.detection_start->body.event_module_path : std::nullopt); }},
    {"detection_started_at", "timestamptz", [](W& w, G&, const char*, const Ev& s) { put_step_ts(w, s.detection_start); }},
    {"detection_ended_at", "timestamptz", [](W& w, G&, const char*, const Ev& s) { put_step_ts(w, s.detection_end); }},
    {"detected", "boolean", [](W& w, G&, const char*, const Ev& s) { w.boolean(transform::detected(s)); }},
    {"detection_failed", "boolean", [](W& w, G&, const char*, const Ev& s) { put_bool(w, step_failed(body(s.detection_end))); }},
    {"reported_detection_ms", "bigint", [](W& w, G& g, const char* c, const Ev& s) { put_duration(w, g, c, s.detection_end ? s.detection_end->body.duration_ms : std::nullopt); }},
    {"detection_error", "text", [](W& w, G& g, const char* c, const Ev& s) { put_error_message(w, g, c, s.detection_end ? s.detection_end->body.error : std::nullopt); }},
    {"detection_error_stack", "text", [](W& w, G& g, const char* c, const Ev& s) { put_error_stack(w, g, c, s.detection_end ? s.detection_end->body.error : std::nullopt); }},
    {"handler_started_at", "timestamptz", [](W& w, G&, const char*, const Ev& s) { put_step_ts(w, s.handler_start); }},
    {"handler_ended_at", "timestamptz", [](W& w, G&, const char*, const Ev& s) { put_step_ts(w, s.handler_end); }},
    {"handler_failed", "boolean", [](W& w, G&, const char*, const Ev& s) { put_bool(w, step_failed(body(s.handler_end))); }},
    {"reported_handler_ms", "bigint", [](W& w, G& g, const char* c, const Ev& s) { put_duration(w, g, c, s.handler_end ? s.handler_end->body.duration_ms : std::nullopt); }},
    {"handler_error", "text", [](W& w, G& g, const char* c, const Ev& s) { put_error_message(w, g, c, s.handler_end ? s.handler_end->body.error : std::nullopt); }},
    {"handler_error_stack", "text", [](W& w, G& g, const char* c, const Ev& s) { put_error_stack(w, g, c, s.handler_end ? s.handler_end->body.error : std::nullopt); }},
    {"first_record_at", "timestamptz", [](W& w, G&, const char*, const Ev& s) { w.timestamp(s.first_ts); }},
    {"last_record_at", "timestamptz", [](W& w, G&, const char*, const Ev& s) { w.timestamp(s.last_ts); }},
    {"correlation_id", "text", [](W& w, G& g, const char* c, const Ev& s) { put_text(w, g, c, s.correlation_id); }},
    {"detection_start_rank", "bigint", [](W& w, G&, const char*, const Ev& s) { put_rank(w, s.detection_start); }},
    {"detection_end_rank", "bigint", [](W& w, G&, const char*, const Ev& s) { put_rank(w, s.detection_end); }},
    {"handler_start_rank", "bigint", [](W& w, G&, const char*, const Ev& s) { put_rank(w, s.handler_start); }},
    {"handler_end_rank", "bigint", [](W& w, G&, const char*, const Ev& s) { put_rank(w, s.handler_end); }},
};
const DerivedColumn<Ev, EventDerived> kEventDerived[] = {
    {"created_at", "timestamptz", [](W& w, const Ev& s, const EventDerived&) { w.timestamp(transform::created_at(s)); }},
    {"status", "text", [](W& w, const Ev&, const EventDerived& d) { w.text(transform::status_name(d.status)); }},
    {"detection_duration_ms", "integer", [](W& w, const Ev& s, const EventDerived&) { put_opt_int(w, transform::detection_duration_ms(s)); }},
    {"handler_duration_ms", "integer", [](W& w, const Ev& s, const EventDerived&) { put_opt_int(w, transform::handler_duration_ms(s)); }},
    {"jobs_count", "integer", [](W& w, const Ev&, const EventDerived& d) { put_count(w, d.jobs_run); }},
    {"jobs_succeeded", "integer", [](W& w, const Ev&, const EventDerived& d) { put_count(w, d.jobs_succeeded); }},
    {"jobs_failed", "integer", [](W& w, const Ev&, const EventDerived& d) { put_count(w, d.jobs_failed); }},
    {"failure_function", "text", [](W& w, const Ev&, const EventDerived& d) { put_opt_text(w, d.failure_function); }},
};

const StagedColumn<Job> kJobStaged[] = {
    {"id", "uuid", [](W& w, G&, const char*, const Job& s) { w.uuid(s.id); }},
    {"invocation_id", "uuid", [](W& w, G&, const char*, const Job& s) { w.uuid(s.invocation_id); }},
    {"invocation_day", "date", [](W& w, G&, const char*, const Job& s) { w.date(invocation_day(s.invocation_id)); }},
    {"event_execution_id", "uuid", [](W& w, G&, const char*, const Job& s) { put_uuid(w, transform::event_execution_id(s)); }},
    {"job_name", "text", [](W& w, G& g, const char* c, const Job& s) { put_text(w, g, c, transform::job_name(s)); }},
    {"job_name_rank", "smallint", [](W& w, G&, const char*, const Job& s) { w.int16(s.start ? 0 : s.end ? 1 : 2); }},
    {"job_function_name", "text", [](W& w, G& g, const char* c, const Job& s) { put_text(w, g, c, s.start ? s.start->body.job_function_name : std::nullopt); }},
    {"job_options", "jsonb", [](W& w, G& g, const char* c, const Job& s) { put_json(w, g, c, s.start ? s.start->body.job_options : std::nullopt); }},
    {"started_at", "timestamptz", [](W& w, G&, const char*, const Job& s) { put_step_ts(w, s.start); }},
    {"ended_at", "timestamptz", [](W& w, G&, const char*, const Job& s) { put_step_ts(w, s.end); }},
    {"end_status", "text", [](W& w, G&, const char*, const Job& s) { put_outcome(w, s.end); }},
    {"reported_duration_ms", "bigint", [](W& w, G& g, const char* c, const Job& s) { put_duration(w, g, c, s.end ? s.end->body.duration_ms : std::nullopt); }},
    {"result", "jsonb", [](W& w, G& g, const char* c, const Job& s) { put_json(w, g, c, s.end ? s.end->body.result : std::nullopt); }},
    {"error_message", "text", [](W& w, G& g, const char* c, const Job& s) { put_error_message(w, g, c, s.end ? s.end->body.error : std::nullopt); }},
    {"error_stack", "text", [](W& w, G& g, const char* c, const Job& s) { put_error_stack(w, g, c, s.end ? s.end->body.error : std::nullopt); }},
    {"first_record_at", "timestamptz", [](W& w, G&, const char*, const Job& s) { w.timestamp(s.first_ts); }},
    {"last_record_at", "timestamptz", [](W& w, G&, const char*, const Job& s) { w.timestamp(s.last_ts); }},
    {"correlation_id", "text", [](W& w, G& g, const char* c, const Job& s) { put_text(w, g, c, s.correlation_id); }},
    {"start_rank", "bigint", [](W& w, G&, const char*, const Job& s) { put_rank(w, s.start); }},
    {"end_rank", "bigint", [](W& w, G&, const char*, const Job& s) { put_rank(w, s.end); }},
};
const DerivedColumn<Job, JobDerived> kJobDerived[] = {
    {"status", "text", [](W& w, const Job&, const JobDerived& d) { w.text(transform::status_name(d.status)); }},
    {"created_at", "timestamptz", [](W& w, const Job& s, const JobDerived&) { w.timestamp(transform::created_at(s)); }},
    {"duration_ms", "integer", [](W& w, const Job& s, const JobDerived&) { put_opt_int(w, transform::duration_ms(s)); }},
    {"failure_function", "text", [](W& w, const Job&, const JobDerived& d) { put_opt_text(w, d.failure_function); }},
};

// A log line's message is text NOT NULL: a refused one is stored as "".
const StagedColumn<Log> kLogColumns[] = {
    {"id", "uuid", [](W& w, G&, const char*, const Log& l) { w.uuid(l.id); }},
    {"invocation_id", "uuid", [](W& w, G&, const char*, const Log& l) { w.uuid(l.invocation_id); }},
    {"invocation_day", "date", [](W& w, G&, const char*, const Log& l) { w.date(invocation_day(l.invocation_id)); }},
    {"job_execution_id", "uuid", [](W& w, G&, const char*, const Log& l) { put_uuid(w, l.log.job_execution_id); }},
    {"level", "text", [](W& w, G&, const char*, const Log& l) { w.text(ingest::log_level_name(l.log.level)); }},
    {"message", "text", [](W& w, G& g, const char* c, const Log& l) { w.text(g.text_ok(c, l.log.message) ? std::string_view(l.log.message) : std::string_view()); }},
    {"data", "jsonb", [](W& w, G& g, const char* c, const Log& l) { put_json(w, g, c, l.log.data); }},
    {"source", "text", [](W& w, G& g, const char* c, const Log& l) { put_text(w, g, c, l.log.source); }},
    {"correlation_id", "text", [](W& w, G& g, const char* c, const Log& l) { put_text(w, g, c, l.correlation_id); }},
    {"occurrence", "integer", [](W& w, G&, const char*, const Log& l) { w.int32(static_cast<int32_t>(l.occurrence)); }},
    {"created_at", "timestamptz", [](W& w, G&, const char*, const Log& l) { w.timestamp(l.ts); }},
    {"seq", "bigint", [](W& w, G&, const char*, const Log& l) { if (l.log.seq) w.int64(*l.log.seq); else w.null(); }},
    {"content_rank", "bigint", [](W& w, G&, const char*, const Log& l) { w.int64(l.rank); }},
};

template <class Column, size_t N>
std::vector<ColumnSpec> specs(const Column (&columns)[N]) {
  std::vector<ColumnSpec> out;
  for (const auto& c : columns) out.push_back({c.name, c.type});
  return out;
}
template <class Row, size_t N>
void encode(W& w, G& g, const char* table, const StagedColumn<Row> (&columns)[N], const Row& row) {
  g.row(table, row.id);
  for (const auto& c : columns) c.put(w, g, c.name, row);
}
template <class Row, class Derived, size_t N>
void encode(W& w, const DerivedColumn<Row, Derived> (&columns)[N], const Row& row, const Derived& d) {
  for (const auto& c : columns) c.put(w, row, d);
}

}  // namespace

std::vector<ColumnSpec> staged_columns(RowTable table) {
  switch (table) {
    case RowTable::Invocations: return specs(kInvocationStaged);
    case RowTable::EventExecutions: return specs(kEventStaged);
    case RowTable::JobExecutions: return specs(kJobStaged);
    case RowTable::JobLogs: return specs(kLogColumns);
  }
  return {};
}
std::vector<ColumnSpec> derived_columns(RowTable table) {
  switch (table) {
    case RowTable::Invocations: return specs(kInvocationDerived);
    case RowTable::EventExecutions: return specs(kEventDerived);
    case RowTable::JobExecutions: return specs(kJobDerived);
    case RowTable::JobLogs: return {};
  }
  return {};
}

void encode_staged(W& w, G& g, const Inv& s) { encode(w, g, "invocations", kInvocationStaged, s); }
void encode_staged(W& w, G& g, const Ev& s) { encode(w, g, "event_executions", kEventStaged, s); }
void encode_staged(W& w, G& g, const Job& s) { encode(w, g, "job_executions", kJobStaged, s); }
void encode_staged(W& w, G& g, const Log& l) { encode(w, g, "job_logs", kLogColumns, l); }
void encode_derived(W& w, const Inv& s, const InvocationDerived& d) { encode(w, kInvocationDerived, s, d); }
void encode_derived(W& w, const Ev& s, const EventDerived& d) { encode(w, kEventDerived, s, d); }
void encode_derived(W& w, const Job& s, const JobDerived& d) { encode(w, kJobDerived, s, d); }

}  // namespace edpipe::load
