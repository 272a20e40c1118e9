#pragma once
// Where the JSON record sits inside a line that a platform's log framing wraps.
//
// Functions print one record per line; the platform that collects their stdout may put a prefix
// in front (Lambda, Netlify, kubectl --timestamps), wrap the line in its own JSON (Docker's
// json-file driver), or a user-defined pattern may say where the record is (regex). The framer
// finds the record's span in place, so framed input is parsed as fast as plain NDJSON; only
// Docker's wrapper needs a second parse of the unescaped inner string.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace edpipe::ingest {

enum class LogFormat : uint8_t { Auto, Ndjson, Lambda, Netlify, Docker, Kubectl, Regex };
std::string_view log_format_name(LogFormat f) noexcept;
std::optional<LogFormat> log_format_from_name(std::string_view name) noexcept;

struct FramingOptions {
  LogFormat format = LogFormat::Auto;
  std::string line_regex;  // format Regex: an RE2 pattern with a named group `json`
};

// A bad --line-regex (does not compile, or has no group `json`).
class FramingError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct FramedLine {
  enum Kind : uint8_t {
    NotRecord,  // no record in this line: console text, platform lines (START/END/REPORT)
    Json,       // the record candidate is [begin, end) of the line
    Wrapped,    // Docker json-file: the record is the unescaped string of the wrapper's "log"
  };
  Kind kind = NotRecord;
  size_t begin = 0, end = 0;
};

class LineFramer {
 public:
  explicit LineFramer(FramingOptions options = {});  // throws FramingError
  ~LineFramer();
  LineFramer(LineFramer&&) noexcept;
  LineFramer& operator=(LineFramer&&) noexcept;

  // `line` is one line without its line break. A Json verdict only says where a candidate is:
  // whether it is a valid record is for the decoder to say.
  FramedLine frame(std::string_view line) const;
  LogFormat format() const noexcept { return options_.format; }

 private:
  FramingOptions options_;
  std::unique_ptr<re2::RE2> regex_;
  int json_group_ = 0;
};

// Wraps one NDJSON line the way `format` frames it (for `edpipe gen` and the tests). `ts` is the
// line's time as RFC 3339 with milliseconds, `request_id` the platform's request id.
std::string frame_line(LogFormat format, std::string_view json, std::string_view ts, std::string_view request_id);

}  // namespace edpipe::ingest
