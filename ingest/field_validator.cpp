// Phase 4b of the decoder: the collected fields checked against the wire format, one record
// type at a time, into a TraceRecord or a rejection.
#include <chrono>
#include <cmath>

#include "ingest/record_fields.h"

namespace edpipe::ingest::detail {
namespace {

using simdjson::ondemand::json_type;

std::string_view json_type_name(json_type t) {
  switch (t) {
    case json_type::array: return "an array";
    case json_type::object: return "an object";
    case json_type::number: return "a number";
    case json_type::string: return "a string";
    case json_type::boolean: return "a boolean";
    case json_type::null: return "null";
  }
  return "?";
}

// Turns slots into typed values; the first problem wins and stops the record.
class Checker {
 public:
  // Text is copied into `text` (the batch's arena), unless it views an input that outlives it:
  // the parser's buffer is reused at every document, and a reused line buffer at every read.
  Checker(const RawFields& f, TextArena& text, bool input_outlives_text)
      : f_(f), text_(text), input_outlives_text_(input_outlives_text) {}
  // A text of the record: the view itself when it is of an input that outlives the arena.
  Text own(std::string_view t, bool in_input) { return in_input && input_outlives_text_ ? t : text_.keep(t); }
  std::optional<Rejection> problem;

  bool present(FieldId id) const { return f_.seen(id) && f_[id].type != json_type::null; }

  // The checks run several times per record and almost always pass: their failure paths,
  // which build messages, are kept out of line.
  [[gnu::cold, gnu::noinline]] void fail(RejectReason r, FieldId id, std::string what) {
    if (!problem) problem = Rejection{r, "field `" + std::string(field_name(id)) + "`: " + what};
  }
  bool require(FieldId id) {
    if (present(id)) [[likely]] return true;
    return missing(id);
  }
  [[gnu::cold, gnu::noinline]] bool missing(FieldId id) {
    fail(RejectReason::MissingField, id, f_.seen(id) ? "is null" : "is missing");
    return false;
  }
  bool expect_type(FieldId id, json_type t, std::string_view wanted) {
    if (f_[id].type == t) [[likely]] return true;
    return wrong_type(id, wanted);
  }
  [[gnu::cold, gnu::noinline]] bool wrong_type(FieldId id, std::string_view wanted) {
    fail(RejectReason::WrongType, id, "expected " + std::string(wanted) + ", got " + std::string(json_type_name(f_[id].type)));
    return false;
  }

  Text text(FieldId id) {
    const std::string_view v = view(id);
    return own(v, f_[id].text_in_input);
  }
  // The text without a copy: valid until the next document is parsed.
  std::string_view view(FieldId id) {
    if (!require(id) || !expect_type(id, json_type::string, "a string")) return {};
    return f_[id].text;
  }
  std::optional<Text> opt_text(FieldId id) {
    if (!present(id)) return std::nullopt;
    if (!expect_type(id, json_type::string, "a string")) return std::nullopt;
    return own(f_[id].text, f_[id].text_in_input);
  }
  Uuid uuid(FieldId id) {
    if (!require(id)) return {};
    auto u = opt_uuid(id);
    return u ? *u : Uuid{};
  }
  std::optional<Uuid> opt_uuid(FieldId id) {
    if (!present(id) || !expect_type(id, json_type::string, "a UUID string")) return std::nullopt;
    auto u = Uuid::parse(f_[id].text);
    if (!u) fail(RejectReason::BadUuid, id, "not a UUID (8-4-4-4-12 hex digits): \"" + clip(f_[id].text) + "\"");
    return u;
  }
  Timestamp ts(FieldId id) {
    if (!require(id)) return 0;
    return opt_ts(id).value_or(0);
  }
  std::optional<Timestamp> opt_ts(FieldId id) {
    if (!present(id)) return std::nullopt;
    const FieldSlot& s = f_[id];
    if (s.type == json_type::string) {
      auto t = parse_rfc3339(s.text);
      if (!t) fail(RejectReason::BadTimestamp, id, "not an RFC 3339 timestamp with a zone: \"" + clip(s.text) + "\"");
      return t;
    }
    if (s.type == json_type::number) {
      std::optional<Timestamp> t;
      if (s.is_integer) t = from_epoch_millis(s.integer);
      if (!t) fail(RejectReason::BadTimestamp, id, "epoch milliseconds must be an integer within years 1-9999");
      return t;
    }
    fail(RejectReason::WrongType, id,
         "expected an RFC 3339 string or epoch milliseconds, got " + std::string(json_type_name(s.type)));
    return std::nullopt;
  }
  bool boolean(FieldId id) {
    if (!require(id)) return false;
    return opt_bool(id).value_or(false);
  }
  std::optional<bool> opt_bool(FieldId id) {
    if (!present(id) || !expect_type(id, json_type::boolean, "true or false")) return std::nullopt;
    return f_[id].boolean;
  }
  std::optional<int64_t> opt_duration(FieldId id) {
    if (!present(id) || !expect_type(id, json_type::number, "a number of milliseconds")) return std::nullopt;
    double d = f_[id].number;
    if (!(d >= 0) || d > 9.0e15) {
      fail(RejectReason::WrongType, id, "must be a non-negative number of milliseconds");
      return std::nullopt;
    }
    return f_[id].is_integer ? f_[id].integer : static_cast<int64_t>(std::llround(d));
  }
  std::optional<JsonText> opt_json(FieldId id) {
    if (!present(id)) return std::nullopt;
    return own(f_[id].text, f_[id].text_in_input);
  }
  std::optional<JsonText> opt_object(FieldId id) {
    if (!present(id) || !expect_type(id, json_type::object, "an object")) return std::nullopt;
    return own(f_[id].text, f_[id].text_in_input);
  }
  std::optional<ErrorInfo> opt_error(FieldId id) {
    if (!present(id)) return std::nullopt;
    const FieldSlot& s = f_[id];
    ErrorInfo e;
    if (s.type == json_type::string || s.type == json_type::object) {
      if (s.has_error_message) e.message = own(s.error_message, s.error_message_in_input);
      if (s.has_error_stack) e.stack = own(s.error_stack, s.error_stack_in_input);
    } else {
      e.message = own(s.text, s.text_in_input);  // a number or array thrown: keep its JSON text
    }
    return e;
  }
  Outcome outcome(FieldId id) {
    std::string_view s = view(id);
    if (problem) return Outcome::Completed;
    if (s == "completed") return Outcome::Completed;
    if (s == "failed") return Outcome::Failed;
    fail(RejectReason::WrongType, id, "must be \"completed\" or \"failed\", got \"" + clip(s) + "\"");
    return Outcome::Completed;
  }
  // A count: an integer from 0 up (the largest a bigint column holds).
  std::optional<int64_t> opt_count(FieldId id) {
    if (!present(id)) return std::nullopt;
    const FieldSlot& s = f_[id];
    if (s.type == json_type::number && s.is_integer && s.integer >= 0) [[likely]] return s.integer;
    fail(RejectReason::WrongType, id, "must be a non-negative integer");
    return std::nullopt;
  }
  LogLevel level(FieldId id) {
    std::string_view s = view(id);
    if (problem) return LogLevel::Info;
    if (auto l = log_level_from_name(s)) return *l;
    fail(RejectReason::WrongType, id, "must be debug, info, warn or error, got \"" + clip(s) + "\"");
    return LogLevel::Info;
  }

  static std::string clip(std::string_view s) {
    return s.size() <= 60 ? std::string(s) : std::string(s.substr(0, 60)) + "...";
  }

 private:
  const RawFields& f_;
  TextArena& text_;
  const bool input_outlives_text_;
};

// One reader per record type: its fields, in the wire format's order.
void read(Checker& c, InvocationStart& b) {
  using F = FieldId;
  b.source_function = c.text(F::SourceFunction);
  b.source_system = c.opt_text(F::SourceSystem);
  b.source_table = c.opt_text(F::SourceTable);
  b.source_operation = c.opt_text(F::SourceOperation);
  b.source_event_id = c.opt_uuid(F::SourceEventId);
  b.source_event_time = c.opt_ts(F::SourceEventTime);
  b.source_event_payload = c.opt_json(F::SourceEventPayload);
  b.source_user_email = c.opt_text(F::SourceUserEmail);
  b.source_user_role = c.opt_text(F::SourceUserRole);
  b.source_job_id = c.opt_uuid(F::SourceJobId);
  b.auto_load_modules = c.opt_bool(F::AutoLoadModules);
  b.event_modules_directory = c.opt_text(F::EventModulesDirectory);
  b.context = c.opt_object(F::Context);
}
void read(Checker& c, InvocationEnd& b) {
  using F = FieldId;
  b.status = c.outcome(F::Status);
  b.duration_ms = c.opt_duration(F::DurationMs);
  b.error = c.opt_error(F::Error);
}
void read(Checker& c, DetectionStart& b) {
  using F = FieldId;
  b.event_execution_id = c.uuid(F::EventExecutionId);
  b.event_name = c.text(F::EventName);
  b.event_module_path = c.opt_text(F::EventModulePath);
}
void read(Checker& c, DetectionEnd& b) {
  using F = FieldId;
  b.event_execution_id = c.uuid(F::EventExecutionId);
  b.event_name = c.text(F::EventName);
  b.detected = c.boolean(F::Detected);
  b.duration_ms = c.opt_duration(F::DurationMs);
  b.error = c.opt_error(F::Error);
}
void read(Checker& c, HandlerStart& b) {
  using F = FieldId;
  b.event_execution_id = c.uuid(F::EventExecutionId);
  b.event_name = c.text(F::EventName);
}
void read(Checker& c, HandlerEnd& b) {
  using F = FieldId;
  b.event_execution_id = c.uuid(F::EventExecutionId);
  b.event_name = c.text(F::EventName);
  b.duration_ms = c.opt_duration(F::DurationMs);
  b.error = c.opt_error(F::Error);
}
void read(Checker& c, JobStart& b) {
  using F = FieldId;
  b.job_execution_id = c.uuid(F::JobExecutionId);
  b.event_execution_id = c.uuid(F::EventExecutionId);
  b.job_name = c.text(F::JobName);
  b.job_function_name = c.opt_text(F::JobFunctionName);
  b.job_options = c.opt_json(F::JobOptions);
}
void read(Checker& c, JobEnd& b) {
  using F = FieldId;
  b.job_execution_id = c.uuid(F::JobExecutionId);
  b.event_execution_id = c.uuid(F::EventExecutionId);
  b.job_name = c.text(F::JobName);
  b.status = c.outcome(F::Status);
  b.duration_ms = c.opt_duration(F::DurationMs);
  b.result = c.opt_json(F::Result);
  b.error = c.opt_error(F::Error);
}
void read(Checker& c, JobLog& b) {
  using F = FieldId;
  b.job_execution_id = c.opt_uuid(F::JobExecutionId);
  b.level = c.level(F::Level);
  b.message = c.text(F::Message);
  b.data = c.opt_json(F::Data);
  b.source = c.opt_text(F::Source);
  b.seq = c.opt_count(F::Seq);
}

// Reads the body of the record's type; RecordBody's alternatives stand in RecordType's order.
template <size_t I = 0>
void read_body(Checker& c, RecordBody& body, RecordType type) {
  if constexpr (I < kRecordTypeCount) {
    if (static_cast<size_t>(type) == I) return read(c, body.emplace<I>());
    read_body<I + 1>(c, body, type);
  }
}

}  // namespace

Timestamp FieldValidator::latest_believable_ts() {
  if (++clock_reads_ % 4096 == 1) {  // the wall clock, read once per few thousand records
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    latest_ts_ = now.count() + kMaxClockSkew;
  }
  return latest_ts_;
}

Verdict FieldValidator::validate(const RawFields& f, SourcePos pos, std::vector<TraceRecord>& records,
                                 TextArena& text, bool input_outlives_text) {
  using F = FieldId;
  Checker c(f, text, input_outlives_text);
  if (!c.present(F::Type) && !c.present(F::InvocationId)) return NotARecord{};

  // A newer format version is refused before anything else is read.
  if (c.present(F::V)) {
    const FieldSlot& v = f[F::V];
    if (v.type != json_type::number || !v.is_integer || v.integer < 1)
      return Rejection{RejectReason::WrongType, "field `v`: must be a positive integer"};
    if (v.integer > 1)
      return Rejection{RejectReason::UnsupportedVersion,
                       "field `v`: unsupported version " + std::to_string(v.integer) + " (this edpipe reads 1)"};
  }
  std::string_view type_name = c.view(F::Type);
  if (c.problem) return *c.problem;
  auto type = record_type_from_name(type_name);
  if (!type) return NotARecord{true};

  TraceRecord& r = records.emplace_back();
  auto refuse = [&](Rejection&& why) -> Verdict {
    records.pop_back();
    return std::move(why);
  };
  r.pos = pos;
  r.ts = c.ts(F::Ts);
  // A record from the future would move the watermark there for good, and every open
  // invocation would turn abandoned: a wrong clock is rejected, not believed.
  if (!c.problem && r.ts > latest_believable_ts()) {
    return refuse(Rejection{RejectReason::BadTimestamp, "field `ts`: " + format_rfc3339(r.ts) +
                                                            " is more than 24 h ahead of this machine's clock"});
  }
  r.invocation_id = c.uuid(F::InvocationId);
  r.correlation_id = c.opt_text(F::CorrelationId);

  read_body(c, r.body, *type);
  if (auto* start = std::get_if<InvocationStart>(&r.body);
      start && !c.problem && start->source_event_payload && f[F::SourceEventPayload].type == json_type::object)
    fill_from_hasura_payload(*start, f.hasura, text);
  if (c.problem) return refuse(std::move(*c.problem));
  return Appended{};
}

// Hasura event trigger payloads carry what the emitter may have left out. A value that does
// not parse stays null: it never rejects the record.
void FieldValidator::fill_from_hasura_payload(InvocationStart& s, const HasuraFields& h, TextArena& arena) {
  auto text = [&](bool has, std::string_view v) { return has ? std::optional<Text>(arena.keep(v)) : std::nullopt; };
  if (!s.source_event_id && h.has_id) s.source_event_id = Uuid::parse(h.id);
  if (!s.source_event_time && h.has_created_at) s.source_event_time = parse_rfc3339(h.created_at, ZoneRule::DefaultUtc);
  if (!s.source_table) s.source_table = text(h.has_table, h.table);
  if (!s.source_operation) s.source_operation = text(h.has_op, h.op);
  if (!s.source_user_email) s.source_user_email = text(h.has_user_email, h.user_email);
  if (!s.source_user_role) s.source_user_role = text(h.has_user_role, h.user_role);
}

}  // namespace edpipe::ingest::detail
