// A new user's first hour with a database: a clear word on an unmigrated one, migrations that
// do not drop data unasked, a summary that tells this run's changes from the database's totals,
// and JSON for scripts.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "pg_test_support.h"

namespace edpipe::load {
namespace {

TEST(FirstHourDb, VerifyOnAnUnmigratedDatabaseSaysMigrateUpInOneLine) {
  testing::TestDatabase db(false);
  for (const char* before : {"", "migrate up 1 --db dbname="}) {
    if (*before) {
      ASSERT_EQ(testing::run_edpipe(std::string(before) + db.name()).status, 0);
    }
    const auto r = testing::run_edpipe("verify --db dbname=" + db.name());
    EXPECT_EQ(r.status, 1) << before;
    EXPECT_EQ(r.out.find("consistent"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("run `edpipe migrate up` first"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(FirstHourDb, MigrateDownAsksBeforeItDropsData) {
  testing::TestDatabase db;
  ASSERT_EQ(testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR).status, 0);
  const auto too_many = testing::run_edpipe("migrate down 99 --db dbname=" + db.name());
  EXPECT_EQ(too_many.status, 2);
  const std::string latest = std::to_string(latest_migration_version());
  EXPECT_NE(too_many.err.find("only " + latest + " migrations are applied"), std::string::npos) << too_many.err;
  testing::TestDatabase bare(false);
  const auto none = testing::run_edpipe("migrate down 1 --db dbname=" + bare.name());
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.err.find("no migration is applied"), std::string::npos) << none.err;
  // Standard input is not a terminal here: without --yes, nothing is reverted.
  const auto asked = testing::run_edpipe("migrate down " + latest + " --db dbname=" + db.name());
  EXPECT_EQ(asked.status, 2);
  EXPECT_NE(asked.err.find("9 invocations"), std::string::npos) << asked.err;
  EXPECT_NE(asked.err.find("deletes all"), std::string::npos) << asked.err;
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations"), 9);
  const auto yes = testing::run_edpipe("migrate down 1 --yes --db dbname=" + db.name());
  EXPECT_EQ(yes.status, 0) << yes.err;
  char newest[8];
  std::snprintf(newest, sizeof newest, "%03d", latest_migration_version());
  EXPECT_NE(yes.out.find(std::string("reverted ") + newest), std::string::npos) << yes.out;
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations"), 9);
}

TEST(FirstHourDb, TheSummaryTellsThisRunFromTheDatabase) {
  testing::TestDatabase db;
  const std::string load = "load --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR;
  const auto first = testing::run_edpipe(load);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_NE(first.out.find("changed     31 rows inserted, 0 updated, 5 hours of metrics_hourly"), std::string::npos)
      << first.out;
  EXPECT_NE(first.out.find("the database now holds"), std::string::npos);
  // A replay changes nothing, and says so; its hourly table lists no hour.
  const auto replay = testing::run_edpipe(load);
  EXPECT_NE(replay.out.find("changed     0 rows inserted, 0 updated, 0 hours"), std::string::npos) << replay.out;
  EXPECT_NE(replay.out.find("metrics_hourly 5\n"), std::string::npos) << "the database totals stay";
  EXPECT_NE(replay.out.find("(no hour changed)"), std::string::npos) << replay.out;
  const auto json = testing::run_edpipe("load --json --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(json.out).get(doc)) << json.out;
  EXPECT_EQ(int64_t(doc["database"]["rows_inserted"]), 0);
  EXPECT_EQ(int64_t(doc["database"]["hours_touched"]), 0);
  EXPECT_EQ(int64_t(doc["rows"]["metrics_hourly"]), 5);
  EXPECT_EQ(doc["metrics_hourly"].get_array().size(), 0u);
}

TEST(FirstHourDb, VerifyAndMigrateStatusSpeakJson) {
  testing::TestDatabase db;
  ASSERT_EQ(testing::run_edpipe("load --quiet --db dbname=" + db.name() + " " EDPIPE_SAMPLES_DIR).status, 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  const auto v = testing::run_edpipe("verify --json --db dbname=" + db.name());
  EXPECT_EQ(v.status, 0);
  ASSERT_FALSE(p.parse(v.out).get(doc)) << v.out;
  EXPECT_TRUE(bool(doc["consistent"]));
  EXPECT_EQ(int64_t(doc["hours_checked"]), 5);
  {
    pqxx::work tx(db.conn());
    tx.exec0("UPDATE metrics_hourly SET total_invocations = 42 WHERE source_function = 'event-detector-users'");
    tx.commit();
  }
  const auto bad = testing::run_edpipe("verify --json --db dbname=" + db.name());
  EXPECT_EQ(bad.status, 3);
  ASSERT_FALSE(p.parse(bad.out).get(doc)) << bad.out;
  EXPECT_FALSE(bool(doc["consistent"]));
  EXPECT_GE(doc["differences"].get_array().size(), 1u);
  const auto st = testing::run_edpipe("migrate status --json --db dbname=" + db.name());
  EXPECT_EQ(st.status, 0);
  ASSERT_FALSE(p.parse(st.out).get(doc)) << st.out;
  EXPECT_EQ(int64_t(doc["version"]), latest_migration_version());
  EXPECT_EQ(doc["migrations"].get_array().size(), size_t(latest_migration_version()));
}

}  // namespace
}  // namespace edpipe::load
