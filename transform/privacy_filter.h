#pragma once
// Keeps what must not be stored out of the rows: the privacy and size controls of `load` and
// `tail` (--no-payloads, --redact, --max-json-bytes, ...), applied to records before they are
// folded into rows, so nothing filtered ever reaches memory past this point or the database.
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ingest/trace_record.h"

namespace re2 {
class RE2;
}

namespace edpipe::transform {

struct PrivacyOptions {
  bool no_payloads = false;     // drop the Hasura event payload (the columns taken from it stay)
  bool no_job_options = false;  // drop job options
  bool no_results = false;      // drop job results
  bool no_stacks = false;       // drop error stacks (the messages stay)
  bool no_logs = false;         // drop job log lines altogether
  std::vector<std::string> redact_patterns;  // RE2; each match becomes [REDACTED]
  std::vector<std::string> redact_fields;    // JSON keys whose values become "[REDACTED]", at any depth
  size_t max_json_bytes = 1u << 20;          // larger JSON values are replaced by a truncation note
};

// A --redact pattern that does not compile.
class PrivacyError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

inline constexpr std::string_view kRedacted = "[REDACTED]";

class PrivacyFilter {
 public:
  explicit PrivacyFilter(PrivacyOptions options);  // throws PrivacyError
  ~PrivacyFilter();
  PrivacyFilter(PrivacyFilter&&) noexcept;

  // Filters the records in place; a text that changes is written to `text`, the arena of the
  // records' batch. With --no-logs the job log records are removed.
  void filter(std::vector<ingest::TraceRecord>& records, TextArena& text) const;
  void filter(ingest::TraceRecord& record, TextArena& text) const;

  // The pieces, for the tests: a free text, and a JSON value's text.
  void redact_text(std::string& text) const;
  void filter_json(std::string& json) const;

 private:
  // The filtered text, or nothing when the text stays as it is.
  std::optional<std::string> redacted(std::string_view text) const;
  std::optional<std::string> filtered_json(std::string_view json) const;
  void filter_text(ingest::Text& text, TextArena& arena) const;
  void filter_text(std::optional<ingest::Text>& text, TextArena& arena) const;
  void filter_json(std::optional<ingest::JsonText>& json, bool drop, TextArena& arena) const;
  bool drops(ingest::TextField::Drop d) const noexcept;

  PrivacyOptions options_;
  std::unique_ptr<re2::RE2> redact_;  // all patterns as one alternation
  // No pattern has anchors or word boundaries: one match over a whole JSON text tells whether
  // any of its strings can match (the fast path of filtered_json).
  bool context_free_ = true;
};

// The JSON stored in place of a value over the size limit.
std::string truncated_json_note(size_t original_bytes);

}  // namespace edpipe::transform
