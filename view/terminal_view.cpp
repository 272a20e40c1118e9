#include "view/terminal_view.h"

#include <functional>

#include <algorithm>
#include <cmath>

#include "core/json_text.h"

namespace edpipe::view {
namespace {

// Column layout of a waterfall line: name, step, bar, duration, status.
constexpr size_t kNameColumns = 30;
constexpr size_t kStepColumns = 8;
constexpr size_t kDurationColumns = 9;
constexpr size_t kStatusColumns = 17;
constexpr size_t kMinBarColumns = 10;

bool is_failure(std::string_view status) {
  return status == "failed" || status == "handler_failed" || status == "detection_failed";
}
bool is_open(std::string_view status) {
  return status == "running" || status == "abandoned" || status == "handling" || status == "detecting";
}

class Painter {
 public:
  explicit Painter(bool on) : on_(on) {}
  std::string status(std::string_view s) const {
    const char* code = is_failure(s) ? "31" : is_open(s) ? "33" : s == "not_detected" ? "2" : "32";
    return paint(code, std::string(s));
  }
  std::string dim(const std::string& s) const { return paint("2", s); }
  std::string bold(const std::string& s) const { return paint("1", s); }
  std::string red(const std::string& s) const { return paint("31", s); }
  std::string paint(const char* code, const std::string& s) const {
    return on_ ? "\x1b[" + std::string(code) + "m" + s + "\x1b[0m" : s;
  }

 private:
  bool on_;
};

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
std::string pad(std::string s, size_t columns) {
  const size_t n = utf8_length(s);
  if (n < columns) s.append(columns - n, ' ');
  return s;
}
std::string pad_left(const std::string& s, size_t columns) {
  const size_t n = utf8_length(s);
  return n < columns ? std::string(columns - n, ' ') + s : s;
}

std::string millis_text(std::optional<int64_t> ms) {
  if (!ms) return "";
  if (*ms >= 10000) return std::to_string(*ms / 1000) + "." + std::to_string(*ms % 1000 / 100) + " s";
  return std::to_string(*ms) + " ms";
}
std::string offset_text(Timestamp from, Timestamp at) {
  const int64_t ms = (at - from + (at >= from ? 500 : -500)) / 1000;
  return (ms >= 0 ? "+" : "") + std::to_string(ms) + " ms";
}
std::string first_line(std::string_view text) { return std::string(text.substr(0, text.find('\n'))); }

// The bar of one step on the axis [t0, t1], `columns` wide.
std::string bar(const Span& s, std::string_view status, Timestamp t0, Timestamp t1, size_t columns) {
  std::string out;
  const auto start = span_start(s);
  if (!start) return std::string(columns, ' ');
  const auto end = span_end(s).value_or(t1);  // a step that never ended runs to the axis' end
  const double scale = t1 > t0 ? double(columns) / double(t1 - t0) : 0;
  size_t from = size_t(std::clamp(std::floor(double(*start - t0) * scale), 0.0, double(columns - 1)));
  size_t to = size_t(std::clamp(std::ceil(double(end - t0) * scale), double(from + 1), double(columns)));
  // A step that ended is solid; one still open (running, or cut off) is shaded.
  const char* fill = span_end(s) && !is_open(status) ? "█" : "░";
  out.append(from, ' ');
  for (size_t i = from; i < to; ++i) out += fill;
  out.append(columns - to, ' ');
  return out;
}

struct Layout {
  size_t bar_columns;
  Timestamp t0, t1;
};

std::string step_line(const Painter& p, const Layout& l, const std::string& name, const char* step, const Span& s,
                      std::string_view status) {
  return "  " + pad(printable(name, kNameColumns - 2), kNameColumns) + pad(step, kStepColumns) + "│" +
         bar(s, status, l.t0, l.t1, l.bar_columns) + "│" + pad_left(millis_text(s.duration_ms), kDurationColumns) + "  " +
         p.status(status) + "\n";
}

void error_lines(std::string& out, const Painter& p, const std::string& indent, const std::optional<std::string>& message,
                 const std::optional<std::string>& stack, const TerminalStyle& style) {
  if (!message && !stack) return;
  const size_t room = size_t(std::max(20, style.width - int(indent.size()) - 8));
  out += indent + p.red("error ") + printable(first_line(message.value_or("")), room) + "\n";
  if (!stack) return;
  if (!style.stacks) return;
  size_t at = 0;
  const std::string& st = *stack;
  while (at <= st.size()) {
    const size_t nl = std::min(st.find('\n', at), st.size());
    out += indent + "      " + p.dim(printable(std::string_view(st).substr(at, nl - at), room)) + "\n";
    at = nl + 1;
  }
}

void append_opt(std::string& j, const char* key, const std::optional<std::string>& v) {
  j += ",\"";
  j += key;
  j += "\":";
  if (v) append_json_string(j, *v);
  else j += "null";
}
void append_ts_value(std::string& j, const std::optional<Timestamp>& v) {
  if (!v) {
    j += "null";
    return;
  }
  j += '"';
  append_rfc3339(j, *v);
  j += '"';
}
void append_ts(std::string& j, const char* key, const std::optional<Timestamp>& v) {
  j += ",\"";
  j += key;
  j += "\":";
  append_ts_value(j, v);
}
void append_span(std::string& j, const char* key, const Span& s) {
  j += ",\"";
  j += key;
  j += "\":{\"started_at\":";
  append_ts_value(j, s.start);
  j += ",\"ended_at\":";
  append_ts_value(j, s.end);
  j += ",\"duration_ms\":" + (s.duration_ms ? std::to_string(*s.duration_ms) : std::string("null")) + "}";
}
// `{"id":…,"name":…,"status":…` of an invocation, event or job (`first`: no comma before it).
void open_node(std::string& j, bool first, const std::string& id, const std::string& name, const std::string& status,
               const char* name_key = "name") {
  j += first ? "{\"id\":" : ",{\"id\":";
  append_json_string(j, id);
  j += ",\"";
  j += name_key;
  j += "\":";
  append_json_string(j, name);
  j += ",\"status\":";
  append_json_string(j, status);
}
void append_logs(std::string& j, const std::vector<LogLine>& logs) {
  j += ",\"logs\":[";
  for (size_t i = 0; i < logs.size(); ++i) {
    j += i ? ",{" : "{";
    j += "\"level\":";
    append_json_string(j, logs[i].level);
    append_ts(j, "at", logs[i].at);
    j += ",\"message\":";
    append_json_string(j, logs[i].message);
    j += "}";
  }
  j += "]";
}

}  // namespace

std::string printable(std::string_view text, size_t columns) {
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) {
      if (n == columns) {
        // cut: the last character becomes the ellipsis
        size_t back = out.size();
        while (back > 0 && (static_cast<unsigned char>(out[back - 1]) & 0xC0) == 0x80) --back;
        out.resize(back > 0 ? back - 1 : 0);
        out += "…";
        return out;
      }
      ++n;
    }
    if (c == '\n') out += "⏎";
    else if (c < 0x20 || c == 0x7f) out += "·";
    else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
             static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      out += "·";  // a C1 control character (U+0080-U+009F): terminals act on some of them
      ++i;
    } else out += static_cast<char>(c);
  }
  return out;
}

std::optional<Timestamp> span_start(const Span& s) {
  if (s.start) return s.start;
  if (s.end && s.duration_ms) return *s.end - *s.duration_ms * 1000;
  return s.end;
}
std::optional<Timestamp> span_end(const Span& s) {
  if (s.end) return s.end;
  return std::nullopt;
}

std::pair<Timestamp, Timestamp> time_axis(const InvocationView& v) {
  Timestamp t0 = v.first_record_at, t1 = v.last_record_at;
  auto widen = [&](const Span& s) {
    if (auto a = span_start(s)) t0 = std::min(t0, *a);
    if (auto b = span_end(s)) t1 = std::max(t1, *b);
  };
  widen(v.span);
  for (const auto& e : v.events) {
    widen(e.detection);
    widen(e.handler);
    for (const auto& j : e.jobs) widen(j.span);
  }
  return {t0, std::max(t1, t0)};
}

std::string render_invocation(const InvocationView& v, const TerminalStyle& style) {
  const Painter p(style.color);
  std::string out;
  const auto [t0, t1] = time_axis(v);
  const size_t room = size_t(std::max(40, style.width - 12));
  out += p.bold("invocation " + v.id) + "  " + p.status(v.status) + "\n";
  out += "  function  " + printable(v.function, room) + "\n";
  out += "  started   " + format_rfc3339(v.span.start.value_or(v.created_at)) +
         (v.span.duration_ms ? "   duration " + millis_text(v.span.duration_ms) : std::string()) + "\n";
  if (v.source_table || v.source_operation || v.source_record_id)
    out += "  source    " + printable(v.source_table.value_or("?") + " " + v.source_operation.value_or("") +
                                          (v.source_record_id ? " record " + *v.source_record_id : ""),
                                      room) + "\n";
  if (v.user_email) out += "  user      " + printable(*v.user_email, room) + "\n";
  if (v.correlation_id) out += "  correlation " + printable(*v.correlation_id, room) + "\n";
  if (v.caused_by_job)
    out += "  caused by job " + printable(v.caused_by_job_name.value_or("?"), 60) + " (" + *v.caused_by_job + ")" +
           (v.caused_by_invocation ? " of invocation " + *v.caused_by_invocation : " (its invocation is not loaded)") + "\n";
  error_lines(out, p, "  ", v.error, v.stack, style);

  const size_t fixed = 2 + kNameColumns + kStepColumns + 2 + kDurationColumns + 2 + kStatusColumns;
  Layout l{std::max(kMinBarColumns, size_t(std::max(0, style.width - int(fixed)))), t0, t1};
  out += "\n" + std::string(2 + kNameColumns + kStepColumns, ' ') + pad("0 ms", l.bar_columns / 2) +
         pad_left(millis_text((t1 - t0 + 500) / 1000), l.bar_columns - l.bar_columns / 2 + 2) + "\n";

  std::vector<const EventView*> folded;
  for (const auto& e : v.events) {
    if (e.status == "not_detected" && !style.all && e.jobs.empty()) {
      folded.push_back(&e);
      continue;
    }
    out += step_line(p, l, e.name, "detect", e.detection, e.detection_error ? "detection_failed" : e.detected ? "detected" : e.status);
    error_lines(out, p, "    ", e.detection_error, e.detection_stack, style);
    if (e.handler.start || e.handler.end || e.status == "handling" || e.status == "handler_failed") {
      out += step_line(p, l, "", "handler", e.handler, e.status);
      error_lines(out, p, "    ", e.handler_error, e.handler_stack, style);
    }
    for (const auto& j : e.jobs) {
      out += step_line(p, l, "  " + j.name, "job", j.span, j.status);
      error_lines(out, p, "      ", j.error, j.stack, style);
      if (style.logs)
        for (const auto& line : j.logs)
          out += "      " + p.dim(pad_left(offset_text(t0, line.at), 9)) + " " + pad(line.level, 5) + " " +
                 printable(line.message, size_t(std::max(20, style.width - 23))) + "\n";
      for (const auto& caused : j.triggered) out += "      → caused invocation " + caused + "\n";
    }
  }
  if (!folded.empty()) {
    std::string names;
    for (const auto* e : folded) names += (names.empty() ? "" : ", ") + e->name;
    out += "  " + p.dim(printable(std::to_string(folded.size()) + " event" + (folded.size() == 1 ? "" : "s") +
                                      " not detected: " + names,
                                  size_t(std::max(20, style.width - 2)))) + "\n";
  }
  if (style.logs && !v.invocation_logs.empty()) {
    out += "  invocation log lines\n";
    for (const auto& line : v.invocation_logs)
      out += "      " + p.dim(pad_left(offset_text(t0, line.at), 9)) + " " + pad(line.level, 5) + " " +
             printable(line.message, size_t(std::max(20, style.width - 23))) + "\n";
  }
  if (v.log_lines_left_out) out += "  (" + std::to_string(v.log_lines_left_out) + " more log lines not shown)\n";
  return out;
}

std::string flow_text(const std::vector<FlowNode>& nodes, const TerminalStyle& style, const std::string& current) {
  if (nodes.empty()) return "";
  const Painter p(style.color);
  std::string out;
  // Pre-order with the tree's guides: "├─ " for a child with siblings after it, "└─ " for the last.
  const std::function<void(size_t, const std::string&, const std::string&)> walk = [&](size_t i, const std::string& lead,
                                                                                       const std::string& rest) {
    const FlowNode& n = nodes[i];
    std::string line = lead + kind_name(n.kind) + " ";
    if (n.kind == FlowNode::Kind::Invocation) {
      line += (n.id == current ? p.bold(n.id) : n.id);
      line += n.loaded ? "  " + printable(n.name, 60) + "  " + p.status(n.status) : "  (" + n.name + ")";
    } else if (n.kind == FlowNode::Kind::Folded) {
      line = lead + p.dim(n.name);
    } else {
      line += printable(n.name, 60) + "  " + p.status(n.status);
    }
    if (n.duration_ms) line += "  " + millis_text(n.duration_ms);
    if (n.error) line += "  " + p.red(printable(first_line(*n.error), 80));
    out += line + "\n";
    for (size_t c = 0; c < n.children.size(); ++c) {
      const bool last = c + 1 == n.children.size();
      walk(n.children[c], rest + (last ? "└─ " : "├─ "), rest + (last ? "   " : "│  "));
    }
  };
  walk(0, "", "");
  return out;
}

std::string render_summaries(const std::vector<InvocationSummary>& rows, const TerminalStyle& style) {
  const Painter p(style.color);
  std::string out;
  for (const auto& r : rows) {
    std::string line = format_rfc3339(r.created_at).substr(0, 19) + "  " + r.id + "  ";
    line += p.status(r.status) + std::string(r.status.size() < 9 ? 9 - r.status.size() : 0, ' ') + "  ";
    line += pad(printable(r.function, 24), 24) + "  " + pad_left(millis_text(r.duration_ms), 9) + "  ";
    const int used = 19 + 2 + 36 + 2 + 9 + 2 + 24 + 2 + 9 + 2;
    // The error is what the list is for: it keeps 50 columns even past a narrow width.
    if (r.first_error) line += printable(first_line(*r.first_error), size_t(std::max(50, style.width - used)));
    out += line + "\n";
  }
  return out;
}

std::string invocation_json(const InvocationView& v) {
  std::string j;
  open_node(j, true, v.id, v.function, v.status, "function");
  append_ts(j, "created_at", v.created_at);
  append_span(j, "span", v.span);
  append_opt(j, "source_table", v.source_table);
  append_opt(j, "source_operation", v.source_operation);
  append_opt(j, "source_record_id", v.source_record_id);
  append_opt(j, "user_email", v.user_email);
  append_opt(j, "correlation_id", v.correlation_id);
  append_opt(j, "error", v.error);
  append_opt(j, "stack", v.stack);
  append_opt(j, "caused_by_job", v.caused_by_job);
  append_opt(j, "caused_by_job_name", v.caused_by_job_name);
  append_opt(j, "caused_by_invocation", v.caused_by_invocation);
  j += ",\"events\":[";
  for (size_t i = 0; i < v.events.size(); ++i) {
    const EventView& e = v.events[i];
    open_node(j, i == 0, e.id, e.name, e.status);
    j += std::string(",\"detected\":") + (e.detected ? "true" : "false");
    append_span(j, "detection", e.detection);
    append_span(j, "handler", e.handler);
    append_opt(j, "detection_error", e.detection_error);
    append_opt(j, "detection_stack", e.detection_stack);
    append_opt(j, "handler_error", e.handler_error);
    append_opt(j, "handler_stack", e.handler_stack);
    j += ",\"jobs\":[";
    for (size_t k = 0; k < e.jobs.size(); ++k) {
      const JobView& job = e.jobs[k];
      open_node(j, k == 0, job.id, job.name, job.status);
      append_span(j, "span", job.span);
      append_opt(j, "error", job.error);
      append_opt(j, "stack", job.stack);
      // JSON text from jsonb (always valid JSON): embedded as it is.
      if (job.options) j += ",\"options\":" + *job.options;
      if (job.result) j += ",\"result\":" + *job.result;
      append_logs(j, job.logs);
      j += ",\"triggered_invocations\":[";
      for (size_t t = 0; t < job.triggered.size(); ++t) {
        if (t) j += ",";
        append_json_string(j, job.triggered[t]);
      }
      j += "]}";
    }
    j += "]}";
  }
  j += "]";
  append_logs(j, v.invocation_logs);
  j += ",\"log_lines_left_out\":" + std::to_string(v.log_lines_left_out) + "}";
  return j;
}

}  // namespace edpipe::view
