// The real server crashing under edpipe: the postmaster and every backend killed with -9 at
// once (as an OOM kill or a host crash does; `scripts/pg crash`), then `scripts/pg start`, which
// runs crash recovery. This cluster is the tests' own (build/crash-pg), so that nothing else runs
// on a server that dies. Batches are small, so that kills land between a COMMIT and the
// moment its WAL leaves the server's memory. After every run each table equals an undisturbed
// load of the same lines, one more load changes nothing, and `verify` is clean.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "load/verifier.h"
#include "pg_test_support.h"

namespace edpipe::load {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::BackgroundCommand;

const std::string kPg = std::string(EDPIPE_SOURCE_DIR) + "/scripts/pg ";
const std::string kEdpipe = std::string(EDPIPE_BINARY) + " ";

void crash_server() {
  auto r = testing::run_command(kPg + "crash " EDPIPE_TEST_PG_DIR);
  ASSERT_EQ(r.status, 0) << r.err;
}
void start_server() {
  auto r = testing::run_command(kPg + "start " EDPIPE_TEST_PG_DIR);
  ASSERT_EQ(r.status, 0) << r.err;
}

std::string truth_of(const fs::path& corpus) {
  testing::TestDatabase ref;
  auto r = testing::run_edpipe("load --quiet --db dbname=" + ref.name() + " " + corpus.string());
  EXPECT_EQ(r.status, 0) << r.err;
  return ref.dump();
}

// The database equals the truth, `verify` finds nothing, and one more load changes nothing.
void expect_exact(testing::TestDatabase& db, const std::string& truth, const fs::path& corpus, const std::string& what) {
  db.reconnect();
  const std::string got = db.dump();
  EXPECT_EQ(testing::dump_difference(got, truth), "") << what;
  EXPECT_TRUE(verify_database(db.conn()).ok()) << what;
  auto again = testing::run_edpipe("load --json --quiet --db dbname=" + db.name() + " " + corpus.string());
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.out.find("\"rows_inserted\":0,\"rows_updated\":0"), std::string::npos) << what << ": " << again.out;
  db.reconnect();
  EXPECT_EQ(testing::dump_difference(db.dump(), got), "") << what << ": a second load changed the database";
}

// Kills the server at random moments while `cmd` runs, at most `max_kills` times; each time
// the server comes back after a random pause. Returns the number of kills.
int crash_while(BackgroundCommand& cmd, std::mt19937& rng, int max_kills, int min_ms, int max_ms) {
  int kills = 0;
  while (kills < max_kills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(min_ms, max_ms)(rng)));
    if (!cmd.running()) break;
    crash_server();
    ++kills;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
    start_server();
  }
  return kills;
}

int64_t file_locks_held(testing::TestDatabase& db) {
  db.reconnect();
  return db.count(
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND "
      "database = (SELECT oid FROM pg_database WHERE datname = current_database())");
}

TEST(Crash, ServerKilledDuringLoadsLosesNothing) {
  const fs::path corpus = testing::write_corpus("crash-load", testing::generated_lines({.seed = 41, .invocations = 3000}), 6);
  const std::string truth = truth_of(corpus);
  std::mt19937 rng(41);
  int kills = 0;
  for (int round = 0; round < 3; ++round) {
    testing::TestDatabase db;
    BackgroundCommand load(kEdpipe + "load --json --quiet --batch-size 300 --db dbname=" + db.name() + " " + corpus.string());
    kills += crash_while(load, rng, 4, 100, 600);
    ASSERT_EQ(load.wait(), 0) << load.output();
    EXPECT_NE(load.output().find("\"durable_commits\":true"), std::string::npos) << load.output();
    expect_exact(db, truth, corpus, "round " + std::to_string(round));
  }
  EXPECT_GE(kills, 6) << "the loads ended before the server was killed often enough to tell";
  fs::remove_all(corpus);
}

// edpipe itself killed with -9 mid-load, again and again: what committed stays, and the same
// command run once more completes the rest exactly once.
TEST(Crash, LoadKilledAndRunAgainIsExact) {
  const fs::path corpus = testing::write_corpus("crash-edpipe", testing::generated_lines({.seed = 46, .invocations = 3000}), 3);
  const std::string truth = truth_of(corpus);
  std::mt19937 rng(46);
  testing::TestDatabase db;
  const std::string cmd = kEdpipe + "load --quiet --batch-size 300 --db dbname=" + db.name() + " " + corpus.string();
  int kills = 0;
  for (int round = 0; round < 4; ++round) {
    BackgroundCommand load(cmd);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 1500)(rng)));
    if (!load.running()) continue;
    load.signal(SIGKILL);
    EXPECT_EQ(load.wait(), 128 + SIGKILL);
    ++kills;
  }
  EXPECT_GE(kills, 2);
  auto last = testing::run_edpipe(cmd.substr(kEdpipe.size()));
  ASSERT_EQ(last.status, 0) << last.err;
  expect_exact(db, truth, corpus, "after the kills");
  fs::remove_all(corpus);
}

TEST(Crash, LoadStartedWhileTheServerRecoversWaitsForIt) {
  const fs::path corpus = testing::write_corpus("crash-recovering", testing::generated_lines({.seed = 42, .invocations = 300}), 2);
  const std::string truth = truth_of(corpus);
  for (int round = 0; round < 2; ++round) {
    testing::TestDatabase db;
    crash_server();
    // The server starts (crash recovery first) while the load is already connecting.
    BackgroundCommand starting(kPg + "start " EDPIPE_TEST_PG_DIR);
    auto r = testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " + corpus.string());
    ASSERT_EQ(starting.wait(), 0) << starting.output();
    ASSERT_EQ(r.status, 0) << r.err;
    expect_exact(db, truth, corpus, "round " + std::to_string(round));
  }
  fs::remove_all(corpus);
}

TEST(Crash, ServerGoneForGoodEndsTheLoadWithinTheRetryBoundThenARerunCompletes) {
  const fs::path corpus = testing::write_corpus("crash-gone", testing::generated_lines({.seed = 43, .invocations = 3000}), 3);
  const std::string truth = truth_of(corpus);
  testing::TestDatabase db;
  BackgroundCommand load(kEdpipe + "load --quiet --batch-size 300 --db dbname=" + db.name() + " " + corpus.string());
  // The server dies once the load has committed its first batch: well before its last.
  for (int i = 0; i < 1000 && load.running() && db.count("SELECT count(*) FROM invocations") == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(load.running()) << load.output();
  crash_server();
  const auto crashed = std::chrono::steady_clock::now();
  // Both lanes retry the batch in hand (about 15 s of backoff); what is queued behind them is
  // cancelled, not tried in turn with retries of its own.
  const int status = load.wait(120);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - crashed).count();
  start_server();
  EXPECT_EQ(status, 1) << load.output();
  EXPECT_LT(took, 40.0) << load.output();
  EXPECT_NE(load.output().find("cancelled"), std::string::npos) << load.output();
  auto rerun = testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " + corpus.string());
  ASSERT_EQ(rerun.status, 0) << rerun.err;
  expect_exact(db, truth, corpus, "after the rerun");
  fs::remove_all(corpus);
}

// The lines appear in the files while `edpipe tail` follows them; the server is killed, and
// so is edpipe (then started again), at random moments. A last `tail --exit-on-eof` then
// finds nothing left to do but what the positions say.
TEST(Crash, ServerAndTailKilledWhileFilesGrowLosesNothing) {
  const auto lines = testing::generated_lines({.seed = 44, .invocations = 2400});
  const fs::path full = testing::write_corpus("crash-tail-full", lines, 3);
  const std::string truth = truth_of(full);
  std::mt19937 rng(44);
  int server_kills = 0, tail_kills = 0;
  for (int round = 0; round < 2; ++round) {
    testing::TestDatabase db;
    const fs::path dir = fs::temp_directory_path() / ("crash-tail-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string tail_cmd = kEdpipe + "tail --quiet --flush-interval 150ms --batch-size 300 --rescan-interval 100ms --db dbname=" +
                                 db.name() + " '" + dir.string() + "/*.ndjson'";
    auto tail = std::make_unique<BackgroundCommand>(tail_cmd);
    // Each file of the full corpus is written again here, in chunks, all three at once.
    testing::GrowingFiles files(full, 3, dir, rng, 120'000);
    while (files.write_step()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 80)(rng)));
      const int dice = std::uniform_int_distribution<int>(0, 19)(rng);
      if (dice == 0) {
        crash_server();
        ++server_kills;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
        start_server();
      } else if (dice == 1) {
        tail->signal(SIGKILL);
        EXPECT_EQ(tail->wait(), 128 + SIGKILL) << tail->output();
        ++tail_kills;
        tail = std::make_unique<BackgroundCommand>(tail_cmd);
      }
    }
    files.close();
    std::this_thread::sleep_for(500ms);
    ASSERT_TRUE(tail->running()) << tail->output();
    tail->signal(SIGTERM);
    EXPECT_EQ(tail->wait(), 0) << tail->output();
    auto last = testing::run_edpipe("tail --quiet --exit-on-eof --db dbname=" + db.name() + " '" + dir.string() + "/*.ndjson'");
    EXPECT_EQ(last.status, 0) << last.err;
    db.reconnect();
    uint64_t bytes = 0;
    for (const auto& e : fs::directory_iterator(dir)) bytes += fs::file_size(e.path());
    EXPECT_EQ(db.count("SELECT sum(byte_offset) FROM edpipe_file_positions"), static_cast<int64_t>(bytes));
    EXPECT_EQ(testing::dump_difference(db.dump(), truth), "") << "round " << round;
    EXPECT_TRUE(verify_database(db.conn()).ok()) << "round " << round;
    fs::remove_all(dir);
  }
  EXPECT_GE(server_kills, 3) << "too few server kills to tell";
  EXPECT_GE(tail_kills, 2) << "too few kills of edpipe to tell";
  fs::remove_all(full);
}

// A tail takes its files' locks again once the server is back: a second tail is refused. And
// a tail that was away while another took them stops, saying so, instead of writing positions
// of files it no longer owns.
TEST(Crash, FileOwnershipSurvivesAServerRestart) {
  const fs::path corpus = testing::write_corpus("crash-owner", testing::generated_lines({.seed = 45, .invocations = 200}), 2);
  const std::string truth = truth_of(corpus);
  testing::TestDatabase db;
  const std::string files = " --db dbname=" + db.name() + " '" + corpus.string() + "/*.ndjson'";
  BackgroundCommand first(kEdpipe + "tail --quiet --flush-interval 100ms" + files);
  for (int i = 0; i < 200 && file_locks_held(db) < 2; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(file_locks_held(db), 2) << first.output();
  for (int round = 0; round < 3; ++round) {
    crash_server();
    start_server();
    int64_t held = 0;
    for (int i = 0; i < 400 && (held = file_locks_held(db)) < 2; ++i) std::this_thread::sleep_for(50ms);
    ASSERT_EQ(held, 2) << "the locks were not taken again after the restart: " << first.output();
    auto second = testing::run_edpipe("tail --quiet --exit-on-eof" + files);
    EXPECT_EQ(second.status, 1) << second.err;
    EXPECT_NE(second.err.find("another edpipe is following this file"), std::string::npos) << second.err;
  }
  // Frozen through a crash, the first finds the files taken by a second when it wakes up.
  first.signal(SIGSTOP);
  crash_server();
  start_server();
  BackgroundCommand second(kEdpipe + "tail --quiet --flush-interval 100ms" + files);
  for (int i = 0; i < 200 && file_locks_held(db) < 2; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(file_locks_held(db), 2) << second.output();
  first.signal(SIGCONT);
  EXPECT_EQ(first.wait(60), 1) << first.output();
  EXPECT_NE(first.output().find("another edpipe took this file"), std::string::npos) << first.output();
  EXPECT_TRUE(second.running()) << second.output();
  second.signal(SIGTERM);
  EXPECT_EQ(second.wait(), 0) << second.output();
  db.reconnect();
  EXPECT_EQ(testing::dump_difference(db.dump(), truth), "");
  fs::remove_all(corpus);
}

// Alive: neither gone nor a zombie (who reaps a killed server's processes is up to PID 1).
bool alive(int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  if (!(stat >> pid_field >> comm >> state)) return false;
  return state != "Z" && state != "X";
}

// A backend that outlived its postmaster (one forked just as the postmaster was killed) stays
// attached to the shared memory, and a server will not start on the data directory while it
// runs: `scripts/pg crash` finds it by its working directory, kills it, and the server starts.
// A busy query never checks whether its postmaster lives; statement_timeout bounds it.
TEST(Crash, ABackendThatOutlivedItsPostmasterIsKilledToo) {
  BackgroundCommand busy(
      "psql -d postgres -qAtc \"SET statement_timeout = '90s'; SELECT count(*) FROM generate_series(1, 10000000000)\"");
  pqxx::connection c("dbname=postgres");
  int64_t backend = 0;
  for (int i = 0; i < 200 && backend == 0; ++i) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec("SELECT pid FROM pg_stat_activity WHERE query LIKE '%generate_series(1, 10000000000)%' AND pid <> pg_backend_pid()");
    if (!r.empty()) backend = r[0][0].as<int64_t>();
    else std::this_thread::sleep_for(50ms);
  }
  ASSERT_NE(backend, 0) << busy.output();
  int postmaster = 0;
  std::ifstream(std::string(EDPIPE_TEST_PG_DIR) + "/data/postmaster.pid") >> postmaster;
  ASSERT_GT(postmaster, 0);
  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(alive(backend)) << "the busy backend did not outlive its postmaster";
  crash_server();
  EXPECT_FALSE(alive(backend)) << "the orphaned backend still runs";
  start_server();
  testing::TestDatabase db;  // the server answers again
  EXPECT_EQ(db.count("SELECT 1"), 1);
  EXPECT_NE(busy.wait(60), 0);
}

}  // namespace
}  // namespace edpipe::load
