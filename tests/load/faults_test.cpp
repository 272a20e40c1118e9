// Faults: the connection cut mid-load, two loaders at once, a database that is not there.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "load/background_queue.h"
#include "load/pg_connection.h"
#include "load/verifier.h"
#include "pg_test_support.h"
#include "test_support.h"

namespace edpipe::load {
namespace {
namespace fs = std::filesystem;

fs::path write_corpus(const std::string& name, const std::vector<std::string>& lines) {
  const fs::path p = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".ndjson");
  std::ofstream f(p);
  for (const auto& l : lines) f << l << "\n";
  return p;
}

TEST(Faults, ConnectionCutMidLoadIsRetriedNothingLostOrDoubled) {
  auto lines = testing::generated_lines({.invocations = 600});
  const fs::path corpus = write_corpus("cut", lines);
  testing::TestDatabase reference;
  testing::load_lines(reference.conninfo(), lines);

  testing::TestDatabase db;
  std::atomic<bool> done{false};
  std::atomic<int> kills{0};
  std::thread killer([&] {
    pqxx::connection admin("dbname=postgres");
    for (int i = 0; i < 400 && !done; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
      pqxx::nontransaction tx(admin);
      auto r = tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'edpipe-cut-test' "
                       "AND datname = '" + db.name() + "'");
      for (const auto& row : r)
        if (row[0].as<bool>()) ++kills;
      if (kills >= 5) break;
    }
  });
  auto r = testing::run_edpipe("load --json --quiet --batch-size 300 --db dbname=" + db.name() + " " + corpus.string(),
                               "PGAPPNAME=edpipe-cut-test");
  done = true;
  killer.join();
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_GT(kills.load(), 0) << "the test did not manage to cut a connection";
  simdjson::dom::parser p;
  auto doc = p.parse(r.out);
  ASSERT_FALSE(doc.error()) << r.out;
  EXPECT_GT(int64_t(doc["database"]["retries"]), 0);
  EXPECT_EQ(db.dump(), reference.dump());
  EXPECT_TRUE(verify_database(db.conn()).ok());
  fs::remove(corpus);
}

TEST(Faults, TwoLoadersOnOverlappingInputsNeitherDeadlockNorDoubleCount) {
  gen::GeneratorOptions o;
  o.invocations = 800;
  o.interleave = 30;
  auto lines = testing::generated_lines(o);
  // Overlapping halves: the middle third is in both.
  std::vector<std::string> a(lines.begin(), lines.begin() + 2 * lines.size() / 3);
  std::vector<std::string> b(lines.begin() + lines.size() / 3, lines.end());
  std::reverse(b.begin(), b.end());
  const fs::path fa = write_corpus("conc-a", a), fb = write_corpus("conc-b", b);
  testing::TestDatabase reference;
  testing::load_lines(reference.conninfo(), lines);

  for (int round = 0; round < 2; ++round) {
    testing::TestDatabase db;
    testing::CommandResult ra, rb;
    // Different lane counts hold different sets of shard locks: still no deadlock.
    const std::string lanes_a = round == 0 ? "1" : "3", lanes_b = round == 0 ? "3" : "2";
    std::thread ta([&] {
      ra = testing::run_edpipe("load --quiet --batch-size 400 --connections " + lanes_a + " --db dbname=" + db.name() +
                               " " + fa.string());
    });
    std::thread tb([&] {
      rb = testing::run_edpipe("load --quiet --batch-size 400 --connections " + lanes_b + " --db dbname=" + db.name() +
                               " " + fb.string());
    });
    ta.join();
    tb.join();
    ASSERT_EQ(ra.status, 0) << ra.err;
    ASSERT_EQ(rb.status, 0) << rb.err;
    EXPECT_EQ(db.dump(), reference.dump());
    EXPECT_TRUE(verify_database(db.conn()).ok());
  }
  fs::remove(fa);
  fs::remove(fb);
}

TEST(Faults, BackgroundQueueReportsTheLoadersFailure) {
  LoaderOptions o;
  o.retry.max_attempts = 1;
  RowLoader loader("host=/nonexistent-edpipe-dir dbname=x", o, nullptr);
  BackgroundQueue<transform::RowBatch> background([&](transform::RowBatch&& b) { loader.load(std::move(b)); });
  transform::RowBatch rows;
  rows.invocations.emplace_back();
  rows.invocations.back().id = *Uuid::parse("550e8400-e29b-41d4-a716-446655440000");
  observe(rows.invocations.back(), 1, std::nullopt, testing::test_text());
  background.submit(std::move(rows));
  EXPECT_THROW(
      {
        background.finish();
        loader.finish();
      },
      ConnectionError);
}

TEST(Faults, BackgroundQueueCancelDropsWhatIsQueuedAndWaitsForTheItemInHand) {
  std::atomic<bool> release{false};
  std::atomic<int> consumed{0};
  BackgroundQueue<int> q(
      [&](int&&) {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ++consumed;
      },
      2);
  q.submit(1);  // in hand, held until released
  q.submit(2);
  q.submit(3);  // queued behind it
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release.store(true);
  });
  q.cancel();  // returns only once the first is done
  releaser.join();
  EXPECT_EQ(consumed.load(), 1) << "a queued item was consumed after cancel()";
  EXPECT_THROW(q.submit(4), BackgroundQueue<int>::Cancelled);
  EXPECT_THROW(q.finish(), BackgroundQueue<int>::Cancelled) << "finish() after cancel() must not look like success";
  EXPECT_EQ(consumed.load(), 1);
}

TEST(Faults, BackgroundQueueDestructorNeverConsumesWhatIsQueued) {
  std::atomic<int> consumed{0};
  {
    BackgroundQueue<int> q(
        [&](int&&) {
          std::this_thread::sleep_for(std::chrono::milliseconds(30));
          ++consumed;
        },
        4);
    for (int i = 0; i < 4; ++i) q.submit(int(i));
  }
  EXPECT_LE(consumed.load(), 1);
}

TEST(Faults, BackgroundQueueKeepsTheFailureOverTheCancel) {
  BackgroundQueue<int> q([](int&&) { throw std::runtime_error("the real cause"); });
  q.submit(1);
  try {
    q.finish();
    FAIL() << "finish() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "the real cause");
  }
  q.cancel();
  EXPECT_THROW(q.finish(), std::runtime_error);
  try {
    q.finish();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "the real cause");
  }
}

TEST(Faults, ConnectingIsRetriedUnlessTheServerRefusedForGood) {
  // No server at all (no socket): what a crashed server looks like until it is back.
  try {
    open_connection("host=/nonexistent-edpipe-dir dbname=x");
    FAIL();
  } catch (const ConnectionError& e) {
    EXPECT_FALSE(e.lasting()) << e.what();
    EXPECT_TRUE(is_passing_fault(e));
  }
  // A malformed connection string never gets better.
  try {
    open_connection("host=/tmp dbname=x nonsense_option=1");
    FAIL();
  } catch (const ConnectionError& e) {
    EXPECT_TRUE(e.lasting()) << e.what();
    EXPECT_FALSE(is_passing_fault(e));
  }
  // The retry bound holds for connecting: one try each, then the error.
  RetryBound one;
  one.max_attempts = 3;
  one.backoff_initial_ms = 1;
  int connects = 0;
  RetryingSession session("host=/nonexistent-edpipe-dir dbname=x", one, [&](pqxx::connection&) { ++connects; });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(session.run([](pqxx::connection&) {}), ConnectionError);
  EXPECT_EQ(session.retries(), 2u);
  EXPECT_EQ(connects, 0);
  // stop() ends the retries at once.
  RetryBound many;
  many.max_attempts = 1000;
  many.backoff_initial_ms = 5000;
  RetryingSession slow("host=/nonexistent-edpipe-dir dbname=x", many);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    slow.stop();
  });
  EXPECT_THROW(slow.run([](pqxx::connection&) {}), ConnectionError);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

// The bound is per outage: a server that comes back between losses lets the work in hand go on
// past max_attempts tries, and outages in a row are bounded too. Each loss here is the work's
// own backend terminated, after its session connected again.
TEST(Faults, TheRetryBoundIsPerOutageAndOutagesAreBounded) {
  testing::TestDatabase db;
  RetryBound bound;
  bound.max_attempts = 2;
  bound.max_outages = 4;
  bound.backoff_initial_ms = 1;
  auto lose_connection_times = [&](int losses) {
    return [&, losses, tries = 0](pqxx::connection& c) mutable {
      pqxx::nontransaction tx(c);
      if (++tries <= losses) tx.exec("SELECT pg_terminate_backend(pg_backend_pid())");
      return tx.exec1("SELECT 42")[0].as<int>();
    };
  };
  RetryingSession session(db.conninfo(), bound);
  EXPECT_EQ(session.run(lose_connection_times(3)), 42) << "three outages, each one try, are within the bound";
  EXPECT_EQ(session.retries(), 3u);

  RetryingSession dying(db.conninfo(), bound);
  int tries = 0;
  EXPECT_THROW(dying.run([&](pqxx::connection& c) {
                 ++tries;
                 pqxx::nontransaction(c).exec("SELECT pg_terminate_backend(pg_backend_pid())");
               }),
               std::exception);
  EXPECT_EQ(tries, 4) << "a server lost on every try ends the work after max_outages";

  // A fault the server answers (not a lost connection) never starts a new outage.
  RetryingSession deadlocked(db.conninfo(), bound);
  tries = 0;
  EXPECT_THROW(deadlocked.run([&](pqxx::connection& c) {
                 ++tries;
                 (void)c;  // the session opens a new connection for every try, as after a real fault
                 throw pqxx::sql_error("deadlock detected", "SELECT 1", "40P01");
               }),
               pqxx::sql_error);
  EXPECT_EQ(tries, 2);

  // A try that ran on its session for a while before its fault (a Citus worker that crashed
  // again after the cluster had served the batch for a while) starts a new outage too.
  auto fail_after_serving = [&](int failures) {
    return [&, failures, n = 0](pqxx::connection& c) mutable {
      pqxx::nontransaction tx(c);
      if (++n <= failures) {
        tx.exec("SELECT pg_sleep(0.06)");
        throw pqxx::sql_error("could not serialize access", "SELECT 1", "40001");
      }
      return 7;
    };
  };
  bound.served_ms = 50;
  RetryingSession served(db.conninfo(), bound);
  EXPECT_EQ(served.run(fail_after_serving(3)), 7) << "three faults, each after serving a while: three outages";
  bound.served_ms = 60'000;
  RetryingSession not_served(db.conninfo(), bound);
  EXPECT_THROW(not_served.run(fail_after_serving(3)), pqxx::sql_error) << "the same faults in one outage of 2 tries";
}

TEST(Faults, DatabaseNotThereIsOneClearLineAndExitOne) {
  auto r = testing::run_edpipe("load --db 'postgresql://edpipe:s3cr3t-pw@127.0.0.1:1/nowhere' " EDPIPE_SAMPLES_DIR);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("edpipe: cannot connect to postgresql://edpipe:****@127.0.0.1:1/nowhere"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Faults, PasswordNeverAppearsInAnyOutput) {
  for (const std::string db : {"'postgresql://u:s3cr3t-pw@127.0.0.1:1/x'", "'host=127.0.0.1 port=1 password=s3cr3t-pw'"}) {
    for (const std::string cmd : {"load", "verify", "migrate up"}) {
      auto r = testing::run_edpipe(cmd + " --db " + db + " " + (cmd == "load" ? EDPIPE_SAMPLES_DIR : ""));
      EXPECT_NE(r.status, 0);
      EXPECT_EQ((r.out + r.err).find("s3cr3t-pw"), std::string::npos) << cmd << ": " << r.err;
    }
  }
  auto r = testing::run_edpipe("verify --db 'host=127.0.0.1 port=1'", "PGPASSWORD=s3cr3t-pw");
  EXPECT_EQ((r.out + r.err).find("s3cr3t-pw"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace edpipe::load
