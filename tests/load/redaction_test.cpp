// --redact and --redact-field, read back from the database: every text and jsonb column of every
// table, each JSON string on its own, checked with the same RE2 patterns. A pattern of each kind
// (anchored, word-bounded, plain) in every text field a record has, in JSON without a backslash
// (the case a whole-text shortcut once let through) and with one, in nested arrays and under a
// key --redact-field names.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>
#include <fstream>

#include "pg_test_support.h"

namespace edpipe::load {
namespace {
namespace fs = std::filesystem;

const std::vector<std::string> kPatterns = {R"(^\d{16}$)", R"(\bsk_live_\w+\b)", R"(secret-[a-z]+)"};

// Lines whose every text field holds a match of one of the patterns: whole values for the
// anchored one, inside longer texts for the others.
std::vector<std::string> secret_lines() {
  const std::string inv = R"("invocation_id":"aaaaaaaa-0000-4000-8000-00000000000a")";
  const std::string ev = R"("event_execution_id":"eeeeeeee-0000-4000-8000-00000000000e")";
  const std::string job = R"("job_execution_id":"bbbbbbbb-0000-4000-8000-00000000000b")";
  return {
      R"({"type":"invocation.start","ts":"2026-11-20T10:00:00Z",)" + inv +
          R"(,"correlation_id":"4111111111111111","source_function":"fn secret-name","source_system":"sys sk_live_A1 x",)"
          R"("source_table":"4111111111111111","source_operation":"op secret-op","source_user_email":"4111111111111111",)"
          R"("source_user_role":"role sk_live_R2","event_modules_directory":"/srv/secret-dir",)"
          R"("context":{"card":"4111111111111111","list":[["4111111111111111",{"k":"x sk_live_C3 y"}]],"password":"hunter2"},)"
          R"("source_event_payload":{"event":{"data":{"new":{"card":"4111111111111111","note":"a\nsecret-payload"}}}}})",
      R"({"type":"event.detection.start","ts":"2026-11-20T10:00:00.1Z",)" + inv + "," + ev +
          R"(,"event_name":"4111111111111111","event_module_path":"/events/sk_live_M4.js"})",
      R"({"type":"event.detection.end","ts":"2026-11-20T10:00:00.2Z",)" + inv + "," + ev +
          R"(,"event_name":"4111111111111111","detected":true,"duration_ms":3})",
      R"({"type":"event.handler.start","ts":"2026-11-20T10:00:00.2Z",)" + inv + "," + ev + R"(,"event_name":"4111111111111111"})",
      R"({"type":"job.start","ts":"2026-11-20T10:00:00.3Z",)" + inv + "," + ev + "," + job +
          R"(,"job_name":"job secret-job","job_function_name":"4111111111111111","job_options":{"token":"sk_live_T5","nested":[[["4111111111111111"]]]}})",
      R"({"type":"job.log","ts":"2026-11-20T10:00:00.4Z",)" + inv + "," + job +
          R"(,"level":"info","message":"charging 4111111111111111 now secret-log","source":"src sk_live_S6","data":{"password":{"deep":1},"v":["4111111111111111"]},"seq":0})",
      R"({"type":"job.end","ts":"2026-11-20T10:00:00.5Z",)" + inv + "," + ev + "," + job +
          R"(,"job_name":"job secret-job","status":"failed","duration_ms":200,"result":{"r":"4111111111111111"},)"
          R"("error":{"message":"declined sk_live_E7","stack":"Error: secret-stack\n    at x"}})",
      R"({"type":"event.handler.end","ts":"2026-11-20T10:00:00.6Z",)" + inv + "," + ev +
          R"(,"event_name":"4111111111111111","duration_ms":400,"error":{"message":"m secret-handler"}})",
      R"({"type":"invocation.end","ts":"2026-11-20T10:00:00.7Z",)" + inv +
          R"(,"status":"failed","duration_ms":700,"error":{"message":"4111111111111111","stack":"sk_live_Z8"}})",
  };
}

// Every stored string: each text column's value, and each string inside each jsonb column.
std::vector<std::string> stored_strings(testing::TestDatabase& db) {
  std::vector<std::string> out;
  pqxx::read_transaction tx(db.conn());
  const auto columns = tx.exec(
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
      "AND table_name IN ('invocations', 'event_executions', 'job_executions', 'job_logs', 'metrics_hourly', "
      "'name_metrics_hourly') AND data_type IN ('text', 'jsonb', 'character varying')");
  EXPECT_GT(columns.size(), 30u);
  for (const auto& c : columns) {
    const std::string table = c[0].as<std::string>(), column = c[1].as<std::string>();
    const std::string sql =
        c[2].as<std::string>() == "jsonb"
            ? "SELECT v #>> '{}' FROM " + table + ", jsonb_path_query(" + column +
                  ", 'strict $.**') v WHERE jsonb_typeof(v) = 'string'"
            : "SELECT " + column + " FROM " + table + " WHERE " + column + " IS NOT NULL";
    for (const auto& r : tx.exec(sql)) out.push_back(r[0].as<std::string>());
  }
  return out;
}

TEST(Redaction, EveryKindOfPatternLeavesNoMatchInAnyStoredText) {
  testing::TestDatabase db;
  const fs::path corpus = fs::temp_directory_path() / ("redact-" + std::to_string(::getpid()) + ".ndjson");
  {
    std::ofstream f(corpus);
    for (const auto& l : secret_lines()) f << l << "\n";
    for (const auto& l : testing::generated_lines({.seed = 51, .invocations = 30})) f << l << "\n";
  }
  std::string args = "load --quiet --redact-field password --db dbname=" + db.name();
  for (const auto& p : kPatterns) args += " --redact '" + p + "'";
  auto r = testing::run_edpipe(args + " " + corpus.string());
  ASSERT_EQ(r.status, 0) << r.err;

  const auto strings = stored_strings(db);
  size_t redacted = 0;
  for (const auto& s : strings) {
    redacted += s.find("[REDACTED]") != std::string::npos;
    for (const auto& p : kPatterns) EXPECT_FALSE(RE2::PartialMatch(s, p)) << "'" << p << "' still matches: " << s;
  }
  // Every field above was redacted: the anchored pattern took whole values only.
  EXPECT_GE(redacted, 25u);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE source_function = 'fn [REDACTED]' AND correlation_id = "
                     "'[REDACTED]' AND source_table = '[REDACTED]'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE context_data->>'password' = '[REDACTED]' AND "
                     "context_data#>>'{list,0,0}' = '[REDACTED]' AND context_data#>>'{list,0,1,k}' = 'x [REDACTED] y'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_logs WHERE data->>'password' = '[REDACTED]' AND "
                     "message = 'charging 4111111111111111 now [REDACTED]'"),
            1)
      << "the anchored pattern must not take a number inside a longer text";
  EXPECT_EQ(db.count("SELECT count(*) FROM job_executions WHERE job_options#>>'{nested,0,0,0}' = '[REDACTED]'"), 1);
  // What was not secret is stored as it came.
  EXPECT_GT(db.count("SELECT count(*) FROM invocations WHERE source_function LIKE 'event-detector-%'"), 0);
  fs::remove(corpus);
}

}  // namespace
}  // namespace edpipe::load
