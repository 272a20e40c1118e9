// `edpipe tail` and `edpipe load -` against the throwaway PostgreSQL: the rows they leave equal a
// one-shot load of the same lines, whatever rotations, kills and restarts happen on the way.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "load/verifier.h"
#include "pg_test_support.h"

namespace edpipe::load {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// An edpipe process in the background (exec'd by the shell, so signals reach edpipe itself).
class Edpipe {
 public:
  Edpipe(const std::string& args, const fs::path& output) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string cmd = "exec " + std::string(EDPIPE_BINARY) + " " + args + " >" + output.string() + " 2>&1";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Edpipe() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // Exit status, or 128 + the signal that ended it.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

class Tail : public testing::TempDirTest {
 protected:

  static std::string text_of(const std::vector<std::string>& lines, size_t from, size_t to) {
    std::string t;
    for (size_t i = from; i < to; ++i) t += lines[i] + "\n";
    return t;
  }
  // Appends `text` in `pieces` writes cut at arbitrary bytes (lines arrive in parts), pausing between.
  static void trickle(const fs::path& p, const std::string& text, int pieces, std::mt19937& rng) {
    size_t at = 0;
    for (int i = 0; i < pieces && at < text.size(); ++i) {
      size_t n = i + 1 == pieces ? text.size() - at : std::uniform_int_distribution<size_t>(1, 2 * text.size() / pieces)(rng);
      n = std::min(n, text.size() - at);
      std::ofstream(p, std::ios::app | std::ios::binary) << text.substr(at, n);
      at += n;
      std::this_thread::sleep_for(15ms);
    }
  }
  // What a single `edpipe load` of the same lines leaves in a fresh database.
  std::string one_shot_dump(const std::vector<std::string>& lines) {
    testing::TestDatabase ref;
    const fs::path f = dir_ / "one-shot.input";
    std::ofstream(f, std::ios::binary) << text_of(lines, 0, lines.size());
    auto r = testing::run_edpipe("load --quiet --db dbname=" + ref.name() + " " + f.string());
    EXPECT_EQ(r.status, 0) << r.err;
    fs::remove(f);
    return ref.dump();
  }
  static void expect_verified(testing::TestDatabase& db) {
    auto rep = verify_database(db.conn());
    EXPECT_TRUE(rep.ok()) << (rep.differences.empty() ? "" : rep.differences[0]);
  }
};

std::vector<std::string> corpus(uint64_t seed, uint64_t invocations) {
  gen::GeneratorOptions o;
  o.seed = seed;
  o.invocations = invocations;
  o.interleave = 12;
  return testing::generated_lines(o);
}

TEST_F(Tail, AppendsAndBothRotationsEqualAOneShotLoad) {
  testing::TestDatabase db;
  const auto lines = corpus(11, 400);
  const size_t a = lines.size() / 3, b = 2 * lines.size() / 3;
  const fs::path log = dir_ / "app.log";
  std::mt19937 rng(5);
  const std::string follow = "tail -q --db dbname=" + db.name() +
                             " --flush-interval 200ms --rescan-interval 100ms --rotate-wait 300ms '" + dir_.string() +
                             "/app.log*'";
  {
    Edpipe tail(follow, dir_ / "tail.out");
    trickle(log, text_of(lines, 0, a), 20, rng);
    std::this_thread::sleep_for(300ms);
    fs::rename(log, dir_ / "app.log.1");  // rename + create
    trickle(log, text_of(lines, a, b), 20, rng);
    std::this_thread::sleep_for(300ms);
    fs::copy_file(log, dir_ / "app.log.2");  // copytruncate
    fs::resize_file(log, 0);
    trickle(log, text_of(lines, b, lines.size()), 20, rng);
    std::this_thread::sleep_for(1500ms);
    tail.signal(SIGTERM);
    EXPECT_EQ(tail.wait(), 0);  // stopped by SIGTERM: the batch in hand committed
  }
  // A restart resumes from the saved positions; whatever the first run had not read yet loads now.
  auto again = testing::run_edpipe(follow + " --exit-on-eof --json");
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(db.dump(), one_shot_dump(lines));
  expect_verified(db);
  EXPECT_GE(db.count("SELECT count(*) FROM edpipe_file_positions"), 2);
}

TEST_F(Tail, KillNineAtRandomMomentsThenRestartEqualsAnUninterruptedLoad) {
  testing::TestDatabase db;
  const auto lines = corpus(12, 1500);
  const size_t third = lines.size() / 3;
  for (int i = 0; i < 3; ++i)
    std::ofstream(dir_ / ("k-" + std::to_string(i) + ".ndjson"), std::ios::binary)
        << text_of(lines, i * third, i == 2 ? lines.size() : (i + 1) * third);
  const std::string follow = "tail -q --db dbname=" + db.name() + " --batch-size 700 --flush-interval 40ms '" +
                             dir_.string() + "/k-*.ndjson'";
  std::mt19937 rng(99);
  const auto saved_lines = [&] { return db.count("SELECT coalesce(sum(line_number), 0) FROM edpipe_file_positions"); };
  int64_t before = 0, progressed = 0;
  for (int round = 0; round < 8; ++round) {
    // One lane saves the positions in the batch's transaction, more save them once all committed.
    Edpipe tail(follow + " --connections " + std::to_string(1 + round % 3), dir_ / "tail.out");
    if (round == 0) {
      // The first kill lands just after a first commit: a busy machine may take longer than any
      // fixed delay to get there, and the rounds after it must resume from saved positions.
      for (int i = 0; i < 600 && saved_lines() == 0; ++i) std::this_thread::sleep_for(50ms);
      ASSERT_GT(saved_lines(), 0) << "no batch committed within 30 s";
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 150)(rng)));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1500)(rng)));
    }
    tail.signal(SIGKILL);
    EXPECT_EQ(tail.wait(), 128 + SIGKILL);
    const int64_t now = saved_lines();
    if (now > before) ++progressed;
    before = now;
  }
  EXPECT_GT(progressed, 0);  // the kills hit a run that was getting somewhere
  auto last = testing::run_edpipe(follow + " --exit-on-eof");
  EXPECT_EQ(last.status, 0) << last.err;
  EXPECT_EQ(db.dump(), one_shot_dump(lines));
  expect_verified(db);
  EXPECT_EQ(testing::run_edpipe("verify --db dbname=" + db.name()).status, 0);
}

TEST_F(Tail, ASecondTailOnTheSameFilesIsRefused) {
  testing::TestDatabase db;
  std::ofstream(dir_ / "app.log") << text_of(corpus(13, 5), 0, 20);
  const std::string follow = "tail -q --db dbname=" + db.name() + " --flush-interval 100ms " + (dir_ / "app.log").string();
  Edpipe first(follow, dir_ / "first.out");
  // Wait until the first one holds the file (its position is saved at its first flush).
  for (int i = 0; i < 100 && db.count("SELECT count(*) FROM edpipe_file_positions") == 0; ++i)
    std::this_thread::sleep_for(50ms);
  auto second = testing::run_edpipe(follow + " --exit-on-eof");
  EXPECT_EQ(second.status, 1);
  EXPECT_NE(second.err.find("another edpipe is following this file"), std::string::npos) << second.err;
  EXPECT_NE(second.out.find("edpipe tail"), std::string::npos) << "the summary, even after an error";
  first.signal(SIGINT);
  EXPECT_EQ(first.wait(), 0);
  // Once the first is gone, the file is free.
  EXPECT_EQ(testing::run_edpipe(follow + " --exit-on-eof").status, 0);
}

TEST_F(Tail, APartialLastLineLoadsOnlyOnceItsNewlineArrives) {
  testing::TestDatabase db;
  const std::string start =
      R"({"type":"invocation.start","ts":"2026-11-20T10:00:00.000Z","invocation_id":"aaaaaaaa-0000-4000-8000-00000000000a","source_function":"f"})";
  const std::string log =
      R"({"type":"job.log","ts":"2026-11-20T10:00:00.100Z","invocation_id":"aaaaaaaa-0000-4000-8000-00000000000a","level":"info","message":"half"})";
  const fs::path f = dir_ / "app.log";
  std::ofstream(f, std::ios::binary) << start << "\n" << log.substr(0, 40);
  const std::string follow = "tail -q --db dbname=" + db.name() + " --exit-on-eof " + f.string();
  ASSERT_EQ(testing::run_edpipe(follow).status, 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_logs"), 0);
  EXPECT_EQ(db.count("SELECT byte_offset FROM edpipe_file_positions"), static_cast<int64_t>(start.size() + 1));
  std::ofstream(f, std::ios::app | std::ios::binary) << log.substr(40) << "\n";
  ASSERT_EQ(testing::run_edpipe(follow).status, 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_logs WHERE message = 'half'"), 1);
  ASSERT_EQ(testing::run_edpipe(follow).status, 0);  // and only once
  EXPECT_EQ(db.count("SELECT count(*) FROM job_logs"), 1);
}

// A tail runs for months and prunes run beside it: once a prune has moved the horizon, a late
// record older than it is left out even when its invocation is still held (has newer records).
TEST_F(Tail, ALateRecordBehindAHorizonMovedWhileTailRunsIsLeftOut) {
  testing::TestDatabase db;
  auto line = [](const std::string& type, const std::string& ts, const std::string& inv, const std::string& rest) {
    return R"({"type":")" + type + R"(","ts":"2026-11-20T)" + ts + R"(Z","invocation_id":")" + inv + "\"" + rest + "}\n";
  };
  const std::string held = "11111111-0000-4000-8000-000000000001";  // 10:30 to 12:30: spans the horizon
  auto marker = [&](int n, const std::string& ts) {  // a newer invocation: shows a batch went through
    const std::string id = "22222222-0000-4000-8000-00000000000" + std::to_string(n);
    return line("invocation.start", ts, id, R"(,"source_function":"fn")") + line("invocation.end", ts, id, R"(,"status":"completed")");
  };
  auto wait_for = [&](int64_t invocations) {
    for (int i = 0; i < 200 && db.count("SELECT count(*) FROM invocations") < invocations; ++i) std::this_thread::sleep_for(50ms);
    return db.count("SELECT count(*) FROM invocations");
  };
  const fs::path log = dir_ / "fn.log";
  std::ofstream(log, std::ios::binary) << line("invocation.start", "10:30:00.000", held, R"(,"source_function":"fn")")
                                       << line("invocation.end", "12:30:00.000", held, R"(,"status":"completed")")
                                       << marker(1, "13:00:00.000");
  Edpipe tail("tail -q --db dbname=" + db.name() + " --flush-interval 100ms --rescan-interval 100ms '" + log.string() + "'",
              dir_ / "tail.out");
  ASSERT_EQ(wait_for(2), 2);
  ASSERT_EQ(testing::run_edpipe("prune --before 2026-11-20T12:00:00Z --db dbname=" + db.name()).status, 0);
  ASSERT_EQ(db.count("SELECT count(*) FROM invocations WHERE id = '" + held + "'"), 1) << "it has a record after the horizon";
  std::ofstream(log, std::ios::app | std::ios::binary) << marker(2, "13:05:00.000");  // a batch reads the new horizon
  ASSERT_EQ(wait_for(3), 3);
  std::ofstream(log, std::ios::app | std::ios::binary)
      << line("event.detection.start", "10:45:00.000", held,
              R"(,"event_execution_id":"33333333-0000-4000-8000-000000000001","event_name":"late")")
      << marker(3, "13:10:00.000");
  ASSERT_EQ(wait_for(4), 4);
  EXPECT_EQ(db.count("SELECT count(*) FROM event_executions"), 0) << "the late record behind the horizon was loaded";
  tail.signal(SIGTERM);
  EXPECT_EQ(tail.wait(), 0);
  expect_verified(db);
}

TEST_F(Tail, LoadFromAPipeThatStaysOpenFlushesOnTheClock) {
  testing::TestDatabase db;
  const auto lines = corpus(14, 200);
  const fs::path part1 = dir_ / "part1", part2 = dir_ / "part2";
  std::ofstream(part1, std::ios::binary) << text_of(lines, 0, lines.size() / 2);
  std::ofstream(part2, std::ios::binary) << text_of(lines, lines.size() / 2, lines.size());
  // The writer pauses 4 s between halves; the pipe stays open meanwhile.
  const std::string cmd = "sh -c '(cat " + part1.string() + "; sleep 4; cat " + part2.string() + ") | " +
                          EDPIPE_BINARY + " load -q --flush-interval 200ms --db dbname=" + db.name() + "'";
  std::thread writer([&] { EXPECT_EQ(testing::run_command(cmd).status, 0); });
  int64_t seen = 0;
  for (int i = 0; i < 60 && seen == 0; ++i) {
    std::this_thread::sleep_for(50ms);
    seen = db.count("SELECT count(*) FROM invocations");
  }
  EXPECT_GT(seen, 0) << "nothing loaded while the pipe was open";
  EXPECT_GT(db.count("SELECT count(*) FROM invocations WHERE status = 'running'") +
                db.count("SELECT count(*) FROM invocations WHERE status <> 'running'"), 0);
  writer.join();
  EXPECT_EQ(db.dump(), one_shot_dump(lines));
  expect_verified(db);
}

TEST_F(Tail, RedactionKeepsAnEmailOutOfEveryStoredPlace) {
  testing::TestDatabase db;
  const std::string inv = R"("ts":"2026-11-20T10:00:00.000Z","invocation_id":"aaaaaaaa-0000-4000-8000-00000000000b")";
  const std::string text =
      R"({"type":"invocation.start",)" + inv + R"(,"source_function":"f","source_system":"hasura","source_event_payload":{"event":{"op":"INSERT","data":{"old":null,"new":{"id":"3f0e2a1c-0000-4000-8000-000000000001","email":"ann@example.com","password":"hunter2"}}},"table":{"schema":"public","name":"users"}}})"
      "\n" R"({"type":"job.start",)" + inv + R"(,"job_execution_id":"00000000-0000-4000-8000-0000000000b1","event_execution_id":"00000000-0000-4000-8000-0000000000b2","job_name":"mail","job_options":{"to":"ann@example.com"}})"
      "\n" R"({"type":"job.log",)" + inv + R"(,"job_execution_id":"00000000-0000-4000-8000-0000000000b1","level":"info","message":"mailing ann@example.com"})"
      "\n";
  const fs::path f = dir_ / "pii.ndjson";
  std::ofstream(f, std::ios::binary) << text;
  auto r = testing::run_edpipe("load -q --db dbname=" + db.name() +
                               R"( --redact '[\w.+-]+@[\w-]+\.[\w.]+' --redact-field password )" + f.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE source_event_payload::text LIKE '%example.com%' "
                     "OR source_event_payload::text LIKE '%hunter2%' OR source_user_email LIKE '%example.com%'"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE source_event_payload #>> '{event,data,new,email}' = '[REDACTED]'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_executions WHERE job_options->>'to' = '[REDACTED]'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_logs WHERE message = 'mailing [REDACTED]'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE source_table = 'users'"), 1);  // keys and names stay
}

TEST_F(Tail, BadLineRegexIsBadUsage) {
  auto r = testing::run_edpipe("load --dry-run --format regex --line-regex '(?P<json>[' /dev/null");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--line-regex"), std::string::npos) << r.err;
  r = testing::run_edpipe("tail --format regex --line-regex 'no-group' " + dir_.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("(?P<json>"), std::string::npos) << r.err;
  r = testing::run_edpipe("load --dry-run --redact '(' /dev/null");
  EXPECT_EQ(r.status, 2);
}

}  // namespace
}  // namespace edpipe::load
