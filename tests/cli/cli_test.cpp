// The edpipe executable as scripts see it: exit statuses, messages, outputs.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "test_support.h"

namespace {
namespace fs = std::filesystem;

edpipe::testing::CommandResult run(const std::string& args, const std::string& stdin_text = "") {
  return edpipe::testing::run_command(std::string(EDPIPE_BINARY) + " " + args, stdin_text);
}

TEST(Cli, HelpAndVersion) {
  auto r = run("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Usage: edpipe <command>"), std::string::npos);
  auto l = run("load --help");
  EXPECT_EQ(l.status, 0);
  for (const char* opt : {"--dry-run", "--json", "--dead-letter", "--abandon-after", "--progress", "--connections",
                          "Exit status"})
    EXPECT_NE(l.out.find(opt), std::string::npos) << opt;
  EXPECT_EQ(run("gen --help").status, 0);
  EXPECT_EQ(run("--version").status, 0);
}

TEST(Cli, BadUsageExitsTwo) {
  EXPECT_EQ(run("").status, 2);
  auto r = run("frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_EQ(run("load --no-such-option").status, 2);
  auto d = run("load --dry-run --abandon-after soon -");
  EXPECT_EQ(d.status, 2);
  EXPECT_NE(d.err.find("--abandon-after"), std::string::npos);
  for (const char* lanes : {"0", "17"}) {
    auto c = run(std::string("load --dry-run --connections ") + lanes + " -");
    EXPECT_EQ(c.status, 2) << lanes;
    EXPECT_NE(c.err.find("--connections: must be a whole number from 1 to 16"), std::string::npos) << c.err;
  }
}

TEST(Cli, UnreadableInputExitsOneAndNamesTheFile) {
  auto r = run("load --dry-run /no/such/file.ndjson " EDPIPE_SAMPLES_DIR);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/no/such/file.ndjson: No such file or directory"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("invocations 9"), std::string::npos) << "the readable inputs are still loaded";
}

TEST(Cli, ReadsStdinAndRejectedLinesAreNotFatal) {
  const std::string input =
      "hello\n"
      R"({"type":"invocation.start","ts":"2026-11-20T10:00:00Z","invocation_id":"550e8400-e29b-41d4-a716-446655440000","source_function":"f"})"
      "\n{\"type\":\"invocation.end\",\"ts\":\n";
  auto r = run("load --dry-run --json", input);
  EXPECT_EQ(r.status, 0);
  simdjson::dom::parser p;
  auto doc = p.parse(r.out);
  ASSERT_FALSE(doc.error()) << r.out;
  EXPECT_EQ(int64_t(doc["lines"]["total"]), 3);
  EXPECT_EQ(int64_t(doc["lines"]["rejected"]), 1);
  EXPECT_EQ(int64_t(doc["invocations_by_status"]["running"]), 1);
  EXPECT_NE(r.err.find("<stdin>:3: rejected (invalid_json)"), std::string::npos) << r.err;
}

// The hourly table keeps a space between its columns, whatever the durations: two hours, and
// three days (in hours).
TEST(Cli, HourlyTableColumnsStayApartForLongDurations) {
  auto inv = [](const std::string& id, const std::string& start, const std::string& end) {
    return R"({"type":"invocation.start","ts":")" + start + R"(","invocation_id":")" + id +
           R"(","source_function":"f"})" "\n" R"({"type":"invocation.end","ts":")" + end + R"(","invocation_id":")" + id +
           R"(","status":"completed"})" "\n";
  };
  auto r = run("load --dry-run", inv("550e8400-e29b-41d4-a716-446655440001", "2026-11-20T10:00:00Z", "2026-11-20T12:00:00Z"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(" 7200000  7200000  7200000  7200000\n"), std::string::npos) << r.out;
  r = run("load --dry-run", inv("550e8400-e29b-41d4-a716-446655440002", "2026-11-20T10:00:00Z", "2026-11-23T10:00:00Z"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("    72.0h    72.0h    72.0h    72.0h\n"), std::string::npos) << r.out;
}

TEST(Cli, DeadLetterFileHoldsEveryRejectedLine) {
  const fs::path dl = fs::temp_directory_path() / ("edpipe-dl-" + std::to_string(::getpid()) + ".ndjson");
  auto r = run("load --dry-run --quiet --dead-letter " + dl.string() + " " EDPIPE_SAMPLES_DIR);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  std::ifstream f(dl);
  std::string line;
  std::vector<std::string> reasons;
  simdjson::dom::parser p;
  while (std::getline(f, line)) {
    auto doc = p.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    reasons.emplace_back(std::string_view(doc["reason"]));
    EXPECT_EQ(std::string_view(doc["kind"]), "line");
    EXPECT_FALSE(std::string_view(doc["raw"]).empty());
    EXPECT_GT(int64_t(doc["line"]), 0);
    EXPECT_NE(std::string_view(doc["file"]).find("samples/"), std::string_view::npos);
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"invalid_json", "bad_uuid", "unsupported_version"}));
  fs::remove(dl);
}

TEST(Cli, GenThenLoadReproducesTheGroundTruth) {
  const fs::path dir = fs::temp_directory_path() / ("edpipe-gen-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto g = run("gen --invocations 300 --files 3 --gzip --seed 5 --truth -o " + dir.string());
  ASSERT_EQ(g.status, 0) << g.err;
  simdjson::dom::parser tp, lp;
  auto truth = tp.parse(g.out);
  ASSERT_FALSE(truth.error()) << g.out;
  auto l = run("load --dry-run --json " + dir.string());
  ASSERT_EQ(l.status, 0) << l.err;
  auto s = lp.parse(l.out);
  ASSERT_FALSE(s.error());
  EXPECT_EQ(int64_t(s["inputs"]), 3);
  EXPECT_EQ(int64_t(s["lines"]["total"]), int64_t(truth["lines"]));
  EXPECT_EQ(int64_t(s["lines"]["records"]), int64_t(truth["record_lines"]));
  EXPECT_EQ(int64_t(s["lines"]["rejected"]), int64_t(truth["malformed_lines"]));
  EXPECT_EQ(int64_t(s["lines"]["non_record"]), int64_t(truth["plain_lines"]));
  EXPECT_EQ(int64_t(s["rows"]["invocations"]), int64_t(truth["invocations"]));
  EXPECT_EQ(int64_t(s["rows"]["event_executions"]), int64_t(truth["event_executions"]));
  EXPECT_EQ(int64_t(s["rows"]["job_executions"]), int64_t(truth["job_executions"]));
  EXPECT_EQ(int64_t(s["rows"]["job_logs"]), int64_t(truth["job_logs"]));
  EXPECT_EQ(int64_t(s["invocations_by_status"]["completed"]), int64_t(truth["invocations_completed"]));
  EXPECT_EQ(int64_t(s["invocations_by_status"]["failed"]), int64_t(truth["invocations_failed"]));
  EXPECT_EQ(int64_t(s["invocations_by_status"]["running"]) + int64_t(s["invocations_by_status"]["abandoned"]),
            int64_t(truth["invocations_without_end"]));
  EXPECT_EQ(int64_t(s["jobs_by_status"]["completed"]), int64_t(truth["jobs_completed"]));
  EXPECT_EQ(int64_t(s["jobs_by_status"]["failed"]), int64_t(truth["jobs_failed"]));
  EXPECT_EQ(int64_t(s["chained_invocations"]), int64_t(truth["chained_invocations"]));
  fs::remove_all(dir);
}

TEST(Cli, LoadWithoutAReachableDatabaseExitsOneBeforeReading) {
  auto r = run("load --db 'host=/nonexistent-edpipe-socket-dir dbname=x' " EDPIPE_SAMPLES_DIR);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("edpipe: cannot connect to host=/nonexistent-edpipe-socket-dir dbname=x"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
