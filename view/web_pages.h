#pragma once
// The live dashboard's HTML (`edpipe serve`): the frame every page shares (navigation, style,
// the one small script) and the pieces the pages are made of: lists, tables, charts, the time
// window's links. Plain values in, escaped HTML out; no HTTP and no database here (web_server.cpp
// reads the request and the database, then calls these).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/timestamp.h"
#include "view/invocation_tree.h"
#include "view/view_queries.h"

namespace edpipe::view {

// The ranges a page offers, counted back from the newest record.
constexpr std::pair<const char*, Timestamp> kRanges[] = {
    {"1h", kMicrosPerHour},          {"6h", 6 * kMicrosPerHour},      {"24h", 24 * kMicrosPerHour},
    {"3d", 72 * kMicrosPerHour},     {"7d", 168 * kMicrosPerHour},    {"30d", 720 * kMicrosPerHour}};

// The time window of a page: a `range` of kRanges counted back from the newest record, or
// `from`/`to` (RFC 3339; without a zone, UTC).
struct Window {
  Timestamp since = 0, until = 0;
  std::string range;  // as given, for links ("" for a custom from/to)
  // The query parameters that name this window again, for a link to another page.
  std::string link_params() const {
    if (!range.empty()) return "range=" + range;
    return "from=" + format_rfc3339(since) + "&amp;to=" + format_rfc3339(until);
  }
};

// The script every page loads from /static/app.js (the CSP allows scripts from the server only).
const char* dashboard_script();

// Query-string escaping (RFC 3986's unreserved characters kept).
std::string url_encode(std::string_view s);
// How old the newest record loaded is (the watermark), against the wall clock: a live dashboard
// whose loading stopped says so. Amber (class "stale") past `stale_after_seconds`.
std::string freshness_badge(std::optional<Timestamp> watermark, int64_t stale_after_seconds);
// A whole page: the navigation (with the search box holding `search`), `body`, the script. A list
// page refreshes itself (the script, at the interval the nav's select says; `refresh_default`
// seconds unless the browser chose); 0: a page that does not.
std::string page(const std::string& title, const std::string& body, const std::string& search = "", int refresh_default = 0);
// A form's hidden fields that keep the window: its range, or its from and to.
std::string window_fields(const Window& w);
// The presets, then the window shown as a from/to form that a user edits for a custom one.
std::string range_links(const std::string& path, const Window& w, const std::string& extra = "");
// The invocation list's rows.
std::string summary_rows(const std::vector<InvocationSummary>& rows);
// The jobs or events page's table (`kind` "job" or "event").
std::string stats_table(const std::vector<NameStats>& rows, const char* kind, const Window& w);
// The errors page's table: a group a row, with its trend and its links.
std::string error_groups_table(const ErrorGroups& e, const Window& w);
// A duration bin's label: "0–10 ms", "1.01 s–3.04 s", "over 100.75 s".
std::string bin_label(const DurationBin& b);
// Bars on one labelled axis (round ticks, `unit` says what it measures): one per value, its
// label under it, its hover text and figure (`format`) on hover; a bar is a link when `link`
// gives one.
struct ChartBar {
  std::string label, hover;
  double value = 0;
};
std::string bar_chart(const std::vector<ChartBar>& bars, const std::string& unit, const std::function<std::string(double)>& format,
                      const std::function<std::optional<std::string>(size_t)>& link = {});

}  // namespace edpipe::view
