#pragma once
// The lifecycle records of wire format v1, one value type per record `type`.
// Field names follow the wire format; see docs/wire-format.md.
#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include "core/text_arena.h"
#include "core/timestamp.h"
#include "core/uuid.h"

namespace edpipe::ingest {

enum class RecordType : uint8_t {
  InvocationStart,
  InvocationEnd,
  DetectionStart,
  DetectionEnd,
  HandlerStart,
  HandlerEnd,
  JobStart,
  JobEnd,
  JobLog,
};
constexpr size_t kRecordTypeCount = 9;
std::string_view record_type_name(RecordType t) noexcept;
std::optional<RecordType> record_type_from_name(std::string_view name) noexcept;

// `completed` or `failed`: the outcome of an invocation or a job.
enum class Outcome : uint8_t { Failed = 0, Completed = 1 };  // Failed sorts first: it wins a merge
std::string_view outcome_name(Outcome o) noexcept;

enum class LogLevel : uint8_t { Debug, Info, Warn, Error };
std::string_view log_level_name(LogLevel l) noexcept;
std::optional<LogLevel> log_level_from_name(std::string_view name) noexcept;

// A record's text is a view (a borrow): of its batch's arena (IngestBatch::text) while the
// record is in ingest and the privacy filter, of a row's arena once the transform keeps it
// (core/text_arena.h). Records and the row states built of them are trivially copyable.
using Text = std::string_view;
// JSON values the pipeline stores without looking inside are kept as their text.
using JsonText = std::string_view;

struct ErrorInfo {
  std::optional<Text> message;
  std::optional<Text> stack;
  auto operator<=>(const ErrorInfo&) const = default;
};

struct InvocationStart {
  Text source_function;
  std::optional<Text> source_system, source_table, source_operation;
  std::optional<Uuid> source_event_id;
  std::optional<Timestamp> source_event_time;
  std::optional<JsonText> source_event_payload;
  std::optional<Text> source_user_email, source_user_role;
  std::optional<Uuid> source_job_id;
  std::optional<bool> auto_load_modules;
  std::optional<Text> event_modules_directory;
  std::optional<JsonText> context;
  auto operator<=>(const InvocationStart&) const = default;
};

struct InvocationEnd {
  Outcome status = Outcome::Completed;
  std::optional<int64_t> duration_ms;
  std::optional<ErrorInfo> error;
  auto operator<=>(const InvocationEnd&) const = default;
};

struct DetectionStart {
  Uuid event_execution_id;
  Text event_name;
  std::optional<Text> event_module_path;
  auto operator<=>(const DetectionStart&) const = default;
};

struct DetectionEnd {
  Uuid event_execution_id;
  Text event_name;
  bool detected = false;
  std::optional<int64_t> duration_ms;
  std::optional<ErrorInfo> error;
  auto operator<=>(const DetectionEnd&) const = default;
};

struct HandlerStart {
  Uuid event_execution_id;
  Text event_name;
  auto operator<=>(const HandlerStart&) const = default;
};

struct HandlerEnd {
  Uuid event_execution_id;
  Text event_name;
  std::optional<int64_t> duration_ms;
  std::optional<ErrorInfo> error;
  auto operator<=>(const HandlerEnd&) const = default;
};

struct JobStart {
  Uuid job_execution_id;
  Uuid event_execution_id;
  Text job_name;
  std::optional<Text> job_function_name;
  std::optional<JsonText> job_options;
  auto operator<=>(const JobStart&) const = default;
};

struct JobEnd {
  Uuid job_execution_id;
  Uuid event_execution_id;
  Text job_name;
  Outcome status = Outcome::Completed;
  std::optional<int64_t> duration_ms;
  std::optional<JsonText> result;
  std::optional<ErrorInfo> error;
  auto operator<=>(const JobEnd&) const = default;
};

struct JobLog {
  std::optional<Uuid> job_execution_id;  // absent: an invocation-level line
  LogLevel level = LogLevel::Info;
  Text message;
  std::optional<JsonText> data;
  std::optional<Text> source;
  // The emitter's count of its invocation's job.log records, from 0: the line's identity when
  // present (identical lines stay distinct, a replayed line merges with itself).
  std::optional<int64_t> seq;
  auto operator<=>(const JobLog&) const = default;
};

using RecordBody = std::variant<InvocationStart, InvocationEnd, DetectionStart, DetectionEnd, HandlerStart,
                                HandlerEnd, JobStart, JobEnd, JobLog>;
// TraceRecord::type() is the body's index: the alternatives stand in RecordType's order.
template <RecordType T, class Body>
constexpr bool kBodyOf = std::is_same_v<std::variant_alternative_t<static_cast<size_t>(T), RecordBody>, Body>;
static_assert(kBodyOf<RecordType::InvocationStart, InvocationStart> && kBodyOf<RecordType::InvocationEnd, InvocationEnd> &&
              kBodyOf<RecordType::DetectionStart, DetectionStart> && kBodyOf<RecordType::DetectionEnd, DetectionEnd> &&
              kBodyOf<RecordType::HandlerStart, HandlerStart> && kBodyOf<RecordType::HandlerEnd, HandlerEnd> &&
              kBodyOf<RecordType::JobStart, JobStart> && kBodyOf<RecordType::JobEnd, JobEnd> &&
              kBodyOf<RecordType::JobLog, JobLog> && std::variant_size_v<RecordBody> == kRecordTypeCount);

// Calls `f` on every text field of a body (a Text& or std::optional<Text>&): what copying a
// record's text into another arena must visit. A text field not named here would dangle.
template <class F>
void for_each_text(ErrorInfo& e, F&& f) {
  f(e.message);
  f(e.stack);
}
template <class F>
void for_each_text(std::optional<ErrorInfo>& e, F&& f) {
  if (e) for_each_text(*e, f);
}
template <class F>
void for_each_text(InvocationStart& b, F&& f) {
  f(b.source_function);
  f(b.source_system);
  f(b.source_table);
  f(b.source_operation);
  f(b.source_event_payload);
  f(b.source_user_email);
  f(b.source_user_role);
  f(b.event_modules_directory);
  f(b.context);
}
template <class F>
void for_each_text(InvocationEnd& b, F&& f) {
  for_each_text(b.error, f);
}
template <class F>
void for_each_text(DetectionStart& b, F&& f) {
  f(b.event_name);
  f(b.event_module_path);
}
template <class F>
void for_each_text(DetectionEnd& b, F&& f) {
  f(b.event_name);
  for_each_text(b.error, f);
}
template <class F>
void for_each_text(HandlerStart& b, F&& f) {
  f(b.event_name);
}
template <class F>
void for_each_text(HandlerEnd& b, F&& f) {
  f(b.event_name);
  for_each_text(b.error, f);
}
template <class F>
void for_each_text(JobStart& b, F&& f) {
  f(b.job_name);
  f(b.job_function_name);
  f(b.job_options);
}
template <class F>
void for_each_text(JobEnd& b, F&& f) {
  f(b.job_name);
  f(b.result);
  for_each_text(b.error, f);
}
template <class F>
void for_each_text(JobLog& b, F&& f) {
  f(b.message);
  f(b.data);
  f(b.source);
}

// A copy of a body whose text lives in `arena`.
template <class Body>
Body kept_in(Body body, TextArena& arena) {
  for_each_text(body, [&](auto& text) { text = arena.keep(text); });
  return body;
}

// Where a line came from: which input, which line (1-based), which byte offset
// (of the line start in the uncompressed stream).
struct SourcePos {
  uint32_t input = 0;  // index into the reader's list of inputs
  uint64_t line = 0;
  uint64_t offset = 0;
};

struct TraceRecord {
  Timestamp ts = 0;
  Uuid invocation_id;
  std::optional<Text> correlation_id;
  RecordBody body;
  SourcePos pos;

  RecordType type() const noexcept { return static_cast<RecordType>(body.index()); }
};
// Views and numbers only: records move as bytes.
static_assert(std::is_trivially_copyable_v<TraceRecord>);

}  // namespace edpipe::ingest
