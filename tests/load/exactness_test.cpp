// Exact to the last row, in the database: log lines by seq or by everything stored, the re-keying
// of lines stored before migration 007, one tie-break in memory and in the database, and
// percentiles as PostgreSQL's percentile_cont.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "load/database_report.h"
#include "load/migrator.h"
#include "load/verifier.h"
#include "pg_test_support.h"
#include "core/duration_sketch.h"

namespace edpipe::load {
namespace {

std::vector<std::string> repeating_corpus(bool seq, gen::GeneratedTruth* truth = nullptr) {
  gen::GeneratorOptions o;
  o.seed = 5;
  o.invocations = 200;
  o.log_repeat_rate = 0.3;
  o.write_seq = seq;
  o.chain_rate = 0.3;
  return testing::generated_lines(o, truth);
}

// The lines dealt out at random over `loads` loads, loaded in random order with small batches.
void load_in_pieces(testing::TestDatabase& db, const std::vector<std::string>& lines, size_t loads, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::string>> parts(loads);
  for (const auto& l : lines) parts[rng() % loads].push_back(l);
  for (const auto& p : parts) {
    std::vector<size_t> cuts;
    for (int c = 0; c < 3; ++c) cuts.push_back(rng() % (p.size() + 1));
    testing::load_lines(db.conninfo(), p, 300 + rng() % 1000, cuts, nullptr, 1 + int(rng() % 3));
  }
}

TEST(Exactness, WithSeqAnySplitAndReplayDumpsAsOneLoad) {
  gen::GeneratedTruth truth;
  const auto lines = repeating_corpus(true, &truth);
  testing::TestDatabase one;
  testing::load_lines(one.conninfo(), lines, 1000000, {}, nullptr, 1);
  EXPECT_EQ(one.count("SELECT count(*) FROM job_logs"), int64_t(truth.job_logs));
  EXPECT_EQ(one.count("SELECT count(*) FROM job_logs WHERE seq IS NULL"), 0);
  const std::string want = one.dump();
  for (uint64_t seed : {1, 2}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::TestDatabase db;
    load_in_pieces(db, lines, 3 + seed, seed);
    load_in_pieces(db, lines, 2, seed + 10);  // replayed, split otherwise
    EXPECT_EQ(db.dump(), want);
    EXPECT_TRUE(verify_database(db.conn()).ok());
  }
}

TEST(Exactness, WithoutSeqNoDistinctLineIsLost) {
  gen::GeneratedTruth truth;
  const auto lines = repeating_corpus(false, &truth);
  ASSERT_GT(truth.job_logs, truth.distinct_job_logs);
  testing::TestDatabase db;
  load_in_pieces(db, lines, 5, 3);
  load_in_pieces(db, lines, 3, 4);
  // Every distinct line is there; identical lines split over loads may have collapsed.
  const std::string distinct =
      "SELECT count(*) FROM (SELECT DISTINCT invocation_id, job_execution_id, created_at, level, message, data, source "
      "FROM job_logs) d";
  EXPECT_EQ(db.count(distinct), int64_t(truth.distinct_job_logs));
  EXPECT_LE(db.count("SELECT count(*) FROM job_logs"), int64_t(truth.job_logs));
}

TEST(Exactness, ConflictingLinesOfOneSeqKeepTheSameOneInAnyOrderAndAreCounted) {
  const std::string head = R"({"type":"job.log","ts":"2026-11-20T10:00:00.000Z","invocation_id":"aaaaaaaa-0000-4000-8000-00000000000a","level":"info","seq":3,)";
  const std::vector<std::string> start = {
      R"({"type":"invocation.start","ts":"2026-11-20T10:00:00.000Z","invocation_id":"aaaaaaaa-0000-4000-8000-00000000000a","source_function":"f"})"};
  const std::string a = head + R"("message":"first"})", b = head + R"("message":"second","data":{"x":1}})";
  auto log_message = [](testing::TestDatabase& db) {
    pqxx::read_transaction tx(db.conn());
    return tx.exec("SELECT message FROM job_logs")[0][0].as<std::string>();
  };
  testing::TestDatabase ab, ba;
  testing::load_lines(ab.conninfo(), {start[0], a});
  const LoaderStats second = testing::load_lines(ab.conninfo(), {b});
  testing::load_lines(ba.conninfo(), {start[0], b});
  testing::load_lines(ba.conninfo(), {a});
  EXPECT_EQ(ab.count("SELECT count(*) FROM job_logs"), 1);
  EXPECT_EQ(log_message(ab), log_message(ba));
  EXPECT_EQ(ab.dump(), ba.dump());
  EXPECT_EQ(second.log_conflicts, 1u);
  // In memory, the same one wins.
  const auto mem = testing::run_pipeline({start[0], a, b});
  ASSERT_EQ(mem.rows.logs.size(), 1u);
  EXPECT_EQ(mem.rows.logs.begin()->second.log.message, log_message(ab));
  // The summary counts it, in a dry run as in a load.
  const auto file = std::filesystem::temp_directory_path() / ("edpipe-conflict-" + std::to_string(::getpid()) + ".ndjson");
  std::ofstream(file) << start[0] << "\n" << a << "\n" << b << "\n";
  const auto dry = testing::run_edpipe("load --dry-run --json " + file.string());
  EXPECT_NE(dry.out.find("\"log_conflicts\":1"), std::string::npos) << dry.out;
  const auto text = testing::run_edpipe("load --dry-run " + file.string());
  EXPECT_NE(text.out.find("1 shared a seq"), std::string::npos) << text.out;
  std::filesystem::remove(file);
}

TEST(Exactness, TiesBetweenTwoRecordsOfOneStepGoTheSameWayInEveryOrder) {
  // Two completed ends of one ts (other durations), two job starts of one ts (other names), two
  // invocation starts of one ts (one caused by a job): every order of loads keeps the same ones,
  // and they are the ones memory keeps.
  const std::string inv = R"("invocation_id":"bbbbbbbb-0000-4000-8000-00000000000b")";
  const std::string ts = R"("ts":"2026-11-20T10:00:00.000Z",)";
  const std::string ts2 = R"("ts":"2026-11-20T10:00:01.000Z",)";
  const std::string job = R"("job_execution_id":"cccccccc-0000-4000-8000-00000000000c","event_execution_id":"dddddddd-0000-4000-8000-00000000000d")";
  const std::vector<std::string> lines = {
      "{\"type\":\"invocation.start\"," + ts + inv + R"(,"source_function":"f"})",
      "{\"type\":\"invocation.start\"," + ts + inv + R"(,"source_function":"f","source_job_id":"cccccccc-0000-4000-8000-00000000000c"})",
      "{\"type\":\"invocation.end\"," + ts2 + inv + R"(,"status":"completed","duration_ms":100})",
      "{\"type\":\"invocation.end\"," + ts2 + inv + R"(,"status":"completed","duration_ms":250})",
      "{\"type\":\"job.start\"," + ts + inv + "," + job + R"(,"job_name":"alpha"})",
      "{\"type\":\"job.start\"," + ts + inv + "," + job + R"(,"job_name":"beta"})",
  };
  const auto mem = testing::run_pipeline(lines);
  const transform::InvocationState& want = mem.rows.invocations.begin()->second;
  std::vector<size_t> order(lines.size());
  std::iota(order.begin(), order.end(), 0);
  std::string first_dump;
  std::mt19937_64 rng(3);
  for (int run = 0; run < 4; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    std::shuffle(order.begin(), order.end(), rng);
    testing::TestDatabase db;
    for (size_t i : order) testing::load_lines(db.conninfo(), {lines[i]});  // one load per record
    const std::string dump = db.dump();
    if (run == 0) first_dump = dump;
    EXPECT_EQ(dump, first_dump);
    EXPECT_EQ(db.count("SELECT total_duration_ms FROM invocations"), *want.end->body.duration_ms);
    EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE source_job_ref IS NOT NULL"),
              want.start->body.source_job_id ? 1 : 0);
    // The dry run's tally agrees, whatever the order.
    std::vector<std::string> shuffled;
    for (size_t i : order) shuffled.push_back(lines[i]);
    testing::Store store;
    for (const auto& l : shuffled) store.run({l});
    EXPECT_EQ(store.result().tally.chained_invocations, want.start->body.source_job_id ? 1u : 0u);
    const transform::TallyResult stored = read_database_tally(db.conn());
    testing::expect_same_tally(stored, store.result().tally);
  }
}

// Loads with the ids of log lines an earlier edpipe gave (owner, ts, level, message and an
// occurrence number over those), migrates, replays: nothing is added.
TEST(Exactness, LinesStoredBeforeMigration007AreReKeyedSoAReplayAddsNothing) {
  gen::GeneratedTruth truth;
  const auto lines = repeating_corpus(false, &truth);
  testing::TestDatabase db;
  testing::load_lines(db.conninfo(), lines);
  const int64_t rows = db.count("SELECT count(*) FROM job_logs");
  {
    pqxx::work tx(db.conn());
    // What the rows looked like before: other ids, and occurrences counted over a coarser identity.
    tx.exec0(R"(
      UPDATE job_logs l SET id = gen_random_uuid(), occurrence = o.n
      FROM (SELECT id, row_number() OVER (PARTITION BY coalesce(job_execution_id, invocation_id), created_at, level,
                                          message ORDER BY data::text, source) - 1 AS n FROM job_logs) o
      WHERE o.id = l.id)");
    tx.commit();
  }
  EXPECT_GT(db.count("SELECT count(*) FROM job_logs WHERE occurrence > 0"), 0);
  Migrator m(db.conn());
  const size_t after_006 = size_t(m.latest_version() - 6);
  ASSERT_EQ(m.down(int(after_006)).size(), after_006);  // back to version 6: no seq, no ranks
  ASSERT_EQ(m.up().size(), after_006);                  // 007 again, with its data step, and what follows
  testing::load_lines(db.conninfo(), lines);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_logs"), rows);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_logs WHERE content_rank IS NOT NULL"), 0) << "nothing rewritten";
}

// PostgreSQL's own percentile_cont over the same values is the reference.
TEST(Exactness, PercentilesFollowPercentileCont) {
  testing::TestDatabase db;
  pqxx::work tx(db.conn());
  std::mt19937_64 rng(8);
  auto check = [&](const std::vector<int64_t>& values, const std::string& what) {
    DurationSketch sketch;
    for (int64_t v : values) sketch.add(double(v));
    const int64_t lo = *std::min_element(values.begin(), values.end());
    const int64_t hi = *std::max_element(values.begin(), values.end());
    std::string array = "{";
    for (size_t i = 0; i < values.size(); ++i) array += (i ? "," : "") + std::to_string(values[i]);
    array += "}";
    const auto r = tx.exec_params(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), percentile_cont(0.95) WITHIN GROUP (ORDER BY v), "
        "percentile_cont(0.99) WITHIN GROUP (ORDER BY v) FROM unnest($1::bigint[]) v",
        array)[0];
    const double qs[] = {0.5, 0.95, 0.99};
    for (int i = 0; i < 3; ++i) {
      const double exact = r[i].as<double>();
      const double got = *sketch.quantile(qs[i], lo, hi);
      EXPECT_LE(std::abs(got - exact), 0.01 * exact + 1e-9)
          << what << " n=" << values.size() << " q=" << qs[i] << ": " << got << " vs percentile_cont " << exact;
    }
  };
  for (size_t n = 1; n <= 60; ++n) {
    std::vector<int64_t> lognormal, ties, heavy, sub_ms;
    for (size_t i = 0; i < n; ++i) {
      lognormal.push_back(std::llround(400 * std::exp(std::normal_distribution<double>(0, 0.9)(rng))));
      ties.push_back(int64_t(100 + 50 * (rng() % 3)));
      heavy.push_back(rng() % 10 == 0 ? int64_t(60000 + rng() % 900000) : int64_t(5 + rng() % 40));
      sub_ms.push_back(int64_t(rng() % 2));  // durations of 0 and 1 ms
    }
    check(lognormal, "log-normal");
    check(ties, "ties");
    check(heavy, "heavy tail");
    check(sub_ms, "sub-millisecond");
  }
  std::vector<int64_t> large;
  for (int i = 0; i < 20000; ++i) large.push_back(std::llround(250 * std::exp(std::normal_distribution<double>(0, 1.2)(rng))));
  check(large, "n=20000");
  // One value is that value, exactly.
  DurationSketch one;
  one.add(400);
  EXPECT_EQ(*one.quantile(0.5, 400, 400), 400.0);
  EXPECT_NEAR(*one.quantile(0.99), 400.0, 4.0);  // without the extremes: the bucket's midpoint
  DurationSketch small;
  small.add(7);
  small.add(8);
  EXPECT_EQ(*small.quantile(0.5), 7.5) << "buckets below 50 ms hold one whole number: exact";
}

TEST(Exactness, VerifyNamesTheHourWhosePercentileIsOff) {
  testing::TestDatabase db;
  ASSERT_EQ(testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR).status, 0);
  EXPECT_TRUE(verify_database(db.conn()).ok());
  {
    pqxx::work tx(db.conn());
    tx.exec0("UPDATE metrics_hourly SET p95_duration_ms = p95_duration_ms * 1.05 + 2 "
             "WHERE hour_bucket = '2026-11-20T10:00:00Z' AND source_function = 'event-detector-moves'");
    tx.commit();
  }
  const auto rep = verify_database(db.conn());
  ASSERT_FALSE(rep.ok());
  bool named = false;
  for (const auto& d : rep.differences)
    named = named || (d.find("2026-11-20 10:00") != std::string::npos && d.find("p95_duration_ms") != std::string::npos &&
                      d.find("percentile_cont") != std::string::npos);
  EXPECT_TRUE(named) << rep.differences[0];
}

// Job and event names hold anything: quotes, backslashes, commas, braces, spaces. A later load
// reads their name_metrics_hourly rows back by name (a text[] of them) and must find each.
TEST(Exactness, NameRollupsOfAnyNameStayExactAcrossLoads) {
  testing::TestDatabase db;
  const std::string inv = "abcdef01-0000-4000-8000-000000000001", ev = "abcdef01-0000-4000-8000-0000000000e1";
  const std::vector<std::string> names = {R"(say \"hi\", {now})", R"(back\\slash)", "two words, ünï", "NULL", ""};
  auto job = [&](size_t i, const std::string& type, const std::string& ts, const std::string& rest) {
    return R"({"type":")" + type + R"(","ts":"2026-11-20T10:00:)" + ts + R"(Z","invocation_id":")" + inv +
           R"(","job_execution_id":"abcdef01-0000-4000-8000-00000000000)" + std::to_string(i) +
           R"(","event_execution_id":")" + ev + R"(","job_name":")" + names[i] + "\"" + rest + "}";
  };
  std::vector<std::string> first = {
      R"({"type":"invocation.start","ts":"2026-11-20T10:00:00.000Z","invocation_id":")" + inv + R"(","source_function":"f"})",
      R"({"type":"event.detection.start","ts":"2026-11-20T10:00:00.001Z","invocation_id":")" + inv +
          R"(","event_execution_id":")" + ev + R"(","event_name":"ev, \"odd\" {name}"})"};
  std::vector<std::string> second;
  for (size_t i = 0; i < names.size(); ++i) {
    first.push_back(job(i, "job.start", "01.000", ""));
    second.push_back(job(i, "job.end", "0" + std::to_string(2 + i) + ".000", i % 2 ? R"(,"status":"failed")" : ""));
  }
  second.push_back(R"({"type":"invocation.end","ts":"2026-11-20T10:00:09.000Z","invocation_id":")" + inv + R"(","status":"completed"})");
  testing::load_lines(db.conninfo(), first);
  testing::load_lines(db.conninfo(), second);
  const auto rep = verify_database(db.conn());
  EXPECT_TRUE(rep.ok()) << (rep.differences.empty() ? "" : rep.differences[0]);
  EXPECT_EQ(db.count("SELECT count(*) FROM name_metrics_hourly WHERE kind = 'job' AND runs = 1"), int64_t(names.size()));
  EXPECT_EQ(db.count("SELECT count(*) FROM name_metrics_hourly WHERE kind = 'job' AND failed = 1"), 2);
  EXPECT_EQ(db.count("SELECT count(*) FROM name_metrics_hourly WHERE kind = 'job' AND name = 'back\\slash' "
                     "AND cardinality(duration_bucket_keys) = 1"), 1);
}

// A load after a wrong edit of name_metrics_hourly does not hide it: verify holds each name's
// counts and percentiles against its executions, and names a row that has none.
TEST(Exactness, VerifyNamesTheNameRollupThatIsOff) {
  testing::TestDatabase db;
  ASSERT_EQ(testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR).status, 0);
  ASSERT_TRUE(verify_database(db.conn()).ok());
  ASSERT_GT(db.count("SELECT count(*) FROM name_metrics_hourly WHERE kind = 'job'"), 0);
  {
    pqxx::work tx(db.conn());
    tx.exec0("UPDATE name_metrics_hourly SET failed = failed + 1 WHERE (kind, hour_bucket, source_function, name) = "
             "(SELECT kind, hour_bucket, source_function, name FROM name_metrics_hourly WHERE kind = 'job' "
             "ORDER BY hour_bucket, source_function, name LIMIT 1)");
    tx.exec0("INSERT INTO name_metrics_hourly (kind, hour_bucket, source_function, name, runs) "
             "VALUES ('event', '2026-11-20T10:00:00Z', 'event-detector-moves', 'no.such.event', 3)");
    tx.commit();
  }
  const auto rep = verify_database(db.conn());
  bool failed_named = false, phantom_named = false;
  for (const auto& d : rep.differences) {
    failed_named = failed_named || (d.find("name_metrics_hourly") == 0 && d.find(": failed is") != std::string::npos);
    phantom_named = phantom_named || (d.find("'no.such.event'") != std::string::npos && d.find("no execution") != std::string::npos);
  }
  EXPECT_TRUE(failed_named);
  EXPECT_TRUE(phantom_named);
  EXPECT_EQ(rep.differences.size(), 2u);
}

// Migration 021: a failure keeps its invocation's function, every other row none; verify names
// both kinds of row that is off.
TEST(Exactness, VerifyNamesTheFailureWhoseFunctionIsOff) {
  testing::TestDatabase db;
  ASSERT_EQ(testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR).status, 0);
  ASSERT_TRUE(verify_database(db.conn()).ok());
  ASSERT_GT(db.count("SELECT count(*) FROM job_executions WHERE status = 'failed' AND failure_function <> ''"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM job_executions WHERE status <> 'failed' AND failure_function IS NOT NULL"), 0);
  {
    pqxx::work tx(db.conn());
    tx.exec0("UPDATE job_executions SET failure_function = 'no-such-function' WHERE id = "
             "(SELECT id FROM job_executions WHERE status = 'failed' ORDER BY id LIMIT 1)");
    tx.exec0("UPDATE job_executions SET failure_function = 'event-detector-moves' WHERE id = "
             "(SELECT id FROM job_executions WHERE status = 'completed' ORDER BY id LIMIT 1)");
    tx.commit();
  }
  const auto rep = verify_database(db.conn());
  int named = 0;
  for (const auto& d : rep.differences)
    named += d.find("job_executions ") == 0 && d.find("failure_function is ") != std::string::npos;
  EXPECT_EQ(named, 2);
  EXPECT_EQ(rep.differences.size(), 2u);
}

}  // namespace
}  // namespace edpipe::load
