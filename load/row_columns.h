#pragma once
// One column table per row type: each column's name, its SQL type and how a row's value is
// written into a binary COPY row. The staging tables' DDL, the COPY column lists and the
// encoders' field order all come from these tables (row_columns.cpp), so they cannot disagree.
//
// A row of an invocation the database already holds is staged with its staged columns and
// merged in SQL; a row of a new invocation goes straight to its table with the derived
// columns (computed in C++ by derive.h) appended.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "load/copy_writer.h"
#include "transform/derive.h"
#include "transform/hourly_rollup.h"
#include "transform/row_state.h"

namespace edpipe::load {

// A value or a group of rows PostgreSQL would refuse, kept out of the database: one JSON object.
using RowDeadLetter = std::function<void(const std::string& json)>;

// Values PostgreSQL refuses are caught here, before they fail a whole COPY: the value is left
// out (NULL) and its dead letter (with where it belongs) kept in `letters`, for the lane to
// write once the transaction is sure to end: a try that is retried writes nothing.
class ValueGuard {
 public:
  explicit ValueGuard(std::vector<std::string>& letters) : letters_(letters) {}
  void row(const char* table, const Uuid& id) {
    table_ = table;
    id_ = id;
  }
  bool text_ok(const char* field, std::string_view v);
  bool json_ok(const char* field, std::string_view v);
  bool duration_ok(const char* field, int64_t v);

 private:
  bool reject(const char* field, std::string_view value, const char* reason);
  std::vector<std::string>& letters_;
  const char* table_ = "";
  Uuid id_;
};

// The largest value of an integer column (derived durations and counts).
constexpr int64_t kMaxInteger = 2147483647;
// A derived duration as its integer column holds it: left out (null) when it does not fit.
inline std::optional<int64_t> as_integer_column(std::optional<int64_t> v) noexcept {
  return v && *v <= kMaxInteger ? v : std::nullopt;
}

// What a new invocation's rows carry beyond their staged columns.
struct InvocationDerived {
  const transform::InvocationContribution& contribution;  // status, duration (fitting), counts
  Timestamp created_at;
  bool source_job_in_batch = false;  // its source job is written by the same transaction: linked
};
// failure_function: the invocation's source_function on a failed row, else none (migration 021).
struct EventDerived {
  transform::EventStatus status;
  int64_t jobs_run, jobs_succeeded, jobs_failed;
  std::optional<std::string_view> failure_function;
};
struct JobDerived {
  transform::JobStatus status;
  std::optional<std::string_view> failure_function;
};

enum class RowTable { Invocations, EventExecutions, JobExecutions, JobLogs };
struct ColumnSpec {
  const char* name;
  const char* type;
};
// The columns in COPY order: staged ones, and (for the three tables that have them) derived.
std::vector<ColumnSpec> staged_columns(RowTable table);
std::vector<ColumnSpec> derived_columns(RowTable table);

// One row's staged columns; then, for a row of a new invocation, its derived ones. end_row()
// is the caller's.
void encode_staged(CopyWriter& w, ValueGuard& g, const transform::InvocationState& s);
void encode_staged(CopyWriter& w, ValueGuard& g, const transform::EventExecutionState& s);
void encode_staged(CopyWriter& w, ValueGuard& g, const transform::JobExecutionState& s);
void encode_staged(CopyWriter& w, ValueGuard& g, const transform::JobLogRow& l);
void encode_derived(CopyWriter& w, const transform::InvocationState& s, const InvocationDerived& d);
void encode_derived(CopyWriter& w, const transform::EventExecutionState& s, const EventDerived& d);
void encode_derived(CopyWriter& w, const transform::JobExecutionState& s, const JobDerived& d);

}  // namespace edpipe::load
