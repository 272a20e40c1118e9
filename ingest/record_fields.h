#pragma once
// Phase 4 of the decoder: the wire format's fields, collected from one JSON object and validated.
// Internal to ingest.
#include <simdjson.h>

#include <array>
#include <cstring>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "ingest/ingest_batch.h"

namespace edpipe::ingest::detail {

enum class FieldId : uint8_t {
  Type, Ts, InvocationId, V, CorrelationId,
  SourceFunction, SourceSystem, SourceTable, SourceOperation, SourceEventId, SourceEventTime,
  SourceEventPayload, SourceUserEmail, SourceUserRole, SourceJobId, AutoLoadModules,
  EventModulesDirectory, Context,
  Status, DurationMs, Error,
  EventExecutionId, EventName, EventModulePath, Detected,
  JobExecutionId, JobName, JobFunctionName, JobOptions, Result,
  Level, Message, Data, Source, Seq,
  Count
};
constexpr size_t kFieldCount = static_cast<size_t>(FieldId::Count);

// One top-level member as seen. Views point into the input (raw JSON, strings without escapes:
// `*_in_input`) or into the parser's string buffer (unescaped strings: valid until the next
// document is parsed).
struct FieldSlot {
  uint32_t generation = 0;  // equals RawFields::generation when seen in the current object
  simdjson::ondemand::json_type type = simdjson::ondemand::json_type::null;
  std::string_view text;  // string value, or raw JSON text
  bool text_in_input = true;
  int64_t integer = 0;
  double number = 0;
  bool is_integer = false;
  bool boolean = false;
  std::string_view error_message, error_stack;  // for `error`
  bool has_error_message = false, has_error_stack = false;
  bool error_message_in_input = true, error_stack_in_input = true;
};

// What a Hasura event trigger payload (`source_event_payload`) says of its event, read in the
// same pass as the record. Views as in FieldSlot; a member that is absent or not a string is
// left empty. Valid when `source_event_payload` was seen as an object in the current record.
struct HasuraFields {
  std::string_view id, created_at, table, op, user_email, user_role;
  bool has_id = false, has_created_at = false, has_table = false, has_op = false, has_user_email = false,
       has_user_role = false;
};

struct RawFields {
  std::array<FieldSlot, kFieldCount> slots;
  HasuraFields hasura;
  uint32_t generation = 0;  // bumped per object: no clearing of the slots between records
  bool seen(FieldId id) const { return slots[static_cast<size_t>(id)].generation == generation; }
  // A new object: every slot unseen, without clearing them (the stamps move on).
  void begin_object() noexcept {
    if (++generation == 0) {  // wrapped: old stamps could look current
      for (auto& s : slots) s.generation = 0;
      generation = 1;
    }
  }
  // The slot of a member seen in the current object, reset to what a reader may look at before
  // the member's value sets it (not the whole ~90-byte slot).
  FieldSlot& begin_member(FieldId id) noexcept {
    FieldSlot& slot = slots[static_cast<size_t>(id)];
    slot.generation = generation;
    slot.text = {};
    slot.text_in_input = true;
    slot.is_integer = false;
    slot.has_error_message = slot.has_error_stack = false;
    return slot;
  }
  const FieldSlot& operator[](FieldId id) const { return slots[static_cast<size_t>(id)]; }
  FieldSlot& operator[](FieldId id) { return slots[static_cast<size_t>(id)]; }
};

// The wire format's name of a field.
std::string_view field_name(FieldId id);
// What a field's value is read as.
enum class FieldKind : uint8_t { Text, Timestamp, Integer, Number, Bool, Json, JsonObject, Error };

// A key's field, or none for a member the wire format does not name. (Inline: both readers of
// records call it for every member.)
inline std::optional<FieldId> find_field(std::string_view k) noexcept {
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

inline FieldKind kind_of(FieldId id) noexcept {
  switch (id) {
    case FieldId::Ts:
    case FieldId::SourceEventTime: return FieldKind::Timestamp;
    case FieldId::V:
    case FieldId::Seq: return FieldKind::Integer;
    case FieldId::DurationMs: return FieldKind::Number;
    case FieldId::AutoLoadModules:
    case FieldId::Detected: return FieldKind::Bool;
    case FieldId::SourceEventPayload:
    case FieldId::JobOptions:
    case FieldId::Result:
    case FieldId::Data: return FieldKind::Json;
    case FieldId::Context: return FieldKind::JsonObject;
    case FieldId::Error: return FieldKind::Error;
    default: return FieldKind::Text;
  }
}


// Reads every member of the object; returns a JSON error if the text is not well-formed.
[[nodiscard]] simdjson::error_code collect_fields(simdjson::ondemand::object object, RawFields& fields) noexcept;

struct NotARecord {
  bool unknown_type = false;
};
struct Rejection {
  RejectReason reason;
  std::string detail;
};
// A record is not part of the verdict: it is appended to the caller's vector in place, so a
// record's body is built once, where it stays, and never moved.
struct Appended {};
using Verdict = std::variant<Appended, NotARecord, Rejection>;

// Applies the wire format to the collected fields.
// How far a record's ts may be ahead of this machine's clock.
constexpr Timestamp kMaxClockSkew = 24 * kMicrosPerHour;

class FieldValidator {
 public:
  // Appends the record to `records` (Appended), its text copied into `text`, or leaves it as it
  // was (text copied before a late problem stays unused until the arena is cleared).
  // `input_outlives_text`: the input the fields view stays unchanged as long as `text` holds
  // its records' text, so views of it are kept as they are, not copied.
  [[nodiscard]] Verdict validate(const RawFields& fields, SourcePos pos, std::vector<TraceRecord>& records,
                                 TextArena& text, bool input_outlives_text);

 private:
  Timestamp latest_believable_ts();
  Timestamp latest_ts_ = 0;
  uint64_t clock_reads_ = 0;
  static void fill_from_hasura_payload(InvocationStart& start, const HasuraFields& payload, TextArena& text);
};

}  // namespace edpipe::ingest::detail
