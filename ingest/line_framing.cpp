#include "ingest/line_framing.h"

#include <re2/re2.h>

#include <array>
#include <cctype>

#include "core/json_text.h"

namespace edpipe::ingest {
namespace {

constexpr std::array<std::string_view, 7> kFormatNames = {"auto",   "ndjson",  "lambda", "netlify",
                                                          "docker", "kubectl", "regex"};
constexpr std::string_view kDockerHead = "{\"log\":";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

size_t skip_blanks(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

// A record candidate starting at the first non-blank byte from `i`, or no record.
FramedLine json_from(std::string_view line, size_t i) {
  i = skip_blanks(line, i);
  if (i < line.size() && line[i] == '{') return {FramedLine::Json, i, line.size()};
  return {};
}

// `2026-11-20T10:00:00…`: the date-time start every ISO prefix shares.
bool starts_with_iso_time(std::string_view s) {
  return s.size() >= 19 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && s[4] == '-' &&
         s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':';
}

bool is_level_word(std::string_view w) {
  for (std::string_view l : {"TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL"})
    if (w == l) return true;
  return false;
}

// Lambda: `TIME \t REQUEST-ID \t LEVEL \t MESSAGE`. START/END/REPORT lines have no tabs there.
FramedLine frame_lambda(std::string_view line) {
  if (!starts_with_iso_time(line)) return {};
  size_t tab = 0;
  for (int field = 0; field < 3; ++field) {
    tab = line.find('\t', tab);
    if (tab == std::string_view::npos) return {};
    ++tab;
  }
  return json_from(line, tab);
}

// kubectl logs --timestamps: `TIME MESSAGE`.
FramedLine frame_kubectl(std::string_view line) {
  if (!starts_with_iso_time(line)) return {};
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || line.substr(0, sp).find('\t') != std::string_view::npos) return {};
  return json_from(line, sp + 1);
}

// Netlify function logs: `TIME: REQUEST-ID LEVEL MESSAGE`, TIME as the CLI prints it
// (`Nov 20, 10:00:00 AM`) or ISO.
FramedLine frame_netlify(std::string_view line) {
  size_t colon = line.find(": ");
  if (colon == std::string_view::npos || colon == 0 || colon > 40) return {};
  const std::string_view time = line.substr(0, colon);
  if (time.find('{') != std::string_view::npos ||
      (!is_digit(time.back()) && time.back() != 'M' && time.back() != 'Z'))
    return {};
  size_t i = colon + 2;
  size_t id_end = line.find(' ', i);
  if (id_end == std::string_view::npos || id_end == i) return {};
  i = skip_blanks(line, id_end);
  size_t level_end = i;
  while (level_end < line.size() && std::isupper(static_cast<unsigned char>(line[level_end]))) ++level_end;
  if (!is_level_word(line.substr(i, level_end - i))) return {};
  return json_from(line, level_end);
}

FramedLine frame_plain(std::string_view line, bool docker_wrappers) {
  size_t i = skip_blanks(line, 0);
  if (i < line.size() && line[i] == '{') {
    if (docker_wrappers && line.substr(i, kDockerHead.size()) == kDockerHead) return {FramedLine::Wrapped, i, line.size()};
    return {FramedLine::Json, i, line.size()};
  }
  return {};
}

}  // namespace

std::string_view log_format_name(LogFormat f) noexcept { return kFormatNames[static_cast<size_t>(f)]; }

std::optional<LogFormat> log_format_from_name(std::string_view name) noexcept {
  for (size_t i = 0; i < kFormatNames.size(); ++i)
    if (kFormatNames[i] == name) return static_cast<LogFormat>(i);
  return std::nullopt;
}

LineFramer::LineFramer(FramingOptions options) : options_(std::move(options)) {
  if (options_.format != LogFormat::Regex) {
    if (!options_.line_regex.empty()) throw FramingError("--line-regex needs --format regex");
    return;
  }
  if (options_.line_regex.empty()) throw FramingError("--format regex needs --line-regex 'PATTERN'");
  RE2::Options ro;
  ro.set_log_errors(false);
  regex_ = std::make_unique<re2::RE2>(options_.line_regex, ro);
  if (!regex_->ok()) throw FramingError("--line-regex: " + regex_->error());
  const auto& groups = regex_->NamedCapturingGroups();
  auto it = groups.find("json");
  if (it == groups.end()) throw FramingError("--line-regex: the pattern has no named group (?P<json>...)");
  json_group_ = it->second;
}

LineFramer::~LineFramer() = default;
LineFramer::LineFramer(LineFramer&&) noexcept = default;
LineFramer& LineFramer::operator=(LineFramer&&) noexcept = default;

FramedLine LineFramer::frame(std::string_view line) const {
  switch (options_.format) {
    case LogFormat::Ndjson:
      return frame_plain(line, false);
    case LogFormat::Docker: {
      FramedLine f = frame_plain(line, true);
      return f.kind == FramedLine::Wrapped ? f : FramedLine{};
    }
    case LogFormat::Lambda:
      return frame_lambda(line);
    case LogFormat::Netlify:
      return frame_netlify(line);
    case LogFormat::Kubectl:
      return frame_kubectl(line);
    case LogFormat::Regex: {
      re2::StringPiece groups[16];
      const int n = json_group_ + 1;
      if (n > 16 || !regex_->Match(re2::StringPiece(line.data(), line.size()), 0, line.size(), RE2::UNANCHORED,
                                   groups, n))
        return {};
      const re2::StringPiece& g = groups[json_group_];
      if (g.data() == nullptr) return {};
      FramedLine f = json_from(line.substr(0, static_cast<size_t>(g.data() - line.data()) + g.size()),
                               static_cast<size_t>(g.data() - line.data()));
      return f;
    }
    case LogFormat::Auto:
      break;
  }
  FramedLine f = frame_plain(line, true);
  if (f.kind != FramedLine::NotRecord || line.empty()) return f;
  if (is_digit(line[0])) {
    f = frame_lambda(line);
    if (f.kind == FramedLine::NotRecord) f = frame_kubectl(line);
  }
  if (f.kind == FramedLine::NotRecord) f = frame_netlify(line);
  return f;
}

std::string frame_line(LogFormat format, std::string_view json, std::string_view ts, std::string_view request_id) {
  std::string out;
  switch (format) {
    case LogFormat::Lambda:
      out.append(ts).append("\t").append(request_id).append("\tINFO\t").append(json);
      return out;
    case LogFormat::Kubectl:
      out.append(ts).append(" ").append(json);
      return out;
    case LogFormat::Netlify: {
      // `Nov 20, 10:00:00 AM: 1a2b3c4d INFO   {...}`, as `netlify logs:function` prints it.
      static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
      if (!starts_with_iso_time(ts)) return std::string(json);
      const int month = (ts[5] - '0') * 10 + (ts[6] - '0');
      const int day = (ts[8] - '0') * 10 + (ts[9] - '0');
      const int hour = (ts[11] - '0') * 10 + (ts[12] - '0');
      const int hour12 = hour % 12 == 0 ? 12 : hour % 12;
      out.append(kMonths[(month + 11) % 12]).append(" ").append(std::to_string(day)).append(", ");
      out.append(std::to_string(hour12)).append(ts.substr(13, 6)).append(hour < 12 ? " AM: " : " PM: ");
      out.append(request_id.substr(0, 8)).append(" INFO   ").append(json);
      return out;
    }
    case LogFormat::Docker: {
      std::string inner(json);
      inner.push_back('\n');
      out.append("{\"log\":");
      append_json_string(out, inner);
      out.append(",\"stream\":\"stdout\",\"time\":");
      append_json_string(out, ts);
      out.push_back('}');
      return out;
    }
    case LogFormat::Auto:
    case LogFormat::Ndjson:
    case LogFormat::Regex:
      break;
  }
  return std::string(json);
}

}  // namespace edpipe::ingest
