#include "ingest/record_fields.h"

#include <cstring>
#include <optional>

namespace edpipe::ingest::detail {
namespace {

using simdjson::ondemand::json_type;

// A scalar's token as simdjson gives it runs up to the next structural character: without the
// blanks before that.
std::string_view token_of(simdjson::ondemand::value value) noexcept {
  std::string_view t = value.raw_json_token();
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
  return t;
}

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
  out = token_of(value);
  return simdjson::SUCCESS;
}

// A string's contents. Without an escape (nearly always) they are bytes of the input: a view of
// the token, no copy; with one, unescaped into the parser's buffer (valid until the next document).
simdjson::error_code string_of(simdjson::ondemand::value value, std::string_view& out, bool& in_input) noexcept {
  const std::string_view raw = token_of(value);
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"' && raw.find('\\') == std::string_view::npos) {
    out = raw.substr(1, raw.size() - 2);
    in_input = true;
    return simdjson::SUCCESS;
  }
  in_input = false;
  return value.get_string().get(out);
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


}  // namespace

namespace {

simdjson::error_code collect_error(simdjson::ondemand::value value, FieldSlot& slot) noexcept {
  if (slot.type == json_type::string) {
    slot.has_error_message = true;
    return string_of(value, slot.error_message, slot.error_message_in_input);
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
    bool in_input = true;
    if (t == json_type::null) continue;
    if (t == json_type::string) {
      if (auto e = string_of(v, text, in_input)) return e;
    } else if (auto e = raw_json_of(v, t, text)) {
      return e;
    }
    (is_message ? slot.error_message : slot.error_stack) = text;
    (is_message ? slot.error_message_in_input : slot.error_stack_in_input) = in_input;
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
  fields.begin_object();
  for (auto member : object) {
    std::string_view key;
    if (auto e = member.unescaped_key().get(key)) return e;
    auto id = find_field(key);
    simdjson::ondemand::value value;
    if (auto e = member.value().get(value)) return e;
    if (!id) continue;  // unknown members are ignored (forward compatibility)
    FieldSlot& slot = fields.begin_member(*id);
    if (auto e = value.type().get(slot.type)) return e;
    if (slot.type == json_type::null) continue;
    simdjson::error_code e = simdjson::SUCCESS;
    switch (kind_of(*id)) {
      case FieldKind::Text:
      case FieldKind::Timestamp:
      case FieldKind::Integer:
      case FieldKind::Number:
      case FieldKind::Bool:
        if (slot.type == json_type::string) {
          e = string_of(value, slot.text, slot.text_in_input);
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
      case FieldKind::Json:
      case FieldKind::JsonObject:
        if (*id == FieldId::SourceEventPayload && slot.type == json_type::object)
          e = collect_payload(value, slot, fields.hasura);
        else
          e = raw_json_of(value, slot.type, slot.text);
        if (!e && nests_too_deep(slot.text)) e = simdjson::DEPTH_ERROR;
        break;
      case FieldKind::Error:
        e = collect_error(value, slot);
        break;
    }
    if (e) return e;
  }
  return simdjson::SUCCESS;
}

std::string_view field_name(FieldId id) {
  for (const auto& f : kFieldNames)
    if (f.id == id) return f.name;
  return "?";
}

}  // namespace edpipe::ingest::detail
