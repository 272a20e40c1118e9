#include "view/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "view/terminal_view.h"

namespace edpipe::view {
namespace {

// The bounds that keep a report small whatever the database holds.
constexpr size_t kStackChars = 3000;
constexpr size_t kPayloadChars = 20000;

}  // namespace

std::string cut(std::string_view s, size_t chars) {
  if (s.size() <= chars) return std::string(s);
  size_t at = chars;
  while (at > 0 && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) --at;  // a whole character
  return std::string(s.substr(0, at)) + "…";
}
std::string esc(std::string_view s, size_t chars) { return html_escape(cut(s, chars)); }

std::string number(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
std::string ms_text(std::optional<double> ms) {
  if (!ms) return "–";
  return *ms >= 10000 ? number(*ms / 1000, 1) + " s" : number(*ms, 0) + " ms";
}
const char* status_class(std::string_view s) {
  if (s == "failed" || s == "handler_failed" || s == "detection_failed") return "bad";
  if (s == "running" || s == "abandoned" || s == "handling" || s == "detecting") return "open";
  if (s == "not_detected") return "idle";
  return "ok";
}

namespace {

const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:960px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde1e7;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.sub{color:#5b6475;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 14px;min-width:150px}
.card .label{color:#5b6475;font-size:12px;text-transform:uppercase}.card .value{font-size:24px;font-weight:600}
.card .before{color:#5b6475;font-size:12px}.up{color:#1a7f37}.down{color:#cf222e}.flat{color:#5b6475}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border:1px solid #dde1e7;padding:3px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}.none{color:#5b6475}
svg .ok{fill:#2da44e}svg .bad{fill:#cf222e}svg .open{fill:#bf8700}svg .idle{fill:#c5cbd3}svg .p95{fill:none;stroke:#0969da;stroke-width:1.5}
svg .axis{font-size:10px;fill:#5b6475}svg .name{font-size:11px;fill:#1d2330}svg .dur{font-size:10px;fill:#5b6475}svg .grid{stroke:#eef0f3}
.status{border-radius:4px;padding:0 6px;color:#fff;font-size:12px}.status.ok{background:#2da44e}.status.bad{background:#cf222e}
.status.open{background:#bf8700}.status.idle{background:#8c959f}
.invocation{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:4px 14px 10px;margin:12px 0}
.meta,.chain{color:#5b6475;margin:2px 0}.error{color:#cf222e;margin:4px 0}pre{white-space:pre-wrap;font-size:12px;background:#f3f4f6;padding:6px}
.logs{list-style:none;padding-left:8px;margin:4px 0;font:12px ui-monospace,monospace}.logs .at{color:#5b6475}.logs .error .level{color:#cf222e}.logs .warn .level{color:#bf8700}
code{font-size:12px}.flow-wrap{overflow-x:auto}.job{border-left:3px solid #dde1e7;padding-left:10px;margin:8px 0}.job h4{margin:4px 0;font-size:13px}.diff td.old{background:#ffebe9}.diff td.new{background:#dafbe1}
.diff td{white-space:pre-wrap;word-break:break-all}
svg .slot{fill:transparent}svg a .hour:hover .slot{fill:#0969da22}svg .p95dot{fill:#0969da}svg .edge{fill:none;stroke:#8c959f}svg .box{fill:#fff;stroke:#c5cbd3}svg .current .box{stroke:#0969da;stroke-width:2.5}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}a{color:#58a6ff}
table,.card,.invocation{background:#161b22;border-color:#30363d}td,th{border-color:#30363d}h2{border-color:#30363d}
pre{background:#1f242c}.sub,.meta,.chain,.none,.card .label,.card .before{color:#8b949e}
svg .name{fill:#e6edf3}svg .axis,svg .dur{fill:#8b949e}svg .grid{stroke:#30363d}svg .idle{fill:#484f58}svg .box{fill:#161b22;stroke:#30363d}.diff td.old{background:#3c1618}.diff td.new{background:#12261e}}
)";

std::string card(const std::string& label, const std::string& value, const std::string& before, bool higher_is_better,
                 std::optional<double> now_v, std::optional<double> before_v) {
  std::string trend;
  if (now_v && before_v && *before_v != 0) {
    const double change = (*now_v - *before_v) / std::fabs(*before_v) * 100;
    const bool good = (change >= 0) == higher_is_better;
    trend = "<span class=\"" + std::string(std::fabs(change) < 0.5 ? "flat" : good ? "up" : "down") + "\">" +
            (change >= 0 ? "+" : "") + number(change, 1) + " %</span>";
  }
  return "<div class=\"card\"><div class=\"label\">" + label + "</div><div class=\"value\">" + value +
         "</div><div class=\"before\">before: " + before + " " + trend + "</div></div>\n";
}

// A round step for an axis from 0 to at least `top`: 1, 2 or 5 times a power of ten, at most 5 ticks.
double tick_step(double top) {
  double step = 1;
  while (top / step > 5) {
    for (const double m : {2.0, 2.5, 2.0}) {  // 1 → 2 → 5 → 10
      step *= m;
      if (top / step <= 5) break;
    }
  }
  return step;
}

// A function's hours as two charts, each with its own scale: invocations per hour (completed and
// failed stacked, a legend, an axis with round ticks), then p95 duration per hour. Every hour's
// values on hover; `link` (when it gives one) makes each hour a link to its invocations.
std::string hourly_chart(const FunctionSeries& s, Timestamp since, Timestamp until, const HourLink& link) {
  const int width = 900, left = 52, right = 8;
  // One slot per hour bucket the window touches, the first and the last included.
  const Timestamp first = hour_floor(since);
  const int64_t hours = (hour_floor(until - 1) - first) / kMicrosPerHour + 1;
  const double slot = double(width - left - right) / double(hours);
  int64_t max_total = 1;
  double max_p95 = 1;
  for (const auto& h : s.hours) {
    max_total = std::max(max_total, h.ok + h.failed);
    if (h.p95_ms) max_p95 = std::max(max_p95, *h.p95_ms);
  }
  const auto x_of = [&](Timestamp hour) { return left + double((hour - first) / kMicrosPerHour) * slot; };
  // The x axis: an hour label every few slots (at most 8), at the slot's start.
  const auto time_axis = [&](int base) {
    std::string out;
    const int64_t every = std::max<int64_t>(1, (hours + 7) / 8);
    for (int64_t k = 0; k < hours; k += every)
      out += "<text x=\"" + number(left + double(k) * slot, 1) + "\" y=\"" + std::to_string(base + 12) + "\" class=\"axis\">" +
             format_hour(first + k * kMicrosPerHour).substr(5) + "</text>";
    return out;
  };
  // The y axis: round ticks from 0 up to the top one, each a grid line with its value.
  std::string svg;
  {
    const int height = 170, top = 22, base = height - 18;
    auto [axis, top_tick] = value_axis(double(max_total), left, width - right, top, base, [](double v) { return number(v); });
    svg += "<svg class=\"chart\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) + "\" width=\"" +
           std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" role=\"img\"><title>" + esc(s.function) +
           ": invocations per hour</title><text x=\"0\" y=\"11\" class=\"axis\">invocations per hour</text>"
           "<rect class=\"ok\" x=\"" + std::to_string(width - 210) + "\" y=\"3\" width=\"10\" height=\"10\"/><text x=\"" +
           std::to_string(width - 196) + "\" y=\"12\" class=\"axis\">completed</text><rect class=\"bad\" x=\"" +
           std::to_string(width - 130) + "\" y=\"3\" width=\"10\" height=\"10\"/><text x=\"" + std::to_string(width - 116) +
           "\" y=\"12\" class=\"axis\">failed or abandoned</text>" + axis;
    for (const auto& h : s.hours) {
      const double x = x_of(h.hour), plot = base - top;
      const double ok_h = plot * double(h.ok) / top_tick, bad_h = plot * double(h.failed) / top_tick;
      const Timestamp from = std::max(h.hour, since), to = std::min(h.hour + kMicrosPerHour, until);
      std::string bars = "<g class=\"hour\"><title>" + format_hour(h.hour) + ": " + std::to_string(h.ok) + " completed, " +
                         std::to_string(h.failed) + " failed or abandoned" + (h.p95_ms ? ", p95 " + ms_text(*h.p95_ms) : "") +
                         "</title><rect class=\"slot\" x=\"" + number(x, 1) + "\" y=\"" + std::to_string(top) + "\" width=\"" +
                         number(slot, 1) + "\" height=\"" + number(plot, 1) + "\"/><rect class=\"ok\" x=\"" + number(x + 1, 1) +
                         "\" y=\"" + number(base - ok_h, 1) + "\" width=\"" + number(std::max(1.0, slot - 2), 1) +
                         "\" height=\"" + number(ok_h, 1) + "\"/>";
      if (h.failed)
        bars += "<rect class=\"bad\" x=\"" + number(x + 1, 1) + "\" y=\"" + number(base - ok_h - bad_h, 1) + "\" width=\"" +
                number(std::max(1.0, slot - 2), 1) + "\" height=\"" + number(bad_h, 1) + "\"/>";
      bars += "</g>";
      const auto href = link ? link(s.function, from, to) : std::nullopt;
      svg += href ? "<a href=\"" + esc(*href) + "\">" + bars + "</a>" : bars;
    }
    svg += time_axis(base) + "</svg>";
  }
  {
    const int height = 110, top = 22, base = height - 18;
    auto [axis, top_tick] = value_axis(max_p95, left, width - right, top, base, [](double v) { return ms_text(v); });
    svg += "<svg class=\"chart\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) + "\" width=\"" +
           std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" role=\"img\"><title>" + esc(s.function) +
           ": p95 duration per hour</title><text x=\"0\" y=\"11\" class=\"axis\">p95 duration per hour</text>" + axis;
    std::string line;
    for (const auto& h : s.hours) {
      if (!h.p95_ms) continue;
      const double x = x_of(h.hour) + slot / 2, y = base - (base - top) * *h.p95_ms / top_tick;
      line += number(x, 1) + "," + number(y, 1) + " ";
      svg += "<circle class=\"p95dot\" cx=\"" + number(x, 1) + "\" cy=\"" + number(y, 1) + "\" r=\"3\"><title>" +
             format_hour(h.hour) + ": p95 " + ms_text(*h.p95_ms) + "</title></circle>";
    }
    if (!line.empty()) svg += "<polyline class=\"p95\" points=\"" + line + "\"/>";
    svg += time_axis(base) + "</svg>";
  }
  return svg;
}

}  // namespace

std::string named_table(const char* title, const char* value_header, const std::vector<NamedCount>& rows, bool ms) {
  std::string out = "<h3>" + std::string(title) + "</h3>\n";
  if (rows.empty()) return out + "<p class=\"none\">none in this window</p>\n";
  out += "<table><tr><th>name</th><th>" + std::string(value_header) + "</th>";
  const bool details = std::any_of(rows.begin(), rows.end(), [](const NamedCount& r) { return r.detail.has_value(); });
  const bool values = std::any_of(rows.begin(), rows.end(), [](const NamedCount& r) { return r.value.has_value(); });
  if (values) out += "<th>p95</th>";
  if (details) out += "<th>most common error</th>";
  out += "</tr>\n";
  for (const auto& r : rows) {
    out += "<tr><td>" + esc(r.name) + "</td><td class=\"num\">" + std::to_string(r.count) + "</td>";
    if (values) out += "<td class=\"num\">" + (ms ? ms_text(r.value) : r.value ? number(*r.value) : "") + "</td>";
    if (details) out += "<td>" + esc(r.detail.value_or("")) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

namespace {

void log_list(std::string& out, const std::vector<LogLine>& logs, Timestamp t0, size_t& budget) {
  for (const auto& l : logs) {
    if (budget == 0) return;
    --budget;
    out += "<li class=\"log " + esc(l.level, 8) + "\"><span class=\"at\">+" + number(double(l.at - t0) / 1000.0, 0) +
           " ms</span> <span class=\"level\">" + esc(l.level, 8) + "</span> " + esc(l.message) + "</li>\n";
  }
}

void error_block(std::string& out, const std::string& where, const std::optional<std::string>& message,
                 const std::optional<std::string>& stack) {
  if (!message && !stack) return;
  out += "<div class=\"error\"><b>" + esc(where) + "</b>: " + esc(message.value_or("")) + "</div>\n";
  if (stack) out += "<details><summary>stack</summary><pre>" + esc(*stack, kStackChars) + "</pre></details>\n";
}

// The Hasura event's row old → new: the changed columns in a table, the unchanged folded below.
std::string row_change_table(const InvocationView& v) {
  if (v.row_change.empty()) return "";
  const auto changed_end = std::find_if(v.row_change.begin(), v.row_change.end(), [](const ColumnChange& c) { return !c.changed; });
  const size_t changed = size_t(changed_end - v.row_change.begin());
  const auto rows = [](auto from, auto to) {
    std::string out = "<table class=\"diff\"><tr><th>column</th><th>old</th><th>new</th></tr>\n";
    for (auto c = from; c != to; ++c)
      out += "<tr><td><code>" + esc(c->column, 100) + "</code></td><td class=\"" + (c->changed ? "old" : "") + "\">" +
             (c->old_value ? "<code>" + esc(*c->old_value, 1000) + "</code>" : std::string("<span class=\"none\">–</span>")) +
             "</td><td class=\"" + (c->changed ? "new" : "") + "\">" +
             (c->new_value ? "<code>" + esc(*c->new_value, 1000) + "</code>" : std::string("<span class=\"none\">–</span>")) +
             "</td></tr>\n";
    return out + "</table>\n";
  };
  std::string out = "<details class=\"row-change\" open><summary>Row " + esc(v.source_operation.value_or("change"), 20) +
                    (v.source_table ? " on " + esc(*v.source_table, 80) : std::string()) + ": " + std::to_string(changed) +
                    " of " + std::to_string(v.row_change.size()) + (v.row_change_cut ? "+" : "") + " columns changed</summary>\n";
  if (changed) out += rows(v.row_change.begin(), changed_end);
  if (changed < v.row_change.size())
    out += "<details><summary>" + std::to_string(v.row_change.size() - changed) + " unchanged</summary>" +
           rows(changed_end, v.row_change.end()) + "</details>\n";
  return out + "</details>\n";
}

}  // namespace

std::string invocation_section(const InvocationView& v, size_t log_budget, const InvocationLink& link, bool anchored,
                               const InvocationLink& correlation_link) {
  const auto to = [&](const std::string& id) {
    const auto href = link(id);
    return href ? "<a href=\"" + esc(*href) + "\">" + esc(id) + "</a>" : "<code>" + esc(id) + "</code>";
  };
  // Everything that shares it, where the page has a list to point at.
  const auto correlation = [&](const std::string& c) {
    const auto href = correlation_link ? correlation_link(c) : std::nullopt;
    return href ? "<a href=\"" + esc(*href) + "\">" + esc(c) + "</a>" : esc(c);
  };
  std::string out = "<article class=\"invocation\"" + (anchored ? " id=\"inv-" + esc(v.id) + "\"" : std::string()) +
                    ">\n<h3><span class=\"status " +
                    status_class(v.status) + "\">" + esc(v.status) + "</span> " + esc(v.function) + " <code>" +
                    esc(v.id) + "</code></h3>\n<p class=\"meta\">" + time_html(v.created_at, std::string::npos) +
                    (v.span.duration_ms ? " · " + ms_text(double(*v.span.duration_ms)) : std::string()) +
                    (v.correlation_id ? " · correlation " + correlation(*v.correlation_id) : std::string()) +
                    (v.source_table ? " · " + esc(*v.source_table) + " " + esc(v.source_operation.value_or("")) : std::string()) +
                    (v.source_record_id ? " record " + esc(*v.source_record_id, 80) : std::string()) +
                    (v.user_email ? " · " + esc(*v.user_email) : std::string()) + "</p>\n";
  if (v.caused_by_job)
    out += "<p class=\"chain\">caused by job " + esc(v.caused_by_job_name.value_or("?")) +
           (v.caused_by_invocation ? " of " + to(*v.caused_by_invocation) : std::string()) + "</p>\n";
  out += waterfall_svg(v);
  if (v.payload)
    out += "<details class=\"payload\"><summary>Hasura payload</summary><pre>" + esc(*v.payload, kPayloadChars) +
           "</pre></details>\n";
  out += row_change_table(v);
  error_block(out, "invocation", v.error, v.stack);
  const Timestamp t0 = time_axis(v).first;
  for (const auto& e : v.events) {
    error_block(out, e.name + " (detection)", e.detection_error, e.detection_stack);
    error_block(out, e.name + " (handler)", e.handler_error, e.handler_stack);
    // Each job: its status, id, duration and event; its error and stack, options and result, its
    // own log lines, the invocations it caused.
    for (const auto& j : e.jobs) {
      out += "<section class=\"job\"" + (anchored ? " id=\"job-" + esc(j.id) + "\"" : std::string()) +
             "><h4><span class=\"status " + status_class(j.status) + "\">" + esc(j.status) + "</span> job " + esc(j.name) +
             " <code>" + esc(j.id) + "</code>" + (j.span.duration_ms ? " · " + ms_text(double(*j.span.duration_ms)) : std::string()) +
             " · of event " + esc(e.name) + "</h4>\n";
      error_block(out, j.name, j.error, j.stack);
      if (j.options || j.result)
        out += "<details class=\"job-io\"><summary>options and result</summary><pre>options " +
               esc(j.options.value_or("(none)"), kPayloadChars) + "\nresult  " + esc(j.result.value_or("(none)"), kPayloadChars) +
               "</pre></details>\n";
      if (!j.logs.empty() && log_budget) {
        out += "<ul class=\"logs\" title=\"log lines of " + esc(j.name) + "\">\n";
        log_list(out, j.logs, t0, log_budget);
        out += "</ul>\n";
      }
      for (const auto& t : j.triggered)
        out += "<p class=\"chain\">" + esc(j.name) + " caused " + to(t) + "</p>\n";
      out += "</section>\n";
    }
  }
  return out + "</article>\n";
}

std::string flow_svg(const std::vector<FlowNode>& nodes, const InvocationLink& link, const std::string& current) {
  if (nodes.empty()) return "";
  const int box_w = 180, box_h = 36, col_w = 210, row_h = 44;
  // A node sits on its first child's row; each leaf takes a row of its own.
  std::vector<int> row(nodes.size(), 0);
  int rows = 0, depth = 0;
  const std::function<void(size_t)> place = [&](size_t i) {
    depth = std::max(depth, nodes[i].depth);
    if (nodes[i].children.empty()) {
      row[i] = rows++;
      return;
    }
    for (size_t c : nodes[i].children) place(c);
    row[i] = row[nodes[i].children.front()];
  };
  place(0);
  const int width = (depth + 1) * col_w, height = rows * row_h;
  std::string svg = "<svg class=\"flow\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" role=\"img\">";
  const auto x_of = [&](size_t i) { return nodes[i].depth * col_w + 2; };
  const auto y_of = [&](size_t i) { return row[i] * row_h + 4; };
  for (size_t i = 0; i < nodes.size(); ++i)
    for (size_t c : nodes[i].children) {
      const int x1 = x_of(i) + box_w, y1 = y_of(i) + box_h / 2, x2 = x_of(c), y2 = y_of(c) + box_h / 2, mid = (x1 + x2) / 2;
      svg += "<path class=\"edge\" d=\"M" + std::to_string(x1) + " " + std::to_string(y1) + "H" + std::to_string(mid) + "V" +
             std::to_string(y2) + "H" + std::to_string(x2) + "\"/>";
    }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const FlowNode& n = nodes[i];
    const std::string kind = kind_name(n.kind);
    const std::string status = n.loaded ? n.status : "";
    const std::string line2 = n.kind == FlowNode::Kind::Folded ? "" :
                              kind + (status.empty() ? "" : " · " + status) +
                              (n.duration_ms ? " · " + ms_text(double(*n.duration_ms)) : std::string());
    const std::string name = n.kind == FlowNode::Kind::Invocation && !n.loaded ? n.id.substr(0, 8) + "… (" + n.name + ")" : n.name;
    auto href = n.invocation_id.empty() ? std::nullopt : link(n.invocation_id);
    // A job's node points at its section of the invocation's page (a page, not an anchor already).
    if (href && n.kind == FlowNode::Kind::Job && href->find('#') == std::string::npos) *href += "#job-" + n.id;
    const int x = x_of(i), y = y_of(i);
    std::string g = "<g class=\"node" + std::string(n.kind == FlowNode::Kind::Invocation && n.id == current ? " current" : "") +
                    "\"><title>" + esc(kind + " " + n.name + (n.id.empty() ? "" : " " + n.id) + (status.empty() ? "" : ", " + status) +
                                        (n.duration_ms ? ", " + ms_text(double(*n.duration_ms)) : std::string()) +
                                        (n.error ? ": " + *n.error : std::string()), 400) +
                    "</title><rect class=\"box\" x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
                    std::to_string(box_w) + "\" height=\"" + std::to_string(box_h) + "\" rx=\"4\"/><rect class=\"" +
                    status_class(status) + "\" x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"5\" height=\"" +
                    std::to_string(box_h) + "\"/><text class=\"name\" x=\"" + std::to_string(x + 10) + "\" y=\"" +
                    std::to_string(y + 15) + "\">" + esc(name, 26) + "</text><text class=\"dur\" x=\"" + std::to_string(x + 10) +
                    "\" y=\"" + std::to_string(y + 29) + "\">" + esc(line2, 34) + "</text></g>";
    svg += href ? "<a href=\"" + esc(*href) + "\">" + g + "</a>" : g;
  }
  return svg + "</svg>";
}

std::pair<std::string, double> value_axis(double top_value, int left, int right, int top, int base,
                                         const std::function<std::string(double)>& label) {
  const double step = tick_step(top_value), top_tick = std::ceil(top_value / step) * step;
  std::string out;
  for (double v = 0; v <= top_tick + step / 2; v += step) {
    const double y = base - (base - top) * v / top_tick;
    out += "<line class=\"grid\" x1=\"" + std::to_string(left) + "\" x2=\"" + std::to_string(right) + "\" y1=\"" +
           number(y, 1) + "\" y2=\"" + number(y, 1) + "\"/><text x=\"" + std::to_string(left - 4) + "\" y=\"" +
           number(y + 3, 1) + "\" class=\"axis\" text-anchor=\"end\">" + label(v) + "</text>";
  }
  return {out, top_tick};
}

std::string time_attr(Timestamp t) { return format_rfc3339(t).substr(0, 23) + "Z"; }
std::string time_html(Timestamp t, size_t chars) {
  return "<time datetime=\"" + time_attr(t) + "\">" + format_rfc3339(t).substr(0, chars) + "</time>";
}

std::string page_style() { return kStyle; }

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += "&#xFFFD;";
        else out += c;
    }
  }
  return out;
}

std::string waterfall_svg(const InvocationView& v) {
  struct Row {
    std::string name, status;
    Span span;
    int depth;
  };
  std::vector<Row> rows;
  size_t not_detected = 0;
  for (const auto& e : v.events) {
    if (e.status == "not_detected" && e.jobs.empty()) {
      ++not_detected;
      continue;
    }
    rows.push_back({e.name + " · detect", e.detection_error ? "detection_failed" : e.detected ? "completed" : e.status,
                    e.detection, 0});
    if (e.handler.start || e.handler.end || e.status == "handling" || e.status == "handler_failed")
      rows.push_back({"handler", e.status, e.handler, 1});
    for (const auto& j : e.jobs) rows.push_back({j.name, j.status, j.span, 2});
  }
  const auto [t0, t1] = time_axis(v);
  const int width = 900, label = 260, right = 70, row_h = 18, top = 16;
  const double scale = t1 > t0 ? double(width - label - right) / double(t1 - t0) : 0;
  const int height = top + row_h * int(rows.size() + (not_detected ? 1 : 0)) + 4;
  std::string svg = "<svg class=\"waterfall\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" role=\"img\">";
  svg += "<text x=\"" + std::to_string(label) + "\" y=\"11\" class=\"axis\">0 ms</text><text x=\"" +
         std::to_string(width - right) + "\" y=\"11\" class=\"axis\" text-anchor=\"end\">" +
         ms_text(double(t1 - t0) / 1000.0) + "</text>";
  int y = top;
  for (const auto& r : rows) {
    svg += "<line class=\"grid\" x1=\"0\" x2=\"" + std::to_string(width) + "\" y1=\"" + std::to_string(y + row_h) +
           "\" y2=\"" + std::to_string(y + row_h) + "\"/>";
    svg += "<text class=\"name\" x=\"" + std::to_string(4 + 12 * r.depth) + "\" y=\"" + std::to_string(y + 13) + "\">" +
           esc(r.name, 40) + "</text>";
    if (const auto start = span_start(r.span)) {
      const Timestamp end = span_end(r.span).value_or(t1);
      const double x = label + double(*start - t0) * scale, w = std::max(2.0, double(end - *start) * scale);
      svg += "<rect class=\"bar " + std::string(status_class(r.status)) + "\" x=\"" + number(x, 1) + "\" y=\"" +
             std::to_string(y + 3) + "\" width=\"" + number(w, 1) + "\" height=\"" + std::to_string(row_h - 6) +
             "\"><title>" + esc(r.name, 60) + ": " + esc(r.status) + "</title></rect>";
    }
    svg += "<text class=\"dur\" x=\"" + std::to_string(width - 4) + "\" y=\"" + std::to_string(y + 13) +
           "\" text-anchor=\"end\">" +
           (r.span.duration_ms ? ms_text(double(*r.span.duration_ms)) : esc(r.status)) + "</text>";
    y += row_h;
  }
  if (not_detected)
    svg += "<text class=\"dur\" x=\"4\" y=\"" + std::to_string(y + 13) + "\">" + std::to_string(not_detected) +
           " event" + (not_detected == 1 ? "" : "s") + " not detected</text>";
  return svg + "</svg>\n";
}

ReportData read_report(ViewReader& reader, const ReportOptions& o) {
  ReportData d;
  d.function = o.function;
  d.until = o.until.value_or(reader.watermark().value_or(0) + 1);  // (by default the newest record included)
  d.up_to_newest = !o.until;
  d.since = o.since.value_or(d.until - o.window_us);
  // The cards: one definition of each figure (ViewReader::window_totals), exact over the window
  // printed, for this page and the live one alike; "before" is the window just before, as long.
  d.now = reader.window_totals(d.since, d.until, o.function);
  d.before = reader.window_totals(d.since - (d.until - d.since), d.since, o.function);
  d.live = o.rollups_only;
  std::map<std::string, size_t> series_of;
  for (auto& h : reader.hourly(d.since, d.until, o.function, 20000)) {
    auto at = series_of.find(h.function);
    if (at == series_of.end()) {
      if (series_of.size() >= 20) continue;  // a bounded number of charts
      at = series_of.emplace(h.function, d.series.size()).first;
      d.series.push_back({h.function, {}});
    }
    d.series[at->second].hours.push_back({h.hour, h.ok, h.failed, h.p95_ms});
  }
  // Every name of the window (metrics_hourly lists each hour's most frequent only).
  for (const auto& n : reader.name_counts("event", "detected", d.since, d.until, o.function, o.top))
    d.top_events.push_back({n.name, n.detected, std::nullopt, std::nullopt});
  if (o.rollups_only)
    for (const auto& n : reader.name_counts("job", "failed", d.since, d.until, o.function, o.top))
      d.failing_jobs.push_back({n.name, n.failed, std::nullopt, std::nullopt});
  if (!o.rollups_only) {
    // Per job name (name_metrics_hourly for the whole hours; p95 within 1 %), so that a week of a
    // busy detector is not read row by row; the most common error is that of the latest failures.
    auto jobs = reader.job_stats(d.since, d.until, o.function, 1000);
    auto by = [&jobs](auto&& before) {
      std::sort(jobs.begin(), jobs.end(), [&](const NameStats& a, const NameStats& b) {
        return before(a, b) || (!before(b, a) && a.name < b.name);
      });
    };
    by([](const NameStats& a, const NameStats& b) { return a.failed > b.failed; });
    for (const auto& j : jobs)
      if (j.failed > 0 && d.failing_jobs.size() < o.top) d.failing_jobs.push_back({j.name, j.failed, std::nullopt, j.common_error});
    by([](const NameStats& a, const NameStats& b) { return a.p95_ms.value_or(-1) > b.p95_ms.value_or(-1); });
    for (const auto& j : jobs)
      if (j.p95_ms && d.slowest_jobs.size() < o.top) d.slowest_jobs.push_back({j.name, j.runs, j.p95_ms, std::nullopt});
  }
  ViewLimits limits = reader.limits();
  limits.log_lines = o.log_lines_per_invocation;
  ViewReader bounded(reader.connection(), limits);
  for (const auto& s : reader.failed(d.since, o.function, o.failures, d.until))
    if (auto v = bounded.invocation(s.id)) d.failures.push_back(std::move(*v));
  for (const auto& s : reader.slowest(d.since, o.function, o.slowest, d.until))
    if (auto v = bounded.invocation(s.id)) d.slowest.push_back(std::move(*v));
  return d;
}

std::string overview_html(const ReportData& d, const HourLink& link) {
  std::string out = "<div class=\"cards\">\n";
  auto rate = [](const Totals& t) -> std::optional<double> {
    if (!t.invocations) return std::nullopt;
    return 100.0 * double(t.completed) / double(t.invocations);
  };
  auto pct = [](std::optional<double> v) { return v ? number(*v, 1) + " %" : std::string("–"); };
  out += card("invocations", std::to_string(d.now.invocations), std::to_string(d.before.invocations), true,
              double(d.now.invocations), double(d.before.invocations));
  out += card("success rate", pct(rate(d.now)), pct(rate(d.before)), true, rate(d.now), rate(d.before));
  out += card("average duration", ms_text(d.now.avg_ms), ms_text(d.before.avg_ms), false, d.now.avg_ms, d.before.avg_ms);
  out += card("p95 duration", ms_text(d.now.p95_ms),
              ms_text(d.before.p95_ms), false, d.now.p95_ms, d.before.p95_ms);
  out += card("failed jobs", std::to_string(d.now.failed_jobs), std::to_string(d.before.failed_jobs), false,
              double(d.now.failed_jobs), double(d.before.failed_jobs));
  // Job health beside the invocations': a completed invocation may have run failed jobs.
  auto job_failure_rate = [](const Totals& t) -> std::optional<double> {
    if (!t.jobs_run) return std::nullopt;
    return 100.0 * double(t.failed_jobs) / double(t.jobs_run);
  };
  out += card("job failure rate", pct(job_failure_rate(d.now)), pct(job_failure_rate(d.before)), false,
              job_failure_rate(d.now), job_failure_rate(d.before));
  out += card("abandoned jobs", std::to_string(d.now.jobs_abandoned), std::to_string(d.before.jobs_abandoned), false,
              double(d.now.jobs_abandoned), double(d.before.jobs_abandoned));
  // The rest of the jobs without an end: still running (their invocation is not yet cut off).
  const auto running = [](const Totals& t) { return t.jobs_without_end() - t.jobs_abandoned; };
  out += card("jobs running", std::to_string(running(d.now)), std::to_string(running(d.before)), false,
              double(running(d.now)), double(running(d.before)));
  out += std::string("</div>\n<h3>Per hour</h3>\n") +
         (link ? "<p class=\"sub\">an hour's bars list its invocations</p>\n" : "");
  if (d.series.empty()) out += "<p class=\"none\">no hourly rows in this window</p>\n";
  for (const auto& s : d.series) out += "<h4>" + esc(s.function) + "</h4>\n" + hourly_chart(s, d.since, d.until, link);
  out += named_table("Top detected events", "detected", d.top_events, false);
  out += named_table("Most failing jobs", "failed", d.failing_jobs, false);
  if (d.live) out += "<p><a href=\"/jobs\">The jobs by failures and p95 →</a></p>\n";  // a live page
  else out += named_table("Slowest jobs (by p95)", "runs", d.slowest_jobs, true);
  return out;
}

std::string render_report(const ReportData& d) {
  const double hours = double(d.until - d.since) / double(kMicrosPerHour);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>edpipe report</title>\n<style>" +
                    std::string(kStyle) + "</style></head><body>\n";
  out += "<h1>edpipe report</h1>\n<p class=\"sub\">" + format_rfc3339(d.since) + " to " + format_rfc3339(d.until - 1) + " (" +
         number(hours, 0) + (d.up_to_newest ? " h up to the newest record loaded)" : " h)") +
         (d.function ? " · function " + esc(*d.function) : std::string()) + "</p>\n";

  out += "<section id=\"overview\"><h2>Overview</h2>\n" + overview_html(d) + "</section>\n";

  out += "<section id=\"failures\"><h2>Recent failures</h2>\n";
  if (d.failures.empty()) out += "<p class=\"none\">no failed or abandoned invocation in this window</p>\n";
  // A chain link resolves inside the file or is not a link: the report holds these invocations.
  std::set<std::string> included;
  for (const auto* list : {&d.failures, &d.slowest})
    for (const auto& v : *list) included.insert(v.id);
  const InvocationLink in_file = [&](const std::string& id) -> std::optional<std::string> {
    if (!included.count(id)) return std::nullopt;
    return "#inv-" + id;
  };
  std::set<std::string> anchored;  // an invocation both failed and slow: one anchor
  for (const auto& v : d.failures)
    out += invocation_section(v, 40, in_file, anchored.insert(v.id).second) + "<div class=\"flow-wrap\">" +
           flow_svg(flow_tree({v}), in_file, v.id) + "</div>\n";
  out += "</section>\n<section id=\"slowest\"><h2>Slowest invocations</h2>\n";
  if (d.slowest.empty()) out += "<p class=\"none\">no finished invocation in this window</p>\n";
  for (const auto& v : d.slowest) out += invocation_section(v, 40, in_file, anchored.insert(v.id).second);
  out += "</section>\n<p class=\"sub\">written by edpipe report</p>\n</body></html>\n";
  return out;
}

}  // namespace edpipe::view
