#pragma once
// `edpipe report`: one self-contained HTML file (inline CSS and SVG; no script, font or image
// from anywhere) of a time window: cards against the window before, an hourly chart per
// function, the events and jobs that matter, and the recent failures and slowest invocations
// each with its waterfall. Every value from the database is HTML-escaped, and every list and
// text is bounded, so the file stays small whatever the database holds.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "view/flow_graph.h"
#include "view/invocation_tree.h"
#include "view/view_queries.h"

namespace edpipe::view {

struct ReportOptions {
  Timestamp window_us = 24 * kMicrosPerHour;  // counted back from the newest record loaded
  std::optional<Timestamp> since, until;       // or this window exactly (µs, [since, until))
  std::optional<std::string> function;
  size_t failures = 10, slowest = 5, top = 10;
  size_t log_lines_per_invocation = 40;
  // For a page that refreshes itself: failing jobs carry no common error, and the slowest jobs
  // are left to the jobs page (the cards and lists are exact either way).
  bool rollups_only = false;
};

struct HourlyPoint {
  Timestamp hour = 0;
  int64_t ok = 0, failed = 0;
  std::optional<double> p95_ms;
};
struct FunctionSeries {
  std::string function;
  std::vector<HourlyPoint> hours;
};
struct NamedCount {
  std::string name;
  int64_t count = 0;
  std::optional<double> value;  // p95 ms for the slowest jobs
  std::optional<std::string> detail;  // the most common error for failing jobs
};

struct ReportData {
  Timestamp since = 0, until = 0;
  bool up_to_newest = true;  // the window ends at the newest record (else it was given)
  std::optional<std::string> function;
  Totals now, before;
  bool live = false;  // read for `edpipe serve`'s overview (rollups only): the slowest jobs are left to /jobs
  std::vector<FunctionSeries> series;
  std::vector<NamedCount> top_events, failing_jobs, slowest_jobs;
  std::vector<InvocationView> failures, slowest;
};

// Reads what a report shows; the window ends at the watermark (so an archive reports too).
ReportData read_report(ViewReader& reader, const ReportOptions& options);
std::string render_report(const ReportData& data);

std::string html_escape(std::string_view text);
// An invocation's waterfall as inline SVG.
std::string waterfall_svg(const InvocationView& v);

// The pieces the report and the live pages (`edpipe serve`) share.
std::string page_style();  // the CSS
// Where an hour of a function's chart links (its invocations in [from, to)), or nullopt.
using HourLink = std::function<std::optional<std::string>(const std::string& function, Timestamp from, Timestamp to)>;
// Cards, hourly charts (each hour a link when `link` gives one), top events and jobs.
std::string overview_html(const ReportData& d, const HourLink& link = {});
// Where a link to another invocation points, or nullopt where the page has nowhere to point it
// (the report links only to the invocations it includes: the rest are plain text).
using InvocationLink = std::function<std::optional<std::string>(const std::string& id)>;
// An invocation: header, chain links, waterfall, row change, payload, errors, and each job (status,
// id, error and stack, options and result, its log lines: up to `log_lines` in all); `anchored`:
// carries the `inv-ID` and `job-ID` anchors that links point at (once a page);
// `correlation_link`: where its correlation id points (everything that shares it), if anywhere.
std::string invocation_section(const InvocationView& v, size_t log_lines, const InvocationLink& link,
                               bool anchored = true, const InvocationLink& correlation_link = {});
// A chain's flow (flow_graph.h) as SVG: every node a link (through `link`), `current` outlined.
std::string flow_svg(const std::vector<FlowNode>& nodes, const InvocationLink& link, const std::string& current);
std::string cut(std::string_view s, size_t chars);              // at most `chars` bytes, whole characters, "…"
std::string esc(std::string_view s, size_t chars = 300);        // cut, then HTML-escaped
std::string number(double v, int decimals = 0);
// A chart's value axis from 0 to a round top at or above `top_value` (3 to 5 round ticks): each
// tick a grid line from x `left` to `right` between y `base` (0) and `top`, labelled by `label`.
// Returns the SVG and the top tick's value (the chart's scale).
std::pair<std::string, double> value_axis(double top_value, int left, int right, int top, int base,
                                         const std::function<std::string(double)>& label);
// A time as the pages print it (UTC, its first `chars` characters of RFC 3339), in a <time> whose
// datetime (time_attr, to the millisecond) the dashboard's script shows in the browser's zone.
std::string time_attr(Timestamp t);
std::string time_html(Timestamp t, size_t chars);
std::string ms_text(std::optional<double> ms);                  // "85 ms", "12.5 s", "–"
const char* status_class(std::string_view status);              // ok, bad, open, idle
std::string named_table(const char* title, const char* value_header, const std::vector<NamedCount>& rows, bool ms);

}  // namespace edpipe::view
