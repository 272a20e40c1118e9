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

// The text fields of the record bodies, listed once: copying a record's text into another
// arena and the privacy filter are both derived from this list, so a field added here is
// copied and filtered alike, and a text field not named here would dangle (ASan sees it).
//
// `f(const TextField&, field)` is called with a Text& / std::optional<Text>& (or JsonText).
struct TextField {
  enum class Kind : uint8_t { Text, Json };
  // What a --no-... option drops (the field is left out); None: kept, and filtered.
  enum class Drop : uint8_t { None, Payload, JobOptions, Result, Stack };
  const char* name;  // the wire format's name
  Kind kind = Kind::Text;
  Drop drop = Drop::None;
};
namespace fields {
inline constexpr TextField text(const char* n) { return {n, TextField::Kind::Text, TextField::Drop::None}; }
inline constexpr TextField json(const char* n, TextField::Drop d = TextField::Drop::None) {
  return {n, TextField::Kind::Json, d};
}
}  // namespace fields

template <class F>
void for_each_field(ErrorInfo& e, F&& f) {
  f(fields::text("error.message"), e.message);
  f(TextField{"error.stack", TextField::Kind::Text, TextField::Drop::Stack}, e.stack);
}
template <class F>
void for_each_field(std::optional<ErrorInfo>& e, F&& f) {
  if (e) for_each_field(*e, f);
}
template <class F>
void for_each_field(InvocationStart& b, F&& f) {
  f(fields::text("source_function"), b.source_function);
  f(fields::text("source_system"), b.source_system);
  f(fields::text("source_table"), b.source_table);
  f(fields::text("source_operation"), b.source_operation);
  f(fields::json("source_event_payload", TextField::Drop::Payload), b.source_event_payload);
  f(fields::text("source_user_email"), b.source_user_email);
  f(fields::text("source_user_role"), b.source_user_role);
  f(fields::text("event_modules_directory"), b.event_modules_directory);
  f(fields::json("context"), b.context);
}
template <class F>
void for_each_field(InvocationEnd& b, F&& f) {
  for_each_field(b.error, f);
}
template <class F>
void for_each_field(DetectionStart& b, F&& f) {
  f(fields::text("event_name"), b.event_name);
  f(fields::text("event_module_path"), b.event_module_path);
}
template <class F>
void for_each_field(DetectionEnd& b, F&& f) {
  f(fields::text("event_name"), b.event_name);
  for_each_field(b.error, f);
}
template <class F>
void for_each_field(HandlerStart& b, F&& f) {
  f(fields::text("event_name"), b.event_name);
}
template <class F>
void for_each_field(HandlerEnd& b, F&& f) {
  f(fields::text("event_name"), b.event_name);
  for_each_field(b.error, f);
}
template <class F>
void for_each_field(JobStart& b, F&& f) {
  f(fields::text("job_name"), b.job_name);
  f(fields::text("job_function_name"), b.job_function_name);
  f(fields::json("job_options", TextField::Drop::JobOptions), b.job_options);
}
template <class F>
void for_each_field(JobEnd& b, F&& f) {
  f(fields::text("job_name"), b.job_name);
  f(fields::json("result", TextField::Drop::Result), b.result);
  for_each_field(b.error, f);
}
template <class F>
void for_each_field(JobLog& b, F&& f) {
  f(fields::text("message"), b.message);
  f(fields::json("data"), b.data);
  f(fields::text("source"), b.source);
}

// Every text field of a body, without what the list says of it.
template <class Body, class F>
void for_each_text(Body& b, F&& f) {
  for_each_field(b, [&](const TextField&, auto& text) { f(text); });
}

// The body's text copied into `arena`, the body viewing it there.
template <class Body>
void keep_text_in(Body& body, TextArena& arena) {
  for_each_text(body, [&](auto& text) { text = arena.keep(text); });
}
// A copy of a body whose text lives in `arena`.
template <class Body>
Body kept_in(Body body, TextArena& arena) {
  keep_text_in(body, arena);
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
