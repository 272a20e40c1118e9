#include "transform/privacy_filter.h"

#include <re2/re2.h>

#include <algorithm>
#include <utility>

#include "core/json_text.h"

namespace edpipe::transform {
namespace {

constexpr int kMaxDepth = 1024;

// Rewrites a JSON text (valid: ingest parsed it), redacting string values and named fields.
// Keys, numbers, literals and whitespace are copied as they are.
class JsonRedactor {
 public:
  JsonRedactor(std::string_view in, const re2::RE2* pattern, const std::vector<std::string>& fields)
      : in_(in), pattern_(pattern), fields_(fields) {}

  bool run(std::string& out) {
    out_.reserve(in_.size());
    if (!value(0, true)) return false;
    blanks(true);
    if (i_ != in_.size()) return false;
    out = std::move(out_);
    return true;
  }

 private:
  void blanks(bool emit) {
    while (i_ < in_.size() && (in_[i_] == ' ' || in_[i_] == '\t' || in_[i_] == '\n' || in_[i_] == '\r')) {
      if (emit) out_.push_back(in_[i_]);
      ++i_;
    }
  }

  // The whole token, quotes included; i_ moves past it.
  bool string_token(std::string_view& token) {
    const size_t start = i_++;
    while (i_ < in_.size() && in_[i_] != '"') i_ += in_[i_] == '\\' ? 2 : 1;
    if (i_ >= in_.size()) return false;
    ++i_;
    token = in_.substr(start, i_ - start);
    return true;
  }

  bool string_value(bool emit) {
    std::string_view token;
    if (!string_token(token)) return false;
    if (!emit) return true;
    if (pattern_) {
      if (!json_unescape(token.substr(1, token.size() - 2), text_)) return false;
      if (RE2::GlobalReplace(&text_, *pattern_, kRedacted) > 0) {
        append_json_string(out_, text_);
        return true;
      }
    }
    out_.append(token);
    return true;
  }

  bool is_redacted_key(std::string_view key_token) {
    if (fields_.empty()) return false;
    if (!json_unescape(key_token.substr(1, key_token.size() - 2), key_)) return false;
    return std::find(fields_.begin(), fields_.end(), key_) != fields_.end();
  }

  bool value(int depth, bool emit) {
    if (depth > kMaxDepth) return false;
    blanks(emit);
    if (i_ >= in_.size()) return false;
    const char c = in_[i_];
    if (c == '"') return string_value(emit);
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      if (emit) out_.push_back(c);
      ++i_;
      blanks(emit);
      if (i_ < in_.size() && in_[i_] == close) {
        if (emit) out_.push_back(close);
        ++i_;
        return true;
      }
      for (;;) {
        bool emit_value = emit;
        if (c == '{') {
          blanks(emit);
          std::string_view key;
          if (i_ >= in_.size() || in_[i_] != '"' || !string_token(key)) return false;
          if (emit) out_.append(key);
          blanks(emit);
          if (i_ >= in_.size() || in_[i_] != ':') return false;
          if (emit) out_.push_back(':');
          ++i_;
          if (emit && is_redacted_key(key)) {
            emit_value = false;
            out_.push_back('"');
            out_.append(kRedacted);
            out_.push_back('"');
          }
        }
        if (!value(depth + 1, emit_value)) return false;
        blanks(emit);
        if (i_ >= in_.size()) return false;
        if (in_[i_] == close) {
          if (emit) out_.push_back(close);
          ++i_;
          return true;
        }
        if (in_[i_] != ',') return false;
        if (emit) out_.push_back(',');
        ++i_;
      }
    }
    // A number or a literal: up to the next delimiter.
    const size_t start = i_;
    while (i_ < in_.size() && in_[i_] != ',' && in_[i_] != '}' && in_[i_] != ']' && in_[i_] != ' ' &&
           in_[i_] != '\t' && in_[i_] != '\n' && in_[i_] != '\r')
      ++i_;
    if (i_ == start) return false;
    if (emit) out_.append(in_.substr(start, i_ - start));
    return true;
  }

  std::string_view in_;
  size_t i_ = 0;
  std::string out_, text_, key_;
  const re2::RE2* pattern_;
  const std::vector<std::string>& fields_;
};

// Whether a pattern can match differently in a part of a text than in the whole: anchors
// (^ $ \A \z), word boundaries (\b \B) and the flags that change them. Conservative: a ^ or $
// anywhere but at the start of a negated class counts, so it may say yes for a pattern that is
// context-free, never no for one that is not.
bool depends_on_context(std::string_view p) {
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[++i];
      if (n == 'b' || n == 'B' || n == 'A' || n == 'z' || n == 'Z') return true;
      continue;
    }
    if (c == '[' && i + 1 < p.size() && p[i + 1] == '^') {
      ++i;
      continue;
    }
    if (c == '^' || c == '$') return true;
  }
  return false;
}

}  // namespace

std::string truncated_json_note(size_t original_bytes) {
  return "{\"truncated\":true,\"original_bytes\":" + std::to_string(original_bytes) + "}";
}

PrivacyFilter::PrivacyFilter(PrivacyOptions options) : options_(std::move(options)) {
  if (options_.redact_patterns.empty()) return;
  RE2::Options ro;
  ro.set_log_errors(false);
  std::string all;
  for (const auto& p : options_.redact_patterns) {
    re2::RE2 one(p, ro);
    if (!one.ok()) throw PrivacyError("--redact '" + p + "': " + one.error());
    if (one.pattern().empty()) throw PrivacyError("--redact: an empty pattern would match everywhere");
    if (!all.empty()) all.push_back('|');
    all += "(?:" + p + ")";
    context_free_ = context_free_ && !depends_on_context(p);
  }
  redact_ = std::make_unique<re2::RE2>(all, ro);
  if (!redact_->ok()) throw PrivacyError("--redact: " + redact_->error());
}

PrivacyFilter::~PrivacyFilter() = default;
PrivacyFilter::PrivacyFilter(PrivacyFilter&&) noexcept = default;

std::optional<std::string> PrivacyFilter::redacted(std::string_view text) const {
  if (!redact_ || !RE2::PartialMatch(text, *redact_)) return std::nullopt;
  std::string out(text);
  RE2::GlobalReplace(&out, *redact_, kRedacted);
  return out;
}

std::optional<std::string> PrivacyFilter::filtered_json(std::string_view json) const {
  if (json.size() > options_.max_json_bytes) return truncated_json_note(json.size());
  if (!redact_ && options_.redact_fields.empty()) return std::nullopt;
  // Without escapes, a string's contents are bytes of the text itself: no match in the whole
  // text means no match in any string, for a pattern that matches a part as it would alone.
  // An anchored or word-bounded one may match a string value and not the whole text
  // (^\d{16}$ and {"card":"4111111111111111"}): every string is then tried on its own.
  if (context_free_ && options_.redact_fields.empty() && json.find('\\') == std::string_view::npos &&
      !RE2::PartialMatch(json, *redact_))
    return std::nullopt;
  std::string out;
  if (JsonRedactor(json, redact_.get(), options_.redact_fields).run(out)) return out;
  // Not expected (ingest parsed it), but unreadable text must not slip through unredacted.
  return "\"" + std::string(kRedacted) + "\"";
}

void PrivacyFilter::redact_text(std::string& text) const {
  if (auto r = redacted(text)) text = std::move(*r);
}

void PrivacyFilter::filter_json(std::string& json) const {
  if (auto r = filtered_json(json)) json = std::move(*r);
}

void PrivacyFilter::filter_text(ingest::Text& text, TextArena& arena) const {
  if (auto r = redacted(text)) text = arena.keep(*r);
}

void PrivacyFilter::filter_text(std::optional<ingest::Text>& text, TextArena& arena) const {
  if (text) filter_text(*text, arena);
}

void PrivacyFilter::filter_json(std::optional<ingest::JsonText>& json, bool drop, TextArena& arena) const {
  if (!json) return;
  if (drop) json.reset();
  else if (auto r = filtered_json(*json)) json = arena.keep(*r);
}

bool PrivacyFilter::drops(ingest::TextField::Drop d) const noexcept {
  using D = ingest::TextField::Drop;
  switch (d) {
    case D::None: return false;
    case D::Payload: return options_.no_payloads;
    case D::JobOptions: return options_.no_job_options;
    case D::Result: return options_.no_results;
    case D::Stack: return options_.no_stacks;
  }
  return false;
}

// Every text field of the record, as ingest/trace_record.h lists them: dropped if an option says
// so, otherwise redacted (free text) or filtered (JSON).
void PrivacyFilter::filter(ingest::TraceRecord& r, TextArena& text) const {
  filter_text(r.correlation_id, text);
  std::visit(
      [&](auto& body) {
        ingest::for_each_field(body, [&](const ingest::TextField& field, auto& value) {
          constexpr bool optional = !std::is_same_v<std::decay_t<decltype(value)>, ingest::Text>;
          if constexpr (optional) {
            if (drops(field.drop)) {
              value.reset();
              return;
            }
            if (field.kind == ingest::TextField::Kind::Json)
              filter_json(value, false, text);
            else
              filter_text(value, text);
          } else {
            filter_text(value, text);  // required fields are free text: names
          }
        });
      },
      r.body);
}

void PrivacyFilter::filter(std::vector<ingest::TraceRecord>& records, TextArena& text) const {
  if (options_.no_logs)
    std::erase_if(records, [](const ingest::TraceRecord& r) { return r.type() == ingest::RecordType::JobLog; });
  for (auto& r : records) filter(r, text);
}

}  // namespace edpipe::transform
