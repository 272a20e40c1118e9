#include <gtest/gtest.h>

#include "gen/corpus_generator.h"
#include "load/migrator.h"
#include "load/verifier.h"
#include "pg_test_support.h"
#include "test_support.h"

namespace edpipe::load {
namespace {

int64_t tables(testing::TestDatabase& db) {
  return db.count(
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN "
      "('invocations', 'event_executions', 'job_executions', 'job_logs', 'metrics_hourly', 'edpipe_watermark')");
}

std::string name_rollups(testing::TestDatabase& db) {
  pqxx::work tx(db.conn());
  std::string out;
  for (const auto& r : tx.exec("SELECT * FROM name_metrics_hourly ORDER BY kind, hour_bucket, source_function, name")) {
    for (const auto& f : r) out += f.c_str() + std::string("|");
    out += "\n";
  }
  return out;
}

// 011 fills name_metrics_hourly from what is already loaded, in SQL: its sketch keys must be
// the loader's to the last bucket, or a later load's deltas would not cancel.
TEST(Migrations, NameRollupsBackfilledByMigrationEqualThoseTheLoadsKeep) {
  testing::TestDatabase db;
  gen::GeneratorOptions o;
  o.invocations = 400;
  o.span = 3 * kMicrosPerHour;
  o.functions = 3;
  testing::load_lines(db.conninfo(), testing::generated_lines(o), 3000);
  const std::string kept = name_rollups(db);
  ASSERT_GT(db.count("SELECT count(DISTINCT hour_bucket) FROM name_metrics_hourly"), 2);
  ASSERT_GT(db.count("SELECT count(*) FROM name_metrics_hourly WHERE kind = 'event' AND detected > 0"), 0);
  ASSERT_GT(db.count("SELECT count(*) FROM name_metrics_hourly WHERE kind = 'job' AND failed > 0"), 0);
  Migrator m(db.conn());
  ASSERT_EQ(m.down(1).size(), 1u);
  ASSERT_EQ(m.up().size(), 1u);
  EXPECT_EQ(name_rollups(db), kept);
  EXPECT_TRUE(verify_database(db.conn()).ok());
}

// 016 rebuilds the detail tables partitioned by day, and its down unpartitioned: rows loaded
// before either come through both unchanged, each in its day's partition.
TEST(Migrations, DayPartitionsDownAndUpKeepEveryRow) {
  testing::TestDatabase db;
  gen::GeneratorOptions o;
  o.invocations = 300;
  o.start = 1'795'132'800'000'000;  // 2026-11-20T00:00:00Z
  o.span = 40 * kMicrosPerHour;
  testing::load_lines(db.conninfo(), testing::generated_lines(o), 3000);
  const std::string rows = db.dump();
  const std::string days = "SELECT count(DISTINCT tableoid) FROM job_logs";
  ASSERT_EQ(db.count(days), 2);
  Migrator m(db.conn());
  ASSERT_EQ(m.down(6).size(), 6u);  // 021, 020, 019, 018, 017 and 016
  EXPECT_EQ(db.count(days), 1);
  ASSERT_EQ(m.up().size(), 6u);
  EXPECT_EQ(db.count(days), 2);
  EXPECT_EQ(testing::dump_difference(db.dump(), rows), "");
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations WHERE invocation_day <> edpipe_invocation_day(id)"), 0);
  EXPECT_TRUE(verify_database(db.conn()).ok());
}

// The loader puts a row in the partition core/uuid.h's invocation_day() names; the database
// checks it with edpipe_invocation_day(): both must agree on every id, the edges of the dated
// years and the other versions included.
TEST(Migrations, TheInvocationDayIsTheSameInCppAndSql) {
  testing::TestDatabase db;
  std::vector<Uuid> ids;
  auto v7 = [](uint64_t ms, uint8_t low) {
    Uuid u;
    for (int i = 0; i < 6; ++i) u.bytes[i] = uint8_t(ms >> (8 * (5 - i)));
    u.bytes[6] = 0x70;
    u.bytes[8] = 0x80;
    u.bytes[15] = low;
    return u;
  };
  constexpr uint64_t kDayMs = 86'400'000, k2000 = 10957 * kDayMs, k2100 = 47482 * kDayMs;
  for (uint64_t ms : {uint64_t{0}, k2000 - 1, k2000, k2000 + kDayMs - 1, k2100 - 1, k2100, (uint64_t{1} << 48) - 1,
                      uint64_t{1'795'132'800'000}, uint64_t{1'795'132'800'000} - 1})
    ids.push_back(v7(ms, 1));
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 3000; ++i) {
    Uuid u;
    for (auto& b : u.bytes) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = uint8_t(x);
    }
    if (i % 3 == 0) u = v7(k2000 + x % (k2100 - k2000 + 10 * kDayMs), uint8_t(i));  // dated, and some beyond
    ids.push_back(u);
  }
  std::string array = "{";
  for (const auto& u : ids) array += (array.size() > 1 ? "," : "") + u.str();
  pqxx::work tx(db.conn());
  const auto r = tx.exec_params("SELECT id::text, edpipe_invocation_day(id) - date '1970-01-01' FROM unnest($1::uuid[]) id",
                                array + "}");
  ASSERT_EQ(r.size(), ids.size());
  size_t dated = 0;
  for (const auto& row : r) {
    const Uuid u = *Uuid::parse(row[0].as<std::string>());
    EXPECT_EQ(invocation_day(u), row[1].as<int32_t>()) << u.str();
    dated += invocation_day(u) != kUndatedDay;
  }
  EXPECT_GT(dated, 900u);
  EXPECT_EQ(invocation_day(v7(k2000, 0)), 10957);
  EXPECT_EQ(invocation_day(v7(k2000 - 1, 0)), kUndatedDay);
  EXPECT_EQ(invocation_day(v7(k2100, 0)), kUndatedDay);
}

TEST(Migrations, UpDownUp) {
  testing::TestDatabase db(false);
  Migrator m(db.conn());
  EXPECT_EQ(m.current_version(), 0);
  EXPECT_EQ(m.up().size(), all_migrations().size());
  EXPECT_EQ(m.current_version(), m.latest_version());
  EXPECT_EQ(tables(db), 6);
  EXPECT_EQ(db.count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'invocations' AND column_name = 'source_job_id'"), 1);
  const std::string hourly_view = "SELECT count(*) FROM pg_views WHERE viewname = 'dashboard_stats'";
  EXPECT_EQ(db.count(hourly_view), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM pg_matviews WHERE matviewname = 'dashboard_summary_24h'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM information_schema.tables WHERE table_name = 'edpipe_file_positions'"), 1);
  const std::string lz4_columns = "SELECT count(*) FROM pg_attribute WHERE attcompression = 'l' AND attrelid IN "
                                  "('invocations'::regclass, 'job_executions'::regclass, 'job_logs'::regclass)";
  EXPECT_EQ(db.count(lz4_columns), 6);
  const std::string covering = "SELECT count(*) FROM pg_index WHERE indnatts > indnkeyatts AND indexrelid IN "
                               "('event_executions_name_idx'::regclass, 'job_executions_name_idx'::regclass)";
  EXPECT_EQ(db.count(covering), 2);
  const std::string ranks = "SELECT count(*) FROM information_schema.columns WHERE column_name IN "
                            "('start_rank', 'end_rank', 'detection_start_rank', 'content_rank', 'seq') AND table_name IN "
                            "('invocations', 'event_executions', 'job_executions', 'job_logs')";
  EXPECT_EQ(db.count(ranks), 7);
  EXPECT_EQ(db.count("SELECT count(*) FROM pg_indexes WHERE indexname IN "
                     "('invocations_correlation_idx', 'invocations_user_email_idx')"), 2);
  EXPECT_EQ(db.count("SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                     "('edpipe_retention', 'edpipe_pruned')"), 2);
  const std::string name_rollups = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'name_metrics_hourly'";
  EXPECT_EQ(db.count(name_rollups), 1);
  EXPECT_TRUE(m.up().empty());  // nothing pending

  const std::string search_indexes = "SELECT count(*) FROM pg_indexes WHERE indexname IN "
                                     "('invocations_correlation_idx', 'invocations_user_email_idx')";
  const std::string retention = "SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                                "('edpipe_retention', 'edpipe_pruned')";
  const std::string others = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'metrics_hourly' "
                             "AND column_name IN ('detected_events_other', 'failed_jobs_other')";
  EXPECT_EQ(db.count(others), 2);
  const std::string abandoned_idx = "SELECT count(*) FROM pg_indexes WHERE indexname IN "
                                    "('invocations_abandoned_idx', 'job_executions_abandoned_idx')";
  EXPECT_EQ(db.count(abandoned_idx), 2);
  const std::string triggers = "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = 'invocations'::regclass";
  const std::string fk = "SELECT count(*) FROM pg_constraint WHERE conname = 'fk_invocations_source_job_id'";
  const std::string two_column_keys =
      "SELECT count(*) FROM pg_index WHERE indisprimary AND indnkeyatts = 2 AND indrelid IN "
      "('event_executions'::regclass, 'job_executions'::regclass, 'job_logs'::regclass)";
  EXPECT_EQ(db.count(triggers), 0);
  EXPECT_EQ(db.count(fk), 0);
  const std::string job_totals = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'invocations' "
                                 "AND column_name IN ('jobs_timed', 'job_duration_sum_ms')";
  EXPECT_EQ(db.count(job_totals), 2);
  const std::string partitioned =
      "SELECT count(*) FROM pg_partitioned_table WHERE partrelid IN "
      "('invocations'::regclass, 'event_executions'::regclass, 'job_executions'::regclass, 'job_logs'::regclass)";
  const std::string day_in_keys =
      "SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
      "WHERE i.indisprimary AND a.attname = 'invocation_day' AND i.indrelid IN "
      "('invocations'::regclass, 'event_executions'::regclass, 'job_executions'::regclass, 'job_logs'::regclass)";
  EXPECT_EQ(db.count(partitioned), 4);
  EXPECT_EQ(db.count(day_in_keys), 4);
  {
    pqxx::work tx(db.conn());
    EXPECT_EQ(tx.exec1("SELECT edpipe_add_day_partitions('2026-11-02')")[0].as<int>(), 4);
    EXPECT_EQ(tx.exec1("SELECT edpipe_add_day_partitions('2026-11-02')")[0].as<int>(), 0);  // made already
    EXPECT_EQ(tx.exec1("SELECT edpipe_invocation_day('01a1f677-aa80-7000-8000-000000000001')")[0].as<std::string>(),
              "2026-11-20");
    tx.commit();
  }
  EXPECT_EQ(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'job_logs'::regclass"), 2);  // undated too
  const std::string spans = "SELECT count(*) FROM pg_tables WHERE tablename = 'edpipe_day_spans'";
  EXPECT_EQ(db.count(spans), 1);
  // 021: each failure's function, in the failures' indexes (one more included column each).
  const std::string failure_functions =
      "SELECT count(*) FROM pg_attribute WHERE attname = 'failure_function' AND NOT attisdropped "
      "AND attrelid IN ('job_executions'::regclass, 'event_executions'::regclass)";
  const std::string failed_included = "SELECT sum(indnatts - indnkeyatts) FROM pg_index WHERE indexrelid IN "
                                      "('job_executions_failed_idx'::regclass, 'event_executions_failed_idx'::regclass)";
  EXPECT_EQ(db.count(failure_functions), 2);
  EXPECT_EQ(db.count(failed_included), 12);
  EXPECT_EQ(m.down(1).size(), 1u);  // 021
  EXPECT_EQ(db.count(failure_functions), 0);
  EXPECT_EQ(db.count(failed_included), 10);
  // 020: the failures' groups, computed by the server, in the failures' indexes; the function in
  // the invocations' key.
  const std::string groups = "SELECT count(*) FROM pg_attribute WHERE attname = 'error_group' AND attgenerated = 's' "
                             "AND attrelid IN ('job_executions'::regclass, 'event_executions'::regclass)";
  const std::string included = "SELECT count(*) FROM pg_index WHERE indnatts > indnkeyatts AND indexrelid IN "
                               "('job_executions_failed_idx'::regclass, 'event_executions_failed_idx'::regclass, "
                               "'invocations_pkey'::regclass)";
  EXPECT_EQ(db.count(groups), 2);
  EXPECT_EQ(db.count(included), 3);
  EXPECT_EQ(m.down(1).size(), 1u);  // 020
  EXPECT_EQ(db.count(groups), 0);
  EXPECT_EQ(db.count(included), 0);
  // 019: the time index holds the columns of the analytics breakdown (7 beside its key).
  const std::string time_included = "SELECT i.indnatts - i.indnkeyatts FROM pg_index i "
                                    "WHERE i.indexrelid = 'invocations_created_at_idx'::regclass";
  EXPECT_EQ(db.count(time_included), 7);
  EXPECT_EQ(m.down(1).size(), 1u);  // 019
  EXPECT_EQ(db.count(time_included), 0);
  const std::string duration_idx = "SELECT count(*) FROM pg_indexes WHERE indexname = 'invocations_duration_idx'";
  EXPECT_EQ(db.count(duration_idx), 1);
  EXPECT_EQ(m.down(1).size(), 1u);  // 018
  EXPECT_EQ(db.count(duration_idx), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 017
  EXPECT_EQ(db.count(spans), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 016
  EXPECT_EQ(db.count("SELECT count(*) FROM pg_partitioned_table"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM pg_class WHERE relname ~ '^job_logs_(d[0-9]{8}|undated)$'"), 0);
  EXPECT_EQ(db.count(two_column_keys), 3);
  EXPECT_EQ(tables(db), 6);
  EXPECT_EQ(m.down(1).size(), 1u);  // 015
  EXPECT_EQ(db.count(job_totals), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 014: the data model's key, foreign key and triggers again
  EXPECT_EQ(db.count(triggers), 1);
  EXPECT_EQ(db.count(fk), 1);
  EXPECT_EQ(db.count(two_column_keys), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 013
  EXPECT_EQ(db.count(abandoned_idx), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 012
  EXPECT_EQ(db.count(others), 0);
  EXPECT_EQ(db.count(name_rollups), 1);
  EXPECT_EQ(m.down(1).size(), 1u);  // 011
  EXPECT_EQ(db.count(name_rollups), 0);
  EXPECT_EQ(db.count(retention), 2);
  EXPECT_EQ(m.down(1).size(), 1u);  // 010
  EXPECT_EQ(db.count(retention), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 009
  EXPECT_EQ(db.count(search_indexes), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 008: the 24-hour summary is dashboard_stats again
  EXPECT_EQ(db.count(hourly_view), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM pg_matviews WHERE matviewname = 'dashboard_stats'"), 1);
  EXPECT_EQ(m.down(1).size(), 1u);  // 007
  EXPECT_EQ(db.count(ranks), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 006
  EXPECT_EQ(db.count(covering), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 005
  EXPECT_EQ(db.count(lz4_columns), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 004
  EXPECT_EQ(db.count("SELECT count(*) FROM information_schema.tables WHERE table_name = 'edpipe_file_positions'"), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 003
  EXPECT_EQ(db.count("SELECT count(*) FROM pg_matviews WHERE matviewname = 'dashboard_stats'"), 0);
  EXPECT_EQ(m.down(1).size(), 1u);  // 002: source_job_id goes, the tables stay
  EXPECT_EQ(db.count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'invocations' AND column_name = 'source_job_id'"), 0);
  EXPECT_EQ(tables(db), 6);
  EXPECT_EQ(m.down(5).size(), 1u);
  EXPECT_EQ(tables(db), 0);
  EXPECT_EQ(m.current_version(), 0);

  EXPECT_EQ(m.up(2).size(), 2u);
  EXPECT_EQ(m.current_version(), 2);
  EXPECT_EQ(m.up().size(), all_migrations().size() - 2);
  EXPECT_EQ(tables(db), 6);
  EXPECT_EQ(db.count(lz4_columns), 6);
  EXPECT_EQ(db.count(covering), 2);
  EXPECT_EQ(db.count(ranks), 7);
}

TEST(Migrations, CliStatusAndUnmigratedLoad) {
  testing::TestDatabase db(false);
  auto load = testing::run_edpipe("load --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR);
  EXPECT_EQ(load.status, 1);
  EXPECT_NE(load.err.find("edpipe migrate up"), std::string::npos) << load.err;
  auto up = testing::run_edpipe("migrate up --db dbname=" + db.name());
  EXPECT_EQ(up.status, 0) << up.err;
  EXPECT_NE(up.out.find("applied  001 initial_schema"), std::string::npos) << up.out;
  auto st = testing::run_edpipe("migrate status --db dbname=" + db.name());
  EXPECT_EQ(st.status, 0);
  EXPECT_NE(st.out.find("003  dashboard_stats"), std::string::npos) << st.out;
  EXPECT_EQ(st.out.find("pending"), std::string::npos) << st.out;
  EXPECT_EQ(testing::run_edpipe("migrate sideways --db dbname=" + db.name()).status, 2);
}

// Migrations run one statement at a time (Citus takes DDL on distributed tables no other way):
// a `;` ends a statement only outside comments, quotes and dollar quotes.
TEST(Migrations, TheirSqlIsCutIntoStatementsOnlyWhereOneEnds) {
  const std::string sql = R"(-- a comment; with a semicolon
CREATE TABLE a (x text DEFAULT 'it''s; here');
/* block; comment */ CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
DO $body$ BEGIN PERFORM 1; PERFORM $1; END $body$;
SELECT "odd;name", $1 FROM a;
-- only a comment at the end; none of it a statement
)";
  const auto got = split_sql_statements(sql);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_NE(got[0].find("DEFAULT 'it''s; here')"), std::string::npos) << got[0];
  EXPECT_NE(got[1].find("AS $$ SELECT 1; $$"), std::string::npos) << got[1];
  EXPECT_NE(got[2].find("PERFORM $1; END $body$"), std::string::npos) << got[2];
  EXPECT_NE(got[3].find("SELECT \"odd;name\", $1 FROM a"), std::string::npos) << got[3];
  EXPECT_TRUE(split_sql_statements("  -- nothing\n/* at all */ ").empty());
  // Every embedded migration cuts into statements that PostgreSQL parses on their own: the
  // suite's migrations ran statement by statement above; here none is cut inside a DO block.
  for (const auto& m : all_migrations())
    for (const char* text : {m.up_sql, m.down_sql})
      for (const auto& statement : split_sql_statements(text)) {
        const size_t open = statement.find("$$");
        if (open != std::string::npos) {
          EXPECT_NE(statement.find("$$", open + 2), std::string::npos) << m.name << ": " << statement;
        }
      }
}

}  // namespace
}  // namespace edpipe::load
