#pragma once
// What `edpipe show`, `edpipe report` (and a live dashboard) read about invocations: plain values
// filled from the database's tables, with no knowledge of how they were loaded.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/timestamp.h"

namespace edpipe::view {

struct LogLine {
  std::string level, message;
  Timestamp at = 0;
};

// One step on the waterfall: a detection, a handler or a job.
struct Span {
  std::optional<Timestamp> start, end;
  std::optional<int64_t> duration_ms;
};

struct JobView {
  std::string id, name, status;
  Span span;
  std::optional<std::string> error, stack;
  std::optional<std::string> options, result;  // job_options and result, as JSON text
  std::vector<LogLine> logs;
  std::vector<std::string> triggered;  // invocations this job caused (source_job_id)
};

struct EventView {
  std::string id, name, status;
  bool detected = false;
  Span detection, handler;
  std::optional<std::string> detection_error, detection_stack, handler_error, handler_stack;
  std::vector<JobView> jobs;
};

// One column of the Hasura event's row, old → new (JSON text; absent on the side that has none).
struct ColumnChange {
  std::string column;
  std::optional<std::string> old_value, new_value;
  bool changed = false;
};

struct InvocationView {
  std::string id, function, status;
  Timestamp created_at = 0, first_record_at = 0, last_record_at = 0;
  Span span;
  std::optional<std::string> source_table, source_operation, source_record_id, user_email, correlation_id;
  std::optional<std::string> error, stack;
  std::optional<std::string> caused_by_job, caused_by_job_name, caused_by_invocation;  // source_job_id
  std::optional<std::string> payload;  // the Hasura payload, pretty-printed (when asked for)
  // With the payload: its event's row, column by column, the changed ones first, at most
  // kRowColumns of them (row_change_cut: there were more).
  static constexpr size_t kRowColumns = 500;
  std::vector<ColumnChange> row_change;
  bool row_change_cut = false;
  std::vector<EventView> events;
  std::vector<LogLine> invocation_logs;  // lines of no job
  size_t log_lines_left_out = 0;         // beyond the bound of lines read per invocation
};

// One line of `show --failed` and of the report's lists.
struct InvocationSummary {
  std::string id, function, status;
  Timestamp created_at = 0;
  std::optional<int64_t> duration_ms;
  std::optional<std::string> first_error;
  int64_t jobs_failed = 0;  // a completed invocation may have run failed jobs
  int64_t events_detected = 0, jobs_run = 0;
  std::optional<std::string> source_table, source_operation, user_email;
};

}  // namespace edpipe::view
