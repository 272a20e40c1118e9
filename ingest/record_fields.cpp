#include "ingest/record_fields.h"

#include <chrono>

#include <cmath>
#include <cstring>
#include <optional>

namespace edpipe::detail {
namespace {

using simdjson::ondemand::json_type;

// The JSON text of any value (3.0.1 has raw_json() on objects and arrays only).
simdjson::error_code raw_json_of(simdjson::ondemand::value value, json_type type, std::string_view& out) noexcept {
  if (type == json_type::object) {
    simdjson::ondemand::object o;
    if (auto e = value.get_object().get(o)) return e;
    return o.raw_json().get(out);
  }
  if (type == json_type::array) {
    simdjson::ondemand::array a;
    if (auto e = value.get_array().get(a)) return e;
    return a.raw_json().get(out);
  }
  out = value.raw_json_token();
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t' || out.back() == '\n' || out.back() == '\r'))
    out.remove_suffix(1);
  return simdjson::SUCCESS;
}

struct FieldName {
  std::string_view name;
  FieldId id;
};
constexpr FieldName kFieldNames[] = {
    {"type", FieldId::Type},
    {"ts", FieldId::Ts},
    {"invocation_id", FieldId::InvocationId},
    {"v", FieldId::V},
    {"correlation_id", FieldId::CorrelationId},
    {"source_function", FieldId::SourceFunction},
    {"source_system", FieldId::SourceSystem},
    {"source_table", FieldId::SourceTable},
    {"source_operation", FieldId::SourceOperation},
    {"source_event_id", FieldId::SourceEventId},
    {"source_event_time", FieldId::SourceEventTime},
    {"source_event_payload", FieldId::SourceEventPayload},
    {"source_user_email", FieldId::SourceUserEmail},
    {"source_user_role", FieldId::SourceUserRole},
    {"source_job_id", FieldId::SourceJobId},
    {"auto_load_modules", FieldId::AutoLoadModules},
    {"event_modules_directory", FieldId::EventModulesDirectory},
    {"context", FieldId::Context},
    {"status", FieldId::Status},
    {"duration_ms", FieldId::DurationMs},
    {"error", FieldId::Error},
    {"event_execution_id", FieldId::EventExecutionId},
    {"event_name", FieldId::EventName},
    {"event_module_path", FieldId::EventModulePath},
    {"detected", FieldId::Detected},
    {"job_execution_id", FieldId::JobExecutionId},
    {"job_name", FieldId::JobName},
    {"job_function_name", FieldId::JobFunctionName},
    {"job_options", FieldId::JobOptions},
    {"result", FieldId::Result},
    {"level", FieldId::Level},
    {"message", FieldId::Message},
    {"data", FieldId::Data},
    {"source", FieldId::Source},
    {"seq", FieldId::Seq},
};
static_assert(std::size(kFieldNames) == kFieldCount);

std::string_view field_name(FieldId id) {
  for (const auto& f : kFieldNames)
    if (f.id == id) return f.name;
  return "?";
}

// Key -> field, by length then content; the comparisons have constant sizes and are inlined.
std::optional<FieldId> find_field(std::string_view k) noexcept {
#define EDPIPE_KEY(literal, id) \
  if (std::memcmp(k.data(), literal, sizeof(literal) - 1) == 0) return FieldId::id
  switch (k.size()) {
    case 1: EDPIPE_KEY("v", V); break;
    case 2: EDPIPE_KEY("ts", Ts); break;
    case 3: EDPIPE_KEY("seq", Seq); break;
    case 4: EDPIPE_KEY("type", Type); EDPIPE_KEY("data", Data); break;
    case 5: EDPIPE_KEY("level", Level); EDPIPE_KEY("error", Error); break;
    case 6: EDPIPE_KEY("status", Status); EDPIPE_KEY("result", Result); EDPIPE_KEY("source", Source); break;
    case 7: EDPIPE_KEY("message", Message); EDPIPE_KEY("context", Context); break;
    case 8: EDPIPE_KEY("job_name", JobName); EDPIPE_KEY("detected", Detected); break;
    case 10: EDPIPE_KEY("event_name", EventName); break;
    case 11: EDPIPE_KEY("duration_ms", DurationMs); EDPIPE_KEY("job_options", JobOptions); break;
    case 12: EDPIPE_KEY("source_table", SourceTable); break;
    case 13:
      EDPIPE_KEY("invocation_id", InvocationId);
      EDPIPE_KEY("source_system", SourceSystem);
      EDPIPE_KEY("source_job_id", SourceJobId);
      break;
    case 14: EDPIPE_KEY("correlation_id", CorrelationId); break;
    case 15: EDPIPE_KEY("source_function", SourceFunction); EDPIPE_KEY("source_event_id", SourceEventId); break;
    case 16:
      EDPIPE_KEY("job_execution_id", JobExecutionId);
      EDPIPE_KEY("source_operation", SourceOperation);
      EDPIPE_KEY("source_user_role", SourceUserRole);
      break;
    case 17:
      EDPIPE_KEY("event_module_path", EventModulePath);
      EDPIPE_KEY("job_function_name", JobFunctionName);
      EDPIPE_KEY("source_user_email", SourceUserEmail);
      EDPIPE_KEY("auto_load_modules", AutoLoadModules);
      EDPIPE_KEY("source_event_time", SourceEventTime);
      break;
    case 18: EDPIPE_KEY("event_execution_id", EventExecutionId); break;
    case 20: EDPIPE_KEY("source_event_payload", SourceEventPayload); break;
    case 23: EDPIPE_KEY("event_modules_directory", EventModulesDirectory); break;
    default: break;
  }
#undef EDPIPE_KEY
  return std::nullopt;
}

enum class Kind { Text, Timestamp, Integer, Number, Bool, Json, JsonObject, Error };

Kind kind_of(FieldId id) {
  switch (id) {
    case FieldId::Ts:
    case FieldId::SourceEventTime: return Kind::Timestamp;
    case FieldId::V:
    case FieldId::Seq: return Kind::Integer;
    case FieldId::DurationMs: return Kind::Number;
    case FieldId::AutoLoadModules:
    case FieldId::Detected: return Kind::Bool;
    case FieldId::SourceEventPayload:
    case FieldId::JobOptions:
    case FieldId::Result:
    case FieldId::Data: return Kind::Json;
    case FieldId::Context: return Kind::JsonObject;
    case FieldId::Error: return Kind::Error;
    default: return Kind::Text;
  }
}

simdjson::error_code collect_error(simdjson::ondemand::value value, FieldSlot& slot) noexcept {
  if (slot.type == json_type::string) {
    slot.has_error_message = true;
    return value.get_string().get(slot.error_message);
  }
  if (slot.type != json_type::object) return raw_json_of(value, slot.type, slot.text);
  simdjson::ondemand::object obj;
  if (auto e = value.get_object().get(obj)) return e;
  for (auto member : obj) {
    std::string_view key;
    if (auto e = member.unescaped_key().get(key)) return e;
    bool is_message = key == "message", is_stack = key == "stack";
    if (!is_message && !is_stack) continue;
    simdjson::ondemand::value v;
    if (auto e = member.value().get(v)) return e;
    json_type t;
    if (auto e = v.type().get(t)) return e;
    std::string_view text;
    if (t == json_type::null) continue;
    if (t == json_type::string) {
      if (auto e = v.get_string().get(text)) return e;
    } else if (auto e = raw_json_of(v, t, text)) {
      return e;
    }
    (is_message ? slot.error_message : slot.error_stack) = text;
    (is_message ? slot.has_error_message : slot.has_error_stack) = true;
  }
  return simdjson::SUCCESS;
}

// The payload's text, and on the way the members a Hasura event trigger payload carries:
// {"id", "created_at", "table": {"name"}, "event": {"op", "session_variables": {…}}}. Its other
// members are skipped as raw_json() would skip them, so reading it costs one pass, not a
// second parse. A member of another type is passed over: it never rejects the record.
simdjson::error_code collect_payload(simdjson::ondemand::value value, FieldSlot& slot, HasuraFields& h) noexcept {
  h = HasuraFields{};
  const char* start = value.raw_json_token().data();
  simdjson::ondemand::object root;
  if (auto e = value.get_object().get(root)) return e;
  // The first string of a name counts (a repeated key does not override it).
  auto take = [](simdjson::ondemand::value v, std::string_view& out, bool& has) -> simdjson::error_code {
    json_type t;
    if (auto e = v.type().get(t)) return e;
    if (has || t != json_type::string) return simdjson::SUCCESS;
    has = true;
    return v.get_string().get(out);
  };
  auto is_object = [](simdjson::ondemand::value v, bool& yes) -> simdjson::error_code {
    json_type t;
    auto e = v.type().get(t);
    yes = !e && t == json_type::object;
    return e;
  };
  auto members = [](simdjson::ondemand::value v, auto&& on_member) -> simdjson::error_code {
    simdjson::ondemand::object o;
    if (auto e = v.get_object().get(o)) return e;
    for (auto m : o) {
      std::string_view k;
      simdjson::ondemand::value mv;
      if (auto e = m.unescaped_key().get(k)) return e;
      if (auto e = m.value().get(mv)) return e;
      if (auto e = on_member(k, mv)) return e;
    }
    return simdjson::SUCCESS;
  };
  for (auto member : root) {
    std::string_view key;
    simdjson::ondemand::value v;
    if (auto e = member.unescaped_key().get(key)) return e;
    if (auto e = member.value().get(v)) return e;
    simdjson::error_code e = simdjson::SUCCESS;
    bool object = false;
    if (key == "id") {
      e = take(v, h.id, h.has_id);
    } else if (key == "created_at") {
      e = take(v, h.created_at, h.has_created_at);
    } else if (key == "table") {
      if (!(e = is_object(v, object)) && object)
        e = members(v, [&](std::string_view k, simdjson::ondemand::value tv) {
          return k == "name" ? take(tv, h.table, h.has_table) : simdjson::SUCCESS;
        });
    } else if (key == "event") {
      if (!(e = is_object(v, object)) && object)
        e = members(v, [&](std::string_view k, simdjson::ondemand::value ev) -> simdjson::error_code {
          if (k == "op") return take(ev, h.op, h.has_op);
          if (k != "session_variables") return simdjson::SUCCESS;
          bool vars_object = false;
          if (auto e2 = is_object(ev, vars_object); e2 || !vars_object) return e2;
          return members(ev, [&](std::string_view vk, simdjson::ondemand::value vv) {
            if (vk == "x-hasura-user-email") return take(vv, h.user_email, h.has_user_email);
            if (vk == "x-hasura-role") return take(vv, h.user_role, h.has_user_role);
            return simdjson::SUCCESS;
          });
        });
    }
    if (e) return e;
  }
  // As object::raw_json(): from the `{` to the token after the object.
  const char* end;
  if (auto e = value.current_location().get(end)) return e;
  slot.text = std::string_view(start, static_cast<size_t>(end - start));
  return simdjson::SUCCESS;
}

// The parser skips stored JSON values without descending into them, so their depth is checked
// here. Only a value of at least 2 * kMaxDepth bytes can nest that deep: most are never scanned.
constexpr size_t kMaxDepth = simdjson::DEFAULT_MAX_DEPTH;
bool nests_too_deep(std::string_view json) noexcept {
  if (json.size() < 2 * kMaxDepth) return false;
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if (c == ']' || c == '}') {
      if (depth) --depth;
    }
  }
  return false;
}

}  // namespace

simdjson::error_code collect_fields(simdjson::ondemand::object object, RawFields& fields) noexcept {
  if (++fields.generation == 0) {  // wrapped: old stamps could look current
    for (auto& s : fields.slots) s.generation = 0;
    fields.generation = 1;
  }
  for (auto member : object) {
    std::string_view key;
    if (auto e = member.unescaped_key().get(key)) return e;
    auto id = find_field(key);
    simdjson::ondemand::value value;
    if (auto e = member.value().get(value)) return e;
    if (!id) continue;  // unknown members are ignored (forward compatibility)
    FieldSlot& slot = fields[*id];
    // Only what a reader may look at before this pass sets it (not the whole ~90-byte slot).
    slot.generation = fields.generation;
    slot.text = {};
    slot.is_integer = false;
    slot.has_error_message = slot.has_error_stack = false;
    if (auto e = value.type().get(slot.type)) return e;
    if (slot.type == json_type::null) continue;
    simdjson::error_code e = simdjson::SUCCESS;
    switch (kind_of(*id)) {
      case Kind::Text:
      case Kind::Timestamp:
      case Kind::Integer:
      case Kind::Number:
      case Kind::Bool:
        if (slot.type == json_type::string) {
          e = value.get_string().get(slot.text);
        } else if (slot.type == json_type::number) {
          simdjson::ondemand::number_type nt;
          if ((e = value.get_number_type().get(nt))) break;
          if (nt == simdjson::ondemand::number_type::floating_point_number) {
            e = value.get_double().get(slot.number);
          } else if (nt == simdjson::ondemand::number_type::signed_integer) {
            slot.is_integer = true;
            e = value.get_int64().get(slot.integer);
            slot.number = static_cast<double>(slot.integer);
          } else {  // beyond int64
            e = value.get_double().get(slot.number);
          }
        } else if (slot.type == json_type::boolean) {
          e = value.get_bool().get(slot.boolean);
        } else {
          e = raw_json_of(value, slot.type, slot.text);  // wrong type: consumed, reported by validate()
        }
        break;
      case Kind::Json:
      case Kind::JsonObject:
        if (*id == FieldId::SourceEventPayload && slot.type == json_type::object)
          e = collect_payload(value, slot, fields.hasura);
        else
          e = raw_json_of(value, slot.type, slot.text);
        if (!e && nests_too_deep(slot.text)) e = simdjson::DEPTH_ERROR;
        break;
      case Kind::Error:
        e = collect_error(value, slot);
        break;
    }
    if (e) return e;
  }
  return simdjson::SUCCESS;
}

namespace {

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
  Checker(const RawFields& f) : f_(f) {}
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

  std::string text(FieldId id) { return std::string(view(id)); }
  // The text without a copy: valid until the next document is parsed.
  std::string_view view(FieldId id) {
    if (!require(id) || !expect_type(id, json_type::string, "a string")) return {};
    return f_[id].text;
  }
  std::optional<std::string> opt_text(FieldId id) {
    if (!present(id)) return std::nullopt;
    if (!expect_type(id, json_type::string, "a string")) return std::nullopt;
    return std::string(f_[id].text);
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
    return JsonText(f_[id].text);
  }
  std::optional<JsonText> opt_object(FieldId id) {
    if (!present(id) || !expect_type(id, json_type::object, "an object")) return std::nullopt;
    return JsonText(f_[id].text);
  }
  std::optional<ErrorInfo> opt_error(FieldId id) {
    if (!present(id)) return std::nullopt;
    const FieldSlot& s = f_[id];
    ErrorInfo e;
    if (s.type == json_type::string || s.type == json_type::object) {
      if (s.has_error_message) e.message = std::string(s.error_message);
      if (s.has_error_stack) e.stack = std::string(s.error_stack);
    } else {
      e.message = std::string(s.text);  // a number or array thrown: keep its JSON text
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
};

}  // namespace

Timestamp FieldValidator::latest_believable_ts() {
  if (++clock_reads_ % 4096 == 1) {  // the wall clock, read once per few thousand records
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    latest_ts_ = now.count() + kMaxClockSkew;
  }
  return latest_ts_;
}

Verdict FieldValidator::validate(const RawFields& f, SourcePos pos, std::vector<TraceRecord>& records) {
  using F = FieldId;
  Checker c(f);
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

  switch (*type) {
    case RecordType::InvocationStart: {
      auto& b = r.body.emplace<InvocationStart>();
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
      if (!c.problem && b.source_event_payload && f[F::SourceEventPayload].type == json_type::object)
        fill_from_hasura_payload(b, f.hasura);
      break;
    }
    case RecordType::InvocationEnd: {
      auto& b = r.body.emplace<InvocationEnd>();
      b.status = c.outcome(F::Status);
      b.duration_ms = c.opt_duration(F::DurationMs);
      b.error = c.opt_error(F::Error);
      break;
    }
    case RecordType::DetectionStart: {
      auto& b = r.body.emplace<DetectionStart>();
      b.event_execution_id = c.uuid(F::EventExecutionId);
      b.event_name = c.text(F::EventName);
      b.event_module_path = c.opt_text(F::EventModulePath);
      break;
    }
    case RecordType::DetectionEnd: {
      auto& b = r.body.emplace<DetectionEnd>();
      b.event_execution_id = c.uuid(F::EventExecutionId);
      b.event_name = c.text(F::EventName);
      b.detected = c.boolean(F::Detected);
      b.duration_ms = c.opt_duration(F::DurationMs);
      b.error = c.opt_error(F::Error);
      break;
    }
    case RecordType::HandlerStart: {
      auto& b = r.body.emplace<HandlerStart>();
      b.event_execution_id = c.uuid(F::EventExecutionId);
      b.event_name = c.text(F::EventName);
      break;
    }
    case RecordType::HandlerEnd: {
      auto& b = r.body.emplace<HandlerEnd>();
      b.event_execution_id = c.uuid(F::EventExecutionId);
      b.event_name = c.text(F::EventName);
      b.duration_ms = c.opt_duration(F::DurationMs);
      b.error = c.opt_error(F::Error);
      break;
    }
    case RecordType::JobStart: {
      auto& b = r.body.emplace<JobStart>();
      b.job_execution_id = c.uuid(F::JobExecutionId);
      b.event_execution_id = c.uuid(F::EventExecutionId);
      b.job_name = c.text(F::JobName);
      b.job_function_name = c.opt_text(F::JobFunctionName);
      b.job_options = c.opt_json(F::JobOptions);
      break;
    }
    case RecordType::JobEnd: {
      auto& b = r.body.emplace<JobEnd>();
      b.job_execution_id = c.uuid(F::JobExecutionId);
      b.event_execution_id = c.uuid(F::EventExecutionId);
      b.job_name = c.text(F::JobName);
      b.status = c.outcome(F::Status);
      b.duration_ms = c.opt_duration(F::DurationMs);
      b.result = c.opt_json(F::Result);
      b.error = c.opt_error(F::Error);
      break;
    }
    case RecordType::JobLog: {
      auto& b = r.body.emplace<JobLog>();
      b.job_execution_id = c.opt_uuid(F::JobExecutionId);
      b.level = c.level(F::Level);
      b.message = c.text(F::Message);
      b.data = c.opt_json(F::Data);
      b.source = c.opt_text(F::Source);
      b.seq = c.opt_count(F::Seq);
      break;
    }
  }
  if (c.problem) return refuse(std::move(*c.problem));
  return Appended{};
}

// Hasura event trigger payloads carry what the emitter may have left out. A value that does
// not parse stays null: it never rejects the record.
void FieldValidator::fill_from_hasura_payload(InvocationStart& s, const HasuraFields& h) {
  auto text = [](bool has, std::string_view v) { return has ? std::optional<std::string>(v) : std::nullopt; };
  if (!s.source_event_id && h.has_id) s.source_event_id = Uuid::parse(h.id);
  if (!s.source_event_time && h.has_created_at) s.source_event_time = parse_rfc3339(h.created_at, ZoneRule::DefaultUtc);
  if (!s.source_table) s.source_table = text(h.has_table, h.table);
  if (!s.source_operation) s.source_operation = text(h.has_op, h.op);
  if (!s.source_user_email) s.source_user_email = text(h.has_user_email, h.user_email);
  if (!s.source_user_role) s.source_user_role = text(h.has_user_role, h.user_role);
}

}  // namespace edpipe::detail
