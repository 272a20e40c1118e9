#include "view/web_pages.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <set>

#include "view/html_report.h"

namespace edpipe::view {
namespace {

// The pages are whole without it; with it: a list page refreshes itself in place at the interval
// chosen (remembered by this browser), times show in the browser's zone unless UTC is chosen, and
// running invocations count their duration up.
const char* const kScript = R"(// edpipe serve: refresh in place, local times, live durations.
(function () {
  var store = window.localStorage;
  function get(k, d) { try { var v = store.getItem(k); return v === null ? d : v; } catch (e) { return d; } }
  function put(k, v) { try { store.setItem(k, v); } catch (e) {} }
  var pad = function (n, w) { n = String(n); while (n.length < (w || 2)) n = '0' + n; return n; };
  var utc = get('edpipe-utc', 'off') === 'on';
  function localText(d, withMs) {
    var off = -d.getTimezoneOffset(), sign = off >= 0 ? '+' : '-';
    off = Math.abs(off);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' +
      pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + (withMs ? '.' + pad(d.getMilliseconds(), 3) : '') +
      ' ' + sign + pad(Math.floor(off / 60)) + ':' + pad(off % 60);
  }
  function localize(root) {
    var times = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var t = times[i], d = new Date(t.getAttribute('datetime'));
      if (isNaN(d.getTime())) continue;
      if (!t.hasAttribute('data-utc')) t.setAttribute('data-utc', t.textContent);
      t.textContent = utc ? t.getAttribute('data-utc') : localText(d, t.getAttribute('data-utc').length > 19);
      t.title = utc ? localText(d, true) : t.getAttribute('data-utc') + ' UTC';
    }
  }
  function human(s) {
    if (s < 60) return Math.floor(s) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + pad(Math.floor(s % 60)) + ' s';
    return Math.floor(s / 3600) + ' h ' + pad(Math.floor(s % 3600 / 60)) + ' min';
  }
  function tick() {
    var live = document.querySelectorAll('[data-running-since]');
    for (var i = 0; i < live.length; i++) {
      var since = Date.parse(live[i].getAttribute('data-running-since'));
      if (!isNaN(since)) live[i].textContent = 'running ' + human(Math.max(0, Date.now() - since) / 1000);
    }
  }
  var zone = document.getElementById('utc');
  if (zone) {
    zone.checked = utc;
    zone.parentNode.hidden = false;
    zone.addEventListener('change', function () {
      utc = zone.checked;
      put('edpipe-utc', utc ? 'on' : 'off');
      localize(document);
    });
  }
  localize(document);
  tick();
  setInterval(tick, 1000);
  var pick = document.getElementById('refresh');
  if (!pick) return;
  var timer = null, busy = false;
  pick.value = get('edpipe-refresh', pick.getAttribute('data-default'));
  if (pick.selectedIndex < 0) pick.value = pick.getAttribute('data-default');
  pick.parentNode.hidden = false;
  function refresh() {
    if (busy || document.hidden) return arm();
    busy = true;
    fetch(location.href, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    }).then(function (html) {
      var next = new DOMParser().parseFromString(html, 'text/html').querySelector('main');
      var main = document.querySelector('main');
      if (next && main) {
        main.innerHTML = next.innerHTML;
        main.setAttribute('data-refreshes', String(parseInt(main.getAttribute('data-refreshes') || '0', 10) + 1));
        localize(main);
        tick();
      }
    }).catch(function () {}).then(function () { busy = false; arm(); });
  }
  function arm() {
    if (timer) clearTimeout(timer);
    var seconds = parseInt(pick.value, 10);
    timer = seconds > 0 ? setTimeout(refresh, seconds * 1000) : null;
  }
  pick.addEventListener('change', function () { put('edpipe-refresh', pick.value); arm(); });
  arm();
})();
)";

const char* const kPageStyle = R"(
nav{display:flex;gap:16px;align-items:center;border-bottom:1px solid #dde1e7;padding-bottom:8px;margin-bottom:12px}
nav a{color:#1d2330;text-decoration:none;font-weight:600}nav form{margin-left:auto}nav label{white-space:nowrap}
nav input[type=search]{width:320px;padding:4px 6px}.filters{margin:8px 0}.filters a{margin-right:10px}
table.list td{white-space:nowrap}table.list td.err{white-space:normal;color:#cf222e}.pager{margin:10px 0}
.freshness{display:inline-block;padding:2px 8px;border-radius:10px;background:#e6f4ea;color:#1a7f37;margin:0 0 8px}
.freshness.stale{background:#fff4d6;color:#9a6700;font-weight:600}
table.errors td{white-space:normal}table.errors td.err{min-width:240px}
@media (prefers-color-scheme:dark){nav{border-color:#30363d}nav a{color:#e6edf3}
.freshness{background:#12261e;color:#3fb950}.freshness.stale{background:#2e2410;color:#d29922}}
)";


// A group's failures over the window: one bar per trend bucket, its count and time on hover.
std::string trend_svg(const std::vector<int64_t>& trend, const Window& w) {
  const int width = 120, height = 24, bar = width / kTrendBuckets;
  const int64_t top = std::max<int64_t>(1, *std::max_element(trend.begin(), trend.end()));
  const Timestamp part = (w.until - w.since) / kTrendBuckets;
  std::string svg = "<svg class=\"trend\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" role=\"img\">";
  for (size_t i = 0; i < trend.size(); ++i) {
    const int h = trend[i] ? std::max(1, int(trend[i] * (height - 2) / top)) : 0;
    svg += "<rect class=\"bad\" x=\"" + std::to_string(int(i) * bar) + "\" y=\"" + std::to_string(height - h) +
           "\" width=\"" + std::to_string(bar - 1) + "\" height=\"" + std::to_string(h) + "\"><title>" +
           std::to_string(trend[i]) + " from " + format_rfc3339(w.since + Timestamp(i) * part).substr(0, 16) +
           "</title></rect>";
  }
  return svg + "</svg>";
}

}  // namespace

const char* dashboard_script() { return kScript; }

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string freshness_badge(std::optional<Timestamp> watermark, int64_t stale_after_seconds) {
  if (!watermark) return "<p class=\"freshness stale\">no record loaded yet</p>\n";
  const Timestamp now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  const Timestamp age = std::max<Timestamp>(0, now - *watermark);
  const int64_t s = age / kMicrosPerSecond;
  const std::string ago = s < 120 ? std::to_string(s) + " s" : s < 2 * 3600 ? std::to_string(s / 60) + " min"
                          : s < 2 * 86400 ? std::to_string(s / 3600) + " h" : std::to_string(s / 86400) + " days";
  const bool stale = s > stale_after_seconds;
  return "<p class=\"freshness" + std::string(stale ? " stale" : "") + "\" title=\"" + format_rfc3339(*watermark) +
         "\">newest record " + ago + " ago" + (stale ? " (loading may have stopped)" : "") + "</p>\n";
}

std::string page(const std::string& title, const std::string& body, const std::string& search, int refresh_default) {
  std::string refresh;
  if (refresh_default > 0) {
    refresh = "<label class=\"refresh\" hidden>refresh <select id=\"refresh\" data-default=\"" + std::to_string(refresh_default) +
              "\"><option value=\"0\">off</option>";
    std::set<int> choices{5, 10, 30, 60, 300, refresh_default};
    for (int c : choices) refresh += "<option value=\"" + std::to_string(c) + "\">" + (c < 60 ? std::to_string(c) + " s" : std::to_string(c / 60) + " min") + "</option>";
    refresh += "</select></label>";
  }
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"color-scheme\" content=\"light dark\">\n<title>" + esc(title) +
         " · edpipe</title>\n<style>" + page_style() + kPageStyle + "</style></head><body>\n"
         "<nav><a href=\"/\">Overview</a><a href=\"/invocations\">Invocations</a><a href=\"/jobs\">Jobs</a>"
         "<a href=\"/events\">Events</a><a href=\"/errors\">Errors</a><a href=\"/analytics\">Analytics</a><form action=\"/invocations\" method=\"get\" role=\"search\">"
         "<input type=\"search\" name=\"q\" value=\"" + esc(search, 200) +
         "\" placeholder=\"id, correlation id, table:id, e-mail, event, job, error\"></form>" + refresh +
         "<label class=\"tz\" hidden><input type=\"checkbox\" id=\"utc\"> UTC</label></nav>\n<main>\n" + body +
         "</main>\n<script src=\"/static/app.js\"></script>\n</body></html>\n";
}

std::string window_fields(const Window& w) {
  if (!w.range.empty()) return "<input type=\"hidden\" name=\"range\" value=\"" + esc(w.range) + "\">";
  return "<input type=\"hidden\" name=\"from\" value=\"" + format_rfc3339(w.since) + "\"><input type=\"hidden\" name=\"to\" value=\"" +
         format_rfc3339(w.until) + "\">";
}

std::string range_links(const std::string& path, const Window& w, const std::string& extra) {
  std::string out = "<p class=\"filters\">";
  for (const auto& [r, span] : kRanges)
    out += w.range == r ? "<b>" + std::string(r) + "</b> " : "<a href=\"" + path + "?range=" + r + extra + "\">" + r + "</a> ";
  return out + "· " + format_rfc3339(w.since) + " to " + format_rfc3339(w.until - 1) + "</p>\n" +
         "<form class=\"window\" method=\"get\" action=\"" + path + "\"><label>from <input name=\"from\" size=\"27\" value=\"" +
         format_rfc3339(w.since) + "\"></label> <label>to <input name=\"to\" size=\"27\" value=\"" + format_rfc3339(w.until) +
         "\"></label> <button>show</button></form>\n";
}

std::string summary_rows(const std::vector<InvocationSummary>& rows) {
  std::string out = "<table class=\"list\"><tr><th>created</th><th>status</th><th>function</th><th>duration</th>"
                    "<th>events detected</th><th>jobs run</th><th>table</th><th>user</th><th>invocation</th>"
                    "<th>first error</th></tr>\n";
  for (const auto& r : rows)
    out += "<tr><td>" + time_html(r.created_at, 23) + "</td><td><span class=\"status " +
           status_class(r.status) + "\">" + esc(r.status) + "</span>" +
           // Completed is the invocation's word; its failed jobs are said beside it, not hidden.
           (r.jobs_failed ? " <span class=\"status open\">" + std::to_string(r.jobs_failed) +
                                (r.jobs_failed == 1 ? " job failed" : " jobs failed") + "</span>"
                          : std::string()) +
           "</td><td>" + esc(r.function, 60) +
           // A running invocation's duration counts up in the browser (the script), from its start.
           (r.duration_ms ? "</td><td class=\"num\">" + ms_text(double(*r.duration_ms))
            : r.status == "running" ? "</td><td class=\"num\" data-running-since=\"" + time_attr(r.created_at) + "\">running"
                                    : std::string("</td><td class=\"num\">")) +
           "</td><td class=\"num\">" + std::to_string(r.events_detected) + "</td><td class=\"num\">" +
           std::to_string(r.jobs_run) + "</td><td>" + esc(r.source_table.value_or(""), 60) +
           (r.source_operation ? " " + esc(*r.source_operation, 20) : std::string()) + "</td><td>" +
           esc(r.user_email.value_or(""), 60) + "</td><td><a href=\"/invocation/" + esc(r.id) + "\"><code>" + esc(r.id) + "</code></a></td><td class=\"err\">" +
           esc(r.first_error.value_or(""), 160) + "</td></tr>\n";
  return out + "</table>\n";
}

std::string stats_table(const std::vector<NameStats>& rows, const char* kind, const Window& w) {
  std::string out = "<table class=\"list\"><tr><th>name</th><th>runs</th>";
  if (std::string_view(kind) == "event") out += "<th>detected</th>";
  out += "<th>failed</th><th>failure rate</th>";
  if (std::string_view(kind) == "job") out += "<th>abandoned</th>";
  out += "<th>p50</th><th>p95</th><th>most common error</th></tr>\n";
  for (const auto& r : rows) {
    out += "<tr><td>" + esc(r.name, 80) + "</td><td class=\"num\">" + std::to_string(r.runs) + "</td>";
    if (std::string_view(kind) == "event") out += "<td class=\"num\">" + std::to_string(r.detected) + "</td>";
    out += "<td class=\"num\">" +
           // The failures of this name: the invocations where it failed, whatever they ended as.
           (r.failed ? "<a href=\"/invocations?q=" +
                           url_encode((std::string_view(kind) == "event" ? "failed-event:" : "failed-job:") + r.name) +
                           "&amp;" + w.link_params() + "\">" + std::to_string(r.failed) + "</a>"
                     : std::string("0")) +
           "</td><td class=\"num\">" + (r.runs ? number(100.0 * double(r.failed) / double(r.runs), 1) + " %" : "") +
           (std::string_view(kind) == "job" ? "</td><td class=\"num\">" + std::to_string(r.abandoned) : std::string()) +
           "</td><td class=\"num\">" + ms_text(r.p50_ms) + "</td><td class=\"num\">" + ms_text(r.p95_ms) +
           "</td><td class=\"err\">" + esc(r.common_error.value_or(""), 160) + "</td></tr>\n";
  }
  return out + "</table>\n<p class=\"sub\">The executions of the invocations that started in the window; abandoned: "
               "no end, the invocation cut off; p50 and p95 within 1 %; the most common error of each name's latest " +
               std::to_string(kErrorSample) + " failures.</p>\n";
}

std::string error_groups_table(const ErrorGroups& e, const Window& w) {
  std::string out = "<p class=\"sub\">" + std::to_string(e.failures) + " failures of jobs, handlers and detections in " +
                    std::to_string(e.group_count) + " groups (ids, hex and numbers masked)" +
                    (e.groups.size() < size_t(e.group_count) ? "; the " + std::to_string(e.groups.size()) + " largest" : "") +
                    "</p>\n<table class=\"list errors\"><tr><th>error</th><th>failures</th><th>trend</th><th>first seen</th>"
                    "<th>last seen</th><th>functions</th><th>jobs and events</th><th>occurrences</th></tr>\n";
  const auto list = [](const std::vector<std::string>& items, const auto& link) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < 8; ++i) out += (i ? ", " : "") + link(items[i]);
    if (items.size() > 8) out += " and " + std::to_string(items.size() - 8) + " more";
    return out;
  };
  for (const auto& g : e.groups) {
    out += "<tr><td class=\"err\" title=\"" + esc(g.sample, 1000) + "\">" + esc(g.message, 300) + "</td><td class=\"num\">" +
           std::to_string(g.count) + "</td><td>" + trend_svg(g.trend, w) + "</td><td>" +
           time_html(g.first_seen, 19) + "</td><td>" + time_html(g.last_seen, 19) + "</td><td>" +
           list(g.functions, [&](const std::string& f) {
             return "<a href=\"/invocations?function=" + url_encode(f) + "&amp;" + w.link_params() + "\">" + esc(f, 60) + "</a>";
           }) +
           "</td><td>" + list(g.names, [&](const std::string& n) {
             // "job NAME" or "event NAME": the invocations where that name failed.
             const bool job = n.rfind("job ", 0) == 0;
             return "<a href=\"/invocations?q=" + url_encode((job ? "failed-job:" : "failed-event:") + n.substr(job ? 4 : 6)) +
                    "&amp;" + w.link_params() + "\">" + esc(n, 80) + "</a>";
           }) +
           "</td><td><a href=\"/invocation/" + esc(g.newest_invocation) + "\">newest</a>" +
           (g.oldest_invocation != g.newest_invocation ? " · <a href=\"/invocation/" + esc(g.oldest_invocation) + "\">oldest</a>"
                                                       : std::string()) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string bin_label(const DurationBin& b) {
  const auto ms = [](int64_t v) { return v < 1000 ? std::to_string(v) + " ms" : number(double(v) / 1000.0, 2) + " s"; };
  if (b.hi == INT64_MAX) return "over " + ms(b.lo - 1);
  return (b.lo < 1000 && b.hi < 1000 ? std::to_string(b.lo) : ms(b.lo)) + "–" + ms(b.hi);
}

std::string bar_chart(const std::vector<ChartBar>& bars, const std::string& unit,
                      const std::function<std::string(double)>& format,
                      const std::function<std::optional<std::string>(size_t)>& link) {
  const int width = 900, height = 150, left = 52, top = 20, base = height - 34;
  double max_v = 1;
  for (const auto& b : bars) max_v = std::max(max_v, b.value);
  const auto [axis, top_tick] = value_axis(max_v, left, width - 8, top, base, format);
  const double slot = double(width - left - 8) / double(std::max<size_t>(1, bars.size()));
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" role=\"img\"><text x=\"0\" y=\"11\" class=\"axis\">" + esc(unit) + "</text>";
  svg += axis;
  const size_t label_every = bars.size() <= 12 ? 1 : (bars.size() + 11) / 12;
  for (size_t i = 0; i < bars.size(); ++i) {
    const double x = left + double(i) * slot, h = double(base - top) * bars[i].value / top_tick;
    std::string bar = "<g class=\"hour\"><title>" + esc(bars[i].hover) + ": " + format(bars[i].value) +
                      "</title><rect class=\"slot\" x=\"" + number(x, 1) + "\" y=\"" + std::to_string(top) + "\" width=\"" +
                      number(slot, 1) + "\" height=\"" + std::to_string(base - top) + "\"/><rect class=\"ok\" x=\"" +
                      number(x + 2, 1) + "\" y=\"" + number(base - h, 1) + "\" width=\"" + number(std::max(1.0, slot - 4), 1) +
                      "\" height=\"" + number(h, 1) + "\"/></g>";
    const auto href = link ? link(i) : std::nullopt;
    svg += href ? "<a href=\"" + esc(*href) + "\">" + bar + "</a>" : bar;
    if (i % label_every == 0)
      svg += "<text x=\"" + number(x + 2, 1) + "\" y=\"" + std::to_string(base + 13) + "\" class=\"axis\">" + esc(bars[i].label, 24) +
             "</text>";
  }
  return svg + "</svg>";
}


}  // namespace edpipe::view
