// Fault injection against the throwaway PostgreSQL, each in a bounded loop: the server restarted
// during a load, a statement timeout, a deadlock with another writer, the dead-letter disk full.
// After each, nothing is lost or doubled and `edpipe verify` is clean.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "load/load_sql.h"
#include "load/verifier.h"
#include "pg_test_support.h"

namespace edpipe::load {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path write_lines(const std::string& name, const std::vector<std::string>& lines) {
  const fs::path p = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".ndjson");
  std::ofstream f(p);
  for (const auto& l : lines) f << l << "\n";
  return p;
}

std::string reference_dump(const fs::path& corpus) {
  testing::TestDatabase ref;
  auto r = testing::run_edpipe("load --quiet --db dbname=" + ref.name() + " " + corpus.string());
  EXPECT_EQ(r.status, 0) << r.err;
  return ref.dump();
}

using BackgroundLoad = testing::BackgroundCommand;

TEST(FaultInjection, ServerRestartedDuringALoad) {
  const fs::path corpus = write_lines("restart", testing::generated_lines({.seed = 31, .invocations = 1500}));
  const std::string expected = reference_dump(corpus);
  std::mt19937 rng(3);
  for (int round = 0; round < 3; ++round) {
    testing::TestDatabase db;
    BackgroundLoad load(std::string(EDPIPE_BINARY) + " load --json --quiet --batch-size 400 --db dbname=" + db.name() +
                        " " + corpus.string());
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 600)(rng)));
    auto restart = testing::run_command(std::string(EDPIPE_SOURCE_DIR) + "/scripts/pg restart " EDPIPE_TEST_PG_DIR);
    ASSERT_EQ(restart.status, 0) << restart.err;
    ASSERT_EQ(load.wait(), 0) << load.output();
    db.reconnect();
    EXPECT_EQ(db.dump(), expected) << "round " << round;
    EXPECT_TRUE(verify_database(db.conn()).ok());
  }
  fs::remove(corpus);
}

// Whether another session of `db` sits in pg_sleep (so the statements before it in its query,
// which take the lock, are done), within 10 s.
bool another_session_sleeps(testing::TestDatabase& db) {
  for (int i = 0; i < 200; ++i) {
    pqxx::nontransaction tx(db.conn());
    const auto r = tx.exec(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND wait_event = 'PgSleep'");
    if (r[0][0].as<int>() > 0) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Loads `corpus` into `db` while another session runs `holder_psql_args` (psql's -c options),
// which holds a lock for 1.5 s; edpipe's statements time out after 300 ms. The load starts once
// the lock is held (a load takes well under a second: started on a clock, it could finish before
// psql has connected), and must have waited (retried), then complete equal to `expected`.
void expect_load_waits_for_lock(testing::TestDatabase& db, const std::string& holder_psql_args, const fs::path& corpus,
                                const std::string& expected, const std::string& what) {
  BackgroundLoad holder("psql -X -q -d " + db.name() + " " + holder_psql_args);
  ASSERT_TRUE(another_session_sleeps(db)) << "the session holding the lock never got to its pg_sleep: " << holder.output();
  auto r = testing::run_edpipe("load --json --quiet --db dbname=" + db.name() + " " + corpus.string(),
                               "PGOPTIONS='-c statement_timeout=300'");
  EXPECT_EQ(holder.wait(), 0);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"retries\":"), std::string::npos);
  EXPECT_EQ(r.out.find("\"retries\":0"), std::string::npos) << what << ": " << r.out;
  EXPECT_EQ(db.dump(), expected);
  EXPECT_TRUE(verify_database(db.conn()).ok());
}

TEST(FaultInjection, StatementTimeoutWhileAnotherSessionHoldsALockIsRetried) {
  const fs::path corpus = write_lines("timeout", testing::generated_lines({.seed = 32, .invocations = 200}));
  const std::string expected = reference_dump(corpus);
  for (int round = 0; round < 2; ++round) {
    testing::TestDatabase db;
    // Another session holds the watermark row. (The row exists once anything was loaded; an old
    // time, so the loaded data's is newer.)
    expect_load_waits_for_lock(db,
                               "-c \"INSERT INTO edpipe_watermark VALUES (true, '2000-01-01') ON CONFLICT DO NOTHING\""
                               " -c 'BEGIN; SELECT * FROM edpipe_watermark FOR UPDATE; SELECT pg_sleep(1.5); COMMIT;'",
                               corpus, expected, "no statement timed out");
  }
  fs::remove(corpus);
}

// Loaders take turns at a batch's serial end by an advisory lock (held until the commit is done
// everywhere: on Citus after the workers' COMMIT PREPARED; docs/database.md step 3), not by the
// watermark's row alone. Another session holding that lock holds every batch before its merge.
TEST(FaultInjection, TheSerialEndWaitsForItsAdvisoryLock) {
  const fs::path corpus = write_lines("serial", testing::generated_lines({.seed = 33, .invocations = 200}));
  testing::TestDatabase db;
  expect_load_waits_for_lock(db,
                             "-c 'BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(load::sql::kSerialEndLockSpace) +
                                 ", 0); SELECT pg_sleep(1.5); COMMIT;'",
                             corpus, reference_dump(corpus), "no batch waited for the lock");
  fs::remove(corpus);
}

TEST(FaultInjection, DeadlockWithAnotherWriterIsRetriedAndBothFinish) {
  // Two edpipe loaders cannot deadlock each other: both take their shard locks, then the
  // watermark row, before any other row lock (load_lane.h). Another
  // writer that locks rows in the other order can: it holds an invocation edpipe is about to
  // merge, then waits for the watermark edpipe holds. PostgreSQL breaks the cycle by failing
  // one of them; here edpipe, which retries (40P01) once the other has committed.
  const auto lines = testing::generated_lines({.seed = 33, .invocations = 300});
  const fs::path corpus = write_lines("deadlock", lines);
  const fs::path first_half = write_lines("deadlock-half", {lines.begin(), lines.begin() + lines.size() / 2});
  const std::string expected = reference_dump(corpus);
  for (int round = 0; round < 2; ++round) {
    testing::TestDatabase db;
    ASSERT_EQ(testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " + first_half.string()).status, 0);
    // The other writer: hold every stored invocation, wait until edpipe holds the watermark row
    // (probing with NOWAIT inside a sub-transaction, which lets go of the row again), then wait
    // for it. edpipe then waits for an invocation: a cycle, which edpipe's deadlock check (50 ms
    // against the other's 5 s) finds, so edpipe is the one failed with 40P01 and retries.
    const std::string other =
        "psql -X -q -v ON_ERROR_STOP=1 -d " + db.name() + " -c \"SET deadlock_timeout = '5s'\" -c \"DO \\$\\$ BEGIN "
        "PERFORM 1 FROM invocations ORDER BY id FOR UPDATE; "
        "FOR i IN 1..2000 LOOP BEGIN PERFORM 1 FROM edpipe_watermark FOR UPDATE NOWAIT; RAISE EXCEPTION 'not yet'; "
        "EXCEPTION WHEN lock_not_available THEN EXIT; WHEN raise_exception THEN PERFORM pg_sleep(0.002); END; END LOOP; "
        "PERFORM 1 FROM edpipe_watermark FOR UPDATE; END \\$\\$;\"";
    BackgroundLoad writer(other);
    // Started once the writer holds the invocations and probes (its 2 ms sleeps), not on a clock.
    ASSERT_TRUE(another_session_sleeps(db)) << "the other writer never got to its probing: " << writer.output();
    // The whole corpus completes the stored invocations: it updates them, after the watermark.
    auto r = testing::run_edpipe("load --json --quiet --db dbname=" + db.name() + " " + corpus.string(),
                                 "PGOPTIONS='-c deadlock_timeout=50'");
    const int writer_status = writer.wait();
    EXPECT_EQ(writer_status, 0) << writer.output();
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.find("\"retries\":0"), std::string::npos) << "no deadlock happened: " << r.out;
    EXPECT_EQ(db.dump(), expected);
    EXPECT_TRUE(verify_database(db.conn()).ok());
  }
  fs::remove(corpus);
  fs::remove(first_half);
}

TEST(FaultInjection, DeadLetterDiskFullStopsBeforeTheBatchCommits) {
  testing::TestDatabase db;
  auto lines = testing::generated_lines({.seed = 34, .invocations = 50, .malformed_rate = 0.05});
  const fs::path corpus = write_lines("dlfull", lines);
  for (int round = 0; round < 2; ++round) {
    // /dev/full: every write fails with ENOSPC, as on a full disk.
    auto r = testing::run_edpipe("load --quiet --dead-letter /dev/full --db dbname=" + db.name() + " " + corpus.string());
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("/dev/full"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    EXPECT_EQ(db.count("SELECT count(*) FROM invocations"), 0) << "a batch committed without its dead letters";
  }
  fs::remove(corpus);
}

}  // namespace
}  // namespace edpipe::load
