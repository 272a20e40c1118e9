#include "ingest/structural_fields.h"

#include <charconv>
#include <cstring>

namespace edpipe::ingest::detail {
namespace {

using simdjson::ondemand::json_type;

constexpr int kMaxNest = 64;  // deeper values go to the exact path, which knows the parser's limit
static_assert(kMaxNest < simdjson::DEFAULT_MAX_DEPTH);

// Buffers grown for a long line (up to kMaxLineBytes) are given back at the next short one.
constexpr size_t kKeptBytes = 1 << 20;

bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// What a value inside a stored JSON value is to the record: most are nothing (only checked to be
// well-formed); a Hasura payload's few members and an error object's message and stack are read.
enum class Ctx : uint8_t { None, Payload, PayloadTable, PayloadEvent, SessionVariables, Error };

}  // namespace

StructuralIndex::StructuralIndex() {
  if (simdjson::get_active_implementation()->create_dom_parser_implementation(0, simdjson::DEFAULT_MAX_DEPTH, impl_))
    throw std::bad_alloc();
}

bool StructuralIndex::build(const char* text, size_t len) {
  text_ = text;
  end_ = text + len;
  backslash_ = nullptr;
  // Room for a little more than this text (a group's size moves a little from block to block),
  // and no more than that kept after a long line: the index takes 4 bytes a byte of text.
  const size_t capacity = impl_->capacity();
  if (len > capacity || (capacity > kKeptBytes && capacity / 4 > len)) {
    if (impl_->set_capacity(len + len / 4)) return false;
  }
  return impl_->stage1(reinterpret_cast<const uint8_t*>(text), len, simdjson::stage1_mode::regular) ==
         simdjson::SUCCESS;
}

// One record's walk over the index. Every check that fails returns false: Unsure.
struct StructuralFieldReader::Walk {
  StructuralIndex& index;
  const char* t;
  const uint32_t* at;
  uint32_t stop;
  uint8_t* dst;  // the next free byte for an unescaped string
  HasuraFields* hasura = nullptr;
  FieldSlot* error = nullptr;

  char c(uint32_t i) const noexcept { return t[at[i]]; }

  // A scalar's token runs from its first byte to the last byte before the next structural
  // character that is not blank. The caller has checked that i + 1 < stop.
  std::string_view token(uint32_t i) const noexcept {
    const char* b = t + at[i];
    const char* e = t + at[i + 1];
    while (e > b && is_blank(e[-1])) --e;
    return {b, static_cast<size_t>(e - b)};
  }

  // The token of the string at i, quotes included; false when what stands there is not a closed
  // string. The caller has checked that i + 1 < stop.
  bool string_token(uint32_t i, std::string_view& tok) const noexcept {
    tok = token(i);
    return tok.size() >= 2 && tok.back() == '"';
  }

  // A string's contents: a view of the text without an escape, else unescaped into `dst`.
  bool string_at(uint32_t i, std::string_view& out, bool& in_input) noexcept {
    std::string_view tok;
    if (i + 1 >= stop || !string_token(i, tok)) return false;
    const std::string_view inner = tok.substr(1, tok.size() - 2);
    if (!index.has_backslash(inner.data(), inner.data() + inner.size())) {
      out = inner;
      in_input = true;
      return true;
    }
    uint8_t* end = index.unescape(tok.data(), dst);
    if (end == nullptr) return false;
    out = std::string_view(reinterpret_cast<const char*>(dst), static_cast<size_t>(end - dst));
    dst = end;
    in_input = false;
    return true;
  }

  // A key: its raw contents, which must hold no escape (the exact path compares it unescaped).
  bool key_at(uint32_t i, std::string_view& key) noexcept {
    std::string_view tok;
    if (!string_token(i, tok)) return false;
    key = tok.substr(1, tok.size() - 2);
    return !index.has_backslash(key.data(), key.data() + key.size());
  }

  bool literal_at(uint32_t i, std::string_view literal) const noexcept {
    return i + 1 < stop && token(i) == literal;
  }

  enum class Number { Bad, Integer, Float };
  // JSON's number grammar over the token; an integer of up to 18 digits is read exactly, a
  // number with a fraction or an exponent as the nearest double (as simdjson does).
  Number number_at(uint32_t i, int64_t& integer, double& number) const noexcept {
    if (i + 1 >= stop) return Number::Bad;
    const std::string_view tok = token(i);
    const char* p = tok.data();
    const char* e = p + tok.size();
    const bool negative = p < e && *p == '-';
    if (negative) ++p;
    const char* digits = p;
    if (p == e || *p < '0' || *p > '9') return Number::Bad;
    if (*p == '0') {
      ++p;
    } else {
      while (p < e && *p >= '0' && *p <= '9') ++p;
    }
    const size_t int_digits = static_cast<size_t>(p - digits);
    bool is_float = false;
    if (p < e && *p == '.') {
      ++p;
      if (p == e || *p < '0' || *p > '9') return Number::Bad;
      while (p < e && *p >= '0' && *p <= '9') ++p;
      is_float = true;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
      ++p;
      if (p < e && (*p == '+' || *p == '-')) ++p;
      if (p == e || *p < '0' || *p > '9') return Number::Bad;
      while (p < e && *p >= '0' && *p <= '9') ++p;
      is_float = true;
    }
    if (p != e) return Number::Bad;
    if (!is_float) {
      // -0 and integers of 19 digits or more (where int64 ends) are the exact path's.
      if (int_digits > 18 || (negative && int_digits == 1 && *digits == '0')) return Number::Bad;
      int64_t v = 0;
      for (const char* d = digits; d < digits + int_digits; ++d) v = v * 10 + (*d - '0');
      integer = negative ? -v : v;
      number = static_cast<double>(integer);
      return Number::Integer;
    }
    const auto r = std::from_chars(tok.data(), e, number);
    if (r.ec != std::errc() || r.ptr != e) return Number::Bad;
    return Number::Float;
  }

  bool scalar_ok(uint32_t i) const noexcept {
    switch (c(i)) {
      case '"': {
        std::string_view tok;
        return i + 1 < stop && string_token(i, tok);
      }
      case 't': return literal_at(i, "true");
      case 'f': return literal_at(i, "false");
      case 'n': return literal_at(i, "null");
      default: {
        int64_t integer;
        double number;
        return number_at(i, integer, number) != Number::Bad;
      }
    }
  }

  static Ctx child_of(Ctx parent, std::string_view key) noexcept {
    if (parent == Ctx::Payload) {
      if (key == "table") return Ctx::PayloadTable;
      if (key == "event") return Ctx::PayloadEvent;
    } else if (parent == Ctx::PayloadEvent && key == "session_variables") {
      return Ctx::SessionVariables;
    }
    return Ctx::None;
  }

  // The first string of a name counts; a value of another type is passed over.
  bool take(uint32_t i, std::string_view& out, bool& has) noexcept {
    if (has || c(i) != '"') return scalar_ok(i);
    bool in_input;
    has = true;
    return string_at(i, out, in_input);
  }

  // A member of a context that reads some: what it does with a scalar value.
  bool member_scalar(Ctx ctx, std::string_view key, uint32_t i) noexcept {
    switch (ctx) {
      case Ctx::Payload:
        if (key == "id") return take(i, hasura->id, hasura->has_id);
        if (key == "created_at") return take(i, hasura->created_at, hasura->has_created_at);
        break;
      case Ctx::PayloadTable:
        if (key == "name") return take(i, hasura->table, hasura->has_table);
        break;
      case Ctx::PayloadEvent:
        if (key == "op") return take(i, hasura->op, hasura->has_op);
        break;
      case Ctx::SessionVariables:
        if (key == "x-hasura-user-email") return take(i, hasura->user_email, hasura->has_user_email);
        if (key == "x-hasura-role") return take(i, hasura->user_role, hasura->has_user_role);
        break;
      case Ctx::Error: {
        const bool is_message = key == "message";
        if (!is_message && key != "stack") break;
        if (c(i) == 'n') return literal_at(i, "null");
        std::string_view text;
        bool in_input = true;
        if (c(i) == '"') {
          if (!string_at(i, text, in_input)) return false;
        } else if (scalar_ok(i)) {
          text = token(i);
        } else {
          return false;
        }
        (is_message ? error->error_message : error->error_stack) = text;
        (is_message ? error->error_message_in_input : error->error_stack_in_input) = in_input;
        (is_message ? error->has_error_message : error->has_error_stack) = true;
        return true;
      }
      case Ctx::None: break;
    }
    return scalar_ok(i);
  }

  // Checks the object or array at i to be well-formed, reading what its context asks for; i
  // ends at the structural character after it.
  bool container(uint32_t& i, Ctx root) noexcept {
    bool is_object[kMaxNest];
    Ctx ctx[kMaxNest];
    int depth = 0;
    auto open = [&](char ch, Ctx cx) {
      if (depth == kMaxNest) return false;
      is_object[depth] = ch == '{';
      ctx[depth] = ch == '{' ? cx : Ctx::None;
      ++depth;
      return true;
    };
    if (!open(c(i), root)) return false;
    ++i;
    bool just_opened = true;
    for (;;) {
      if (i >= stop) return false;
      char ch = c(i);
      if (just_opened && ch == (is_object[depth - 1] ? '}' : ']')) {
        ++i;
        --depth;
      } else {
        std::string_view key;
        const Ctx here = ctx[depth - 1];
        if (is_object[depth - 1]) {
          if (ch != '"' || i + 2 >= stop || c(i + 1) != ':') return false;
          // Only a context that reads members looks at their keys.
          if (!(here == Ctx::None ? string_token(i, key) : key_at(i, key))) return false;
          i += 2;
          ch = c(i);
        }
        if (ch == '{' || ch == '[') {
          // An error's message or stack that is not a scalar: the exact path keeps its text.
          if (here == Ctx::Error && (key == "message" || key == "stack")) return false;
          if (!open(ch, here == Ctx::None ? Ctx::None : child_of(here, key))) return false;
          ++i;
          just_opened = true;
          continue;
        }
        if (!(here == Ctx::None ? scalar_ok(i) : member_scalar(here, key, i))) return false;
        ++i;
      }
      // After a value: a comma, or the end of its container (and maybe of those around it).
      for (;;) {
        if (depth == 0) return true;
        if (i >= stop) return false;
        ch = c(i);
        if (ch == ',') {
          ++i;
          just_opened = false;
          break;
        }
        if (ch != (is_object[depth - 1] ? '}' : ']')) return false;
        ++i;
        --depth;
      }
    }
  }

  // The text of a stored JSON value, as the exact path keeps it: a container from its opening
  // character to the next token (blanks after it included), a scalar as its token. (No value
  // read here nests deeper than kMaxNest, far below the parser's limit that nests_too_deep()
  // checks for the exact path.)
  bool json_value(uint32_t& i, Ctx root, std::string_view& text) noexcept {
    const uint32_t start = i;
    const char ch = c(i);
    if (ch == '{' || ch == '[') {
      if (!container(i, root)) return false;  // an array's members have no context
      text = std::string_view(t + at[start], at[i] - at[start]);
      return true;
    }
    if (!scalar_ok(i)) return false;
    text = token(i);
    ++i;
    return true;
  }

  // A known member's value into its slot, as collect_fields() reads it; i ends after it.
  bool field(FieldId id, uint32_t& i, FieldSlot& slot, RawFields& fields) noexcept {
    const char ch = c(i);
    if (ch == 'n') {  // null, for every kind: the slot says seen and null
      slot.type = json_type::null;
      return literal_at(i++, "null");
    }
    switch (ch) {
      case '"': slot.type = json_type::string; break;
      case 't':
      case 'f': slot.type = json_type::boolean; break;
      case '{': slot.type = json_type::object; break;
      case '[': slot.type = json_type::array; break;
      default: slot.type = json_type::number;
    }
    switch (kind_of(id)) {
      case FieldKind::Text:
      case FieldKind::Timestamp:
      case FieldKind::Integer:
      case FieldKind::Number:
      case FieldKind::Bool:
        if (ch == '"') {
          if (!string_at(i, slot.text, slot.text_in_input)) return false;
        } else if (ch == 't' || ch == 'f') {
          if (!literal_at(i, ch == 't' ? "true" : "false")) return false;
          slot.boolean = ch == 't';
        } else if (ch == '{' || ch == '[') {
          return false;  // the wrong type: the exact path keeps its text for the message
        } else {
          const Number n = number_at(i, slot.integer, slot.number);
          if (n == Number::Bad) return false;
          slot.is_integer = n == Number::Integer;
        }
        ++i;
        return true;
      case FieldKind::Json:
      case FieldKind::JsonObject:
        if (id == FieldId::SourceEventPayload && ch == '{') {
          fields.hasura = HasuraFields{};
          hasura = &fields.hasura;
          return json_value(i, Ctx::Payload, slot.text);
        }
        return json_value(i, Ctx::None, slot.text);
      case FieldKind::Error:
        if (ch == '"') {
          slot.has_error_message = true;
          if (!string_at(i, slot.error_message, slot.error_message_in_input)) return false;
          ++i;
          return true;
        }
        if (ch != '{') return false;
        error = &slot;
        return container(i, Ctx::Error);
    }
    return false;
  }
};

StructuralFieldReader::Read StructuralFieldReader::read(StructuralIndex& index, uint32_t first, uint32_t stop,
                                                        RawFields& fields) {
  const uint32_t* at = index.offsets();
  const char* t = index.text();
  if (first + 1 >= stop || t[at[first]] != '{') return Read::Unsure;
  // Unescaped strings are never longer than the record's text.
  const size_t need = at[stop - 1] - at[first] + 1 + simdjson::SIMDJSON_PADDING;
  if (need > unescaped_capacity_ || (unescaped_capacity_ > kKeptBytes && unescaped_capacity_ / 4 > need)) {
    unescaped_capacity_ = need + need / 2;
    unescaped_ = std::make_unique<uint8_t[]>(unescaped_capacity_);
  }
  Walk w{index, t, at, stop, unescaped_.get()};
  fields.begin_object();
  uint32_t i = first + 1;
  if (w.c(i) == '}') return i + 1 == stop ? Read::Done : Read::Unsure;
  for (;;) {
    if (i + 3 >= stop || w.c(i) != '"' || w.c(i + 1) != ':') return Read::Unsure;
    std::string_view key;
    if (!w.key_at(i, key)) return Read::Unsure;
    i += 2;
    const auto id = find_field(key);
    if (!id) {
      std::string_view ignored;
      if (!w.json_value(i, Ctx::None, ignored)) return Read::Unsure;
    } else {
      if (!w.field(*id, i, fields.begin_member(*id), fields)) return Read::Unsure;
    }
    if (i >= stop) return Read::Unsure;
    const char ch = w.c(i);
    if (ch == ',') {
      ++i;
      continue;
    }
    return ch == '}' && i + 1 == stop ? Read::Done : Read::Unsure;
  }
}

}  // namespace edpipe::ingest::detail
