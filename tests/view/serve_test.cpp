// `edpipe serve` against the throwaway PostgreSQL with the samples (plus hostile text and a run
// of invocations that share one timestamp): every page, the search by each kind of key,
// pagination across equal timestamps, 400 and 404, auth on and off, escaping, slow clients,
// SIGTERM, and every page in headless Chromium with no console error.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "core/timestamp.h"
#include "load/pg_test_support.h"
#include "view/html_report.h"
#include "view/web_server.h"

namespace edpipe::view {
namespace {

namespace fs = std::filesystem;

const char* kHostile = "0badc0de-0000-4000-8000-000000000666";
constexpr int kSameTs = 120;  // invocations with one created_at

std::string same_ts_input() {
  std::string out;
  for (int i = 0; i < kSameTs; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "5a5a5a5a-0000-4000-8000-%012d", i);
    out += std::string(R"({"type":"invocation.start","ts":"2026-11-20T10:25:00.000Z","invocation_id":")") + id +
           R"(","source_function":"same-ts"})" "\n";
  }
  return out;
}

// An UPDATE whose row kept one column, changed one, gained one and lost one.
const char* kRowChange = "c4a96e00-0000-4000-8000-000000000001";
std::string row_change_input() {
  return std::string(R"({"type":"invocation.start","ts":"2026-11-20T10:40:00.000Z","invocation_id":")") + kRowChange +
         R"(","source_function":"fn-rows","source_event_payload":{"event":{"op":"UPDATE","data":{"old":{"kept":1,"moved":"a","gone":true},"new":{"kept":1,"moved":"b","added":{"x":[1,2]}}}},"table":{"schema":"public","name":"rows"}}}
)";
}

std::string hostile_input() {
  return std::string(R"({"type":"invocation.start","ts":"2026-11-20T10:20:00.000Z","invocation_id":")") + kHostile +
         R"(","source_function":"<b>fn</b>"}
{"type":"job.start","ts":"2026-11-20T10:20:00.030Z","invocation_id":")" + kHostile +
         R"(","job_execution_id":"0badc0de-0000-4000-8000-0000000000f1","event_execution_id":"0badc0de-0000-4000-8000-0000000000e1","job_name":"<svg onload=alert(2)>"}
{"type":"job.log","ts":"2026-11-20T10:20:00.031Z","invocation_id":")" + kHostile +
         R"(","job_execution_id":"0badc0de-0000-4000-8000-0000000000f1","level":"error","message":"<script>alert(1)</script>","seq":0}
{"type":"job.end","ts":"2026-11-20T10:20:00.090Z","invocation_id":")" + kHostile +
         R"(","job_execution_id":"0badc0de-0000-4000-8000-0000000000f1","event_execution_id":"0badc0de-0000-4000-8000-0000000000e1","job_name":"<svg onload=alert(2)>","status":"failed","error":{"message":"<img src=x onerror=alert(6)> 42"}}
{"type":"invocation.end","ts":"2026-11-20T10:20:00.120Z","invocation_id":")" + kHostile +
         R"(","status":"failed","error":"<script>alert(4)</script>"}
)";
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new testing::TestDatabase();
    dir_ = fs::path(EDPIPE_TEST_OUTPUT_DIR) / "serve";
    fs::create_directories(dir_);
    std::ofstream(dir_ / "hostile.ndjson") << hostile_input();
    std::ofstream(dir_ / "same-ts.ndjson") << same_ts_input() << row_change_input();
    const auto r = testing::run_edpipe("load --quiet --db dbname=" + db_->name() + " " EDPIPE_SAMPLES_DIR " " +
                                       (dir_ / "hostile.ndjson").string() + " " + (dir_ / "same-ts.ndjson").string());
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }

  // A server in this process on a free loopback port, stopped at the end of the test.
  struct Running {
    explicit Running(ServeOptions o) : server(std::move(o)) {
      std::string error;
      EXPECT_TRUE(server.bind(error)) << error;
      thread = std::thread([this] { server.run(); });
      client = std::make_unique<httplib::Client>("127.0.0.1", server.bound_port());
      client->set_read_timeout(20, 0);
    }
    ~Running() {
      server.stop();
      thread.join();
    }
    WebServer server;
    std::thread thread;
    std::unique_ptr<httplib::Client> client;
  };
  static ServeOptions options() {
    ServeOptions o;
    o.port = 0;
    o.conninfo = db_->conninfo();
    o.client_timeout_seconds = 2;
    return o;
  }
  static testing::TestDatabase* db_;
  static fs::path dir_;
};
testing::TestDatabase* ServeTest::db_ = nullptr;
fs::path ServeTest::dir_;

TEST_F(ServeTest, EveryPageAnswersWithItsSecurityHeaders) {
  Running s(options());
  for (const char* path : {"/", "/?range=1h", "/?range=7d", "/invocations", "/invocations?status=failed&range=7d",
                           "/invocation/dddddddd-0000-4000-8000-000000000004", "/jobs", "/events?range=7d", "/errors?range=7d", "/analytics?range=7d",
                           "/?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z", "/static/app.js", "/login"}) {
    const auto r = s.client->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path << "\n" << r->body;
    EXPECT_NE(r->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos) << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
  }
  const auto detail = s.client->Get("/invocation/aaaaaaaa-0000-4000-8000-000000000001");
  EXPECT_NE(detail->body.find("class=\"waterfall\""), std::string::npos);
  EXPECT_NE(detail->body.find("Hasura payload"), std::string::npos);
  EXPECT_NE(detail->body.find("href=\"/invocation/bbbbbbbb-0000-4000-8000-000000000002\""), std::string::npos) << "the chain";
  // The flow of its chain, drawn from the caused invocation's page too, the page's own outlined.
  const auto flow_of = [&](const std::string& body) { return body.substr(std::min(body.size(), body.find("<svg class=\"flow\""))); };
  for (const auto* page : {&detail->body}) {
    const std::string flow = flow_of(*page);
    EXPECT_NE(flow.find("<a href=\"/invocation/bbbbbbbb-0000-4000-8000-000000000002\">"), std::string::npos);
    EXPECT_NE(flow.find("updateAnalytics"), std::string::npos);
  }
  const auto caused = s.client->Get("/invocation/bbbbbbbb-0000-4000-8000-000000000002");
  EXPECT_NE(caused->body.find("href=\"/invocation/aaaaaaaa-0000-4000-8000-000000000001\""), std::string::npos);
  const std::string caused_flow = flow_of(caused->body);
  EXPECT_NE(caused_flow.find("<a href=\"/invocation/aaaaaaaa-0000-4000-8000-000000000001\"><g class=\"node\">"), std::string::npos)
      << "its chain drawn from the invocation that started it";
  EXPECT_NE(caused_flow.find("<a href=\"/invocation/bbbbbbbb-0000-4000-8000-000000000002\"><g class=\"node current\">"),
            std::string::npos);
  EXPECT_NE(caused_flow.find("emailReceipt"), std::string::npos);
  const auto jobs = s.client->Get("/jobs?range=7d");
  EXPECT_NE(jobs->body.find("updateAnalytics"), std::string::npos);
  EXPECT_NE(jobs->body.find("Request failed with status code 503"), std::string::npos) << "its most common error";
}

std::set<std::string> ids_on(const std::string& body) {
  std::set<std::string> out;
  static const std::regex link("href=\"/invocation/([0-9a-f-]{36})\"");
  for (std::sregex_iterator it(body.begin(), body.end(), link), end; it != end; ++it) out.insert((*it)[1]);
  return out;
}

TEST_F(ServeTest, SearchFindsByEachKindOfKey) {
  Running s(options());
  auto found = [&](const std::string& q) {
    const auto r = s.client->Get(("/invocations?range=7d&q=" + httplib::detail::encode_query_param(q)).c_str());
    EXPECT_TRUE(r && r->status == 200) << q;
    return r ? ids_on(r->body) : std::set<std::string>{};
  };
  const std::string a = "aaaaaaaa-0000-4000-8000-000000000001", b = "bbbbbbbb-0000-4000-8000-000000000002",
                    d = "dddddddd-0000-4000-8000-000000000004";
  EXPECT_EQ(found("order-7731"), (std::set<std::string>{a, b})) << "correlation id";
  EXPECT_EQ(found("moves:123"), std::set<std::string>{a}) << "source table:record id";
  EXPECT_EQ(found("admin@company.com"), std::set<std::string>{d}) << "user e-mail";
  EXPECT_EQ(found("user.deleted"), std::set<std::string>{d}) << "event name";
  EXPECT_EQ(found("writeAuditTrail"), std::set<std::string>{d}) << "job name";
  EXPECT_EQ(found("webhook rejected"), std::set<std::string>{d}) << "error text";
  EXPECT_TRUE(found("event-detector-notifications").count(b)) << "function";
  EXPECT_TRUE(found("100%_\\").empty()) << "LIKE's own characters are literal";
  s.client->set_follow_location(false);
  const auto by_id = s.client->Get(("/invocations?q=" + d).c_str());
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->status, 303);
  EXPECT_EQ(by_id->get_header_value("Location"), "/invocation/" + d);
}

TEST_F(ServeTest, SearchSaysWhatItSearchedAndFailureLinksListWhereTheNameFailed) {
  Running s(options());
  const auto r = s.client->Get("/invocations?range=7d&q=%20admin%40company.com%20");
  ASSERT_TRUE(r && r->status == 200);
  EXPECT_NE(r->body.find("as correlation id or e-mail: 0 by correlation id + 1 by e-mail"), std::string::npos) << r->body;
  const auto by_event = s.client->Get("/invocations?range=7d&q=user.deleted");
  ASSERT_TRUE(by_event && by_event->status == 200);
  EXPECT_NE(by_event->body.find("found as detected event"), std::string::npos) << by_event->body;
  // Every "failed" link of the jobs and events pages lists exactly the invocations where that
  // name failed, whatever the invocation ended as.
  size_t links = 0;
  for (const char* page : {"/jobs?range=7d", "/events?range=7d"}) {
    const auto list = s.client->Get(page);
    ASSERT_TRUE(list && list->status == 200) << page;
    static const std::regex failed_link("href=\"/invocations\\?q=(failed-(job|event)%3A[^&\"]+)&amp;range=7d\"");
    for (std::sregex_iterator it(list->body.begin(), list->body.end(), failed_link), end; it != end; ++it, ++links) {
      const std::string q = (*it)[1];
      const auto drill = s.client->Get(("/invocations?range=7d&q=" + q).c_str());
      ASSERT_TRUE(drill && drill->status == 200) << q;
      const std::string name = httplib::detail::decode_url(q.substr(q.find("%3A") + 3), true);
      const bool job = (*it)[2] == "job";
      std::set<std::string> want;
      pqxx::work tx(db_->conn());
      for (const auto& row : tx.exec_params(job ? "SELECT invocation_id::text FROM job_executions WHERE job_name = $1 AND status = 'failed'"
                                                : "SELECT invocation_id::text FROM event_executions WHERE event_name = $1 "
                                                  "AND status IN ('handler_failed', 'detection_failed')",
                                            name))
        want.insert(row[0].as<std::string>());
      EXPECT_EQ(ids_on(drill->body), want) << q;
    }
  }
  EXPECT_GE(links, 2u) << "the samples have a failed job and a failed event";
}

// Each preset spans what it says back from the newest record; the from/to form below them holds
// the window shown, and sent as it is, it shows that window again, on every page. A time without
// a zone is UTC.
TEST_F(ServeTest, EveryRangePresetAndTheFromToFormNameTheirWindow) {
  Running s(options());
  static const std::regex form("<input name=\"from\" size=\"27\" value=\"([^\"]+)\"></label> <label>to <input name=\"to\" "
                               "size=\"27\" value=\"([^\"]+)\">");
  static const std::regex shown("· ([^ <]+) to ([^<]+)</p>\n<form class=\"window\"");
  const std::pair<const char*, int64_t> presets[] = {{"1h", 1}, {"6h", 6}, {"24h", 24}, {"3d", 72}, {"7d", 168}, {"30d", 720}};
  for (const char* path : {"/", "/invocations", "/jobs", "/events"}) {
    for (const auto& [range, hours] : presets) {
      const auto r = s.client->Get((std::string(path) + "?range=" + range).c_str());
      ASSERT_TRUE(r && r->status == 200) << path << " " << range;
      std::smatch f, w;
      ASSERT_TRUE(std::regex_search(r->body, f, form)) << path << " " << range;
      const auto since = parse_rfc3339(std::string(f[1])), until = parse_rfc3339(std::string(f[2]));
      ASSERT_TRUE(since && until) << f[0];
      EXPECT_EQ(*until - *since, hours * kMicrosPerHour) << path << " " << range;
      EXPECT_NE(r->body.find("<b>" + std::string(range) + "</b>"), std::string::npos) << path << " " << range;
      // The form sent back as it is: the same window, printed the same.
      ASSERT_TRUE(std::regex_search(r->body, w, shown)) << path << " " << range;
      const auto again = s.client->Get((std::string(path) + "?from=" + std::string(f[1]) + "&to=" + std::string(f[2])).c_str());
      ASSERT_TRUE(again && again->status == 200) << path << " " << range;
      EXPECT_NE(again->body.find(std::string(w[1]) + " to " + std::string(w[2])), std::string::npos) << path << " " << range;
    }
  }
  const auto no_zone = s.client->Get("/?from=2026-11-20T10:00:00&to=2026-11-20T11:00:00");
  ASSERT_TRUE(no_zone && no_zone->status == 200);
  EXPECT_NE(no_zone->body.find("2026-11-20T10:00:00.000000Z to 2026-11-20T10:59:59.999999Z"), std::string::npos);
  const auto unknown = s.client->Get("/?range=2d");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
}

// The invocation list shows each invocation's detected events, jobs run, table and operation,
// and user, as the table holds them.
TEST_F(ServeTest, TheInvocationListShowsEventsJobsTableAndUser) {
  Running s(options());
  pqxx::work tx(db_->conn());
  size_t rows = 0;
  // Per function (a page each: the samples' functions have fewer invocations than a page holds).
  for (const auto& f : tx.exec("SELECT source_function FROM invocations GROUP BY 1 HAVING count(*) <= 50 ORDER BY 1")) {
    const std::string function = f[0].as<std::string>();
    const auto r = s.client->Get(("/invocations?range=30d&function=" + httplib::detail::encode_query_param(function)).c_str());
    ASSERT_TRUE(r && r->status == 200) << function;
    EXPECT_NE(r->body.find("<th>events detected</th><th>jobs run</th><th>table</th><th>user</th>"), std::string::npos);
    for (const auto& row : tx.exec_params("SELECT id::text, events_detected_count, total_jobs_run, coalesce(source_table, ''), "
                                          "source_operation, coalesce(source_user_email, '') FROM invocations "
                                          "WHERE source_function = $1", function)) {
      const std::string link = "<a href=\"/invocation/" + row[0].as<std::string>() + "\">";
      const size_t at = r->body.find(link);
      ASSERT_NE(at, std::string::npos) << row[0].as<std::string>();
      const size_t start = r->body.rfind("<tr>", at);
      const std::string cells = "<td class=\"num\">" + row[1].as<std::string>() + "</td><td class=\"num\">" +
                                row[2].as<std::string>() + "</td><td>" + html_escape(row[3].as<std::string>()) +
                                (row[4].is_null() ? std::string() : " " + html_escape(row[4].as<std::string>())) + "</td><td>" +
                                html_escape(row[5].as<std::string>()) + "</td><td>" + link;
      EXPECT_NE(r->body.substr(start, at + link.size() - start).find(cells), std::string::npos) << cells;
      ++rows;
    }
  }
  EXPECT_GE(rows, 9u);
}

// A job's options and result, stored and shown nowhere before, are on its invocation's page.
TEST_F(ServeTest, TheInvocationPageShowsEachJobsOptionsAndResult) {
  Running s(options());
  const auto r = s.client->Get("/invocation/aaaaaaaa-0000-4000-8000-000000000001");
  ASSERT_TRUE(r && r->status == 200);
  pqxx::work tx(db_->conn());
  size_t shown = 0;
  for (const auto& row : tx.exec("SELECT job_name, job_options::text, result::text FROM job_executions "
                                 "WHERE invocation_id = 'aaaaaaaa-0000-4000-8000-000000000001' AND result IS NOT NULL")) {
    // In the job's own section.
    const size_t section = r->body.find("</span> job " + html_escape(row[0].as<std::string>()) + " <code>");
    ASSERT_NE(section, std::string::npos) << row[0].as<std::string>();
    const std::string block = "<summary>options and result</summary><pre>options " +
                              html_escape(row[1].is_null() ? "(none)" : row[1].as<std::string>()) + "\nresult  " +
                              html_escape(row[2].as<std::string>());
    EXPECT_LT(r->body.find(block, section), r->body.find("</section>", section)) << block;
    ++shown;
  }
  EXPECT_GT(shown, 0u);
}

// The errors page: the samples' failures as groups with their masked message, and every link
// on it (functions, names, occurrences, ranges) answers.
TEST_F(ServeTest, TheErrorsPageGroupsFailuresAndEveryLinkAnswers) {
  Running s(options());
  const auto r = s.client->Get("/errors?range=7d");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("Request failed with status code &lt;n&gt;"), std::string::npos) << "numbers masked";
  EXPECT_NE(r->body.find("title=\"Request failed with status code 503\""), std::string::npos) << "the newest as written";
  EXPECT_NE(r->body.find("Error: downstream webhook rejected the event"), std::string::npos) << "a handler's";
  EXPECT_EQ(r->body.find("<script"), r->body.rfind("<script")) << "the page's own script alone";
  EXPECT_NE(r->body.find("href=\"/invocation/dddddddd-0000-4000-8000-000000000004\""), std::string::npos);
  static const std::regex link("href=\"(/[^\"]*)\"");
  int links = 0;
  for (std::sregex_iterator it(r->body.begin(), r->body.end(), link), end; it != end; ++it) {
    std::string path = (*it)[1];
    for (size_t at; (at = path.find("&amp;")) != std::string::npos;) path.replace(at, 5, "&");
    const auto page = s.client->Get(path);
    ASSERT_TRUE(page) << path;
    EXPECT_EQ(page->status, 200) << path;
    ++links;
  }
  EXPECT_GT(links, 12);
  // A function's filter keeps only its failures.
  const auto users = s.client->Get("/errors?range=7d&function=event-detector-users");
  ASSERT_TRUE(users);
  EXPECT_NE(users->body.find("downstream webhook rejected"), std::string::npos);
  EXPECT_EQ(users->body.find("Request failed with status code"), std::string::npos);
}

// A walk from every top-level page, as a user clicks: every link on them and on the pages they
// lead to (two clicks deep, at most 800 pages) answers 200. Links are same-origin paths; the
// walk skips the script and the sign-in form, which EveryPageAnswersWithItsSecurityHeaders asks.
TEST_F(ServeTest, EveryLinkTwoClicksFromEveryPageAnswers) {
  Running s(options());
  static const std::regex link("href=\"(/[^\"]*)\"");
  std::set<std::string> seen;
  std::vector<std::string> level = {"/", "/?range=30d", "/invocations?range=30d", "/invocations?range=30d&status=failed",
                                    "/jobs?range=30d", "/events?range=30d", "/errors?range=30d", "/analytics?range=30d"};
  for (const auto& p : level) seen.insert(p);
  size_t fetched = 0;
  std::set<std::string> kinds;  // the first path segment of every page reached
  for (int depth = 0; depth <= 2 && !level.empty(); ++depth) {
    std::vector<std::string> next;
    for (const auto& path : level) {
      if (fetched >= 800) break;
      const auto r = s.client->Get(path);
      ++fetched;
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 200) << path << "\n" << r->body.substr(0, 400);
      kinds.insert(path.substr(0, path.find_first_of("/?", 1)));
      if (depth == 2) continue;
      for (std::sregex_iterator it(r->body.begin(), r->body.end(), link), end; it != end; ++it) {
        std::string target = (*it)[1];
        for (size_t at; (at = target.find("&amp;")) != std::string::npos;) target.replace(at, 5, "&");
        if (target.rfind("/static/", 0) == 0 || target.rfind("/login", 0) == 0) continue;
        if (seen.insert(target).second) next.push_back(target);
      }
    }
    level = std::move(next);
  }
  EXPECT_GT(fetched, 150u) << "the walk reached too few pages to tell";
  for (const char* kind : {"/", "/invocations", "/invocation", "/jobs", "/events", "/errors", "/analytics"})
    EXPECT_TRUE(kinds.count(kind)) << kind << " was never reached";
}

// The payload's row old → new: the changed columns first (changed, gained, lost; by name), old
// and new side by side, the unchanged folded below.
TEST_F(ServeTest, TheInvocationPageShowsTheRowChangedColumnsFirst) {
  Running s(options());
  const auto r = s.client->Get(std::string("/invocation/") + kRowChange);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("Row UPDATE on rows: 3 of 4 columns changed"), std::string::npos) << r->body;
  static const std::regex column("<tr><td><code>([a-z]+)</code></td><td class=\"(old)?\">(.*?)</td><td class=\"(new)?\">(.*?)</td></tr>");
  std::vector<std::string> seen;
  for (std::sregex_iterator it(r->body.begin(), r->body.end(), column), end; it != end; ++it)
    seen.push_back((*it)[1].str() + " " + (*it)[3].str() + " → " + (*it)[5].str());
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "added <span class=\"none\">–</span> → <code>{&quot;x&quot;: [1, 2]}</code>",
                      "gone <code>true</code> → <span class=\"none\">–</span>",
                      "moved <code>&quot;a&quot;</code> → <code>&quot;b&quot;</code>",
                      "kept <code>1</code> → <code>1</code>"}));
  EXPECT_NE(r->body.find("<details><summary>1 unchanged</summary>"), std::string::npos);
  const auto moves = s.client->Get("/invocation/aaaaaaaa-0000-4000-8000-000000000001");
  EXPECT_NE(moves->body.find("Row UPDATE on moves: 1 of 2 columns changed"), std::string::npos);
}

// Each job has its own section: status, id, duration, event, error, its log lines labelled with
// it; the flow's job nodes point at it; the correlation id links to every invocation sharing it.
TEST_F(ServeTest, TheInvocationPageHasASectionPerJobAndLinksTheCorrelationId) {
  Running s(options());
  const auto r = s.client->Get("/invocation/aaaaaaaa-0000-4000-8000-000000000001");
  ASSERT_TRUE(r && r->status == 200);
  const size_t job = r->body.find("<section class=\"job\" id=\"job-f0000002-0000-4000-8000-000000000002\">");
  ASSERT_NE(job, std::string::npos) << r->body;
  const std::string section = r->body.substr(job, r->body.find("</section>", job) - job);
  EXPECT_NE(section.find("<span class=\"status bad\">failed</span> job updateAnalytics"), std::string::npos) << section;
  EXPECT_NE(section.find("Request failed with status code 503"), std::string::npos) << section;
  EXPECT_NE(section.find("of event move.pickup.successful"), std::string::npos) << section;
  EXPECT_NE(r->body.find("href=\"/invocation/aaaaaaaa-0000-4000-8000-000000000001#job-f0000002-0000-4000-8000-000000000002\""),
            std::string::npos) << "the flow's job node";
  EXPECT_NE(r->body.find(" record 123"), std::string::npos) << "the source row's id";
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r->body, m, std::regex("correlation <a href=\"(/invocations\\?[^\"]*)\">order-7731</a>")));
  const auto shared = s.client->Get(std::regex_replace(m[1].str(), std::regex("&amp;"), "&").c_str());
  ASSERT_TRUE(shared && shared->status == 200);
  EXPECT_EQ(ids_on(shared->body), (std::set<std::string>{"aaaaaaaa-0000-4000-8000-000000000001",
                                                         "bbbbbbbb-0000-4000-8000-000000000002"}));
}

TEST_F(ServeTest, TheOverviewCountsExactlyTheWindowItPrints) {
  Running s(options());
  const auto first = db_->count("SELECT extract(epoch FROM min(created_at))::bigint FROM invocations");
  const auto last = db_->count("SELECT extract(epoch FROM max(created_at))::bigint FROM invocations");
  ASSERT_LT(first, last);
  // A custom window that cuts through the samples (not on hour boundaries), and the ranges.
  const std::string from = format_rfc3339((first + (last - first) / 3) * kMicrosPerSecond + 123456);
  const std::string to = format_rfc3339((last - (last - first) / 4) * kMicrosPerSecond + 654321);
  static const std::regex invocations_card("<div class=\"label\">invocations</div><div class=\"value\">([0-9]+)</div>");
  static const std::regex window_line("<p class=\"sub window\">([^ ]+) to ([^<]+)</p>");
  for (const std::string& query : {"?from=" + from + "&to=" + to, std::string("?range=1h"), std::string("?range=6h"),
                                   std::string("?range=24h"), std::string("?range=3d"), std::string("?range=7d"),
                                   std::string("?range=30d")}) {
    const auto r = s.client->Get(("/" + query).c_str());
    ASSERT_TRUE(r && r->status == 200) << query;
    std::smatch card, window;
    ASSERT_TRUE(std::regex_search(r->body, card, invocations_card)) << query;
    ASSERT_TRUE(std::regex_search(r->body, window, window_line)) << query;
    // The printed window holds its last microsecond: [printed start, printed end + 1 µs).
    const int64_t want = db_->count("SELECT count(*) FROM invocations WHERE created_at >= '" + std::string(window[1]) +
                                    "'::timestamptz AND created_at <= '" + std::string(window[2]) + "'::timestamptz");
    EXPECT_EQ(std::stoll(card[1]), want) << query << " " << window[0];
    // Job health: each card is the jobs of that status of the window's invocations.
    for (const auto& [label, status] : {std::pair<std::string, std::string>{"failed jobs", "failed"},
                                        {"abandoned jobs", "abandoned"}, {"jobs running", "running"}}) {
      const std::regex job_card("<div class=\"label\">" + label + "</div><div class=\"value\">([0-9]+)</div>");
      std::smatch jobs;
      ASSERT_TRUE(std::regex_search(r->body, jobs, job_card)) << query << " " << label;
      EXPECT_EQ(std::stoll(jobs[1]),
                db_->count("SELECT count(*) FROM job_executions j JOIN invocations i ON i.id = j.invocation_id "
                           "WHERE j.status = '" + status + "' AND i.created_at >= '" + std::string(window[1]) +
                           "'::timestamptz AND i.created_at <= '" + std::string(window[2]) + "'::timestamptz"))
          << query << " " << label;
    }
  }
}

// Each hour of the overview's charts says its figures on hover and links to its invocations:
// the list of that hour and function holds as many completed and failed or abandoned ones.
TEST_F(ServeTest, EachChartHourListsItsInvocations) {
  Running s(options());
  const auto overview = s.client->Get("/?range=7d");
  ASSERT_TRUE(overview && overview->status == 200);
  EXPECT_NE(overview->body.find(">invocations per hour</text>"), std::string::npos);
  EXPECT_NE(overview->body.find(">p95 duration per hour</text>"), std::string::npos);
  static const std::regex hour("<a href=\"(/invocations\\?from=[^\"]*)\"><g class=\"hour\"><title>[^:]*:[^:]*: ([0-9]+) completed, "
                               "([0-9]+) failed or abandoned");
  static const std::regex row("<td><span class=\"status (ok|bad|open|idle)\">([a-z]+)</span>");
  int hours = 0;
  for (std::sregex_iterator it(overview->body.begin(), overview->body.end(), hour), end; it != end; ++it) {
    const std::string path = std::regex_replace((*it)[1].str(), std::regex("&amp;"), "&");
    const auto list = s.client->Get(path.c_str());
    ASSERT_TRUE(list && list->status == 200) << path;
    int completed = 0, failed = 0;
    for (std::sregex_iterator r(list->body.begin(), list->body.end(), row), e; r != e; ++r) {
      completed += (*r)[2] == "completed";
      failed += (*r)[2] == "failed" || (*r)[2] == "abandoned";
    }
    EXPECT_EQ(completed, std::stoi((*it)[2])) << path;
    EXPECT_EQ(failed, std::stoi((*it)[3])) << path;
    ++hours;
  }
  EXPECT_GE(hours, 4);
}

// The analytics page: its sections, and every link on it answers (failure hours, sources,
// users, events: each to the invocations it counts).
TEST_F(ServeTest, TheAnalyticsPageLinksEachFigureToItsInvocations) {
  Running s(options());
  const auto r = s.client->Get("/analytics?range=7d");
  ASSERT_TRUE(r && r->status == 200);
  for (const char* section : {"Failure rate per hour", "Durations per function", "By table and operation",
                              "Users with the most invocations", "Events by detection rate"})
    EXPECT_NE(r->body.find(section), std::string::npos) << section;
  EXPECT_NE(r->body.find("<td>moves</td><td>UPDATE</td>"), std::string::npos);
  static const std::regex link("href=\"(/[^\"]*)\"");
  int links = 0;
  for (std::sregex_iterator it(r->body.begin(), r->body.end(), link), end; it != end; ++it) {
    const std::string path = std::regex_replace((*it)[1].str(), std::regex("&amp;"), "&");
    const auto page = s.client->Get(path.c_str());
    ASSERT_TRUE(page) << path;
    EXPECT_EQ(page->status, 200) << path;
    if (path.find("table=moves&operation=UPDATE") != std::string::npos) {
      EXPECT_NE(page->body.find("<td>moves UPDATE</td>"), std::string::npos) << path;
    }
    ++links;
  }
  EXPECT_GT(links, 15);
}

TEST_F(ServeTest, TheOverviewSaysHowOldTheNewestRecordIs) {
  const int64_t days = db_->count("SELECT floor(extract(epoch FROM now() - watermark) / 86400)::bigint FROM edpipe_watermark");
  ASSERT_GE(days, 2) << "the samples are older than two days";
  {
    Running s(options());  // stale after 15 minutes
    const auto r = s.client->Get("/?range=7d");
    ASSERT_TRUE(r && r->status == 200);
    EXPECT_NE(r->body.find("<p class=\"freshness stale\""), std::string::npos) << r->body;
    const bool day_or_next = r->body.find("newest record " + std::to_string(days) + " days ago") != std::string::npos ||
                             r->body.find("newest record " + std::to_string(days + 1) + " days ago") != std::string::npos;
    EXPECT_TRUE(day_or_next) << r->body;
    EXPECT_NE(r->body.find("loading may have stopped"), std::string::npos);
  }
  auto o = options();
  o.stale_after_seconds = (days + 30) * 86400;
  Running s(o);
  const auto r = s.client->Get("/?range=7d");
  ASSERT_TRUE(r && r->status == 200);
  EXPECT_NE(r->body.find("<p class=\"freshness\""), std::string::npos) << "not amber within the threshold";
  EXPECT_EQ(r->body.find("loading may have stopped"), std::string::npos);
}

TEST_F(ServeTest, PagesAcrossEqualTimestampsShowEveryInvocationOnce) {
  Running s(options());
  std::set<std::string> seen;
  std::string next = "/invocations?range=7d&function=same-ts";
  int pages = 0;
  static const std::regex older("href=\"(/invocations\\?[^\"]*before=[^\"]*)\">older");
  while (!next.empty() && pages < 10) {
    const auto r = s.client->Get(std::regex_replace(next, std::regex("&amp;"), "&").c_str());
    ASSERT_TRUE(r && r->status == 200) << next;
    ++pages;
    for (const auto& id : ids_on(r->body)) EXPECT_TRUE(seen.insert(id).second) << id << " shown twice";
    std::smatch m;
    next = std::regex_search(r->body, m, older) ? std::string(m[1]) : "";
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), size_t(kSameTs));
}

// Paging both ways, by time and by duration, across rows that tie on both: older to the last
// page, then newer back to the first, each page the same rows in the same order; the total is
// the window's; the table and operation filters.
TEST_F(ServeTest, PagesWalkOlderAndBackNewerInEitherOrder) {
  Running s(options());
  const auto get = [&](const std::string& path) {
    const auto r = s.client->Get(std::regex_replace(path, std::regex("&amp;"), "&").c_str());
    EXPECT_TRUE(r && r->status == 200) << path;
    return r ? r->body : std::string();
  };
  const auto ordered_ids = [](const std::string& body) {
    std::vector<std::string> out;
    static const std::regex link("<td><a href=\"/invocation/([0-9a-f-]{36})\">");
    for (std::sregex_iterator it(body.begin(), body.end(), link), end; it != end; ++it) out.push_back((*it)[1]);
    return out;
  };
  const auto link = [](const std::string& body, const char* rel) {
    std::smatch m;
    const std::regex re(std::string("rel=\"") + rel + "\" href=\"([^\"]*)\"");
    return std::regex_search(body, m, re) ? std::string(m[1]) : std::string();
  };
  for (const std::string sort : {"time", "duration"}) {
    std::vector<std::vector<std::string>> pages;
    std::string path = "/invocations?range=7d&function=same-ts&size=50&sort=" + sort, body;
    while (!path.empty() && pages.size() < 10) {
      body = get(path);
      pages.push_back(ordered_ids(body));
      path = link(body, "next");
    }
    ASSERT_EQ(pages.size(), 3u) << sort;
    EXPECT_NE(body.find("<p class=\"total\">120 invocations in this window"), std::string::npos) << sort;
    std::set<std::string> all;
    for (const auto& p : pages) all.insert(p.begin(), p.end());
    EXPECT_EQ(all.size(), size_t(kSameTs)) << sort;
    // Back: each newer page is the one walked before it.
    for (size_t back = pages.size() - 1; back > 0; --back) {
      path = link(body, "prev");
      ASSERT_FALSE(path.empty()) << sort << " page " << back;
      body = get(path);
      EXPECT_EQ(ordered_ids(body), pages[back - 1]) << sort << " page " << back - 1;
    }
    EXPECT_EQ(link(body, "prev"), "") << sort << ": the first page has nothing newer";
    EXPECT_NE(link(body, "next"), "") << sort;
  }
  const std::string moves = get("/invocations?range=7d&table=moves&operation=UPDATE");
  std::vector<std::string> want;
  {
    pqxx::work tx(db_->conn());
    for (const auto& r : tx.exec("SELECT id::text FROM invocations WHERE source_table = 'moves' AND source_operation = 'UPDATE' "
                                 "ORDER BY created_at DESC, id DESC"))
      want.push_back(r[0].as<std::string>());
  }
  ASSERT_GE(want.size(), 2u);
  EXPECT_EQ(ordered_ids(moves), want);
  EXPECT_NE(moves.find("<p class=\"total\">" + std::to_string(want.size()) + " invocations in this window"), std::string::npos);
  EXPECT_TRUE(ordered_ids(get("/invocations?range=7d&table=moves&operation=DELETE")).empty());
  // A function searched for: its total from the rollups, as a function filter's (never "N+").
  for (const char* path : {"/invocations?range=7d&q=function%3Asame-ts", "/invocations?range=7d&q=same-ts"})
    EXPECT_NE(get(path).find("<p class=\"total\">120 invocations in this window"), std::string::npos) << path;
}

TEST_F(ServeTest, BadParametersAre400AndUnknownPagesAre404) {
  Running s(options());
  for (const char* path : {"/?range=2y", "/invocations?status=lost", "/invocations?before=yesterday", "/invocations?sort=size", "/invocations?size=7", "/invocations?after=x_y",
                           "/invocations?before=1_not-a-uuid", "/?from=yesterday&to=today",
                           "/?from=2026-11-21T00:00:00Z&to=2026-11-20T00:00:00Z", "/jobs?range=%00"}) {
    const auto r = s.client->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path;
    EXPECT_NE(r->body.find("Bad request"), std::string::npos) << path;
  }
  const std::string long_q = "/invocations?q=" + std::string(500, 'x');
  EXPECT_EQ(s.client->Get(long_q.c_str())->status, 400);
  for (const char* path : {"/invocation/00000000-0000-4000-8000-000000000000", "/invocation/not-an-id", "/nope", "/../etc/passwd"}) {
    const auto r = s.client->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
}

TEST_F(ServeTest, WithATokenEveryPageAsksForIt) {
  ServeOptions o = options();
  o.auth_token = "0123456789abcdef-token";
  Running s(o);
  EXPECT_EQ(s.client->Get("/")->status, 401);
  EXPECT_EQ(s.client->Get("/invocation/dddddddd-0000-4000-8000-000000000004")->status, 401);
  EXPECT_EQ(s.client->Get("/login")->status, 200);
  EXPECT_EQ(s.client->Get("/", {{"Authorization", "Bearer wrong-token-wrong-token"}})->status, 401);
  EXPECT_EQ(s.client->Get("/", {{"Authorization", "Bearer 0123456789abcdef-token"}})->status, 200);
  s.client->set_follow_location(false);
  EXPECT_EQ(s.client->Post("/login", "token=nope", "application/x-www-form-urlencoded")->status, 403);
  const auto in = s.client->Post("/login", "token=0123456789abcdef-token", "application/x-www-form-urlencoded");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->status, 303);
  const std::string cookie = in->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_EQ(s.client->Get("/", {{"Cookie", cookie.substr(0, cookie.find(';'))}})->status, 200);
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", ""));
}

TEST_F(ServeTest, HostileTextIsShownAsText) {
  Running s(options());
  for (const std::string& path : std::vector<std::string>{std::string("/invocation/") + kHostile, "/invocations?range=7d&status=failed",
                                                       "/jobs?range=7d", "/?range=7d", "/errors?range=7d", "/analytics?range=7d",
                                                       "/invocations?range=7d&table=%3Cb%3Ex&operation=%22%3E%3Cb%3E"}) {
    const auto r = s.client->Get(path.c_str());
    ASSERT_TRUE(r && r->status == 200) << path;
    size_t scripts = 0;
    for (size_t at = r->body.find("<script"); at != std::string::npos; at = r->body.find("<script", at + 1)) ++scripts;
    EXPECT_EQ(scripts, 1u) << path << ": only the page's own /static/app.js";
    EXPECT_EQ(r->body.find("<svg onload"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("<b>fn"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("<img src=x"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("<b>x"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("\"\"><b>"), std::string::npos) << path << ": an attribute broken out of";
  }
  const auto errors = s.client->Get("/errors?range=7d");
  EXPECT_NE(errors->body.find("&lt;img src=x onerror=alert(&lt;n&gt;)&gt; &lt;n&gt;"), std::string::npos) << "masked, as text";
  const auto detail = s.client->Get((std::string("/invocation/") + kHostile).c_str());
  EXPECT_NE(detail->body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  const auto search = s.client->Get("/invocations?q=%3Cscript%3Ealert(5)%3C/script%3E");
  EXPECT_NE(search->body.find("&lt;script&gt;alert(5)"), std::string::npos);
  EXPECT_EQ(search->body.find("<script>alert(5)"), std::string::npos);
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

// Sends `request` on a connection of its own; everything the server answers until it closes
// (at most 5 s).
std::string raw_exchange(int port, const std::string& request) {
  const int fd = connect_to(port);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += size_t(n);
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, size_t(n));
  ::close(fd);
  return out;
}

TEST_F(ServeTest, SlowClientsDoNotHoldTheServer) {
  ServeOptions o = options();
  o.threads = 4;
  Running s(o);
  // 50 slowloris sockets from the client's own address: each sends a header byte a second.
  std::vector<int> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(connect_to(s.server.bound_port()));
    ASSERT_GT(::send(slow.back(), "GET / HTTP/1.1\r\n", 16, MSG_NOSIGNAL), 0);
  }
  std::atomic<bool> done{false};
  std::thread drip([&] {
    for (int second = 0; second < 8 && !done.load(); ++second) {
      for (int fd : slow) ::send(fd, "X", 1, MSG_NOSIGNAL);
      for (int i = 0; i < 10 && !done.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  double worst = 0;
  for (int i = 0; i < 6; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = s.client->Get("/jobs");
    worst = std::max(worst, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_LT(worst, 1.0) << "a normal client waited behind the slow ones";
  done.store(true);
  drip.join();
  // A slow one is cut at the deadline of its whole head (5 s after it connected), however
  // often it sent a byte, with a 408 that carries the security headers.
  const int late = slow.back();
  timeval tv{8, 0};
  ::setsockopt(late, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(late, buf, sizeof buf, 0)) > 0;) answer.append(buf, size_t(n));
  EXPECT_NE(answer.find("408"), std::string::npos) << answer;
  EXPECT_NE(answer.find("X-Frame-Options: DENY"), std::string::npos) << answer;
  for (int fd : slow) ::close(fd);
}

TEST_F(ServeTest, AnswersWrittenBeforeRoutingCarryTheSecurityHeadersToo) {
  Running s(options());
  const int port = s.server.bound_port();
  const std::string cases[] = {
      "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",     // 414
      "BREW / HTTP/1.1\r\nHost: x\r\n\r\n",                                 // unknown method
      "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n",  // 431
      "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n",     // 413
      "POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",  // 411
      "garbage\r\n\r\n",
      "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",                            // 404
  };
  for (const auto& request : cases) {
    const std::string answer = raw_exchange(port, request);
    const std::string what = request.substr(0, 40);
    ASSERT_EQ(answer.rfind("HTTP/1.1 4", 0), 0u) << what << ": " << answer.substr(0, 200);
    for (const char* h : {"Content-Security-Policy: default-src 'none'", "X-Content-Type-Options: nosniff",
                          "X-Frame-Options: DENY", "Referrer-Policy: no-referrer"})
      EXPECT_NE(answer.find(h), std::string::npos) << what << " lacks " << h << ": " << answer.substr(0, 300);
  }
}

TEST(ServeAddress, LoopbackIsDecidedFromTheResolvedAddress) {
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("127.0.0.2"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("localhost"));
  EXPECT_FALSE(is_loopback("127.example.com"));
  EXPECT_FALSE(is_loopback("127.0.0.1.example.com"));
  EXPECT_FALSE(is_loopback("0.0.0.0"));
  EXPECT_FALSE(is_loopback(""));
}

TEST_F(ServeTest, TheLoginCookieIsSecureBehindATlsProxy) {
  ServeOptions o = options();
  o.auth_token = "0123456789abcdef-token";
  Running s(o);
  httplib::Params form{{"token", *o.auth_token}};
  const auto plain = s.client->Post("/login", form);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->get_header_value("Set-Cookie").find("Secure"), std::string::npos);
  const auto tls = s.client->Post("/login", httplib::Headers{{"X-Forwarded-Proto", "https"}}, form);
  ASSERT_TRUE(tls);
  EXPECT_NE(tls->get_header_value("Set-Cookie").find("; Secure"), std::string::npos) << tls->get_header_value("Set-Cookie");
  EXPECT_NE(tls->get_header_value("Set-Cookie").find("HttpOnly"), std::string::npos);
}

TEST_F(ServeTest, TheCommandRefusesAnOpenAddressWithoutATokenAndStopsOnSigterm) {
  const auto open = testing::run_edpipe("serve --listen 0.0.0.0:0 --db dbname=" + db_->name());
  EXPECT_EQ(open.status, 2);
  EXPECT_NE(open.err.find("needs --auth-token-file"), std::string::npos) << open.err;
  std::ofstream(dir_ / "short-token") << "short\n";
  const auto weak = testing::run_edpipe("serve --listen 0.0.0.0:0 --auth-token-file " + (dir_ / "short-token").string() +
                                        " --db dbname=" + db_->name());
  EXPECT_EQ(weak.status, 2);
  // Started, answering, then SIGTERM: a clean exit within a few seconds.
  const auto r = testing::run_command("(timeout 30 " EDPIPE_BINARY " serve --listen 127.0.0.1:0 --db dbname=" + db_->name() +
                                      " & pid=$!; sleep 1; kill -TERM $pid; wait $pid; echo exit=$?)");
  EXPECT_NE(r.out.find("exit=0"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("edpipe serve: http://127.0.0.1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stopping (SIGTERM)"), std::string::npos) << r.err;
}

TEST_F(ServeTest, ChromiumRendersEveryPageWithoutAConsoleError) {
  Running s(options());
  const std::string base = "http://127.0.0.1:" + std::to_string(s.server.bound_port());
  int n = 0;
  for (const std::string& path : std::vector<std::string>{"/?range=7d", "/invocations?range=7d",
                                                       "/invocation/aaaaaaaa-0000-4000-8000-000000000001", "/jobs?range=7d",
                                                       "/events?range=7d", "/errors?range=30d", "/analytics?range=30d", std::string("/invocation/") + kHostile}) {
    const fs::path png = dir_ / ("page-" + std::to_string(++n) + ".png");
    fs::remove(png);
    const auto r = testing::run_command("timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
                                        "--enable-logging=stderr --v=0 --user-data-dir=" + (dir_ / "chromium").string() +
                                        " --window-size=1000,1400 --screenshot=" + png.string() + " '" + base + path + "'");
    EXPECT_EQ(r.status, 0) << path << r.err;
    EXPECT_TRUE(fs::exists(png)) << path;
    // The console and the CSP report through the log: no script error, nothing refused.
    for (const char* bad : {"Uncaught", "Refused to", "Content Security Policy", "ERR_"})
      EXPECT_EQ(r.err.find(bad), std::string::npos) << path << ": " << bad << "\n" << r.err;
  }
}

// The script in a real browser: a list page refreshes itself in place (under the page's CSP),
// times show in the browser's zone (here +05:30), a running invocation counts its duration up.
TEST_F(ServeTest, InChromiumListsRefreshInPlaceAndShowLocalTimes) {
  ServeOptions o = options();
  o.refresh_seconds = 1;
  Running s(o);
  const std::string url = "http://127.0.0.1:" + std::to_string(s.server.bound_port()) + "/invocations?range=7d";
  const auto r = testing::run_command("TZ=Asia/Kolkata timeout 120 chromium --headless --no-sandbox --disable-gpu "
                                      "--enable-logging=stderr --v=0 --virtual-time-budget=4000 --user-data-dir=" +
                                      (dir_ / "chromium-dom").string() + " --dump-dom '" + url + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("<main data-refreshes=\"([0-9]+)\">"))) << r.out.substr(0, 3000);
  EXPECT_GE(std::stoi(m[1]), 1) << "refreshed in place";
  EXPECT_TRUE(std::regex_search(r.out, std::regex("<time datetime=\"2026-11-20T10:40:00.000Z\"[^>]*>2026-11-20 16:10:00.000 \\+05:30</time>")))
      << "10:40 UTC in Kolkata";
  EXPECT_TRUE(std::regex_search(r.out, std::regex("data-running-since=\"2026-11-20T10:40:00.000Z\">running [0-9]+ h [0-9]+ min<")))
      << r.out.substr(0, 3000);
  EXPECT_NE(r.out.find("<label class=\"refresh\">"), std::string::npos) << "shown (hidden without the script)";
  for (const char* bad : {"Uncaught", "Refused to", "Content Security Policy"})
    EXPECT_EQ(r.err.find(bad), std::string::npos) << bad << "\n" << r.err;
}

}  // namespace
}  // namespace edpipe::view
