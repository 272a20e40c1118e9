// What a new user meets in the first hour, without a database: strict options, help that
// shows what it means, a summary that says what the run did, and no silence when nothing is read.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.h"

namespace {
namespace fs = std::filesystem;

edpipe::testing::CommandResult run(const std::string& args, const std::string& stdin_text = "") {
  return edpipe::testing::run_command(std::string(EDPIPE_BINARY) + " " + args, stdin_text);
}

class FirstHour : public edpipe::testing::TempDirTest {};

// Every numeric or duration option of every command, with values a typo or a script can give:
// one line of bad usage (exit 2) or a clean refusal (exit 1), never a crash, a hang or a disk
// filled. (Each run is bounded: gen writes into the test's folder, tail reads an empty file.)
TEST_F(FirstHour, HostileOptionValuesAreRefusedCleanly) {
  const fs::path empty = dir_ / "empty.ndjson";
  std::ofstream(empty).close();
  const std::string out = " -o " + (dir_ / "gen").string();
  const std::vector<std::string> commands = {
      "gen" + out + " --invocations",        "gen" + out + " --functions",     "gen" + out + " --files",
      "gen" + out + " --interleave",         "gen" + out + " --failure-rate",  "gen" + out + " --console-rate",
      "gen" + out + " --payload-columns",    "gen" + out + " --seed",          "gen" + out + " --log-repeat-rate",
      "gen" + out + " --start",              "load --dry-run --batch-size",    "load --dry-run --connections",
      "load --dry-run --max-open-invocations", "load --dry-run --abandon-after", "load --dry-run --max-json-bytes",
      "load --dry-run --flush-interval",     "load --dry-run --progress",      "load --dry-run --format",
      "tail --dry-run --exit-on-eof --flush-interval", "tail --dry-run --exit-on-eof --rescan-interval",
      "tail --dry-run --exit-on-eof --rotate-wait"};
  const std::vector<std::string> values = {"-1", "0", "1e99", "99999999999999999999", "abc", "''", "999999999999G",
                                           "18446744073709551615"};
  for (const auto& c : commands)
    for (const auto& v : values) {
      const std::string args = c + " " + v + (c.rfind("gen", 0) == 0 ? "" : " " + empty.string());
      const auto r = edpipe::testing::run_command("timeout 20 " + std::string(EDPIPE_BINARY) + " " + args);
      EXPECT_TRUE(r.status == 0 || r.status == 1 || r.status == 2) << args << " -> " << r.status << "\n" << r.err;
      if (r.status == 2) {
        EXPECT_EQ(r.err.rfind("edpipe: ", 0), 0u) << args << "\n" << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << args << ": one line and the hint\n" << r.err;
      }
      EXPECT_EQ(r.err.find("terminate"), std::string::npos) << args;
    }
  // Whatever was accepted wrote little: nothing near a disk's worth.
  uintmax_t written = 0;
  if (fs::exists(dir_ / "gen"))
    for (const auto& f : fs::recursive_directory_iterator(dir_ / "gen")) written += f.file_size();
  EXPECT_LT(written, 200u << 20);
  for (const char* args : {"migrate down -1", "migrate down abc", "migrate up 99999999999", "migrate status extra",
                           "verify extra", "gen extra", "load --abandon-aft 15m -", "load --dry-run --abandon-after 15 -"})
    EXPECT_EQ(run(args).status, 2) << args;
}

TEST_F(FirstHour, GenRefusesWhatItCannotDo) {
  const std::string out = " -o " + dir_.string();
  auto files = run("gen --files 20 --invocations 10" + out);
  EXPECT_EQ(files.status, 2);
  EXPECT_NE(files.err.find("--files: 20 files need at least as many invocations"), std::string::npos) << files.err;
  EXPECT_EQ(run("gen --functions 0" + out).status, 2);
  EXPECT_EQ(run("gen --invocations 0" + out).status, 2);
  // More than the disk holds: refused before the first byte.
  auto huge = run("gen --invocations 1000000000 --payload-columns 1000" + out);
  EXPECT_EQ(huge.status, 1) << huge.err;
  EXPECT_NE(huge.err.find("free"), std::string::npos) << huge.err;
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(FirstHour, HelpShowsDefaultsAsWrittenAndValueNames) {
  for (const char* c : {"load", "tail", "gen", "migrate", "verify"}) {
    const auto h = run(std::string(c) + " --help");
    EXPECT_EQ(h.status, 0) << c;
    EXPECT_EQ(h.out.find(" arg "), std::string::npos) << c << " names every value";
    EXPECT_EQ(h.out.find("00000000"), std::string::npos) << c << " prints defaults as written";
    EXPECT_EQ(run(std::string("help ") + c).out, h.out) << "edpipe help " << c;
  }
  EXPECT_NE(run("gen --help").out.find("--failure-rate RATE (=0.05)"), std::string::npos);
  EXPECT_EQ(run("help frobnicate").status, 2);
}

TEST_F(FirstHour, TheSummaryPrintsDurationsAsWritten) {
  const auto r = run("load --dry-run --abandon-after 1d " EDPIPE_SAMPLES_DIR);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("quiet for 1d before it"), std::string::npos) << r.out;
  const auto j = run("load --dry-run --json --abandon-after 90s " EDPIPE_SAMPLES_DIR);
  EXPECT_NE(j.out.find("\"abandon_after\":\"90s\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"abandon_after_seconds\":90"), std::string::npos) << j.out;
}

TEST_F(FirstHour, OneInvocationsPercentilesAreItsDuration) {
  const std::string lines =
      R"({"type":"invocation.start","ts":"2026-11-20T10:00:00Z","invocation_id":"550e8400-e29b-41d4-a716-446655440000","source_function":"f"})"
      "\n"
      R"({"type":"invocation.end","ts":"2026-11-20T10:00:00.400Z","invocation_id":"550e8400-e29b-41d4-a716-446655440000","status":"completed","duration_ms":400})"
      "\n";
  const auto text = run("load --dry-run", lines);
  EXPECT_NE(text.out.find("    400.0    400.0    400.0    400.0"), std::string::npos) << text.out;
  const auto json = run("load --dry-run --json", lines);
  EXPECT_NE(json.out.find("\"p50_duration_ms\":400.000,\"p95_duration_ms\":400.000,\"p99_duration_ms\":400.000"),
            std::string::npos)
      << json.out;
}

TEST_F(FirstHour, TheHourlyTableFitsIn120ColumnsShowsRunningAndIsCapped) {
  const std::string corpus = (dir_ / "c").string();
  int seed = 0;
  for (const char* day : {"2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"})
    ASSERT_EQ(run(std::string("gen --invocations 200 --functions 8 --payload-columns 2 --start ") + day +
                  "T10:00:00Z --seed " + std::to_string(++seed) + " --prefix " + day + " -o " + corpus)
                  .status,
              0);
  // A one-hour window: the invocations still open at the end are running, not abandoned.
  const auto r = run("load --dry-run --abandon-after 1d " + corpus);
  ASSERT_EQ(r.status, 0) << r.err;
  const size_t table = r.out.find("Hourly metrics");
  ASSERT_NE(table, std::string::npos);
  std::istringstream in(r.out.substr(table));
  std::string line;
  size_t rows = 0;
  bool more = false;
  while (std::getline(in, line)) {
    EXPECT_LE(line.size(), 120u) << line;
    rows += line.rfind("2026-", 0) == 0;
    more = more || line.rfind("... and ", 0) == 0;
  }
  EXPECT_EQ(rows, 24u);
  EXPECT_TRUE(more) << "more hours than the table shows are announced";
  EXPECT_NE(r.out.find(" run "), std::string::npos);
  // --json keeps every hour, and every hour's total is ok + failed + running.
  const auto j = run("load --dry-run --json --abandon-after 1d " + corpus);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(j.out).get(doc));
  size_t hours = 0;
  for (auto h : doc["metrics_hourly"].get_array()) {
    ++hours;
    EXPECT_EQ(int64_t(h["total_invocations"]),
              int64_t(h["successful_invocations"]) + int64_t(h["failed_invocations"]) + int64_t(h["running_invocations"]));
  }
  EXPECT_GT(hours, 24u);
  EXPECT_EQ(int64_t(doc["rows"]["metrics_hourly"]), int64_t(hours));
}

TEST_F(FirstHour, ReadBytesSayWhichAreOnDisk) {
  const std::string corpus = (dir_ / "gz").string();
  ASSERT_EQ(run("gen --invocations 200 --gzip -o " + corpus).status, 0);
  const auto r = run("load --dry-run --progress always " + corpus);
  EXPECT_NE(r.out.find(" on disk) in "), std::string::npos) << r.out;  // uncompressed, then compressed
  EXPECT_NE(r.err.find(" on disk "), std::string::npos) << r.err;       // the progress line: compressed
  const auto j = run("load --dry-run --json " + corpus);
  EXPECT_NE(j.out.find("\"bytes_on_disk\":"), std::string::npos);
}

TEST_F(FirstHour, NothingReadIsNeverSilent) {
  fs::create_directories(dir_ / "empty");
  std::ofstream(dir_ / "empty" / "notes.txt") << "not a trace file\n";
  const auto dir = run("load --dry-run " + (dir_ / "empty").string());
  EXPECT_NE(dir.err.find("a directory with no *.ndjson"), std::string::npos) << dir.err;

  std::ofstream(dir_ / "framed.log") << "2026-11-20 INFO started\nSTART RequestId: 1\n";
  const auto framed = run("load --dry-run " + (dir_ / "framed.log").string());
  EXPECT_NE(framed.err.find("no trace record in 2 lines (--format auto)"), std::string::npos) << framed.err;

  const std::string missing = (dir_ / "typo.ndjson").string();
  const auto eof = run("tail --dry-run --exit-on-eof " + missing);
  EXPECT_EQ(eof.status, 1);
  EXPECT_NE(eof.err.find(missing + ": No such file or directory"), std::string::npos) << eof.err;
  // Without --exit-on-eof it waits for the file to appear, and says so at once.
  const auto waits = edpipe::testing::run_command("{ " EDPIPE_BINARY " tail --dry-run --flush-interval 100ms " + missing +
                                                  " & pid=$!; sleep 1; kill -TERM $pid; wait $pid; }");
  EXPECT_EQ(waits.status, 0);
  EXPECT_NE(waits.err.find("warning: " + missing + ": No such file or directory (expected a trace log file; waiting"),
            std::string::npos)
      << waits.err;

  // Standard input on a terminal: said before edpipe waits for it.
  const auto tty = edpipe::testing::run_command(
      "timeout 20 python3 -c \"import pty; pty.spawn(['" EDPIPE_BINARY "', 'load', '--dry-run'], "
      "stdin_read=lambda fd: b'\\x04')\"");
  EXPECT_NE(tty.out.find("reading trace records from standard input (a terminal)"), std::string::npos) << tty.out;
}

TEST_F(FirstHour, OnlyThePasswordFieldIsMasked) {
  // Nothing listens on port 1: the connection fails, and the message names the target.
  const auto r = run("load --db postgresql://postgres:1@127.0.0.1:1/obs " EDPIPE_SAMPLES_DIR);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("postgresql://postgres:****@127.0.0.1:1/obs"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("****27"), std::string::npos) << r.err;
  const auto same = run("load --db 'user=bob password=bob dbname=bob host=127.0.0.1 port=1' " EDPIPE_SAMPLES_DIR);
  EXPECT_NE(same.err.find("user=bob password=**** dbname=bob"), std::string::npos) << same.err;
}

}  // namespace
