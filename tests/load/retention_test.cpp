// Retention (`edpipe prune`, migration 010): the detail behind the horizon goes, the rollups
// stay exact, and nothing older than the horizon (or of a pruned invocation) comes back.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "load/load_sql.h"
#include "load/retention.h"
#include "load/verifier.h"
#include "pg_test_support.h"

namespace edpipe::load {
namespace {

constexpr Timestamp kDay0 = 1'795'132'800'000'000;  // 2026-11-20T00:00:00Z

// Three bursts of traffic, two hours apart: 00:00, 02:00, 04:00.
std::vector<std::string> three_bursts() {
  std::vector<std::string> lines;
  for (int i = 0; i < 3; ++i) {
    gen::GeneratorOptions o;
    o.seed = 10 + uint64_t(i);
    o.invocations = 150;
    o.interleave = 4;
    o.start = kDay0 + i * 2 * kMicrosPerHour;
    o.malformed_rate = 0;
    o.abandon_rate = 0;  // every invocation ends within its burst
    for (auto& l : testing::generated_lines(o)) lines.push_back(std::move(l));
  }
  return lines;
}

std::string rollups(testing::TestDatabase& db) {
  pqxx::work tx(db.conn());
  std::string out;
  for (const auto& r : tx.exec("SELECT hour_bucket, source_function, total_invocations, successful_invocations, "
                               "failed_invocations, total_jobs_run, duration_sum_ms, p95_duration_ms, detected_event_counts "
                               "FROM metrics_hourly ORDER BY 1, 2")) {
    for (const auto& f : r) out += (f.is_null() ? "null" : f.c_str()) + std::string("|");
    out += "\n";
  }
  for (const auto& r : tx.exec("SELECT * FROM name_metrics_hourly ORDER BY kind, hour_bucket, source_function, name")) {
    for (const auto& f : r) out += f.c_str() + std::string("|");
    out += "\n";
  }
  return out;
}

PruneOptions before(Timestamp horizon) {
  PruneOptions o;
  o.before = horizon;
  o.batch = 50;
  return o;
}

TEST(Retention, PruneDeletesTheOldDetailAndKeepsTheRollups) {
  testing::TestDatabase db;
  testing::load_lines(db.conninfo(), three_bursts());
  const std::string rollups_before = rollups(db);
  const int64_t total = db.count("SELECT count(*) FROM invocations");
  const Timestamp horizon = kDay0 + 2 * kMicrosPerHour;
  const int64_t old = db.count("SELECT count(*) FROM invocations WHERE last_record_at < '2026-11-20T02:00:00Z'");
  ASSERT_GT(old, 100);

  PruneOptions dry = before(horizon);
  dry.dry_run = true;
  const PruneResult would = prune(db.conn(), dry);
  EXPECT_EQ(int64_t(would.invocations), old);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations"), total) << "--dry-run deletes nothing";
  EXPECT_FALSE(read_horizon(db.conn()));

  PruneOptions o = before(horizon);
  o.vacuum = true;
  o.rest = 0.1;
  const PruneResult r = prune(db.conn(), o);
  EXPECT_TRUE(r.vacuumed);
  EXPECT_GE(db.count("SELECT count(*) FROM pg_stat_user_tables WHERE relname LIKE 'job_logs_%' AND last_vacuum IS NOT NULL"), 1);
  EXPECT_EQ(r.horizon, horizon);
  EXPECT_EQ(int64_t(r.invocations), old);
  EXPECT_GT(r.batches, 2u) << "in short transactions";
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations"), total - old);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE last_record_at < '2026-11-20T02:00:00Z'"), 0);
  for (const char* orphans : {"SELECT count(*) FROM event_executions e WHERE NOT EXISTS (SELECT 1 FROM invocations i WHERE i.id = e.invocation_id)",
                              "SELECT count(*) FROM job_executions j WHERE NOT EXISTS (SELECT 1 FROM invocations i WHERE i.id = j.invocation_id)",
                              "SELECT count(*) FROM job_logs l WHERE NOT EXISTS (SELECT 1 FROM invocations i WHERE i.id = l.invocation_id)"})
    EXPECT_EQ(db.count(orphans), 0) << orphans;
  EXPECT_EQ(db.count("SELECT count(*) FROM edpipe_pruned"), old) << "remembered";
  EXPECT_EQ(rollups(db), rollups_before) << "the rollups are the long-term record";
  const VerifyReport v = verify_database(db.conn());
  EXPECT_TRUE(v.ok()) << (v.differences.empty() ? "" : v.differences[0]);
  EXPECT_EQ(v.horizon, horizon);
}

// Days whose every invocation is older than the horizon go whole (their partitions dropped,
// migration 016); the rest goes row by row. That ends in the rows a prune of every row one by one
// leaves, and a load that brings a new invocation of a dropped day makes its partition again.
TEST(Retention, WholeDaysDroppedEndAsTheRowByRowPrune) {
  gen::GeneratorOptions g;
  g.seed = 21;
  g.invocations = 900;
  g.start = kDay0;
  g.span = 70 * kMicrosPerHour;  // days 20, 21 and 22
  g.malformed_rate = 0;
  g.abandon_rate = 0;
  const auto lines = testing::generated_lines(g);
  testing::TestDatabase by_day, by_row;
  testing::load_lines(by_day.conninfo(), lines);
  testing::load_lines(by_row.conninfo(), lines);
  const std::string partitions = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'job_logs'::regclass";
  ASSERT_EQ(by_day.count(partitions), 4) << "three days and the undated";
  ASSERT_GT(by_day.count("SELECT count(*) FROM invocations WHERE source_job_id IS NOT NULL"), 10);

  PruneOptions o = before(kDay0 + 48 * kMicrosPerHour + 5 * kMicrosPerHour);
  o.batch = 100;
  const PruneResult days = prune(by_day.conn(), o);
  o.whole_days = false;
  const PruneResult rows = prune(by_row.conn(), o);
  EXPECT_EQ(days.days_dropped, 2u);
  EXPECT_EQ(rows.days_dropped, 0u);
  EXPECT_GT(days.invocations, 500u);
  EXPECT_EQ(days.invocations, rows.invocations);
  EXPECT_EQ(by_day.count(partitions), 2);
  EXPECT_EQ(testing::dump_difference(by_day.dump(), by_row.dump()), "");
  EXPECT_EQ(rollups(by_day), rollups(by_row));
  EXPECT_TRUE(verify_database(by_day.conn()).ok());
  // A day dropped whole takes its span along; a day made again keeps it (it holds the kept rows).
  const std::string spans_without_days =
      "SELECT count(*) FROM edpipe_day_spans s WHERE s.invocation_day <> '1970-01-01' AND to_regclass('invocations_d' || "
      "to_char(s.invocation_day, 'YYYYMMDD')) IS NULL";
  EXPECT_EQ(by_day.count(spans_without_days), 0);
  EXPECT_EQ(by_row.count(spans_without_days), 0);
  EXPECT_EQ(by_day.count("SELECT count(*) FROM edpipe_day_spans WHERE invocation_day <> '1970-01-01'"),
            by_day.count("SELECT count(*) FROM pg_class WHERE relname ~ '^invocations_d[0-9]{8}$'"));
  EXPECT_GT(by_row.count("SELECT count(*) FROM edpipe_day_spans WHERE invocation_day <> '1970-01-01'"),
            by_day.count("SELECT count(*) FROM edpipe_day_spans WHERE invocation_day <> '1970-01-01'"));

  // A new invocation whose id is of the first day (minted then), with records after the horizon.
  const std::vector<std::string> late = {
      R"({"type":"invocation.start","ts":"2026-11-22T06:00:00Z","invocation_id":"01a1f677-aa80-7000-8000-000000000001","source_function":"fn"})",
      R"({"type":"job.log","ts":"2026-11-22T06:00:01Z","invocation_id":"01a1f677-aa80-7000-8000-000000000001","level":"info","message":"m","seq":0})"};
  testing::load_lines(by_day.conninfo(), late);
  testing::load_lines(by_row.conninfo(), late);
  EXPECT_EQ(by_day.count(partitions), 3);
  EXPECT_EQ(by_day.count("SELECT count(*) FROM job_logs_d20261120"), 1);
  EXPECT_EQ(testing::dump_difference(by_day.dump(), by_row.dump()), "");
  EXPECT_TRUE(verify_database(by_day.conn()).ok());
}

TEST(Retention, AReplayOfPrunedDaysAddsNothing) {
  testing::TestDatabase db;
  const auto lines = three_bursts();
  testing::load_lines(db.conninfo(), lines);
  prune(db.conn(), before(kDay0 + 3 * kMicrosPerHour));
  const std::string rows_after_prune = db.dump(), rollups_after_prune = rollups(db);
  const LoaderStats again = testing::load_lines(db.conninfo(), lines, 700);
  EXPECT_GT(again.beyond_retention, 0u);
  EXPECT_EQ(db.dump(), rows_after_prune);
  EXPECT_EQ(rollups(db), rollups_after_prune);
  EXPECT_TRUE(verify_database(db.conn()).ok());
}

TEST(Retention, LateRecordsOfAPrunedInvocationBringNothingBack) {
  testing::TestDatabase db;
  const std::string id = "7a7e0000-0000-4000-8000-000000000001";
  testing::load_lines(db.conninfo(),
                      {R"({"type":"invocation.start","ts":"2026-11-20T00:10:00Z","invocation_id":")" + id + R"(","source_function":"fn"})",
                       R"({"type":"invocation.end","ts":"2026-11-20T00:10:01Z","invocation_id":")" + id + R"(","status":"completed"})",
                       R"({"type":"invocation.start","ts":"2026-11-20T05:00:00Z","invocation_id":"7a7e0000-0000-4000-8000-000000000002","source_function":"fn"})"});
  const std::string rollups_before = rollups(db);
  prune(db.conn(), before(kDay0 + 2 * kMicrosPerHour));
  ASSERT_EQ(db.count("SELECT count(*) FROM invocations"), 1);
  // A record of it long after the horizon (a job that reported hours late), and one before it.
  const LoaderStats late = testing::load_lines(
      db.conninfo(), {R"({"type":"job.log","ts":"2026-11-20T04:00:00Z","invocation_id":")" + id + R"(","level":"info","message":"late","seq":0})",
                      R"({"type":"job.log","ts":"2026-11-20T00:20:00Z","invocation_id":"7a7e0000-0000-4000-8000-000000000003","level":"info","message":"old","seq":0})"});
  EXPECT_EQ(late.beyond_retention, 4u);  // rows: each line's invocation fragment and its log line
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations"), 1) << "no phantom invocation";
  EXPECT_EQ(db.count("SELECT count(*) FROM job_logs"), 0);
  EXPECT_EQ(rollups(db), rollups_before);
}

// An invocation that straddles the horizon stays; a record of it older than the horizon that
// arrives later is left out by `edpipe load`, so nothing behind the horizon changes.
TEST(Retention, ALateRecordOlderThanTheHorizonChangesNothingEvenOfAnInvocationStillHeld) {
  testing::TestDatabase db;
  const std::string id = "57ad0000-0000-4000-8000-000000000001";
  testing::load_lines(db.conninfo(),
                      {R"({"type":"invocation.start","ts":"2026-11-20T01:30:00Z","invocation_id":")" + id + R"(","source_function":"fn"})",
                       R"({"type":"invocation.end","ts":"2026-11-20T03:00:00Z","invocation_id":")" + id + R"(","status":"completed"})"});
  prune(db.conn(), before(kDay0 + 2 * kMicrosPerHour));
  ASSERT_EQ(db.count("SELECT count(*) FROM invocations"), 1) << "its last record is after the horizon";
  const std::string rows_before = db.dump(), rollups_before = rollups(db);
  const auto file = std::filesystem::temp_directory_path() / ("edpipe-late-" + db.name() + ".ndjson");
  std::ofstream(file) << R"({"type":"invocation.start","ts":"2026-11-20T01:00:00Z","invocation_id":")" + id +
                             R"(","source_function":"earlier"})" "\n";
  const auto r = testing::run_edpipe("load --json --quiet --db dbname=" + db.name() + " " + file.string());
  std::filesystem::remove(file);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"beyond_retention\":1"), std::string::npos) << r.out;
  EXPECT_EQ(db.dump(), rows_before);
  EXPECT_EQ(rollups(db), rollups_before) << "the 01:00 hour would have gained an invocation";
}

TEST(Retention, AnInterruptedPruneRunAgainEndsWhereOneRunEnds) {
  testing::TestDatabase once, twice;
  const auto lines = three_bursts();
  testing::load_lines(once.conninfo(), lines);
  testing::load_lines(twice.conninfo(), lines);
  prune(once.conn(), before(kDay0 + 3 * kMicrosPerHour));
  PruneOptions stop = before(kDay0 + 3 * kMicrosPerHour);
  stop.max_batches = 2;
  stop.whole_days = false;  // rows first; the run that goes on makes the day again with what stays
  const PruneResult first = prune(twice.conn(), stop);
  EXPECT_FALSE(first.complete);
  EXPECT_EQ(first.invocations, 100u);
  const PruneResult rest = prune(twice.conn(), before(kDay0 + 3 * kMicrosPerHour));
  EXPECT_TRUE(rest.complete);
  EXPECT_EQ(twice.dump(), once.dump());
  EXPECT_EQ(rollups(twice), rollups(once));
}

TEST(Retention, TheHorizonNeverMovesBack) {
  testing::TestDatabase db;
  testing::load_lines(db.conninfo(), three_bursts());
  EXPECT_TRUE(prune(db.conn(), before(kDay0 + 3 * kMicrosPerHour + 1234)).horizon_moved);
  EXPECT_EQ(read_horizon(db.conn()), kDay0 + 3 * kMicrosPerHour) << "on the hour";
  const PruneResult back = prune(db.conn(), before(kDay0 + kMicrosPerHour));
  EXPECT_FALSE(back.horizon_moved);
  EXPECT_EQ(back.horizon, kDay0 + 3 * kMicrosPerHour);
  EXPECT_EQ(read_horizon(db.conn()), kDay0 + 3 * kMicrosPerHour);
  PruneOptions keep;  // --keep 30d back from the watermark: before the horizon, so nothing moves
  keep.keep = 30 * 24 * kMicrosPerHour;
  EXPECT_FALSE(prune(db.conn(), keep).horizon_moved);
  // The command says so too.
  const auto r = testing::run_edpipe("prune --keep 30d --db dbname=" + db.name());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("unchanged: it never moves back"), std::string::npos) << r.out;
}

// The prune rests only beside a load: a loader's session, or one at a shard lock.
TEST(Retention, ALoadBesideIsSeenByItsShardLock) {
  testing::TestDatabase db;
  pqxx::connection pruner(db.conninfo()), loader(db.conninfo());
  EXPECT_FALSE(a_load_runs_beside(pruner));
  {
    pqxx::work tx(loader);
    tx.exec(sql::lock_shards({3, 5}));
    EXPECT_TRUE(a_load_runs_beside(pruner));
  }
  EXPECT_FALSE(a_load_runs_beside(pruner)) << "released with the transaction";
  // A loader's session, between its batches.
  pqxx::nontransaction(loader).exec(sql::kMarkLoaderSession);
  EXPECT_TRUE(a_load_runs_beside(pruner));
  loader.disconnect();
  for (int i = 0; i < 100 && a_load_runs_beside(pruner); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(a_load_runs_beside(pruner)) << "gone with its session";
}

TEST(Retention, PruneWithLoadersRunningNeitherDeadlocksNorLosesACount) {
  testing::TestDatabase db;
  const auto lines = three_bursts();
  // The first two bursts loaded; the third loads while prunes of the first run beside it.
  std::vector<std::string> early, late;
  for (const auto& l : lines) (l.find("\"ts\":\"2026-11-20T04") != std::string::npos ? late : early).push_back(l);
  testing::load_lines(db.conninfo(), early);
  std::atomic<bool> loading{true};
  std::thread loader([&] {
    testing::load_lines(db.conninfo(), late, 200);
    loading = false;
  });
  pqxx::connection pruner(db.conninfo());
  size_t prunes = 0;
  while (loading && prunes < 200) {
    PruneOptions o = before(kDay0 + 2 * kMicrosPerHour);
    o.batch = 10;
    prune(pruner, o);
    ++prunes;
  }
  loader.join();
  prune(pruner, before(kDay0 + 2 * kMicrosPerHour));
  EXPECT_GT(prunes, 0u);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE last_record_at < '2026-11-20T02:00:00Z'"), 0);
  EXPECT_GT(db.count("SELECT count(*) FROM invocations WHERE created_at >= '2026-11-20T04:00:00Z'"), 100);
  const VerifyReport v = verify_database(db.conn());
  EXPECT_TRUE(v.ok()) << (v.differences.empty() ? "" : v.differences[0]);
}

}  // namespace
}  // namespace edpipe::load
