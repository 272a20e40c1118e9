// The seeds' example queries (docs/database.md "Queries") run against the loaded samples.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pg_test_support.h"

namespace edpipe::load {
namespace {

class SeedQueries : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new testing::TestDatabase();
    auto r = testing::run_edpipe("load --quiet --db dbname=" + db_->name() + " " EDPIPE_SAMPLES_DIR);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static void TearDownTestSuite() { delete db_; }
  pqxx::result run(const std::string& sql) {
    pqxx::work tx(db_->conn());
    // The samples are from 2026-11-20: "now" is pinned to just after them.
    tx.exec("SET LOCAL TIME ZONE 'UTC'");
    auto r = tx.exec(sql);
    tx.commit();
    return r;
  }
  static testing::TestDatabase* db_;
};
testing::TestDatabase* SeedQueries::db_ = nullptr;

TEST_F(SeedQueries, DashboardOverview) {
  auto r = run(R"(
    SELECT i.id, i.source_function, i.created_at, i.total_duration_ms, invocation_success_rate(i) AS success_rate,
           e.event_name, e.detected, j.job_name, j.status, j.duration_ms
    FROM invocations i
    LEFT JOIN event_executions e ON e.invocation_id = i.id
    LEFT JOIN job_executions j ON j.event_execution_id = e.id
    WHERE i.id IN (SELECT id FROM invocations WHERE created_at >= '2026-11-20T00:00:00Z' ORDER BY created_at DESC LIMIT 10)
    ORDER BY i.created_at DESC, e.created_at, j.created_at)");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0][1].as<std::string>(), "event-detector-users");  // newest first: D at 10:30
  bool saw_rate = false;
  for (const auto& row : r)
    if (row[0].as<std::string>() == "aaaaaaaa-0000-4000-8000-000000000001" && !row[4].is_null()) {
      EXPECT_EQ(row[4].as<double>(), 50.0);  // 1 of 2 jobs succeeded
      saw_rate = true;
    }
  EXPECT_TRUE(saw_rate);
}

TEST_F(SeedQueries, SlowestJobs) {
  auto r = run(R"(
    SELECT je.job_name, AVG(je.duration_ms) AS avg_duration, COUNT(*) AS total_runs,
           COUNT(*) FILTER (WHERE je.status = 'failed') AS failures, i.source_function
    FROM job_executions je JOIN invocations i ON je.invocation_id = i.id
    WHERE je.created_at >= TIMESTAMPTZ '2026-11-21T00:00:00Z' - INTERVAL '24 hours'
    GROUP BY je.job_name, i.source_function ORDER BY avg_duration DESC NULLS LAST LIMIT 10)");
  ASSERT_GE(r.size(), 3u);
  EXPECT_EQ(r[0][0].as<std::string>(), "sendNotification");
  EXPECT_EQ(r[0][1].as<double>(), 450.0);
}

TEST_F(SeedQueries, DebugOneInvocation) {
  auto r = run(R"(
    SELECT i.source_function, i.total_duration_ms, ee.event_name, ee.detected, je.job_name, je.status, je.duration_ms,
           je.error_message, jl.level, jl.message
    FROM invocations i
    LEFT JOIN event_executions ee ON i.id = ee.invocation_id
    LEFT JOIN job_executions je ON ee.id = je.event_execution_id
    LEFT JOIN job_logs jl ON je.id = jl.job_execution_id
    WHERE i.id = 'aaaaaaaa-0000-4000-8000-000000000001'
    ORDER BY ee.created_at, je.created_at, jl.created_at)");
  ASSERT_EQ(r.size(), 5u);  // 2 + 1 log lines of the two jobs, plus two events without jobs
  EXPECT_EQ(r[0][9].as<std::string>(), "Sending pickup notification for move 123");
  bool saw_error = false;
  for (const auto& row : r)
    if (!row[7].is_null()) saw_error = row[7].as<std::string>() == "Request failed with status code 503";
  EXPECT_TRUE(saw_error);
}

TEST_F(SeedQueries, JobChains) {
  auto chain = run(R"(
    SELECT i1.source_function, source_job.job_name, source_job.status, i2.source_function, i2.status
    FROM invocations i2
    INNER JOIN job_executions source_job ON i2.source_job_id = source_job.id
    INNER JOIN invocations i1 ON source_job.invocation_id = i1.id)");
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_EQ(chain[0][0].as<std::string>(), "event-detector-moves");
  EXPECT_EQ(chain[0][1].as<std::string>(), "sendNotification");
  EXPECT_EQ(chain[0][3].as<std::string>(), "event-detector-notifications");

  auto tree = run(R"(
    WITH RECURSIVE job_chain AS (
      SELECT id, source_function, source_job_id, created_at, 0 AS depth
      FROM invocations WHERE source_job_id IS NULL AND created_at >= TIMESTAMPTZ '2026-11-21T00:00:00Z' - INTERVAL '24 hours'
      UNION ALL
      SELECT i.id, i.source_function, i.source_job_id, i.created_at, jc.depth + 1
      FROM invocations i
      INNER JOIN job_executions je ON i.source_job_id = je.id
      INNER JOIN job_chain jc ON je.invocation_id = jc.id
      WHERE jc.depth < 10)
    SELECT REPEAT('  ', depth) || source_function AS execution_tree, created_at, depth
    FROM job_chain ORDER BY created_at, depth)");
  ASSERT_EQ(tree.size(), 8u);  // A (with B under it), C, D, the four of samples/formats; E is older than the window
  bool nested = false;
  for (const auto& row : tree)
    if (row[2].as<int>() == 1) nested = row[0].as<std::string>() == "  event-detector-notifications";
  EXPECT_TRUE(nested);
}

TEST_F(SeedQueries, DashboardSummaryRefresh) {
  run("SELECT refresh_dashboard_stats()");
  auto r = run("SELECT source_function, total_invocations_24h FROM dashboard_summary_24h ORDER BY source_function");
  ASSERT_EQ(r.size(), 4u);  // moves, notifications, orders, users
  EXPECT_EQ(r[0][1].as<int64_t>(), 2);  // moves: A and E
}

// The console's overview query: hourly rows per function of the last 7 days, as metrics_hourly
// holds them, with no refresh.
TEST_F(SeedQueries, DashboardStatsIsHourlyRowsPerFunction) {
  auto r = run(R"(SELECT hour_bucket, source_function, total_invocations, successful_invocations, failed_invocations,
      total_events_detected, total_jobs_run, total_jobs_succeeded, avg_duration_ms, min_duration_ms,
      max_duration_ms, p95_duration_ms
    FROM dashboard_stats
    WHERE hour_bucket >= (SELECT watermark FROM edpipe_watermark) - interval '7 days'
    ORDER BY hour_bucket, source_function)");
  const auto rollups = run("SELECT count(*) FROM metrics_hourly WHERE hour_bucket >= "
                           "(SELECT watermark FROM edpipe_watermark) - interval '7 days'");
  ASSERT_GT(r.size(), 1u);
  EXPECT_EQ(int64_t(r.size()), rollups[0][0].as<int64_t>());
  int64_t invocations = 0;
  for (const auto& row : r) invocations += row["total_invocations"].as<int64_t>();
  EXPECT_EQ(invocations, run("SELECT count(*) FROM invocations WHERE created_at >= "
                             "date_trunc('hour', (SELECT watermark FROM edpipe_watermark) - interval '7 days')")[0][0].as<int64_t>());
}

// Every query of every ```sql block of the README and docs/, as a reader would paste it,
// returns rows on the demo's data.
TEST_F(SeedQueries, EveryDocumentedQueryReturnsRows) {
  std::vector<std::string> statements;
  std::vector<std::filesystem::path> documents = {std::filesystem::path(EDPIPE_SOURCE_DIR) / "README.md"};
  for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(EDPIPE_SOURCE_DIR) / "docs"))
    if (f.path().extension() == ".md") documents.push_back(f.path());
  for (const auto& doc : documents) {
    std::ifstream in(doc);
    ASSERT_TRUE(in) << doc;
    std::string line, statement;
    bool in_sql = false;
    while (std::getline(in, line)) {
      if (!in_sql) {
        in_sql = line == "```sql";
        continue;
      }
      if (line == "```") {
        in_sql = false;
        continue;
      }
      if (statement.empty() && (line.empty() || line.rfind("--", 0) == 0)) continue;  // between statements
      statement += line + "\n";
      if (!line.empty() && (line.back() == ';' || line.find(";  --") != std::string::npos)) {
        // Queries; the server settings (ALTER SYSTEM) are for the administrator, not a transaction.
        if (statement.rfind("SELECT", 0) == 0 || statement.rfind("WITH", 0) == 0) statements.push_back(statement);
        statement.clear();
      }
    }
  }
  ASSERT_GE(statements.size(), 8u);
  for (const auto& sql : statements) {
    pqxx::work tx(db_->conn());
    const auto r = tx.exec(sql);
    tx.commit();
    EXPECT_FALSE(r.empty()) << "no row from the documented\n" << sql;
  }
}

}  // namespace
}  // namespace edpipe::load
