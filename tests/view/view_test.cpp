// `edpipe show` and `edpipe report` against the throwaway PostgreSQL with the samples loaded
// (plus one invocation with hostile text), as a user runs them: the binary, its outputs, and
// the report rendered by a real browser (headless Chromium).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "gen/corpus_generator.h"
#include "load/pg_test_support.h"
#include "test_support.h"
#include "view/html_report.h"
#include "view/terminal_view.h"
#include "view/view_queries.h"

namespace edpipe::view {
namespace {

namespace fs = std::filesystem;

const char* kFailed = "dddddddd-0000-4000-8000-000000000004";  // event-detector-users, a handler failed
const char* kCauser = "aaaaaaaa-0000-4000-8000-000000000001";  // its job caused bbbbbbbb-…-2
const char* kCaused = "bbbbbbbb-0000-4000-8000-000000000002";
const char* kHostile = "0badc0de-0000-4000-8000-000000000666";

// An invocation whose every text is hostile: markup, a terminal escape, a quote.
std::string hostile_input() {
  return std::string(R"({"type":"invocation.start","ts":"2026-11-20T10:20:00.000Z","invocation_id":")") + kHostile +
         R"(","source_function":"<b>fn</b>\"'&"}
{"type":"event.detection.start","ts":"2026-11-20T10:20:00.010Z","invocation_id":")" + kHostile +
         R"(","event_execution_id":"0badc0de-0000-4000-8000-0000000000e1","event_name":"<img src=x onerror=alert(1)>"}
{"type":"event.detection.end","ts":"2026-11-20T10:20:00.020Z","invocation_id":")" + kHostile +
         R"(","event_execution_id":"0badc0de-0000-4000-8000-0000000000e1","event_name":"<img src=x onerror=alert(1)>","detected":true}
{"type":"event.handler.start","ts":"2026-11-20T10:20:00.021Z","invocation_id":")" + kHostile +
         R"(","event_execution_id":"0badc0de-0000-4000-8000-0000000000e1","event_name":"<img src=x onerror=alert(1)>"}
{"type":"job.start","ts":"2026-11-20T10:20:00.030Z","invocation_id":")" + kHostile +
         R"(","job_execution_id":"0badc0de-0000-4000-8000-0000000000f1","event_execution_id":"0badc0de-0000-4000-8000-0000000000e1","job_name":"<svg onload=alert(2)>"}
{"type":"job.log","ts":"2026-11-20T10:20:00.031Z","invocation_id":")" + kHostile +
         R"(","job_execution_id":"0badc0de-0000-4000-8000-0000000000f1","level":"error","message":"<script>alert(1)</script> \u001b[2J\u001b]0;pwned\u0007 done","seq":0}
{"type":"job.end","ts":"2026-11-20T10:20:00.090Z","invocation_id":")" + kHostile +
         R"(","job_execution_id":"0badc0de-0000-4000-8000-0000000000f1","event_execution_id":"0badc0de-0000-4000-8000-0000000000e1","job_name":"<svg onload=alert(2)>","status":"failed","error":{"message":"</td></tr></table><script>alert(3)</script>","stack":"Error\n    at <evil>"}}
{"type":"event.handler.end","ts":"2026-11-20T10:20:00.100Z","invocation_id":")" + kHostile +
         R"(","event_execution_id":"0badc0de-0000-4000-8000-0000000000e1","event_name":"<img src=x onerror=alert(1)>"}
{"type":"invocation.end","ts":"2026-11-20T10:20:00.120Z","invocation_id":")" + kHostile +
         R"(","status":"failed","error":"<script>alert(4)</script>"}
{"type":"invocation.start","ts":"2026-11-20T10:21:00.000Z","invocation_id":"0badc0de-0000-4000-8000-000000000667","source_function":"fn"}
)";
}

class ViewTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new testing::TestDatabase();
    dir_ = fs::path(EDPIPE_TEST_OUTPUT_DIR) / "view";
    fs::create_directories(dir_);
    std::ofstream(dir_ / "hostile.ndjson") << hostile_input();
    const auto r = testing::run_edpipe("load --quiet --db " + db() + " " EDPIPE_SAMPLES_DIR " " + (dir_ / "hostile.ndjson").string());
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }
  static std::string db() { return "dbname=" + db_->name(); }
  static testing::CommandResult show(const std::string& args, const std::string& env = "") {
    return testing::run_edpipe("show " + args + " --db " + db(), env);
  }
  static testing::TestDatabase* db_;
  static fs::path dir_;
};
testing::TestDatabase* ViewTest::db_ = nullptr;
fs::path ViewTest::dir_;

TEST_F(ViewTest, ShowDrawsTheWaterfallOfAFailedInvocation) {
  const auto r = show(std::string(kFailed).substr(0, 8) + " --stacks", "COLUMNS=120");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("invocation dddddddd-0000-4000-8000-000000000004  failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("event-detector-users"), std::string::npos);
  EXPECT_NE(r.out.find("handler_failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error One or more handlers failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("█"), std::string::npos) << "bars";
  EXPECT_EQ(r.out.find("\x1b["), std::string::npos) << "no colour when stdout is not a terminal";
  for (size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1) {
    size_t columns = 0;
    for (size_t i = at; i < nl; ++i) columns += (static_cast<unsigned char>(r.out[i]) & 0xC0) != 0x80;
    EXPECT_LE(columns, 120u) << r.out.substr(at, nl - at);
  }
}

TEST_F(ViewTest, ShowOnATerminalHasColoursUnlessNoColor) {
  auto on_tty = [&](const std::string& env) {
    return testing::run_command("timeout 20 env " + env + " COLUMNS=100 python3 -c \"import pty; pty.spawn(['" EDPIPE_BINARY
                                "', 'show', '" + std::string(kFailed) + "', '--db', '" + db() + "'])\"");
  };
  const auto colour = on_tty("TERM=xterm");
  EXPECT_NE(colour.out.find("\x1b[31m"), std::string::npos) << colour.out;  // failed, in red
  const auto plain = on_tty("NO_COLOR=1");
  EXPECT_NE(plain.out.find("invocation dddddddd"), std::string::npos) << plain.out;
  EXPECT_EQ(plain.out.find("\x1b[3"), std::string::npos) << plain.out;
}

TEST_F(ViewTest, ShowJsonIsTheSameTree) {
  const auto r = show(std::string(kCauser) + " --json");
  ASSERT_EQ(r.status, 0) << r.err;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(r.out).get(doc)) << r.out;
  EXPECT_EQ(std::string_view(doc["id"]), kCauser);
  EXPECT_EQ(std::string_view(doc["correlation_id"]), "order-7731");
  size_t jobs = 0, logs = 0, with_result = 0;
  bool caused = false;
  // A job's options and result as the table holds them (jsonb), minified: what the JSON must carry.
  auto stored = [&](const std::string& job, const char* column) -> std::string {
    pqxx::work tx(db_->conn());
    const auto r = tx.exec_params1(std::string("SELECT ") + column + "::text FROM job_executions WHERE id = $1::uuid", job);
    if (r[0].is_null()) return "(none)";
    simdjson::dom::parser q;
    return simdjson::minify(q.parse(r[0].as<std::string>()).value());
  };
  for (auto e : doc["events"].get_array())
    for (auto j : e["jobs"].get_array()) {
      ++jobs;
      logs += j["logs"].get_array().size();
      for (auto t : j["triggered_invocations"].get_array()) caused = caused || std::string_view(t) == kCaused;
      const std::string id{std::string_view(j["id"])};
      for (const char* column : {"job_options", "result"}) {
        auto got = j[std::string_view(column) == "result" ? "result" : "options"];
        EXPECT_EQ(got.error() ? std::string("(none)") : simdjson::minify(got.value()), stored(id, column)) << id << " " << column;
      }
      with_result += !j["result"].error() && !j["result"].is_null();
    }
  EXPECT_GT(with_result, 0u) << "a job of the samples returned a result";
  EXPECT_EQ(int64_t(jobs), db_->count(std::string("SELECT count(*) FROM job_executions WHERE invocation_id = '") + kCauser + "'"));
  EXPECT_EQ(int64_t(logs), db_->count(std::string("SELECT count(*) FROM job_logs WHERE invocation_id = '") + kCauser +
                                      "' AND job_execution_id IS NOT NULL"));
  EXPECT_TRUE(caused) << "the job that caused " << kCaused;
}

TEST_F(ViewTest, ShowFollowsTheChainBothWays) {
  const auto caused = show(kCaused);
  ASSERT_EQ(caused.status, 0) << caused.err;
  EXPECT_NE(caused.out.find(std::string("of invocation ") + kCauser), std::string::npos) << caused.out;
  const auto causer = show(std::string(kCauser) + " --logs");
  EXPECT_NE(causer.out.find(std::string("→ caused invocation ") + kCaused), std::string::npos) << causer.out;
  EXPECT_NE(causer.out.find("info "), std::string::npos) << "log lines under their job: " << causer.out;
  const auto chain = show("--correlation-id order-7731");
  ASSERT_EQ(chain.status, 0) << chain.err;
  const size_t a = chain.out.find(std::string("invocation ") + kCauser), b = chain.out.find(std::string("invocation ") + kCaused);
  ASSERT_NE(a, std::string::npos) << chain.out;
  ASSERT_NE(b, std::string::npos) << chain.out;
  EXPECT_LT(a, b) << "oldest first";
}

// `show --flow` of the caused invocation draws its whole chain from the invocation that started
// it: the causer's events and jobs, the job that caused it, its own events and jobs, the
// not-detected events folded, errors beside their node.
TEST_F(ViewTest, ShowFlowDrawsTheWholeChainFromItsStart) {
  const auto r = show(std::string(kCaused).substr(0, 8) + " --flow");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> want = {
      std::string("invocation ") + kCauser + "  event-detector-moves  completed",
      "├─ event move.pickup.successful  completed",
      "│  ├─ job sendNotification  completed",
      std::string("│  │  └─ invocation ") + kCaused + "  event-detector-notifications  completed",
      "│  │     └─ event notification.sent  completed",
      "│  │        └─ job emailReceipt  completed",
      "│  └─ job updateAnalytics  failed",
      "├─ event user.status.change  detection_failed",
      "└─ 1 event not detected"};
  std::istringstream lines(r.out);
  size_t i = 0;
  for (std::string line; std::getline(lines, line); ++i) {
    ASSERT_LT(i, want.size()) << r.out;
    EXPECT_EQ(line.rfind(want[i], 0), 0u) << "line " << i << ": " << line;
  }
  EXPECT_EQ(i, want.size()) << r.out;
  EXPECT_NE(r.out.find("updateAnalytics  failed  219 ms  Request failed with status code 503"), std::string::npos) << r.out;
  const auto usage = show(std::string(kCaused) + " --flow --json");
  EXPECT_EQ(usage.status, 2) << usage.err;
}

TEST_F(ViewTest, UnknownAndAmbiguousIdsSayOneLineAndExit1) {
  const auto unknown = show("0123");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_EQ(unknown.err, "edpipe show: no invocation id starts with '0123'\n");
  const auto ambiguous = show("0badc0de");  // two invocations start so
  EXPECT_EQ(ambiguous.status, 1);
  EXPECT_NE(ambiguous.err.find("is ambiguous"), std::string::npos) << ambiguous.err;
  EXPECT_EQ(std::count(ambiguous.err.begin(), ambiguous.err.end(), '\n'), 1);
  EXPECT_EQ(show("not-hex!").status, 1);
  EXPECT_EQ(show("").status, 2);
}

TEST_F(ViewTest, ShowFailedListsNewestFirstWithTheFirstError) {
  const auto r = show("--failed --since 30d");
  ASSERT_EQ(r.status, 0) << r.err;
  const size_t hostile = r.out.find(kHostile), failed = r.out.find(kFailed);
  ASSERT_NE(hostile, std::string::npos) << r.out;
  ASSERT_NE(failed, std::string::npos) << r.out;
  EXPECT_LT(failed, hostile) << "10:30 before 10:20";
  EXPECT_NE(r.out.find("One or more handlers failed"), std::string::npos);
  EXPECT_EQ(show("--failed --since 30d --function event-detector-moves").out.find(kFailed), std::string::npos);
}

TEST_F(ViewTest, ShowFailedCountsTheWindowNotThePage) {
  const int64_t total = db_->count(
      "SELECT count(*) FROM invocations WHERE status IN ('failed', 'abandoned') "
      "AND created_at >= (SELECT watermark FROM edpipe_watermark) - interval '30 days'");
  ASSERT_GE(total, 2) << "the samples hold more than one failed invocation";
  const auto all = show("--failed --since 30d");
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(all.err.rfind("edpipe show: " + std::to_string(total) + " failed or abandoned invocations in the 30d before ", 0), 0u)
      << all.err;
  const auto one = show("--failed --since 30d --limit 1");
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(one.err.rfind("edpipe show: 1 of " + std::to_string(total) + " failed or abandoned invocations in the 30d before ", 0), 0u)
      << one.err;
  EXPECT_NE(one.err.find("(the newest 1; --limit N for more)"), std::string::npos) << one.err;
}

TEST_F(ViewTest, HostileTextCannotDriveTheTerminal) {
  const auto r = show(std::string(kHostile) + " --logs --stacks");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "an escape from the data reached the terminal";
  EXPECT_EQ(r.out.find('\x07'), std::string::npos);
  EXPECT_NE(r.out.find("<script>alert(1)</script> ·[2J·]0;pwned· done"), std::string::npos) << r.out;
}

TEST(HtmlEscape, EveryMarkupCharacter) {
  EXPECT_EQ(html_escape("<a href=\"x\" title='y'>&</a>"), "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST_F(ViewTest, TheReportRendersInChromiumWithEveryValueEscaped) {
  const fs::path html = dir_ / "report.html", png = dir_ / "report.png";
  const auto r = testing::run_edpipe("report -o " + html.string() + " --since 7d --db " + db());
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(html);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_LT(text.size(), 5u << 20);
  EXPECT_EQ(text.find("<script"), std::string::npos) << "no script at all, least of all from the data";
  EXPECT_EQ(text.find("http://"), std::string::npos) << "nothing fetched from anywhere";
  EXPECT_EQ(text.find("https://"), std::string::npos);
  EXPECT_NE(text.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);

  // Chromium as a user's browser: the DOM it builds, and a screenshot kept beside the build.
  const std::string chromium = "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
                               "--user-data-dir=" + (dir_ / "chromium-profile").string();
  const auto dom = testing::run_command(chromium + " --dump-dom file://" + html.string());
  ASSERT_EQ(dom.status, 0) << dom.err;
  for (const char* id : {"id=\"overview\"", "id=\"failures\"", "id=\"slowest\"", "class=\"cards\"", "class=\"chart\""})
    EXPECT_NE(dom.out.find(id), std::string::npos) << id;
  EXPECT_NE(dom.out.find("class=\"bar bad\""), std::string::npos) << "a failed step's bar in a waterfall";
  EXPECT_NE(dom.out.find("class=\"bar ok\""), std::string::npos);
  EXPECT_NE(dom.out.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << "the hostile log line, as text";
  EXPECT_NE(dom.out.find("&lt;svg onload=alert(2)&gt;"), std::string::npos);
  EXPECT_EQ(dom.out.find("<script"), std::string::npos) << "no element was made from the data";
  EXPECT_EQ(dom.out.find("<img"), std::string::npos);
  fs::remove(png);
  const auto shot = testing::run_command(chromium + " --window-size=1000,2400 --screenshot=" + png.string() + " file://" +
                                         html.string());
  ASSERT_EQ(shot.status, 0) << shot.err;
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 20000u) << "a page, not a blank";
}

TEST_F(ViewTest, TheReportCountsWhatTheTablesHold) {
  ViewReader reader(db_->conn());
  ReportOptions o;
  o.window_us = 30 * 24 * kMicrosPerHour;
  const ReportData d = read_report(reader, o);
  EXPECT_EQ(d.now.invocations, db_->count("SELECT count(*) FROM invocations"));
  EXPECT_EQ(d.now.completed, db_->count("SELECT count(*) FROM invocations WHERE status = 'completed'"));
  EXPECT_EQ(d.now.failed_jobs, db_->count("SELECT count(*) FROM job_executions WHERE status = 'failed'"));
  int64_t hourly = 0;
  for (const auto& s : d.series)
    for (const auto& h : s.hours) hourly += h.ok + h.failed;
  EXPECT_EQ(hourly, db_->count("SELECT sum(successful_invocations + failed_invocations) FROM metrics_hourly"));
  EXPECT_EQ(d.failures.size(), size_t(db_->count("SELECT count(*) FROM invocations WHERE status IN ('failed', 'abandoned')")));
  ASSERT_FALSE(d.failing_jobs.empty());
  EXPECT_FALSE(d.top_events.empty());
  // The job tables (from name_metrics_hourly): each failing job's count, each p95 within 1 %.
  for (const auto& j : d.failing_jobs)
    EXPECT_EQ(j.count, db_->count("SELECT count(*) FROM job_executions WHERE status = 'failed' AND job_name = " +
                                  db_->conn().quote(j.name))) << j.name;
  ASSERT_FALSE(d.slowest_jobs.empty());
  for (size_t i = 0; i < d.slowest_jobs.size(); ++i) {
    const auto& j = d.slowest_jobs[i];
    if (i > 0) {
      EXPECT_GE(*d.slowest_jobs[i - 1].value, *j.value);
    }
    pqxx::work tx(db_->conn());
    const double exact = tx.exec("SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FROM job_executions "
                                 "WHERE job_name = " + tx.quote(j.name))[0][0].as<double>();
    EXPECT_NEAR(*j.value, exact, 0.01 * exact + 1.0) << j.name;
  }
}

// The jobs and events pages read name_metrics_hourly: per name, what the executions say, with
// p50/p95 within the sketch's 1 % (+ 1 ms) of percentile_cont over the same rows.
TEST_F(ViewTest, NameStatsAreWhatTheExecutionsSay) {
  ViewReader reader(db_->conn());
  const Timestamp since = 1'795'046'400'000'000, until = since + 30 * 24 * kMicrosPerHour;  // 2026-11-19 on
  for (const bool jobs : {true, false}) {
    const auto stats = jobs ? reader.job_stats(since, until, std::nullopt, 200) : reader.event_stats(since, until, std::nullopt, 200);
    const std::string table = jobs ? "job_executions" : "event_executions", col = jobs ? "job_name" : "event_name";
    const std::string duration = jobs ? "duration_ms" : "handler_duration_ms";
    const std::string failed = jobs ? "status = 'failed'" : "status IN ('handler_failed', 'detection_failed')";
    ASSERT_EQ(int64_t(stats.size()), db_->count("SELECT count(DISTINCT " + col + ") FROM " + table));
    for (const auto& n : stats) {
      const std::string of = " FROM " + table + " WHERE " + col + " = " + db_->conn().quote(n.name);
      EXPECT_EQ(n.runs, db_->count("SELECT count(*)" + of)) << n.name;
      EXPECT_EQ(n.failed, db_->count("SELECT count(*)" + of + " AND " + failed)) << n.name;
      if (!jobs) {
        EXPECT_EQ(n.detected, db_->count("SELECT count(*)" + of + " AND detected")) << n.name;
      }
      pqxx::work tx(db_->conn());
      const auto r = tx.exec("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY " + duration + "), "
                             "percentile_cont(0.95) WITHIN GROUP (ORDER BY " + duration + ")" + of)[0];
      for (int i = 0; i < 2; ++i) {
        const auto& got = i == 0 ? n.p50_ms : n.p95_ms;
        ASSERT_EQ(got.has_value(), !r[i].is_null()) << n.name;
        if (got) {
          EXPECT_NEAR(*got, r[i].as<double>(), 0.01 * r[i].as<double>() + 1.0) << n.name;
        }
      }
    }
  }
  // The function filter and an empty window.
  const auto users = reader.job_stats(since, until, std::string("event-detector-users"), 200);
  int64_t runs = 0;
  for (const auto& n : users) runs += n.runs;
  EXPECT_EQ(runs, db_->count("SELECT count(*) FROM job_executions j JOIN invocations i ON i.id = j.invocation_id "
                             "WHERE i.source_function = 'event-detector-users'"));
  EXPECT_TRUE(reader.job_stats(until, until + kMicrosPerHour, std::nullopt, 200).empty());
}

// The ids of every page of a search, following the cursor (bounded: 1,000 pages).
std::vector<std::string> every_page(ViewReader& reader, InvocationQuery q, SearchReport* report = nullptr) {
  std::vector<std::string> got;
  for (int pages = 0; pages < 1000; ++pages) {
    const auto rows = reader.search(q, report);
    for (const auto& r : rows) got.push_back(r.id);
    if (rows.size() < q.limit) break;
    q.before = std::make_pair(rows.back().created_at, rows.back().id);
  }
  return got;
}

// A search over children (job name, error text) reads the range newest hours first; paged a few
// at a time with the cursor, it must give exactly the SQL answer, in order, across its windows.
TEST(ViewSearch, PagedThroughItsWindowsItGivesEveryMatchInOrder) {
  testing::TestDatabase db;
  gen::GeneratorOptions o;
  o.invocations = 600;
  o.span = 30 * kMicrosPerHour;  // many hour windows, and matches in most of them
  o.job_failure_rate = 0.1;
  testing::load_lines(db.conninfo(), testing::generated_lines(o), 5000);
  ViewReader reader(db.conn());
  const std::pair<std::string, std::string> searches[] = {
      {"updateAnalytics", "i.id IN (SELECT invocation_id FROM job_executions WHERE job_name = 'updateAnalytics')"},
      {"hang up", "(i.status = 'failed' AND i.error_message ILIKE '%hang up%') OR i.id IN (SELECT invocation_id "
                  "FROM job_executions WHERE status = 'failed' AND error_message ILIKE '%hang up%') OR i.id IN "
                  "(SELECT invocation_id FROM event_executions WHERE status IN ('handler_failed', 'detection_failed') "
                  "AND (handler_error ILIKE '%hang up%' OR detection_error ILIKE '%hang up%'))"}};
  for (const auto& [text, condition] : searches) {
    std::vector<std::string> want;
    {
      pqxx::work tx(db.conn());
      for (const auto& r : tx.exec("SELECT i.id::text FROM invocations i WHERE " + condition +
                                   " ORDER BY i.created_at DESC, i.id DESC"))
        want.push_back(r[0].as<std::string>());
    }
    ASSERT_GE(want.size(), 20u) << text;
    InvocationQuery q;
    q.since = o.start - kMicrosPerHour;
    q.until = o.start + 40 * kMicrosPerHour;
    q.search = text;
    q.limit = 7;
    EXPECT_EQ(every_page(reader, q), want) << text;
  }
}

// Each kind of search, paged to the end, is exactly its SQL over the same window; the page's
// report says what was searched and, for a correlation id or e-mail, how many of each.
TEST(ViewSearch, EachKindIsExactlyItsSql) {
  testing::TestDatabase db;
  gen::GeneratorOptions o;
  o.invocations = 400;
  o.span = 10 * kMicrosPerHour;
  o.job_failure_rate = 0.2;
  testing::load_lines(db.conninfo(), testing::generated_lines(o), 5000);
  ViewReader reader(db.conn());
  auto one = [&](const std::string& sql) {
    pqxx::work tx(db.conn());
    const auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
  };
  // An event both detected and not, a job that failed in invocations that completed, an id.
  const std::string event = one("SELECT event_name FROM event_executions GROUP BY event_name "
                                "HAVING bool_or(detected) AND bool_or(NOT detected) ORDER BY count(*) DESC LIMIT 1");
  const std::string job = one("SELECT j.job_name FROM job_executions j JOIN invocations i ON i.id = j.invocation_id "
                              "WHERE j.status = 'failed' AND i.status = 'completed' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1");
  const std::string id = one("SELECT id::text FROM invocations ORDER BY id LIMIT 1");
  const std::string function = one("SELECT source_function FROM invocations GROUP BY 1 ORDER BY count(*) LIMIT 1");
  const std::string failed_event = one("SELECT event_name FROM event_executions WHERE status IN ('handler_failed', "
                                       "'detection_failed') GROUP BY 1 ORDER BY count(*) LIMIT 1");
  ASSERT_FALSE(event.empty());
  ASSERT_FALSE(failed_event.empty());
  ASSERT_FALSE(job.empty()) << "a job that failed while its invocation completed";
  const std::string ids = "SELECT i.id::text FROM invocations i WHERE ";
  const std::pair<std::string, std::string> searches[] = {
      {"event:" + event, ids + "i.id IN (SELECT invocation_id FROM event_executions WHERE event_name = '" + event + "' AND detected)"},
      {"  " + event + " ", ids + "i.id IN (SELECT invocation_id FROM event_executions WHERE event_name = '" + event + "' AND detected)"},
      {"checked:" + event, ids + "i.id IN (SELECT invocation_id FROM event_executions WHERE event_name = '" + event + "')"},
      {"job:" + job, ids + "i.id IN (SELECT invocation_id FROM job_executions WHERE job_name = '" + job + "')"},
      {"failed-job:" + job, ids + "i.id IN (SELECT invocation_id FROM job_executions WHERE job_name = '" + job + "' AND status = 'failed')"},
      {"failed-event:" + failed_event, ids + "i.id IN (SELECT invocation_id FROM event_executions WHERE event_name = '" +
                                           failed_event + "' AND status IN ('handler_failed', 'detection_failed'))"},
      {"function:" + function, ids + "i.source_function = '" + function + "'"},
      {"id:" + id.substr(0, 3), ids + "i.id::text LIKE '" + id.substr(0, 3) + "%'"},
      {id.substr(0, 5), ids + "i.id::text LIKE '" + id.substr(0, 5) + "%'"},
  };
  for (const auto& [text, sql] : searches) {
    std::vector<std::string> want;
    {
      pqxx::work tx(db.conn());
      for (const auto& r : tx.exec(sql + " ORDER BY i.created_at DESC, i.id DESC")) want.push_back(r[0].as<std::string>());
    }
    ASSERT_FALSE(want.empty()) << text;
    InvocationQuery q;
    q.since = o.start - kMicrosPerHour;
    q.until = o.start + 12 * kMicrosPerHour;
    q.search = text;
    q.limit = 9;
    SearchReport report;
    EXPECT_EQ(every_page(reader, q, &report), want) << text;
    EXPECT_FALSE(report.searched.empty()) << text;
  }
  // The searches that read only the hours whose rollups name the term: a window that cuts hours
  // at odd bounds, with and without a function filter, is still exactly the SQL of that window.
  const Timestamp since = o.start + 2 * kMicrosPerHour + 1234567, until = o.start + 7 * kMicrosPerHour + 7654321;
  for (const std::optional<std::string>& filter : {std::optional<std::string>(), std::optional<std::string>(function)}) {
    for (const auto& [text, sql] : searches) {
      if (text.rfind("id:", 0) == 0 || text == id.substr(0, 5)) continue;
      std::vector<std::string> want;
      {
        pqxx::work tx(db.conn());
        for (const auto& r : tx.exec(sql + " AND i.created_at >= to_timestamp(" + std::to_string(since) + " / 1e6) AND "
                                     "i.created_at < to_timestamp(" + std::to_string(until) + " / 1e6)" +
                                     (filter ? " AND i.source_function = " + tx.quote(*filter) : std::string()) +
                                     " ORDER BY i.created_at DESC, i.id DESC"))
          want.push_back(r[0].as<std::string>());
      }
      InvocationQuery q;
      q.since = since;
      q.until = until;
      q.function = filter;
      q.search = text;
      q.limit = 4;
      EXPECT_EQ(every_page(reader, q), want) << text << (filter ? " of " + *filter : "");
    }
  }
  // A term that names nothing in the range finds nothing, whatever kind it could be.
  InvocationQuery none;
  none.since = since;
  none.until = until;
  none.search = "noSuchJobOrFunction";
  EXPECT_TRUE(reader.search(none).empty());

  // The failed-job list is not the failed-invocation list: it has completed invocations too.
  EXPECT_GT(db.count("SELECT count(*) FROM invocations i WHERE i.status = 'completed' AND i.id IN (SELECT invocation_id "
                     "FROM job_executions WHERE job_name = '" + job + "' AND status = 'failed')"),
            0);

  // Text with @: correlation id or e-mail, both counted.
  const std::string email = one("SELECT source_user_email FROM invocations WHERE source_user_email LIKE '%@%' "
                                "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1");
  ASSERT_FALSE(email.empty());
  InvocationQuery q;
  q.since = o.start - kMicrosPerHour;
  q.until = o.start + 12 * kMicrosPerHour;
  q.search = email;
  SearchReport report;
  reader.search(q, &report);
  EXPECT_EQ(report.searched, "correlation id or e-mail");
  ASSERT_EQ(report.counts.size(), 2u);
  EXPECT_EQ(report.counts[0].second, db.count("SELECT count(*) FROM invocations WHERE correlation_id = '" + email + "'"));
  EXPECT_EQ(report.counts[1].second, db.count("SELECT count(*) FROM invocations WHERE source_user_email = '" + email + "'"));
}

// The cards' figures over any window equal SQL over that window: counts exactly, the mean to a
// microsecond's rounding, p95 within 1 % of percentile_cont. Windows of whole hours, of none,
// and of odd bounds (a partial hour at either end).
// The lines with the time in every UUIDv7 moved back by `ms` (the same id moves alike): rows whose
// day partition, the id's day, is not the day of their created_at, as a skewed clock makes them.
std::vector<std::string> move_v7_times(std::vector<std::string> lines, int64_t ms) {
  const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (auto& line : lines)
    for (size_t i = 0; i + 36 <= line.size(); ++i) {
      bool uuid = true;
      for (size_t k = 0; k < 36 && uuid; ++k)
        uuid = (k == 8 || k == 13 || k == 18 || k == 23) ? line[i + k] == '-' : hex(line[i + k]);
      if (!uuid || line[i + 14] != '7') continue;
      const uint64_t t = std::stoull(line.substr(i, 8) + line.substr(i + 9, 4), nullptr, 16) - uint64_t(ms);
      char buf[13];
      std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(t));
      line.replace(i, 8, buf, 8);
      line.replace(i + 9, 4, buf + 8, 4);
      i += 35;
    }
  return lines;
}

// Every figure of every window equals SQL over it; with `id_shift_ms`, over rows whose ids put
// them in the day partitions before their created_at's (the windows must find them there).
void expect_windows_equal_sql(int64_t id_shift_ms) {
  testing::TestDatabase db;
  gen::GeneratorOptions o;
  o.invocations = 3000;
  o.span = 80 * kMicrosPerHour;
  o.job_failure_rate = 0.1;
  o.abandon_rate = 0.05;
  testing::load_lines(db.conninfo(), move_v7_times(testing::generated_lines(o), id_shift_ms), 5000);
  ViewReader reader(db.conn());
  const int64_t days_off = db.count("SELECT count(*) FROM invocations WHERE invocation_day <> (created_at AT TIME ZONE 'UTC')::date");
  if (id_shift_ms > 0) {
    ASSERT_GT(days_off, 1000) << "rows whose day partition is not their created_at's day";
  } else {
    ASSERT_LT(days_off, 10);
  }
  ASSERT_GE(db.count("SELECT count(*) FROM edpipe_day_spans"), 4);
  ASSERT_GT(db.count("SELECT count(*) FROM job_executions WHERE status = 'abandoned'"), 10);
  const Timestamp newest = *reader.watermark() + 1;
  const std::pair<Timestamp, Timestamp> windows[] = {
      {newest - kMicrosPerHour, newest},                  // 1h, counted back from the newest record
      {newest - 24 * kMicrosPerHour, newest},             // 24h
      {newest - 7 * 24 * kMicrosPerHour, newest},         // 7d: more than the corpus
      {o.start + 3 * kMicrosPerHour + 1'032'345'678, o.start + 41 * kMicrosPerHour + 300'000'001},  // custom
      {o.start + 5 * kMicrosPerHour + 60'000'000, o.start + 5 * kMicrosPerHour + 1'800'000'000},    // inside one hour
      {o.start + 10 * kMicrosPerHour, o.start + 20 * kMicrosPerHour},                               // whole hours
      // Most of one hour (its rollup less the rows around the window), most of two.
      {o.start + 7 * kMicrosPerHour + 60'000'000, o.start + 7 * kMicrosPerHour + 3'500'000'000},
      {o.start + 8 * kMicrosPerHour + 90'000'000, o.start + 9 * kMicrosPerHour + 3'400'000'000},
  };
  for (const auto& [since, until] : windows) {
    const Totals t = reader.window_totals(since, until, std::nullopt);
    pqxx::work tx(db.conn());
    const auto r = tx.exec_params(
        "SELECT count(*), count(*) FILTER (WHERE status = 'completed'), coalesce(sum(total_jobs_failed), 0), "
        "avg(total_duration_ms)::float8, percentile_cont(0.95) WITHIN GROUP (ORDER BY total_duration_ms), "
        "(SELECT count(*) FROM job_executions j JOIN invocations i2 ON i2.id = j.invocation_id WHERE i2.created_at >= " +
            sql::at_param(1) + " AND i2.created_at < " + sql::at_param(2) + "), "
        "(SELECT count(*) FROM job_executions j JOIN invocations i2 ON i2.id = j.invocation_id WHERE j.status = 'completed' "
        "AND i2.created_at >= " + sql::at_param(1) + " AND i2.created_at < " + sql::at_param(2) + ") "
        "FROM invocations WHERE created_at >= " + sql::at_param(1) + " AND created_at < " + sql::at_param(2),
        since, until)[0];
    const std::string at = std::to_string(since) + ".." + std::to_string(until);
    EXPECT_EQ(t.invocations, r[0].as<int64_t>()) << at;
    EXPECT_EQ(t.completed, r[1].as<int64_t>()) << at;
    EXPECT_EQ(t.failed_jobs, r[2].as<int64_t>()) << at;
    ASSERT_EQ(t.avg_ms.has_value(), !r[3].is_null()) << at;
    if (t.avg_ms) {
      EXPECT_NEAR(*t.avg_ms, r[3].as<double>(), 1e-6 * r[3].as<double>()) << at;
    }
    ASSERT_EQ(t.p95_ms.has_value(), !r[4].is_null()) << at;
    if (t.p95_ms) {
      EXPECT_NEAR(*t.p95_ms, r[4].as<double>(), 0.01 * r[4].as<double>()) << at;
    }
    // Job health: the jobs those invocations ran, and those that completed, from the job rows.
    EXPECT_EQ(t.jobs_run, r[5].as<int64_t>()) << at;
    EXPECT_EQ(t.jobs_succeeded, r[6].as<int64_t>()) << at;
    // The failed list (`show --failed`, the failed filter) and its count.
    const int64_t failed = tx.exec_params("SELECT count(*) FROM invocations WHERE status IN ('failed', 'abandoned') AND "
                                          "created_at >= " + sql::at_param(1) + " AND created_at < " + sql::at_param(2),
                                          since, until)[0][0].as<int64_t>();

    const std::string jobs_of_window = "SELECT count(*) FROM job_executions j JOIN invocations i ON i.id = j.invocation_id "
                                       "WHERE i.created_at >= " + sql::at_param(1) + " AND i.created_at < " +
                                       sql::at_param(2) + " AND j.status = ";
    EXPECT_EQ(t.jobs_abandoned, tx.exec_params(jobs_of_window + "'abandoned'", since, until)[0][0].as<int64_t>()) << at;
    EXPECT_EQ(t.jobs_without_end() - t.jobs_abandoned,
              tx.exec_params(jobs_of_window + "'running'", since, until)[0][0].as<int64_t>()) << at;
    // The hourly charts: each hour's ok and failed invocations, the cut hours their part inside.
    tx.commit();
    EXPECT_EQ(int64_t(reader.failed(since, std::nullopt, 100000, until).size()), failed) << at;
    EXPECT_EQ(reader.count_failed(since, std::nullopt, until), failed) << at;
    const auto hours = reader.hourly(since, until, std::nullopt, 100000);
    pqxx::work hourly_check(db.conn());
    for (const auto& h : hours) {
      auto& tx = hourly_check;
      const auto want = tx.exec_params(
          "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status IN ('failed', 'abandoned')) "
          "FROM invocations WHERE source_function = $3 AND created_at >= greatest(" + sql::at_param(1) + ", " +
              sql::at_param(4) + ") AND created_at < least(" + sql::at_param(2) + ", " + sql::at_param(4) +
              " + interval '1 hour')",
          since, until, h.function, h.hour)[0];
      EXPECT_EQ(h.ok, want[0].as<int64_t>()) << at << " " << h.function << " " << h.hour;
      EXPECT_EQ(h.failed, want[1].as<int64_t>()) << at << " " << h.function << " " << h.hour;
    }
    hourly_check.commit();

    // Per name, the jobs and events pages, over the same window: every count exactly, p50/p95
    // within the sketch's 1 % (+ 1 ms) of percentile_cont.
    for (const bool jobs : {true, false}) {
      const auto stats = jobs ? reader.job_stats(since, until, std::nullopt, 500) : reader.event_stats(since, until, std::nullopt, 500);
      const std::string table = jobs ? "job_executions" : "event_executions", col = jobs ? "job_name" : "event_name";
      const std::string d = jobs ? "x.duration_ms" : "x.handler_duration_ms";
      pqxx::work check(db.conn());
      const auto want = check.exec_params(
          "SELECT x." + col + ", count(*), count(*) FILTER (WHERE x.status IN ('failed', 'handler_failed', 'detection_failed')), "
          "count(*) FILTER (WHERE " + (jobs ? std::string("false") : "x.detected") + "), "
          "count(*) FILTER (WHERE x.status = 'abandoned' AND " + (jobs ? "true" : "false") + "), "
          "percentile_cont(0.5) WITHIN GROUP (ORDER BY " + d + "), percentile_cont(0.95) WITHIN GROUP (ORDER BY " + d + ") "
          "FROM " + table + " x JOIN invocations i ON i.id = x.invocation_id WHERE i.created_at >= " + sql::at_param(1) +
              " AND i.created_at < " + sql::at_param(2) + " GROUP BY 1",
          since, until);
      check.commit();
      ASSERT_EQ(stats.size(), want.size()) << at;
      std::map<std::string, const NameStats*> by_name;
      for (const auto& n : stats) by_name[n.name] = &n;
      for (const auto& w : want) {
        const std::string name = w[0].as<std::string>();
        ASSERT_TRUE(by_name.count(name)) << at << " " << name;
        const NameStats& n = *by_name[name];
        EXPECT_EQ(n.runs, w[1].as<int64_t>()) << at << " " << name;
        EXPECT_EQ(n.failed, w[2].as<int64_t>()) << at << " " << name;
        EXPECT_EQ(n.detected, w[3].as<int64_t>()) << at << " " << name;
        EXPECT_EQ(n.abandoned, w[4].as<int64_t>()) << at << " " << name;
        for (int i = 0; i < 2; ++i) {
          const auto& got = i == 0 ? n.p50_ms : n.p95_ms;
          ASSERT_EQ(got.has_value(), !w[5 + i].is_null()) << at << " " << name;
          if (got) {
            EXPECT_NEAR(*got, w[5 + i].as<double>(), 0.01 * w[5 + i].as<double>() + 1.0) << at << " " << name;
          }
        }
      }
      // The overview's lists: the same counts, most first, names without any left out.
      const auto listed = reader.name_counts(jobs ? "job" : "event", jobs ? "failed" : "detected", since, until, std::nullopt, 5);
      for (size_t i = 0; i < listed.size(); ++i) {
        const NameStats& n = *by_name.at(listed[i].name);
        EXPECT_EQ(jobs ? listed[i].failed : listed[i].detected, jobs ? n.failed : n.detected) << at;
        EXPECT_GT(jobs ? n.failed : n.detected, 0) << at;
        if (i > 0) {
          EXPECT_LE(jobs ? n.failed : n.detected, jobs ? by_name.at(listed[i - 1].name)->failed
                                                                : by_name.at(listed[i - 1].name)->detected) << at;
        }
      }
      // A name's failures, as the page links them: the invocations where it failed, and the count
      // of failed runs equal to the page's.
      for (const auto& n : stats) {
        if (n.failed == 0) continue;
        InvocationQuery q;
        q.since = since;
        q.until = until;
        q.search = (jobs ? "failed-job:" : "failed-event:") + n.name;
        q.limit = 100000;
        SearchReport report;
        const auto listed_rows = reader.search(q, &report);
        ASSERT_TRUE(report.failed_runs_in) << at << " " << n.name;
        EXPECT_EQ(report.failed_runs_in->first, n.failed) << at << " " << n.name;
        EXPECT_EQ(report.failed_runs_in->second, int64_t(listed_rows.size())) << at << " " << n.name;
        break;  // one name per window and kind: the search itself is tested in ViewSearch
      }
    }
  }
}

// Failures whose messages differ only in ids, hex and numbers: jobs of one invocation, and a
// handler of another (random ids: the undated partition).
std::string masked_failures_input() {
  const char* messages[] = {"order 1234 not found", "order 77 not found",
                            "lookup of 4f1c2a9e-1111-4222-8333-444455556666 failed",
                            "lookup of A0B1C2D3-9999-4aaa-8bbb-cccccccccccc failed", "bad token 0xdeadbeef", "bad token 0x1F",
                            "hash 3fa2b9c1d0 mismatch", "hash 00aa11bb22cc mismatch", "hash deadbeefcafe mismatch"};
  std::string out =
      R"({"type":"invocation.start","ts":"2026-11-20T03:10:00.000Z","invocation_id":"e4404e44-0000-4000-8000-000000000001","source_function":"fn-masked"})"
      "\n"
      R"({"type":"event.detection.start","ts":"2026-11-20T03:10:00.010Z","invocation_id":"e4404e44-0000-4000-8000-000000000001","event_execution_id":"e4404e44-0000-4000-8000-0000000001e1","event_name":"masked.jobs"}
{"type":"event.detection.end","ts":"2026-11-20T03:10:00.020Z","invocation_id":"e4404e44-0000-4000-8000-000000000001","event_execution_id":"e4404e44-0000-4000-8000-0000000001e1","event_name":"masked.jobs","detected":true}
{"type":"event.handler.start","ts":"2026-11-20T03:10:00.030Z","invocation_id":"e4404e44-0000-4000-8000-000000000001","event_execution_id":"e4404e44-0000-4000-8000-0000000001e1","event_name":"masked.jobs"}
)";
  int n = 0;
  for (const char* m : messages) {
    char job[40];
    std::snprintf(job, sizeof job, "e4404e44-0000-4000-8000-0000000001%02d", ++n);
    const std::string ts = "2026-11-20T03:1" + std::to_string(n % 10) + ":00.000Z";
    out += R"({"type":"job.start","ts":")" + ts + R"(","invocation_id":"e4404e44-0000-4000-8000-000000000001","job_execution_id":")" +
           job + R"(","job_name":"masked-job"})" "\n" R"({"type":"job.end","ts":")" + ts +
           R"(","invocation_id":"e4404e44-0000-4000-8000-000000000001","job_execution_id":")" + job +
           R"(","event_execution_id":"e4404e44-0000-4000-8000-0000000001e1","job_name":"masked-job","status":"failed","error":{"message":")" + m + R"("}})" "\n";
  }
  out += R"({"type":"invocation.start","ts":"2026-11-20T05:00:00.000Z","invocation_id":"e4404e44-0000-4000-8000-000000000002","source_function":"fn-handler"}
{"type":"event.detection.start","ts":"2026-11-20T05:00:00.010Z","invocation_id":"e4404e44-0000-4000-8000-000000000002","event_execution_id":"e4404e44-0000-4000-8000-0000000002e1","event_name":"masked.event"}
{"type":"event.detection.end","ts":"2026-11-20T05:00:00.020Z","invocation_id":"e4404e44-0000-4000-8000-000000000002","event_execution_id":"e4404e44-0000-4000-8000-0000000002e1","event_name":"masked.event","detected":true}
{"type":"event.handler.start","ts":"2026-11-20T05:00:00.030Z","invocation_id":"e4404e44-0000-4000-8000-000000000002","event_execution_id":"e4404e44-0000-4000-8000-0000000002e1","event_name":"masked.event"}
{"type":"event.handler.end","ts":"2026-11-20T05:00:00.040Z","invocation_id":"e4404e44-0000-4000-8000-000000000002","event_execution_id":"e4404e44-0000-4000-8000-0000000002e1","event_name":"masked.event","error":{"message":"order 5 not found"}}
)";
  return out;
}

// What sql::masked_error does, written again with std::regex.
std::string masked(std::string s) {
  static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", std::regex::icase);
  static const std::regex hex("\\b0x[0-9a-f]+\\b|\\b(?=[a-f]*[0-9])[0-9a-f]{8,}\\b", std::regex::icase);
  static const std::regex digits("[0-9]+");
  s = std::regex_replace(s.substr(0, 1000), uuid, "<id>");
  s = std::regex_replace(s, hex, "<hex>");
  return std::regex_replace(s, digits, "<n>");
}

// The errors page's groups equal the window's failures read one by one and grouped here: counts,
// trend, first and last seen, newest and oldest invocation, functions and names; the masking
// groups what differs only in ids, hex and numbers, and keeps apart what differs in words.
TEST(ErrorGroups, EqualTheFailuresReadOneByOneAndGroupedAgain) {
  testing::TestDatabase db;
  gen::GeneratorOptions o;
  o.invocations = 400;
  o.span = 10 * kMicrosPerHour;
  o.job_failure_rate = 0.2;
  std::vector<std::string> lines = testing::generated_lines(o);
  std::istringstream extra(masked_failures_input());
  for (std::string line; std::getline(extra, line);) lines.push_back(line);
  testing::load_lines(db.conninfo(), lines, 5000);
  ViewReader reader(db.conn());
  // Migration 020's error_group, which the page groups by, is the text the page shows hashed.
  ASSERT_GT(db.count("SELECT count(*) FROM job_executions WHERE error_group IS NOT NULL"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_executions WHERE error_group IS DISTINCT FROM hashtextextended(" +
                     sql::masked_error("error_message") + ", 0)"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM event_executions WHERE error_group IS DISTINCT FROM hashtextextended(" +
                     sql::masked_error("coalesce(handler_error, detection_error)") + ", 0)"), 0);

  const Timestamp t0 = o.start;
  struct Case {
    Timestamp since, until;
    std::optional<std::string> function;
    size_t limit;
  };
  const std::vector<Case> cases = {{t0 - kMicrosPerHour, t0 + 12 * kMicrosPerHour, std::nullopt, 100},
                                   {t0 + 2 * kMicrosPerHour + 1234, t0 + 5 * kMicrosPerHour + 17, std::nullopt, 100},
                                   {t0, t0 + 12 * kMicrosPerHour, std::string("fn-masked"), 100},
                                   {t0, t0 + 12 * kMicrosPerHour, std::nullopt, 2}};
  bool saw_masked = false;
  for (const auto& c : cases) {
    const std::string at = format_rfc3339(c.since) + " " + c.function.value_or("") + " " + std::to_string(c.limit);
    pqxx::work tx(db.conn());
    const auto rows = tx.exec_params(
        "SELECT x.name, x.invocation_id::text, " + sql::micros("x.created_at") + ", x.err, i.source_function FROM ("
        " SELECT 'job ' || job_name AS name, invocation_id, created_at, error_message AS err FROM job_executions"
        "  WHERE status = 'failed' AND error_message IS NOT NULL"
        " UNION ALL SELECT 'event ' || event_name, invocation_id, created_at, coalesce(handler_error, detection_error)"
        "  FROM event_executions WHERE status IN ('handler_failed', 'detection_failed')"
        "  AND coalesce(handler_error, detection_error) IS NOT NULL) x"
        " LEFT JOIN invocations i ON i.id = x.invocation_id"
        " WHERE x.created_at >= " + sql::at_param(1) + " AND x.created_at < " + sql::at_param(2) +
            " AND ($3::text IS NULL OR i.source_function = $3)",
        c.since, c.until, c.function);
    tx.commit();
    std::map<std::string, ErrorGroup> want;
    std::map<std::string, std::pair<Timestamp, std::string>> newest, oldest;
    for (const auto& r : rows) {
      const std::string err = r[3].as<std::string>(), id = r[1].as<std::string>();
      const Timestamp ts = r[2].as<int64_t>();
      ErrorGroup& g = want[masked(err)];
      g.trend.resize(kTrendBuckets);
      ++g.count;
      ++g.trend[std::min<int64_t>(kTrendBuckets - 1, (ts - c.since) * kTrendBuckets / (c.until - c.since))];
      g.names.push_back(r[0].as<std::string>());
      if (!r[4].is_null()) g.functions.push_back(r[4].as<std::string>());
      auto& nw = newest[masked(err)];
      if (g.count == 1 || std::make_pair(ts, id) > nw) nw = {ts, id}, g.sample = err;
      auto& od = oldest[masked(err)];
      if (g.count == 1 || std::make_pair(ts, id) < od) od = {ts, id};
    }
    const auto got = reader.error_groups(c.since, c.until, c.function, c.limit);
    EXPECT_EQ(got.group_count, int64_t(want.size())) << at;
    EXPECT_EQ(got.failures, int64_t(rows.size())) << at;
    ASSERT_EQ(got.groups.size(), std::min(c.limit, want.size())) << at;
    for (size_t k = 0; k < got.groups.size(); ++k) {
      const ErrorGroup& g = got.groups[k];
      ASSERT_TRUE(want.count(g.message)) << at << " " << g.message;
      ErrorGroup& w = want[g.message];
      for (auto* list : {&w.names, &w.functions}) {
        std::sort(list->begin(), list->end());
        list->erase(std::unique(list->begin(), list->end()), list->end());
      }
      EXPECT_EQ(g.count, w.count) << at << " " << g.message;
      EXPECT_EQ(g.trend, w.trend) << at << " " << g.message;
      EXPECT_EQ(g.names, w.names) << at << " " << g.message;
      EXPECT_EQ(g.functions, w.functions) << at << " " << g.message;
      EXPECT_EQ(g.last_seen, newest[g.message].first) << at << " " << g.message;
      EXPECT_EQ(g.newest_invocation, newest[g.message].second) << at << " " << g.message;
      EXPECT_EQ(g.sample, w.sample) << at << " " << g.message;
      EXPECT_EQ(g.first_seen, oldest[g.message].first) << at << " " << g.message;
      EXPECT_EQ(g.oldest_invocation, oldest[g.message].second) << at << " " << g.message;
      // Most failures first; no group left out has more than the last shown.
      if (k > 0) {
        EXPECT_GE(got.groups[k - 1].count, g.count) << at;
      }
      for (const auto& [message, other] : want) {
        if (std::none_of(got.groups.begin(), got.groups.end(), [&](const ErrorGroup& x) { return x.message == message; })) {
          EXPECT_LE(other.count, got.groups.back().count) << at << " " << message;
        }
      }
      saw_masked |= g.message == "order <n> not found" && g.count == 3;
    }
    if (c.function) {
      std::set<std::string> messages;
      for (const auto& g : got.groups) messages.insert(g.message);
      EXPECT_EQ(messages, (std::set<std::string>{"order <n> not found", "lookup of <id> failed", "bad token <hex>",
                                                 "hash <hex> mismatch", "hash deadbeefcafe mismatch"}))
          << "ids, hex and numbers masked; a word of hex letters kept";
    }
  }
  EXPECT_TRUE(saw_masked) << "two jobs and a handler of two functions in one group";
}

// The analytics page's figures against SQL over the same windows (a whole one, one cut at odd
// microseconds, one inside an hour, one of a function): each function's durations per bin, the
// invocations by table and operation, the users with the most.
TEST(Analytics, EachFigureEqualsItsSqlOverTheWindow) {
  testing::TestDatabase db;
  gen::GeneratorOptions o;
  o.invocations = 600;
  o.span = 10 * kMicrosPerHour;
  o.failure_rate = 0.1;
  testing::load_lines(db.conninfo(), testing::generated_lines(o), 5000);
  ViewReader reader(db.conn());
  const auto& bins = duration_bins();
  ASSERT_EQ(bins.front().lo, 0);
  for (size_t b = 1; b < bins.size(); ++b) ASSERT_EQ(bins[b].lo, bins[b - 1].hi + 1) << "contiguous";
  std::string function;
  {
    pqxx::work tx(db.conn());
    function = tx.exec1("SELECT source_function FROM invocations GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0].as<std::string>();
  }
  const Timestamp t0 = o.start;
  struct Case {
    Timestamp since, until;
    std::optional<std::string> function;
  };
  for (const Case& c : {Case{t0 - kMicrosPerHour, t0 + 11 * kMicrosPerHour, std::nullopt},
                        Case{t0 + kMicrosPerHour + 123457, t0 + 7 * kMicrosPerHour + 999, std::nullopt},
                        Case{t0 + 3 * kMicrosPerHour + 600000000, t0 + 3 * kMicrosPerHour + 2400000000, std::nullopt},
                        Case{t0, t0 + 10 * kMicrosPerHour, function}}) {
    const std::string at = format_rfc3339(c.since) + " " + c.function.value_or("");
    pqxx::connection check(db.conninfo());  // the reader's connection is its own
    pqxx::work tx(check);
    const std::string window = "created_at >= " + sql::at_param(1) + " AND created_at < " + sql::at_param(2) +
                               " AND ($3::text IS NULL OR source_function = $3)";
    // Durations per bin.
    std::map<std::string, std::vector<int64_t>> want;
    for (const auto& r : tx.exec_params("SELECT source_function, total_duration_ms FROM invocations WHERE " + window +
                                            " AND total_duration_ms IS NOT NULL",
                                        c.since, c.until, c.function)) {
      auto& counts = want[r[0].as<std::string>()];
      counts.resize(bins.size());
      const int64_t ms = r[1].as<int64_t>();
      for (size_t b = 0; b < bins.size(); ++b)
        if (ms >= bins[b].lo && ms <= bins[b].hi) ++counts[b];
    }
    std::map<std::string, std::vector<int64_t>> got;
    for (const auto& h : reader.duration_histograms(c.since, c.until, c.function)) got[h.function] = h.counts;
    EXPECT_EQ(got, want) << at;
    // Tables and operations, users.
    const auto src = reader.source_breakdown(c.since, c.until, c.function, 5);
    std::vector<std::string> sources, users;
    for (const auto& s : src.by_source)
      sources.push_back(s.table.value_or("-") + " " + s.operation.value_or("-") + " " + std::to_string(s.invocations) + " " +
                        std::to_string(s.failed));
    for (const auto& u : src.top_users) users.push_back(*u.user + " " + std::to_string(u.invocations) + " " + std::to_string(u.failed));
    std::vector<std::string> want_sources, want_users;
    for (const auto& r : tx.exec_params("SELECT coalesce(source_table, '-') || ' ' || coalesce(source_operation, '-') || ' ' || "
                                        "count(*) || ' ' || count(*) FILTER (WHERE status IN ('failed', 'abandoned')) FROM invocations "
                                        "WHERE " + window + " GROUP BY source_table, source_operation ORDER BY count(*) DESC, "
                                        "source_table COLLATE \"C\", source_operation COLLATE \"C\"",
                                        c.since, c.until, c.function))
      want_sources.push_back(r[0].as<std::string>());
    for (const auto& r : tx.exec_params("SELECT source_user_email || ' ' || count(*) || ' ' || count(*) FILTER (WHERE status IN "
                                        "('failed', 'abandoned')) FROM invocations WHERE " + window +
                                        " AND source_user_email IS NOT NULL GROUP BY source_user_email "
                                        "ORDER BY count(*) DESC, source_user_email COLLATE \"C\" LIMIT 5",
                                        c.since, c.until, c.function))
      want_users.push_back(r[0].as<std::string>());
    EXPECT_EQ(sources, want_sources) << at;
    EXPECT_EQ(users, want_users) << at;
    EXPECT_FALSE(want_sources.empty()) << at;
  }
}

TEST(WindowTotals, EqualSqlOverTheWindow) { expect_windows_equal_sql(0); }

// 20 hours of clock skew between the ids and the records' ts: the windows read the days whose
// spans of created_at meet them (edpipe_day_spans), not the days of the window's dates.
TEST(WindowTotals, EqualSqlWhenTheIdsDayIsNotTheRowsDay) { expect_windows_equal_sql(20 * 3600 * 1000); }

// The commands print their window and count exactly it: `edpipe report`'s cards and
// `edpipe show --failed` (its JSON rows and its count), for 1h, 24h, 7d and a --from/--to.
TEST(WindowTotals, TheCommandsCountTheWindowTheyPrint) {
  testing::TestDatabase db;
  gen::GeneratorOptions o;
  o.invocations = 1500;
  o.span = 40 * kMicrosPerHour;
  o.job_failure_rate = 0.1;
  o.abandon_rate = 0.05;
  testing::load_lines(db.conninfo(), testing::generated_lines(o), 5000);
  const std::string conn = " --db dbname=" + db.name();
  const fs::path dir = fs::path(EDPIPE_TEST_OUTPUT_DIR) / "window-commands";
  fs::create_directories(dir);
  const std::string from = format_rfc3339(o.start + 5 * kMicrosPerHour + 1'234'567'890);
  const std::string to = format_rfc3339(o.start + 29 * kMicrosPerHour + 2'345'678'901);
  const auto in_window = [](const std::string& alias) {
    return alias + "created_at >= $1::timestamptz AND " + alias + "created_at <= $2::timestamptz";
  };
  for (const std::string& window : {std::string("--since 1h"), std::string("--since 24h"), std::string("--since 7d"),
                                    "--from " + from + " --to " + to}) {
    const fs::path html = dir / "report.html";
    const auto r = testing::run_edpipe("report -o " + html.string() + " " + window + conn);
    ASSERT_EQ(r.status, 0) << window << ": " << r.err;
    std::ifstream in(html);
    const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch printed;
    static const std::regex window_line(R"re(<p class="sub">([^ ]+) to ([^ ]+) \()re");
    const bool found = std::regex_search(page, printed, window_line);
    ASSERT_TRUE(found) << window;
    const std::string start = printed[1], end = printed[2];  // [start, end]: its last microsecond included
    if (window.rfind("--from", 0) == 0) {
      EXPECT_EQ(start, from);
      EXPECT_EQ(*parse_rfc3339(end) + 1, *parse_rfc3339(to));
    }
    const auto card = [&](const std::string& label) {
      std::smatch m;
      EXPECT_TRUE(std::regex_search(page, m, std::regex("<div class=\"label\">" + label + "</div><div class=\"value\">([^<]+)</div>")))
          << window << " " << label;
      return m.empty() ? std::string() : std::string(m[1]);
    };
    pqxx::work tx(db.conn());
    const auto want = tx.exec_params(
        "SELECT count(*), count(*) FILTER (WHERE status = 'completed'), percentile_cont(0.95) WITHIN GROUP (ORDER BY "
        "total_duration_ms), count(*) FILTER (WHERE status IN ('failed', 'abandoned')), "
        "(SELECT count(*) FROM job_executions j JOIN invocations i ON i.id = j.invocation_id WHERE j.status = 'failed' AND " +
            in_window("i.") + "), (SELECT count(*) FROM job_executions j JOIN invocations i ON i.id = j.invocation_id WHERE "
            "j.status = 'abandoned' AND " + in_window("i.") + ") FROM invocations WHERE " + in_window(""),
        start, end)[0];
    tx.commit();
    const int64_t n = want[0].as<int64_t>();
    ASSERT_GT(n, 0) << window;
    EXPECT_EQ(card("invocations"), std::to_string(n)) << window;
    // Rates to 0.1 point, as printed.
    EXPECT_NEAR(std::stod(card("success rate")), 100.0 * double(want[1].as<int64_t>()) / double(n), 0.051) << window;
    EXPECT_EQ(card("failed jobs"), std::to_string(want[4].as<int64_t>())) << window;
    EXPECT_EQ(card("abandoned jobs"), std::to_string(want[5].as<int64_t>())) << window;
    // p95 as printed (ms, or s past 10 s), within 1 % (+ its rounding).
    const std::string p95 = card("p95 duration");
    const double printed_ms = std::stod(p95) * (p95.find(" s") != std::string::npos ? 1000.0 : 1.0);
    EXPECT_NEAR(printed_ms, want[2].as<double>(), 0.01 * want[2].as<double>() + 1.0) << window << " " << p95;

    // show --failed over the same window: every failed or abandoned invocation, and the count.
    const auto listed = testing::run_edpipe("show --failed --json --limit 10000 " + window + conn);
    ASSERT_EQ(listed.status, 0) << listed.err;
    size_t rows = 0;
    for (size_t at = listed.out.find("\"id\":"); at != std::string::npos; at = listed.out.find("\"id\":", at + 1)) ++rows;
    EXPECT_EQ(int64_t(rows), want[3].as<int64_t>()) << window;
    const auto counted = testing::run_edpipe("show --failed --limit 1 " + window + conn);
    ASSERT_EQ(counted.status, 0) << counted.err;
    EXPECT_NE(counted.err.find(" of " + std::to_string(want[3].as<int64_t>()) + " failed or abandoned invocations in "),
              std::string::npos)
        << window << ": " << counted.err;
  }
}

// Every link of the report resolves inside the file: a chain to an invocation the report does
// not hold is plain text; an invocation both failed and slow carries its anchor once.
// A chain's tree: a cycle of caused invocations is drawn once (the second visit a leaf), a caused
// invocation that was not read is a leaf too, and events not detected fold into one node.
TEST(FlowTree, CyclesAndUnreadInvocationsEndTheirBranch) {
  auto invocation = [](const std::string& id, std::vector<std::string> caused) {
    InvocationView v;
    v.id = id;
    v.function = "fn-" + id;
    v.status = "completed";
    EventView quiet;
    quiet.name = "quiet";
    quiet.status = "not_detected";
    EventView e;
    e.id = id + "-e";
    e.name = "ev";
    e.status = "completed";
    e.detected = true;
    JobView j;
    j.id = id + "-j";
    j.name = "job";
    j.status = "failed";
    j.error = "boom";
    j.triggered = std::move(caused);
    e.jobs.push_back(j);
    v.events = {quiet, e, quiet};
    return v;
  };
  const auto nodes = flow_tree({invocation("a", {"b", "x"}), invocation("b", {"a"})});
  std::vector<std::string> seen;
  for (const auto& n : nodes)
    seen.push_back(std::to_string(n.depth) + " " + n.name + (n.loaded ? "" : " (leaf)") + " " + n.status);
  EXPECT_EQ(seen, (std::vector<std::string>{"0 fn-a completed", "1 ev completed", "2 job failed", "3 fn-b completed",
                                            "4 ev completed", "5 job failed", "6 shown above (leaf) ",
                                            "4 2 events not detected not_detected", "3 not read (leaf) ",
                                            "1 2 events not detected not_detected"}));
  EXPECT_EQ(nodes[0].children.size(), 2u);
  EXPECT_EQ(nodes[2].children.size(), 2u) << "a's job caused b and x";
  EXPECT_EQ(nodes[2].error, std::optional<std::string>("boom"));
  EXPECT_TRUE(flow_tree({}).empty());
  // Every node a link, the current invocation outlined once.
  const std::string svg = flow_svg(nodes, [](const std::string& id) -> std::optional<std::string> { return "/invocation/" + id; }, "b");
  size_t links = 0;
  for (size_t at = svg.find("<a href="); at != std::string::npos; at = svg.find("<a href=", at + 1)) ++links;
  EXPECT_EQ(links, nodes.size());
  EXPECT_NE(svg.find("class=\"node current\""), std::string::npos);
  EXPECT_EQ(svg.find("class=\"node current\""), svg.rfind("class=\"node current\""));
}

TEST(ViewReport, EveryLinkResolvesInsideTheFile) {
  testing::TestDatabase db;
  gen::GeneratorOptions o;
  o.invocations = 500;
  o.span = 10 * kMicrosPerHour;
  o.failure_rate = 0.2;
  o.chain_rate = 0.5;
  testing::load_lines(db.conninfo(), testing::generated_lines(o), 5000);
  ViewReader reader(db.conn());
  ReportOptions ro;
  ro.window_us = 12 * kMicrosPerHour;
  const std::string html = render_report(read_report(reader, ro));
  std::map<std::string, int> anchors;
  static const std::regex anchor("id=\"(inv-[0-9a-f-]{36})\"");
  for (std::sregex_iterator it(html.begin(), html.end(), anchor), end; it != end; ++it) ++anchors[(*it)[1]];
  ASSERT_FALSE(anchors.empty());
  for (const auto& [id, n] : anchors) EXPECT_EQ(n, 1) << id << " anchored twice";
  static const std::regex href("href=\"#([^\"]*)\"");
  for (std::sregex_iterator it(html.begin(), html.end(), href), end; it != end; ++it)
    EXPECT_TRUE(anchors.count((*it)[1])) << "a dead link to " << (*it)[1];
  static const std::regex plain("caused (by job [^<]* of )?<code>");
  EXPECT_TRUE(std::regex_search(html, plain)) << "some chain leads outside the report, as text";
  EXPECT_EQ(html.find("href=\"/invocation/"), std::string::npos) << "no link to a live page";
}

TEST(ParseSearch, PrefixesTrimmingAndGuesses) {
  auto kinds = [](std::string_view text) {
    std::string out;
    for (const auto& k : parse_search(text)) out += (out.empty() ? "" : ",") + k.name + "=" + k.value;
    return out;
  };
  EXPECT_EQ(kinds("job: sendEmail "), "job=sendEmail");
  EXPECT_EQ(kinds("failed-job:sendEmail"), "failed job=sendEmail");
  EXPECT_EQ(kinds("event:user.created"), "detected event=user.created");
  EXPECT_EQ(kinds("checked:user.created"), "checked event=user.created");
  EXPECT_EQ(kinds("corr:a@b"), "correlation id=a@b");
  EXPECT_EQ(kinds("email:a@b"), "e-mail=a@b");
  EXPECT_EQ(kinds("a@b.c"), "correlation id or e-mail=a@b.c");
  EXPECT_EQ(kinds("error:timed out"), "error text=timed out");
  EXPECT_EQ(kinds("moves:123"), "source row=123");
  EXPECT_EQ(kinds("row:moves:a:b"), "source row=a:b");
  EXPECT_EQ(kinds(" aaaaaaaa-0000-4000-8000-000000000001\n"), "id=aaaaaaaa-0000-4000-8000-000000000001");
  EXPECT_EQ(kinds("0badc0de"), "id=0badc0de,correlation id=0badc0de,function=0badc0de,detected event=0badc0de,"
                               "job=0badc0de,error text=0badc0de");
  EXPECT_EQ(kinds("sendEmail"), "correlation id=sendEmail,function=sendEmail,detected event=sendEmail,job=sendEmail,"
                                "error text=sendEmail");
  EXPECT_EQ(kinds("   "), "");
  EXPECT_EQ(kinds("job:"), "");
}

TEST(UuidPrefix, CoversExactlyTheIdsThatStartWithIt) {
  EXPECT_EQ(uuid_prefix_range("ab")->first, "ab000000-0000-0000-0000-000000000000");
  EXPECT_EQ(uuid_prefix_range("AB-c")->second, "abcfffff-ffff-ffff-ffff-ffffffffffff");
  EXPECT_FALSE(uuid_prefix_range("xyz"));
  EXPECT_FALSE(uuid_prefix_range(""));
  EXPECT_FALSE(uuid_prefix_range(std::string(33, 'a')));
}

TEST(Printable, ControlCharactersAndWidth) {
  EXPECT_EQ(printable("a\x1b[31mb\nc", 80), "a·[31mb⏎c");
  EXPECT_EQ(printable("abcdef", 4), "abc…");
  EXPECT_EQ(printable("ééééé", 3), "éé…");
  EXPECT_EQ(printable("x\xc2\x9b" "2J", 80), "x·2J");  // C1 CSI
}

}  // namespace
}  // namespace edpipe::view
