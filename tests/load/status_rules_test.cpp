// The status rules are written once (derive.h's tables): memory, the dry run's tally and the
// database's SQL (generated from the same tables) must derive the same status from the same
// facts, for every combination of them.
#include <gtest/gtest.h>

#include "load/load_sql.h"
#include "pg_test_support.h"
#include "transform/derive.h"

namespace edpipe::load {
namespace {
using namespace edpipe::transform;  // the rules under test are transform's

std::vector<std::string> literals(uint8_t facts, int count) {
  std::vector<std::string> out;
  for (int f = 0; f < count; ++f) out.push_back(facts & (1u << f) ? "true" : "false");
  return out;
}

TEST(StatusRules, TheDatabaseDerivesAsMemoryForEveryCombinationOfFacts) {
  testing::TestDatabase db;
  pqxx::work tx(db.conn());
  auto in_sql = [&](const std::string& expr) { return tx.exec("SELECT " + expr)[0][0].as<std::string>(); };
  for (uint8_t f = 0; f < (1u << transform::kEventFactCount); ++f) {
    const transform::EventStatus mem = apply_rules(kEventStatusRules, f);
    EXPECT_EQ(in_sql(sql::status_sql(kEventStatusRules, literals(f, transform::kEventFactCount))), status_name(mem)) << int(f);
    // The facts as a row state gives them (a failed step implies the step ended).
    if ((f & kHandlerFailed && !(f & kHandlerEnded)) || ((f & (kDetectionFailed | kDetected)) && !(f & kDetectionEnded)))
      continue;
    transform::EventExecutionState s;
    if (f & kHandlerEnded) {
      s.handler_end.emplace();
      if (f & kHandlerFailed) s.handler_end->body.error = ingest::ErrorInfo{};
    }
    if (f & kDetectionEnded) {
      s.detection_end.emplace();
      if (f & kDetectionFailed) s.detection_end->body.error = ingest::ErrorInfo{};
      s.detection_end->body.detected = f & kDetected;
    }
    if (f & kHandlerStarted) s.handler_start.emplace();
    EXPECT_EQ(event_status(s, f & kInvocationAbandoned), mem) << int(f);
  }
  for (uint8_t f = 0; f < (1u << transform::kEndFactCount); ++f) {
    EXPECT_EQ(in_sql(sql::status_sql(kInvocationStatusRules, literals(f, transform::kEndFactCount))),
              status_name(apply_rules(kInvocationStatusRules, f)));
    EXPECT_EQ(in_sql(sql::status_sql(kJobStatusRules, literals(f, transform::kEndFactCount))),
              status_name(apply_rules(kJobStatusRules, f)));
    if ((f & kEndFailed) && !(f & kEnded)) continue;
    transform::JobExecutionState j;
    if (f & kEnded) {
      j.end.emplace();
      j.end->body.status = f & kEndFailed ? ingest::Outcome::Failed : ingest::Outcome::Completed;
    }
    EXPECT_EQ(job_status(j, f & kAbandoned), apply_rules(kJobStatusRules, f)) << int(f);
  }
}

TEST(StatusRules, TheAbandonRuleIsTheSameInSql) {
  testing::TestDatabase db;
  pqxx::work tx(db.conn());
  const Timestamp wm = *parse_rfc3339("2026-11-20T10:30:00Z");
  for (const bool has_end : {false, true})
    for (const Timestamp window : {Timestamp{0}, 15 * 60 * kMicrosPerSecond})
      for (const Timestamp back : {Timestamp{0}, Timestamp{1}, window - 1, window, window + 1, 2 * window}) {
        const Timestamp last = wm - back;
        const bool mem = transform::AbandonRule{wm, window}.is_abandoned(has_end, last);
        const bool db_says =
            tx.exec_params("SELECT " + sql::abandoned("r") +
                               " FROM (SELECT $2::text AS end_status, $3::timestamptz AS last_record_at) r",
                           format_rfc3339(wm - window),
                           has_end ? std::optional<std::string>("completed") : std::nullopt, format_rfc3339(last))[0][0]
                .as<bool>();
        EXPECT_EQ(db_says, mem) << has_end << " window " << window << " back " << back;
      }
}

// The staging tables come from the column tables of load_sql.cpp: each staged column has the
// type of the same column of the real table, and every column COPY names exists there.
TEST(ColumnTables, StagingColumnsHaveTheirTablesTypes) {
  testing::TestDatabase db;
  pqxx::work tx(db.conn());
  tx.exec(sql::kCreateStaging);
  const auto r = tx.exec(R"(
    SELECT s.relname, a.attname, format_type(a.atttypid, a.atttypmod),
           (SELECT format_type(b.atttypid, b.atttypmod) FROM pg_attribute b
            WHERE b.attrelid = to_regclass(substr(s.relname, 7)) AND b.attname = a.attname AND NOT b.attisdropped)
    FROM pg_class s JOIN pg_attribute a ON a.attrelid = s.oid
    WHERE s.relname LIKE 'stage\_%' AND s.relpersistence = 't' AND a.attnum > 0 AND NOT a.attisdropped)");
  ASSERT_GT(r.size(), 60u);
  for (const auto& row : r)
    EXPECT_EQ(row[2].as<std::string>(), row[3].is_null() ? "(missing)" : row[3].as<std::string>())
        << row[0].as<std::string>() << "." << row[1].as<std::string>();
  const std::pair<const char*, std::vector<std::string>> copies[] = {{"invocations", sql::invocation_columns(true)},
                                                                      {"event_executions", sql::event_columns(true)},
                                                                      {"job_executions", sql::job_columns(true)},
                                                                      {"job_logs", sql::log_columns()}};
  for (const auto& [table, columns] : copies)
    for (const auto& c : columns)
      EXPECT_FALSE(tx.exec_params("SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2",
                                  std::string(table), c)
                       .empty())
          << table << "." << c;
}

}  // namespace
}  // namespace edpipe::load
