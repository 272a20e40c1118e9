// The load holds invariants 1-3 of the wire format against a real PostgreSQL.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>

#include "load/database_report.h"
#include "load/migrator.h"
#include "load/verifier.h"
#include "pg_test_support.h"
#include "test_support.h"

namespace edpipe::load {
namespace {
namespace fs = std::filesystem;

void expect_verified(testing::TestDatabase& db) {
  auto rep = verify_database(db.conn());
  EXPECT_TRUE(rep.ok()) << (rep.differences.empty() ? "" : rep.differences[0]) << " (+" << rep.differences.size() << ")";
}

TEST(Load, SamplesGiveTheHandCheckedRows) {
  testing::TestDatabase db;
  auto r = testing::run_edpipe("load --json --quiet --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR);
  ASSERT_EQ(r.status, 0) << r.err;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(r.out).get(doc)) << r.out;
  EXPECT_EQ(int64_t(doc["rows"]["invocations"]), 9);
  EXPECT_EQ(int64_t(doc["rows"]["event_executions"]), 11);
  EXPECT_EQ(int64_t(doc["rows"]["job_executions"]), 5);
  EXPECT_EQ(int64_t(doc["rows"]["job_logs"]), 6);
  EXPECT_EQ(int64_t(doc["rows"]["metrics_hourly"]), 5);
  EXPECT_EQ(int64_t(doc["invocations_by_status"]["abandoned"]), 1);
  EXPECT_EQ(int64_t(doc["events_by_status"]["handler_failed"]), 1);
  EXPECT_EQ(int64_t(doc["jobs_by_status"]["failed"]), 1);
  // Row by row, the parts checked by hand in samples/README.md.
  auto one = [&](const std::string& sql) {
    pqxx::read_transaction tx(db.conn());
    return tx.exec(sql)[0][0].as<std::string>();
  };
  EXPECT_EQ(one("SELECT status FROM invocations WHERE id = 'cccccccc-0000-4000-8000-000000000003'"), "abandoned");
  EXPECT_EQ(one("SELECT total_duration_ms FROM invocations WHERE id = 'bbbbbbbb-0000-4000-8000-000000000002'"), "500");
  EXPECT_EQ(one("SELECT source_job_id FROM invocations WHERE id = 'bbbbbbbb-0000-4000-8000-000000000002'"),
            "f0000001-0000-4000-8000-000000000001");
  EXPECT_EQ(one("SELECT source_user_email FROM invocations WHERE id = 'aaaaaaaa-0000-4000-8000-000000000001'"), "driver@company.com");
  EXPECT_EQ(one("SELECT source_event_time FROM invocations WHERE id = 'aaaaaaaa-0000-4000-8000-000000000001'"),
            "2026-11-20 09:59:59.950123+00");
  EXPECT_EQ(one("SELECT duration_ms FROM job_executions WHERE job_name = 'updateAnalytics'"), "219");
  EXPECT_EQ(one("SELECT jobs_count || '/' || jobs_failed FROM event_executions WHERE event_name = 'move.pickup.successful'"), "2/1");
  EXPECT_EQ(one("SELECT count(*) FROM job_logs WHERE message = 'audit row already present'"), "2");
  EXPECT_EQ(one("SELECT count(*) FROM job_logs WHERE job_execution_id IS NULL"), "1");
  EXPECT_EQ(testing::run_edpipe("verify --db dbname=" + db.name()).status, 0);
}

// The abandon rule is re-applied to the stored invocations at every load, both ways: a later
// load with a longer --abandon-after makes an abandoned invocation running again, and a later
// record makes a running one abandoned. (A load reads only the invocations that can flip.)
TEST(Load, AbandonedInvocationsFlipBothWaysUnderTheWatermark) {
  testing::TestDatabase db;
  const fs::path dir = fs::temp_directory_path() / ("edpipe-abandon-flips-" + db.name());
  fs::create_directories(dir);
  struct Cleanup {
    fs::path p;
    ~Cleanup() { fs::remove_all(p); }
  } cleanup{dir};
  const auto start = [](const char* id, const char* ts) {
    return std::string(R"({"type":"invocation.start","ts":")") + ts + R"(","invocation_id":")" + id +
           R"(","source_function":"fn"})" + "\n";
  };
  const char* x = "dddddddd-0000-4000-8000-000000000001";
  std::ofstream(dir / "a.ndjson") << start(x, "2026-11-20T10:00:00Z")
                                  << start("dddddddd-0000-4000-8000-000000000002", "2026-11-20T10:30:00Z");
  std::ofstream(dir / "b.ndjson") << start("dddddddd-0000-4000-8000-000000000003", "2026-11-20T10:31:00Z");
  std::ofstream(dir / "c.ndjson") << start("dddddddd-0000-4000-8000-000000000004", "2026-11-20T11:30:00Z");
  const std::string db_arg = " --quiet --db dbname=" + db.name() + " ";
  const auto status_of_x = [&] {
    pqxx::read_transaction tx(db.conn());
    return tx.exec(std::string("SELECT status FROM invocations WHERE id = '") + x + "'")[0][0].as<std::string>();
  };
  ASSERT_EQ(testing::run_edpipe("load" + db_arg + (dir / "a.ndjson").string()).status, 0);
  EXPECT_EQ(status_of_x(), "abandoned");  // quiet for 30 min, the window 15
  ASSERT_EQ(testing::run_edpipe("load --abandon-after 1h" + db_arg + (dir / "b.ndjson").string()).status, 0);
  EXPECT_EQ(status_of_x(), "running");  // 31 min quiet: inside an hour's window
  expect_verified(db);
  ASSERT_EQ(testing::run_edpipe("load --abandon-after 1h" + db_arg + (dir / "c.ndjson").string()).status, 0);
  EXPECT_EQ(status_of_x(), "abandoned");  // 90 min quiet
  expect_verified(db);
}

// The summary's totals: counted while the database is small; past kCountedTotalsUpTo rows (as
// PostgreSQL estimates them) its estimates and no statuses, unless --totals asks to count.
TEST(Load, TheSummaryCountsASmallDatabaseAndEstimatesALargeOne) {
  testing::TestDatabase db;
  const std::string load = "load --json --quiet --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR;
  auto summary = [&](const std::string& args) {
    const auto r = testing::run_edpipe(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  };
  const std::string small = summary(load);
  EXPECT_NE(small.find("\"rows_estimated\":false"), std::string::npos) << small;
  EXPECT_NE(small.find("\"invocations\":9,"), std::string::npos) << small;
  {
    pqxx::work tx(db.conn());  // what ANALYZE would say of a large database: of its partitions
    tx.exec("UPDATE pg_class SET reltuples = 3000000 WHERE oid IN (SELECT inhrelid FROM pg_inherits WHERE "
            "inhparent = 'job_logs'::regclass)");
    tx.exec("UPDATE pg_class SET reltuples = 3 WHERE oid IN (SELECT inhrelid FROM pg_inherits WHERE "
            "inhparent = 'invocations'::regclass)");
    tx.commit();
  }
  const std::string large = summary(load);
  EXPECT_NE(large.find("\"rows_estimated\":true"), std::string::npos) << large;
  const int64_t partitions = db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'job_logs'::regclass");
  ASSERT_GE(partitions, 1);
  EXPECT_NE(large.find("\"job_logs\":" + std::to_string(partitions * 3000000)), std::string::npos) << large;
  EXPECT_NE(large.find("\"invocations_by_status\":null"), std::string::npos) << large;
  const std::string counted = summary(load + " --totals");
  EXPECT_NE(counted.find("\"rows_estimated\":false"), std::string::npos) << counted;
  EXPECT_NE(counted.find("\"job_logs\":6,"), std::string::npos) << counted;
}

TEST(Load, LoadingTwiceChangesNothing) {
  testing::TestDatabase db;
  auto lines = testing::generated_lines({.invocations = 200, .abandon_rate = 0.05});
  testing::load_lines(db.conninfo(), lines, 3000);
  const std::string first = db.dump();
  const int64_t updated = db.count("SELECT count(*) FROM invocations WHERE updated_at > now() - interval '1 hour'");
  const std::string stamp = [&] {
    pqxx::read_transaction tx(db.conn());
    return tx.exec("SELECT max(updated_at)::text FROM invocations")[0][0].as<std::string>();
  }();
  testing::load_lines(db.conninfo(), lines, 500);
  EXPECT_EQ(db.dump(), first);
  pqxx::read_transaction tx(db.conn());
  EXPECT_EQ(tx.exec("SELECT max(updated_at)::text FROM invocations")[0][0].as<std::string>(), stamp)
      << "a replay must not write";
  EXPECT_GT(updated, 0);
}

TEST(Load, SplitIntoBatchesAndFilesInAnyOrderGivesTheSameRows) {
  gen::GeneratorOptions o;
  o.invocations = 250;
  o.abandon_rate = 0.05;
  o.chain_rate = 0.3;
  o.failure_rate = 0.1;
  auto lines = testing::generated_lines(o);
  o.seed = 9;
  o.start += 2 * kMicrosPerHour;  // a second stretch: earlier ones get abandoned under its watermark
  auto later = testing::generated_lines(o);
  lines.insert(lines.end(), later.begin(), later.end());

  testing::TestDatabase reference;
  testing::load_lines(reference.conninfo(), lines, 1000000, {}, nullptr, 1);  // one lane, one batch
  const std::string want = reference.dump();
  expect_verified(reference);
  // The in-memory pipeline agrees with the database on what it holds.
  auto mem = testing::run_pipeline(lines);
  EXPECT_EQ(reference.count("SELECT count(*) FROM invocations"), int64_t(mem.tally.invocations));
  EXPECT_EQ(reference.count("SELECT count(*) FROM job_logs"), int64_t(mem.tally.job_logs));
  EXPECT_EQ(reference.count("SELECT count(*) FROM invocations WHERE status = 'abandoned'"),
            int64_t(mem.tally.invocations_by_status[size_t(transform::InvocationStatus::Abandoned)]));

  std::mt19937_64 rng(11);
  for (int run = 0; run < 3; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    testing::TestDatabase db;
    // Files: contiguous slices, replayed in random order, each its own load with small batches.
    const size_t files = 3 + rng() % 4;
    std::vector<size_t> order(files);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t f : order) {
      std::vector<std::string> part(lines.begin() + f * lines.size() / files, lines.begin() + (f + 1) * lines.size() / files);
      std::vector<size_t> cuts;
      for (int c = 0; c < 5; ++c) cuts.push_back(rng() % part.size());
      // Lanes: however many, the shards split the same rows differently.
      testing::load_lines(db.conninfo(), part, 200 + rng() % 2000, cuts, nullptr, 2 + run);
      expect_verified(db);
    }
    EXPECT_EQ(db.dump(), want);
  }
}

TEST(Load, HourlyRollupsEqualTheDryRunsWhateverTheBatches) {
  gen::GeneratorOptions o;
  o.invocations = 300;
  o.abandon_rate = 0.05;
  o.start = *parse_rfc3339("2026-11-20T09:50:00Z");  // across an hour boundary
  auto lines = testing::generated_lines(o);
  const auto dry = testing::run_pipeline(lines);
  testing::TestDatabase db;
  std::vector<std::string> first(lines.begin() + lines.size() / 2, lines.end()), second(lines.begin(), lines.begin() + lines.size() / 2);
  testing::load_lines(db.conninfo(), first, 700);
  testing::load_lines(db.conninfo(), second, 700);
  const transform::TallyResult stored = read_database_tally(db.conn());
  EXPECT_GE(stored.rollups.size(), 2u);
  testing::expect_same_tally(stored, dry.tally);
}

TEST(Load, VerifyNamesTheRowsThatDiffer) {
  testing::TestDatabase db;
  ASSERT_EQ(testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR).status, 0);
  {
    pqxx::work tx(db.conn());
    tx.exec("UPDATE metrics_hourly SET total_jobs_failed = 7 WHERE source_function = 'event-detector-moves' "
            "AND hour_bucket = '2026-11-20T10:00:00Z'");
    tx.exec("UPDATE invocations SET total_jobs_run = 9 WHERE id = 'dddddddd-0000-4000-8000-000000000004'");
    tx.commit();
  }
  auto r = testing::run_edpipe("verify --db dbname=" + db.name());
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("metrics_hourly 2026-11-20 10:00 event-detector-moves: total_jobs_failed is 7, the rows say 1"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("invocations dddddddd-0000-4000-8000-000000000004: counts"), std::string::npos) << r.out;
  // The corrupted invocation also makes its own hour disagree with a GROUP BY over the invocations.
  EXPECT_NE(r.out.find("event-detector-users: total_jobs_run is 2, the rows say 10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 differences"), std::string::npos) << r.out;
}

// A time window reads only the days whose spans meet it (edpipe_day_spans): a span that does not
// hold its rows, or a day without one, would hide rows from the pages, and verify says so.
TEST(Load, VerifyNamesTheDaySpanThatDoesNotHoldItsRows) {
  testing::TestDatabase db;
  ASSERT_EQ(testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR).status, 0);
  ASSERT_EQ(testing::run_edpipe("verify --db dbname=" + db.name()).status, 0);
  auto exec = [&](const std::string& sql) {
    pqxx::work tx(db.conn());
    tx.exec0(sql);
    tx.commit();
  };
  exec("UPDATE edpipe_day_spans SET last_at = first_at WHERE invocation_day = '1970-01-01'");  // the samples' v4 ids
  auto r = testing::run_edpipe("verify --db dbname=" + db.name());
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("edpipe_day_spans: invocations of 1970-01-01 created 2026-11-19"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outside its span"), std::string::npos) << r.out;
  exec("DELETE FROM edpipe_day_spans");
  r = testing::run_edpipe("verify --db dbname=" + db.name());
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("edpipe_day_spans: no span of 1970-01-01"), std::string::npos) << r.out;
}

// The reader's hint (`edpipe load` calls prepare_days on the first records of a day) has an idle
// lane make the day's four partitions before any batch of it arrives.
TEST(Load, ADaysPartitionsAreMadeAheadOfItsFirstBatch) {
  testing::TestDatabase db;
  const std::string partitions = "SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_d20261102' AND relkind = 'r'";
  ASSERT_EQ(db.count(partitions), 0);
  RowLoader loader(db.conninfo(), LoaderOptions{}, nullptr);
  loader.open();
  loader.prepare_days({20759});  // 2026-11-02
  loader.finish();
  EXPECT_EQ(db.count(partitions), 4);
  EXPECT_EQ(loader.stats().batches, 0u);
}

TEST(Load, SourceJobLinksWhicheverSideArrivesFirst) {
  const std::string job = R"({"type":"job.start","ts":"2026-11-20T10:00:00.100Z","invocation_id":"aaaaaaaa-0000-4000-8000-000000000001","job_execution_id":"f0000001-0000-4000-8000-000000000001","event_execution_id":"e0000001-0000-4000-8000-000000000001","job_name":"send"})";
  const std::string caused = R"({"type":"invocation.start","ts":"2026-11-20T10:00:01Z","invocation_id":"bbbbbbbb-0000-4000-8000-000000000002","source_function":"fn","source_job_id":"f0000001-0000-4000-8000-000000000001"})";
  for (bool job_first : {true, false}) {
    testing::TestDatabase db;
    testing::load_lines(db.conninfo(), {job_first ? job : caused});
    EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE source_job_id IS NOT NULL"), 0);
    testing::load_lines(db.conninfo(), {job_first ? caused : job});
    EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE source_job_id = 'f0000001-0000-4000-8000-000000000001'"), 1)
        << (job_first ? "job first" : "invocation first");
  }
}

TEST(Load, ValuesPostgresRefusesAreDeadLetteredAndTheRestLoads) {
  testing::TestDatabase db;
  auto lines = testing::generated_lines({.invocations = 20});
  const std::string inv = R"("invocation_id":"dddddddd-0000-4000-8000-00000000000d")";
  lines.push_back(R"({"type":"invocation.start","ts":"2026-11-20T00:00:01Z",)" + inv + R"(,"source_function":"fn"})");
  // A NUL in a text (from \u0000), \u0000 inside stored JSON, JSON that jsonb refuses.
  lines.push_back(R"({"type":"job.log","ts":"2026-11-20T00:00:02Z",)" + inv + R"(,"level":"info","message":"nul\u0000here"})");
  lines.push_back(R"({"type":"job.log","ts":"2026-11-20T00:00:03Z",)" + inv + R"(,"level":"info","message":"m","data":{"k":"\u0000"}})");
  lines.push_back(R"({"type":"invocation.end","ts":"2026-11-20T00:00:04Z",)" + inv + R"(,"status":"completed","duration_ms":99999999999})");
  const std::string bad_inv = R"("invocation_id":"eeeeeeee-0000-4000-8000-00000000000e")";
  lines.push_back(R"({"type":"invocation.start","ts":"2026-11-20T00:00:01Z",)" + bad_inv + R"(,"source_function":"fn","context":{"a":1,}})");
  std::vector<std::string> dead;
  auto stats = testing::load_lines(db.conninfo(), lines, 100000, {}, &dead);
  ASSERT_GE(dead.size(), 4u);
  std::string all;
  for (const auto& d : dead) all += d;
  EXPECT_NE(all.find("NUL byte"), std::string::npos) << all;
  EXPECT_NE(all.find("\\\\u0000"), std::string::npos) << all;
  EXPECT_NE(all.find("duration out of range"), std::string::npos) << all;
  EXPECT_NE(all.find("\"field\":\"reported_duration_ms\""), std::string::npos) << "named as its column: " << all;
  EXPECT_NE(all.find("\"kind\":\"rows\",\"invocation_id\":\"eeeeeeee"), std::string::npos) << all;
  // The batch was split twice or more to find `e`: the refused values of `d` met in every try
  // are written once each, not once per try.
  EXPECT_EQ(std::set<std::string>(dead.begin(), dead.end()).size(), dead.size()) << all;
  size_t nul_letters = 0;
  for (const auto& d : dead) nul_letters += d.find("NUL byte") != std::string::npos;
  EXPECT_EQ(nul_letters, 1u) << all;
  // The invocation with refused values still loads, with those values left out.
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE id = 'dddddddd-0000-4000-8000-00000000000d'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_logs WHERE invocation_id = 'dddddddd-0000-4000-8000-00000000000d'"), 2);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE id = 'eeeeeeee-0000-4000-8000-00000000000e'"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations"), 21);  // the 20 generated + d
  expect_verified(db);
}

}  // namespace
}  // namespace edpipe::load

namespace edpipe::load {
namespace {

// An hour with more failing job names than metrics_hourly lists (a job name with an id in it):
// the row holds the 100 most frequent exactly and the rest as one count; verify holds both
// against the rows, and migration 012's backfill gives what the loads keep.
TEST(Load, AnHoursNameListsStayBoundedAndExact) {
  testing::TestDatabase db;
  std::vector<std::string> lines;
  for (int i = 0; i < 130; ++i) {
    char inv[64], ev[64], job[64];
    std::snprintf(inv, sizeof inv, "%08x-0000-4000-8000-000000000001", 0x10000000 + i);
    std::snprintf(ev, sizeof ev, "%08x-0000-4000-8000-000000000002", 0x10000000 + i);
    std::snprintf(job, sizeof job, "%08x-0000-4000-8000-000000000003", 0x10000000 + i);
    // Job "sync-<i % 120>": 10 names run twice (count 2), 110 once.
    const std::string name = "sync-" + std::to_string(i % 120);
    const std::string ids = std::string(R"("invocation_id":")") + inv + "\"";
    lines.push_back(R"({"type":"invocation.start","ts":"2026-11-20T10:00:01Z",)" + ids + R"(,"source_function":"fn"})");
    lines.push_back(R"({"type":"event.detection.end","ts":"2026-11-20T10:00:02Z",)" + ids + R"(,"event_execution_id":")" + ev +
                    R"(","event_name":"ev-)" + std::to_string(i) + R"(","detected":true,"duration_ms":1})");
    lines.push_back(R"({"type":"job.end","ts":"2026-11-20T10:00:03Z",)" + ids + R"(,"job_execution_id":")" + job +
                    R"(","event_execution_id":")" + ev + R"(","job_name":")" + name + R"(","status":"failed","duration_ms":5})");
    lines.push_back(R"({"type":"invocation.end","ts":"2026-11-20T10:00:04Z",)" + ids + R"(,"status":"completed","duration_ms":9})");
  }
  testing::load_lines(db.conninfo(), lines, 97);  // many batches, each rewriting the hour
  auto stored = [&](const char* what) { return db.count(std::string("SELECT ") + what + " FROM metrics_hourly"); };
  EXPECT_EQ(stored("count(*)"), 1);
  EXPECT_EQ(stored("(SELECT count(*) FROM jsonb_object_keys(failed_job_counts))"), 100);
  EXPECT_EQ(stored("failed_jobs_other"), 130 - (10 * 2 + 90));  // the 20 names of count 1 after the top 100
  EXPECT_EQ(stored("(failed_job_counts->>'sync-0')::int"), 2);
  EXPECT_EQ(stored("(SELECT count(*) FROM jsonb_object_keys(detected_event_counts))"), 100);
  EXPECT_EQ(stored("detected_events_other"), 30);
  EXPECT_EQ(db.count("SELECT count(*) FROM name_metrics_hourly WHERE kind = 'job'"), 120) << "every name, exactly";
  expect_verified(db);
  const std::string loaded = db.dump();
  {
    Migrator m(db.conn());
    m.down(m.latest_version() - 11);  // to 011: before 012's bounded lists
    EXPECT_EQ(db.count("SELECT (SELECT count(*) FROM jsonb_object_keys(failed_job_counts)) FROM metrics_hourly"), 120);
    m.up();
  }
  db.reconnect();
  EXPECT_EQ(db.dump(), loaded) << "the backfill of 012 lists what the loads keep";
  {
    pqxx::work tx(db.conn());
    tx.exec("UPDATE metrics_hourly SET failed_jobs_other = failed_jobs_other + 1");
    tx.commit();
  }
  const VerifyReport r = verify_database(db.conn());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.differences.front().find("failed_jobs_other is 21, the rows say 20"), std::string::npos) << r.differences.front();
}

}  // namespace
}  // namespace edpipe::load
