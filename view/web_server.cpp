#include "view/web_server.h"

#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <vector>

#include "view/html_report.h"
#include "view/request_gate.h"
#include "view/view_queries.h"
#include "view/web_pages.h"

namespace edpipe::view {
namespace {

// On every response, whoever writes it (a page, httplib's own 400/414 before routing, the gate's
// 408/413/431/503): no framing, no sniffing, scripts only from here, nothing from elsewhere.
const std::pair<const char*, const char*> kSecurityHeaders[] = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "
     "form-action 'self'; "
     "frame-ancestors 'none'; base-uri 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
};
void add_security_headers(httplib::Response& res) {
  for (const auto& [name, value] : kSecurityHeaders)
    if (!res.has_header(name)) res.set_header(name, value);
}
std::string security_header_lines() {
  std::string out;
  for (const auto& [name, value] : kSecurityHeaders) out += std::string(name) + ": " + value + "\r\n";
  return out;
}

// A request the gate read whole, as httplib reads a connection: its bytes first, then nothing;
// the answer goes to the socket, each write within the client timeout.
class ArrivedStream final : public httplib::Stream {
 public:
  ArrivedStream(const ArrivedRequest& r, int write_timeout_s) : r_(r), write_timeout_ms_(write_timeout_s * 1000) {}
  bool is_readable() const override { return at_ < r_.bytes.size(); }
  bool is_writable() const override {
    pollfd p{r_.fd, POLLOUT, 0};
    return ::poll(&p, 1, write_timeout_ms_) > 0 && (p.revents & POLLOUT);
  }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, r_.bytes.size() - at_);
    std::memcpy(ptr, r_.bytes.data() + at_, n);
    at_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    size_t sent = 0;
    while (sent < size) {
      if (!is_writable()) return -1;  // a client that does not read is let go
      const ssize_t n = ::send(r_.fd, ptr + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return -1;
      sent += size_t(n);
    }
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = r_.remote_ip;
    port = r_.remote_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = r_.local_ip;
    port = r_.local_port;
  }
  socket_t socket() const override { return r_.fd; }

 private:
  const ArrivedRequest& r_;
  size_t at_ = 0;
  int write_timeout_ms_;
};

// httplib's routing and response writing, fed by the gate instead of its own accept loop.
class GatedServer final : public httplib::Server {
 public:
  void answer(const ArrivedRequest& r, int write_timeout_s) {
    ArrivedStream stream(r, write_timeout_s);
    bool closed = false;
    process_request(stream, /*close_connection=*/true, closed, nullptr);
  }
};

// A parameter the page cannot use: answered 400 with the reason, never a 500.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct NotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A bounded pool of read-only connections: a request borrows one, or waits up to 5 s and is
// answered 503. A connection that broke is opened again on its next use.
class ConnectionPool {
 public:
  ConnectionPool(std::string conninfo, size_t size) : conninfo_(std::move(conninfo)), free_(size) {}
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<pqxx::connection> c) : pool_(pool), conn_(std::move(c)) {}
    ~Lease() { pool_.give_back(std::move(conn_)); }
    pqxx::connection& operator*() { return *conn_; }

   private:
    ConnectionPool& pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };
  std::optional<Lease> borrow() {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, std::chrono::seconds(5), [&] { return free_ > 0; })) return std::nullopt;
    --free_;
    std::unique_ptr<pqxx::connection> c;
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    }
    lock.unlock();
    try {
      if (!c || !c->is_open()) c = std::make_unique<pqxx::connection>(conninfo_);
    } catch (...) {
      give_back(nullptr);
      throw;
    }
    return std::optional<Lease>(std::in_place, *this, std::move(c));
  }

 private:
  void give_back(std::unique_ptr<pqxx::connection> c) {
    {
      std::lock_guard lock(mutex_);
      if (c && c->is_open()) idle_.push_back(std::move(c));
      ++free_;
    }
    ready_.notify_one();
  }
  std::string conninfo_;
  std::mutex mutex_;
  std::condition_variable ready_;
  size_t free_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

std::string param(const httplib::Request& req, const char* name, size_t max_chars = 200) {
  if (!req.has_param(name)) return "";
  std::string v = req.get_param_value(name);
  if (v.size() > max_chars) throw BadRequest(std::string(name) + ": longer than " + std::to_string(max_chars) + " characters");
  return v;
}
std::optional<std::string> opt_param(const httplib::Request& req, const char* name) {
  std::string v = param(req, name);
  if (v.empty()) return std::nullopt;
  return v;
}

constexpr size_t kChainInvocations = 30;  // of a chain's flow on the invocation page

Window window_of(const httplib::Request& req, ViewReader& reader, const char* default_range = "24h") {
  Window w;
  const std::string from = param(req, "from"), to = param(req, "to");
  if (!from.empty() || !to.empty()) {
    const auto f = parse_rfc3339(from, ZoneRule::DefaultUtc), t = parse_rfc3339(to, ZoneRule::DefaultUtc);
    if (!f || !t) throw BadRequest("from/to: expected two RFC 3339 times, e.g. 2026-11-20T10:00:00Z");
    if (*t <= *f) throw BadRequest("from/to: 'to' must be after 'from'");
    w.since = *f;
    w.until = *t;
    return w;
  }
  w.range = param(req, "range");
  if (w.range.empty()) w.range = default_range;
  const auto known = std::find_if(std::begin(kRanges), std::end(kRanges), [&](const auto& r) { return w.range == r.first; });
  if (known == std::end(kRanges)) throw BadRequest("range: expected 1h, 6h, 24h, 3d, 7d or 30d");
  const Timestamp span = known->second;
  w.until = reader.watermark().value_or(0) + 1;
  w.since = w.until - span;
  return w;
}

}  // namespace

bool is_loopback(const std::string& host) {
  // What the name resolves to, every address of it: "127.example.com" is a name like any other.
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (host.empty() || ::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return false;
  bool all = found != nullptr;
  for (addrinfo* a = found; a; a = a->ai_next) {
    if (a->ai_family == AF_INET)
      all = all && (ntohl(reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr.s_addr) >> 24) == 127;
    else if (a->ai_family == AF_INET6)
      all = all && IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    else
      all = false;
  }
  ::freeaddrinfo(found);
  return all;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.size() ? b.size() : 1)]);
  return diff == 0 && !b.empty();
}

struct WebServer::Impl {
  explicit Impl(ServeOptions o) : options(std::move(o)), pool(options.conninfo, options.connections) {}
  ServeOptions options;
  ConnectionPool pool;
  GatedServer server;
  std::unique_ptr<RequestGate> gate;

  bool authorized(const httplib::Request& req) const {
    if (!options.auth_token) return true;
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0 && constant_time_equal(auth.substr(7), *options.auth_token)) return true;
    const std::string cookies = req.get_header_value("Cookie");
    for (size_t at = cookies.find("edpipe_token="); at != std::string::npos; at = cookies.find("edpipe_token=", at + 1)) {
      if (at > 0 && cookies[at - 1] != ' ' && cookies[at - 1] != ';') continue;
      const size_t start = at + 13, end = cookies.find(';', start);
      if (constant_time_equal(cookies.substr(start, end == std::string::npos ? std::string::npos : end - start), *options.auth_token))
        return true;
    }
    return false;
  }

  // Runs a page's body with a borrowed connection; maps what can go wrong to its status.
  void serve(const httplib::Request& req, httplib::Response& res,
             const std::function<std::string(ViewReader&, const httplib::Request&)>& body) {
    try {
      auto lease = pool.borrow();
      if (!lease) {
        res.status = 503;
        res.set_content(page("Busy", "<h1>Busy</h1><p>Every database connection is in use; try again.</p>"), "text/html; charset=utf-8");
        return;
      }
      ViewLimits limits;
      limits.statement_timeout_ms = options.statement_timeout_ms;
      limits.parallel_plans = false;
      ViewReader reader(**lease, limits);
      res.set_content(body(reader, req), "text/html; charset=utf-8");
    } catch (const BadRequest& e) {
      res.status = 400;
      res.set_content(page("Bad request", "<h1>Bad request</h1><p>" + esc(e.what()) + "</p>"), "text/html; charset=utf-8");
    } catch (const NotFound& e) {
      res.status = 404;
      res.set_content(page("Not found", "<h1>Not found</h1><p>" + esc(e.what()) + "</p>"), "text/html; charset=utf-8");
    } catch (const pqxx::sql_error& e) {
      res.status = 503;
      const bool timeout = e.sqlstate() == "57014";  // query_canceled: the statement timeout
      res.set_content(page(timeout ? "Too slow" : "Unavailable",
                           timeout ? "<h1>Too slow</h1><p>The query ran past its time limit; narrow the range.</p>"
                                   : "<h1>Unavailable</h1><p>The database could not answer.</p>"),
                      "text/html; charset=utf-8");
    } catch (const std::exception& e) {
      res.status = 503;  // the database: unreachable, restarting, or not migrated
      res.set_content(page("Unavailable", "<h1>Unavailable</h1><p>The database could not be read.</p>"), "text/html; charset=utf-8");
    }
  }

  std::string overview(ViewReader& reader, const httplib::Request& req) {
    const Window w = window_of(req, reader);
    ReportOptions o;
    o.since = w.since;  // the window asked for (a range, or from/to), exactly
    o.until = w.until;
    o.function = opt_param(req, "function");
    o.failures = o.slowest = 0;
    o.rollups_only = true;  // it refreshes itself: milliseconds, whatever the window
    ReportData d = read_report(reader, o);
    InvocationQuery recent;
    recent.since = w.since;
    recent.until = w.until;
    recent.function = o.function;
    recent.limit = 20;
    // The window counted, printed to the microsecond (its end is the last microsecond in it).
    const std::string window = "<p class=\"sub window\">" + format_rfc3339(w.since) + " to " + format_rfc3339(w.until - 1) +
                               "</p>\n";
    return page("Overview", "<h1>Overview</h1>\n" + freshness_badge(reader.watermark(), options.stale_after_seconds) +
                                range_links("/", w) + window +
                                overview_html(d, [](const std::string& function, Timestamp from, Timestamp to) {
                                  return std::optional<std::string>("/invocations?from=" + format_rfc3339(from) + "&to=" +
                                                                    format_rfc3339(to) + "&function=" + url_encode(function));
                                }) +
                                "<h3>Recent invocations</h3>\n" + summary_rows(reader.search(recent)),
                "", options.refresh_seconds);
  }

  // A page's cursor: "KEY_ID", KEY the sort key of a row (µs, or a duration in ms, -1 for none).
  static std::optional<std::pair<Timestamp, std::string>> cursor_param(const httplib::Request& req, const char* name) {
    const std::string v = param(req, name);
    if (v.empty()) return std::nullopt;
    const size_t us = v.find('_');
    char* end = nullptr;
    const long long at = us == std::string::npos ? 0 : std::strtoll(v.c_str(), &end, 10);
    if (us == std::string::npos || end != v.c_str() + us || us == 0 || v.size() - us - 1 != 36 ||
        !uuid_prefix_range(v.substr(us + 1)))
      throw BadRequest(std::string(name) + ": expected the cursor of a page (key_id)");
    return std::make_pair(Timestamp(at), v.substr(us + 1));
  }

  std::string invocations(ViewReader& reader, const httplib::Request& req) {
    const Window w = window_of(req, reader);
    InvocationQuery q;
    q.since = w.since;
    q.until = w.until;
    q.search = opt_param(req, "q");
    q.function = opt_param(req, "function");
    q.status = opt_param(req, "status");
    q.table = opt_param(req, "table");
    q.operation = opt_param(req, "operation");
    if (q.status && *q.status != "running" && *q.status != "completed" && *q.status != "failed" && *q.status != "abandoned")
      throw BadRequest("status: expected running, completed, failed or abandoned");
    const std::string sort = param(req, "sort");
    if (!sort.empty() && sort != "time" && sort != "duration") throw BadRequest("sort: expected time or duration");
    q.by_duration = sort == "duration";
    const std::string size_text = param(req, "size");
    size_t size = 50;
    if (!size_text.empty()) {
      if (size_text != "20" && size_text != "50" && size_text != "100" && size_text != "200")
        throw BadRequest("size: expected 20, 50, 100 or 200");
      size = std::stoul(size_text);
    }
    q.before = cursor_param(req, "before");
    q.after = cursor_param(req, "after");
    if (q.before && q.after) throw BadRequest("before/after: one cursor at a time");
    // A full id found is shown at once.
    // (A full id's prefix range holds that id alone: one lookup says whether it exists.)
    const auto kinds = q.search ? view::parse_search(*q.search) : std::vector<view::SearchKind>{};
    if (q.search && kinds.empty()) q.search.reset();  // blank: the whole list
    if (kinds.size() == 1 && kinds[0].name == "id" && kinds[0].value.size() == 36 && !reader.find_ids(kinds[0].value, 1).empty())
      return "redirect:/invocation/" + kinds[0].value;
    q.limit = size + 1;  // one more than shown: whether there is a page beyond
    view::SearchReport report;
    // The whole list, or its completed ones, of a function or all: counted from the rollups
    // (exact, and a week costs what an hour does); the rest by the search, up to its cap.
    const auto out_of_list_filters = [](const InvocationQuery& x) { return x.status || x.table || x.operation || x.function; };
    const bool from_rollups = !q.search && !q.table && !q.operation && (!q.status || *q.status == "completed");
    report.total_asked = !from_rollups;
    auto rows = reader.search(q, &report);
    bool exact_total = from_rollups;  // else counted up to kTotalCap
    if (from_rollups) {
      const Totals t = reader.window_totals(w.since, w.until, q.function);
      report.total = q.status ? t.completed : t.invocations;
    } else if (report.found_as == "function" && !report.total && !out_of_list_filters(q)) {
      report.total = reader.window_totals(w.since, w.until, kinds.front().value).invocations;
      exact_total = true;
    }
    const bool beyond = rows.size() > size;
    if (beyond) {
      if (q.after) rows.erase(rows.begin());  // read backwards: the extra row is the newest
      else rows.resize(size);
    }
    // What every link of the page keeps: the search, the filters, the order and the page size.
    const auto kept = [&](const char* name, const std::optional<std::string>& v) {
      return v ? "&amp;" + std::string(name) + "=" + url_encode(*v) : std::string();
    };
    const std::string keep = kept("q", q.search) + kept("status", q.status) + kept("function", q.function) +
                             kept("table", q.table) + kept("operation", q.operation) +
                             (q.by_duration ? "&amp;sort=duration" : "") + (size != 50 ? "&amp;size=" + std::to_string(size) : "");
    std::string body = "<h1>Invocations</h1>\n" + range_links("/invocations", w, keep) + "<p class=\"filters\">status: ";
    for (const char* st : {"failed", "abandoned", "running", "completed"})
      body += "<a href=\"/invocations?" + w.link_params() + kept("q", q.search) + "&amp;status=" + st + "\">" + st + "</a> ";
    body += "<a href=\"/invocations?" + w.link_params() + "\">all</a></p>\n";
    // The filters as a form (GET: the page's URL says them), the window kept.
    const auto field = [](const char* name, const std::optional<std::string>& v, const char* hint) {
      return std::string("<label>") + name + " <input name=\"" + name + "\" size=\"16\" value=\"" + esc(v.value_or(""), 200) +
             "\" placeholder=\"" + hint + "\"></label> ";
    };
    const auto select = [](const char* name, const std::string& current, std::initializer_list<const char*> options) {
      std::string out = std::string("<label>") + name + " <select name=\"" + name + "\">";
      for (const char* o : options)
        out += std::string("<option") + (current == o ? " selected" : "") + ">" + o + "</option>";
      return out + "</select></label> ";
    };
    body += "<form class=\"list-filters\" method=\"get\" action=\"/invocations\">" +
            window_fields(w) +
            (q.search ? "<input type=\"hidden\" name=\"q\" value=\"" + esc(*q.search, 200) + "\">" : std::string()) +
            field("function", q.function, "any") + select("status", q.status.value_or(""), {"", "failed", "abandoned", "running", "completed"}) +
            field("table", q.table, "any") + select("operation", q.operation.value_or(""), {"", "INSERT", "UPDATE", "DELETE", "MANUAL"}) +
            select("sort", q.by_duration ? "duration" : "time", {"time", "duration"}) +
            select("size", std::to_string(size), {"20", "50", "100", "200"}) + "<button>apply</button></form>\n";
    if (q.search) {
      // What was searched, as what: never a silent guess.
      body += "<p class=\"searched\">searched <b>" + esc(kinds.front().value, 200) + "</b> as " + esc(report.searched);
      if (!report.counts.empty()) {
        body += ": ";
        for (size_t i = 0; i < report.counts.size(); ++i)
          body += (i ? " + " : "") + std::to_string(report.counts[i].second) + " by " + esc(report.counts[i].first);
        body += " invocations in this window";
      } else if (!report.found_as.empty() && report.found_as != report.searched) {
        body += "; found as " + esc(report.found_as);
      }
      if (report.failed_runs_in)  // the number the jobs or events page links from, and where it is
        body += ": " + std::to_string(report.failed_runs_in->first) + " failed runs in " +
                std::to_string(report.failed_runs_in->second) + " invocations in this window";
      body += " (prefixes: id: corr: email: function: event: checked: job: failed-job: failed-event: error: row:)</p>\n";
    }
    if (report.total) {
      const int64_t total = *report.total;
      const bool capped = !exact_total && total >= SearchReport::kTotalCap;
      body += "<p class=\"total\">" + std::to_string(total) + (capped ? "+" : "") + (total == 1 ? " invocation" : " invocations") +
              " in this window" + (q.by_duration ? ", slowest first" : ", newest first") + "</p>\n";
    }
    body += rows.empty() ? "<p class=\"none\">no invocation matches</p>\n" : summary_rows(rows);
    const auto cursor = [&](const InvocationSummary& r) {
      return std::to_string(q.by_duration ? r.duration_ms.value_or(-1) : r.created_at) + "_" + r.id;
    };
    const bool has_newer = q.before || (q.after && beyond);
    const bool has_older = q.after || (!q.after && beyond);
    if (!rows.empty() && (has_newer || has_older)) {
      body += "<p class=\"pager\">";
      if (has_newer)
        body += "<a rel=\"prev\" href=\"/invocations?" + w.link_params() + keep + "&amp;after=" + cursor(rows.front()) +
                "\">← " + (q.by_duration ? "slower" : "newer") + "</a> ";
      if (has_older)
        body += "<a rel=\"next\" href=\"/invocations?" + w.link_params() + keep + "&amp;before=" + cursor(rows.back()) +
                "\">" + (q.by_duration ? "faster" : "older") + " →</a>";
      body += "</p>\n";
    }
    return page("Invocations", body, q.search.value_or(""), options.refresh_seconds);
  }

  std::string invocation(ViewReader& reader, const httplib::Request& req) {
    const std::string id = req.matches[1];
    const auto v = reader.invocation(id, true);
    if (!v) throw NotFound("no invocation " + id);
    const InvocationLink to_page = [](const std::string& to) -> std::optional<std::string> { return "/invocation/" + to; };
    // Its chain, from the invocation that started it down to those its jobs caused.
    const auto chain = reader.chain(id, kChainInvocations, &*v);
    // Everything sharing its correlation id, in the 30 days around it.
    const Timestamp at = v->created_at;
    const InvocationLink to_correlated = [at](const std::string& c) -> std::optional<std::string> {
      return "/invocations?from=" + format_rfc3339(at - 360 * kMicrosPerHour) + "&to=" + format_rfc3339(at + 360 * kMicrosPerHour) +
             "&q=" + url_encode("corr:" + c);
    };
    return page("Invocation " + id, invocation_section(*v, 500, to_page, true, to_correlated) + "<h3>Flow</h3>\n<div class=\"flow-wrap\">" +
                                        flow_svg(flow_tree(chain), to_page, id) + "</div>\n" +
                                        (chain.size() >= kChainInvocations
                                             ? "<p class=\"sub\">the first " + std::to_string(kChainInvocations) +
                                                   " invocations of its chain</p>\n"
                                             : std::string()));
  }

  std::string stats(ViewReader& reader, const httplib::Request& req, bool jobs) {
    // From the per-name hourly rollups: any range costs about what an hour does.
    const Window w = window_of(req, reader);
    const auto function = opt_param(req, "function");
    const auto rows = jobs ? reader.job_stats(w.since, w.until, function, 200) : reader.event_stats(w.since, w.until, function, 200);
    const char* title = jobs ? "Jobs" : "Events";
    return page(title, "<h1>" + std::string(title) + "</h1>\n" + range_links(jobs ? "/jobs" : "/events", w) +
                           (rows.empty() ? "<p class=\"none\">none in this window</p>\n" : stats_table(rows, jobs ? "job" : "event", w)),
                "", options.refresh_seconds);
  }

  std::string errors(ViewReader& reader, const httplib::Request& req) {
    const Window w = window_of(req, reader);
    const auto function = opt_param(req, "function");
    const ErrorGroups e = reader.error_groups(w.since, w.until, function, 100);
    const std::string keep = function ? "&amp;function=" + url_encode(*function) : "";
    return page("Errors", "<h1>Errors</h1>\n" + range_links("/errors", w, keep) +
                              (e.groups.empty() ? "<p class=\"none\">no failure in this window</p>\n" : error_groups_table(e, w)),
                "", options.refresh_seconds);
  }

  // The window's shape: failures per hour, durations per function, sources, users, detection.
  std::string analytics(ViewReader& reader, const httplib::Request& req) {
    const Window w = window_of(req, reader);
    const auto function = opt_param(req, "function");
    const std::string keep = function ? "&amp;function=" + url_encode(*function) : "";
    const std::string fn_param = function ? "&function=" + url_encode(*function) : "";
    std::string body = "<h1>Analytics</h1>\n" + range_links("/analytics", w, keep) +
                       "<form class=\"list-filters\" method=\"get\" action=\"/analytics\">" +
                       window_fields(w) +
                       "<label>function <input name=\"function\" size=\"24\" value=\"" + esc(function.value_or(""), 200) +
                       "\" placeholder=\"all\"></label> <button>apply</button></form>\n"
                       "<p class=\"sub\">The invocations that started in the window (executions: of those invocations). "
                       "Each figure links to what it counts.</p>\n";
    // Failure rate per hour: failed or abandoned of the finished ones.
    std::map<Timestamp, std::pair<int64_t, int64_t>> per_hour;  // (ok, failed)
    for (const auto& h : reader.hourly(w.since, w.until, function, 50000)) {
      per_hour[h.hour].first += h.ok;
      per_hour[h.hour].second += h.failed;
    }
    body += "<h2>Failure rate per hour</h2>\n";
    if (per_hour.empty()) {
      body += "<p class=\"none\">no invocation in this window</p>\n";
    } else {
      std::vector<ChartBar> bars;
      std::vector<Timestamp> hours;
      for (const auto& [hour, c] : per_hour) {
        const int64_t done = c.first + c.second;
        bars.push_back({format_hour(hour).substr(5), format_hour(hour) + ": " + std::to_string(c.second) + " of " +
                                                         std::to_string(done) + " failed or abandoned",
                        done ? 100.0 * double(c.second) / double(done) : 0.0});
        hours.push_back(hour);
      }
      body += bar_chart(bars, "failed or abandoned, % of the hour's finished invocations",
                        [](double v) { return number(v, 1) + " %"; }, [&](size_t i) {
                          return std::optional<std::string>("/invocations?from=" + format_rfc3339(std::max(hours[i], w.since)) +
                                                            "&to=" + format_rfc3339(std::min(hours[i] + kMicrosPerHour, w.until)) +
                                                            "&status=failed" + fn_param);
                        });
    }
    // Durations per function.
    body += "<h2>Durations per function</h2>\n";
    const auto& bins = duration_bins();
    const auto histograms = reader.duration_histograms(w.since, w.until, function);
    if (histograms.empty()) body += "<p class=\"none\">no finished invocation in this window</p>\n";
    for (const auto& h : histograms) {
      std::vector<ChartBar> bars;
      for (size_t b = 0; b < bins.size(); ++b) bars.push_back({bin_label(bins[b]), bin_label(bins[b]), double(h.counts[b])});
      body += "<h4>" + esc(h.function) + "</h4>\n" +
              bar_chart(bars, "invocations by duration", [](double v) { return number(v); });
    }
    // Sources and users.
    const SourceBreakdown src = reader.source_breakdown(w.since, w.until, function, 20);
    const auto rate = [](int64_t failed, int64_t n) { return n ? number(100.0 * double(failed) / double(n), 1) + " %" : std::string("–"); };
    body += "<h2>By table and operation</h2>\n";
    if (src.by_source.empty()) body += "<p class=\"none\">no invocation in this window</p>\n";
    else {
      body += "<table class=\"list\"><tr><th>table</th><th>operation</th><th>invocations</th><th>failed or abandoned</th>"
              "<th>failure rate</th><th>mean duration</th></tr>\n";
      for (const auto& c : src.by_source) {
        const std::string list = "/invocations?" + w.link_params() + keep +
                                 (c.table ? "&amp;table=" + url_encode(*c.table) : "") +
                                 (c.operation ? "&amp;operation=" + url_encode(*c.operation) : "");
        body += "<tr><td>" + esc(c.table.value_or("(none)"), 80) + "</td><td>" + esc(c.operation.value_or("(none)"), 20) +
                "</td><td class=\"num\">" + (c.table ? "<a href=\"" + list + "\">" + std::to_string(c.invocations) + "</a>"
                                                      : std::to_string(c.invocations)) +
                "</td><td class=\"num\">" + std::to_string(c.failed) + "</td><td class=\"num\">" + rate(c.failed, c.invocations) +
                "</td><td class=\"num\">" + ms_text(c.avg_ms) + "</td></tr>\n";
      }
      body += "</table>\n";
    }
    body += "<h2>Users with the most invocations</h2>\n";
    if (src.top_users.empty()) body += "<p class=\"none\">no invocation with a user in this window</p>\n";
    else {
      body += "<table class=\"list\"><tr><th>user</th><th>invocations</th><th>failed or abandoned</th><th>failure rate</th>"
              "<th>mean duration</th></tr>\n";
      for (const auto& c : src.top_users)
        body += "<tr><td>" + esc(c.user.value_or(""), 80) + "</td><td class=\"num\"><a href=\"/invocations?" + w.link_params() + keep +
                "&amp;q=" + url_encode("email:" + c.user.value_or("")) + "\">" + std::to_string(c.invocations) +
                "</a></td><td class=\"num\">" + std::to_string(c.failed) + "</td><td class=\"num\">" + rate(c.failed, c.invocations) +
                "</td><td class=\"num\">" + ms_text(c.avg_ms) + "</td></tr>\n";
      body += "</table>\n";
    }
    // Events by detection rate: detected of checked.
    auto events = reader.name_counts("event", "detected", w.since, w.until, function, 500);
    std::sort(events.begin(), events.end(), [](const NameStats& a, const NameStats& b) {
      const double ra = double(a.detected) / double(std::max<int64_t>(1, a.runs)), rb = double(b.detected) / double(std::max<int64_t>(1, b.runs));
      return ra != rb ? ra > rb : a.runs != b.runs ? a.runs > b.runs : a.name < b.name;
    });
    body += "<h2>Events by detection rate</h2>\n";
    if (events.empty()) body += "<p class=\"none\">no event detected in this window</p>\n";
    else {
      body += "<table class=\"list\"><tr><th>event</th><th>checked</th><th>detected</th><th>detection rate</th></tr>\n";
      for (size_t i = 0; i < events.size() && i < 50; ++i) {
        const auto& e = events[i];
        body += "<tr><td>" + esc(e.name, 80) + "</td><td class=\"num\"><a href=\"/invocations?" + w.link_params() + keep + "&amp;q=" +
                url_encode("checked:" + e.name) + "\">" + std::to_string(e.runs) + "</a></td><td class=\"num\"><a href=\"/invocations?" +
                w.link_params() + keep + "&amp;q=" + url_encode("event:" + e.name) + "\">" + std::to_string(e.detected) +
                "</a></td><td class=\"num\">" + rate(e.detected, e.runs) + "</td></tr>\n";
      }
      body += "</table>\n";
    }
    return page("Analytics", body, "", options.refresh_seconds);
  }

  void routes() {
    auto html = [this](std::string (Impl::*fn)(ViewReader&, const httplib::Request&)) {
      return [this, fn](const httplib::Request& req, httplib::Response& res) {
        serve(req, res, [&](ViewReader& r, const httplib::Request& q) {
          std::string out = (this->*fn)(r, q);
          if (out.rfind("redirect:", 0) == 0) {
            res.set_redirect(out.substr(9), 303);
            return std::string();
          }
          return out;
        });
      };
    };
    server.Get("/", html(&Impl::overview));
    server.Get("/invocations", html(&Impl::invocations));
    server.Get(R"(/invocation/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))", html(&Impl::invocation));
    server.Get("/errors", html(&Impl::errors));
    server.Get("/analytics", html(&Impl::analytics));
    server.Get("/jobs", [this](const httplib::Request& req, httplib::Response& res) {
      serve(req, res, [this](ViewReader& r, const httplib::Request& q) { return stats(r, q, true); });
    });
    server.Get("/events", [this](const httplib::Request& req, httplib::Response& res) {
      serve(req, res, [this](ViewReader& r, const httplib::Request& q) { return stats(r, q, false); });
    });
    server.Get("/static/app.js", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(dashboard_script(), "text/javascript; charset=utf-8");
      res.set_header("Cache-Control", "max-age=3600");
    });
    server.Get("/login", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(page("Sign in", "<h1>Sign in</h1><form method=\"post\" action=\"/login\"><p><label>Token "
                                      "<input type=\"password\" name=\"token\" autocomplete=\"current-password\"></label> "
                                      "<button>Sign in</button></p></form>"),
                      "text/html; charset=utf-8");
    });
    server.Post("/login", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string token = req.has_param("token") ? req.get_param_value("token") : "";
      if (!options.auth_token || !constant_time_equal(token, *options.auth_token)) {
        res.status = 403;
        res.set_content(page("Sign in", "<h1>Sign in</h1><p>Wrong token.</p><p><a href=\"/login\">Try again</a></p>"),
                        "text/html; charset=utf-8");
        return;
      }
      // Secure when the page came over TLS: a TLS proxy in front says so (docs/operations.md).
      const bool tls = req.get_header_value("X-Forwarded-Proto") == "https";
      res.set_header("Set-Cookie",
                     "edpipe_token=" + token + "; HttpOnly; SameSite=Strict; Path=/" + (tls ? "; Secure" : ""));
      res.set_redirect("/", 303);
    });
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      add_security_headers(res);
      if (req.path == "/login" || req.path == "/static/app.js" || authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content(page("Sign in", "<h1>Sign in needed</h1><p><a href=\"/login\">Sign in</a> with the server's token.</p>"),
                      "text/html; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    });
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      add_security_headers(res);  // also httplib's own 400 and 414, written before any routing
      if (!res.body.empty()) return;
      if (res.status == 404)
        res.set_content(page("Not found", "<h1>Not found</h1><p>No such page.</p>"), "text/html; charset=utf-8");
      else
        res.set_content(page("Error", "<h1>" + std::to_string(res.status) + "</h1>"), "text/html; charset=utf-8");
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      add_security_headers(res);
      res.status = 400;
      res.set_content(page("Bad request", "<h1>Bad request</h1>"), "text/html; charset=utf-8");
    });
  }
};

WebServer::WebServer(ServeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& s = impl_->server;
  httplib::Headers defaults;
  for (const auto& [name, value] : kSecurityHeaders) defaults.emplace(name, value);
  s.set_default_headers(defaults);
  s.set_payload_max_length(64 * 1024);
  impl_->routes();
  GateLimits limits;
  limits.workers = impl_->options.threads;
  limits.head_deadline = std::chrono::seconds(impl_->options.client_timeout_seconds);
  limits.max_body_bytes = 64 * 1024;
  const int write_timeout = impl_->options.client_timeout_seconds;
  impl_->gate = std::make_unique<RequestGate>(
      limits, [this, write_timeout](ArrivedRequest&& r) { impl_->server.answer(r, write_timeout); },
      security_header_lines());
}

WebServer::~WebServer() = default;

bool WebServer::bind(std::string& error) {
  const auto& o = impl_->options;
  if (!impl_->gate->bind(o.host, o.port, error)) return false;
  if (!impl_->gate->bound_to_loopback() && !o.auth_token) {
    error = "listening on " + o.host + " (not a loopback address) needs a token";
    return false;
  }
  return true;
}

int WebServer::bound_port() const { return impl_->gate->port(); }
void WebServer::run() { impl_->gate->run(); }
void WebServer::stop() { impl_->gate->stop(); }

}  // namespace edpipe::view
