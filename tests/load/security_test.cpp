// Least privilege (schema/roles.sql) and secrets: edpipe loads as the writer, which cannot
// drop or alter tables; the reader cannot write; a password comes from PGPASSFILE and never
// shows in any output.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "pg_test_support.h"

namespace edpipe::load {
namespace {
namespace fs = std::filesystem;

// psql as `user` in the test database; exit status and output.
testing::CommandResult psql(const testing::TestDatabase& db, const std::string& user, const std::string& sql) {
  return testing::run_command("psql -X -q -v ON_ERROR_STOP=1 -U " + user + " -d " + db.name() + " -c \"" + sql + "\"");
}

bool refused(const std::string& err) {
  return err.find("permission denied") != std::string::npos || err.find("must be owner") != std::string::npos;
}

class Roles : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = testing::run_command("psql -X -q -v ON_ERROR_STOP=1 -d " + db.name() + " -f " EDPIPE_SCHEMA_DIR "/roles.sql");
    ASSERT_EQ(r.status, 0) << r.err;
  }
  testing::TestDatabase db;  // migrated by the superuser, then handed to edpipe_admin
};

TEST_F(Roles, EdpipeLoadsAsTheWriterAndVerifyIsClean) {
  auto r = testing::run_edpipe("load --quiet --db 'dbname=" + db.name() + " user=edpipe_writer' " EDPIPE_SAMPLES_DIR);
  ASSERT_EQ(r.status, 0) << r.err;
  // Twice, and through the merge path (a replay touches stored rows).
  r = testing::run_edpipe("load --quiet --db 'dbname=" + db.name() + " user=edpipe_writer' " EDPIPE_SAMPLES_DIR);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(db.count("SELECT count(*) FROM invocations"), 9);
  EXPECT_EQ(testing::run_edpipe("verify --db 'dbname=" + db.name() + " user=edpipe_reader'").status, 0);
  // tail as the writer saves its positions.
  r = testing::run_edpipe("tail --quiet --exit-on-eof --db 'dbname=" + db.name() + " user=edpipe_writer' " EDPIPE_SAMPLES_DIR
                          "/moves-2026-11-20.ndjson");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(db.count("SELECT count(*) FROM edpipe_file_positions"), 1);
}

TEST_F(Roles, TheWriterCannotDropOrAlterAndTheReaderCannotWrite) {
  for (const std::string sql : {"DROP TABLE job_logs", "ALTER TABLE invocations ADD COLUMN x int",
                                "TRUNCATE invocations", "DELETE FROM invocations", "CREATE TABLE sneaky (x int)",
                                "SELECT refresh_dashboard_stats()"}) {
    auto r = psql(db, "edpipe_writer", sql);
    EXPECT_NE(r.status, 0) << "the writer could: " << sql;
    EXPECT_TRUE(refused(r.err)) << sql << ": " << r.err;
  }
  for (const std::string sql : {"INSERT INTO edpipe_watermark VALUES (true, now())", "UPDATE invocations SET status = 'failed'",
                                "DELETE FROM metrics_hourly", "DROP TABLE job_logs"}) {
    auto r = psql(db, "edpipe_reader", sql);
    EXPECT_NE(r.status, 0) << "the reader could: " << sql;
    EXPECT_TRUE(refused(r.err)) << sql << ": " << r.err;
  }
  EXPECT_EQ(psql(db, "edpipe_reader", "SELECT count(*) FROM invocations").status, 0);
  EXPECT_EQ(psql(db, "edpipe_admin", "SELECT refresh_dashboard_stats()").status, 0);
  EXPECT_EQ(psql(db, "edpipe_admin", "ALTER TABLE invocations ADD COLUMN admin_may int").status, 0);
}

// A password is asked for (scram over the socket for one role), read from PGPASSFILE, and
// never printed, whether the run succeeds or fails.
TEST(Secrets, PasswordFromPgpassfileNeverInAnyOutput) {
  testing::TestDatabase db;
  const std::string user = "edpipe_pw_" + std::to_string(::getpid());
  const std::string password = "pw-" + std::to_string(::getpid()) + "-Zq7";
  ASSERT_EQ(testing::run_command("psql -X -q -d postgres -c \"CREATE ROLE " + user + " LOGIN SUPERUSER PASSWORD '" +
                                 password + "'\"").status, 0);
  // Ask this role for its password: an hba line of its own, before the cluster's trust lines.
  const fs::path hba = fs::path(EDPIPE_TEST_PG_DIR) / "data" / "pg_hba.conf";
  std::string original;
  {
    std::ifstream in(hba);
    original.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::ofstream(hba) << "local all " << user << " scram-sha-256\n" << original;
  testing::run_command("psql -X -q -d postgres -c 'SELECT pg_reload_conf()'");
  const fs::path pgpass = fs::temp_directory_path() / ("edpipe-pgpass-" + std::to_string(::getpid()));
  std::ofstream(pgpass) << "*:*:*:" << user << ":" << password << "\n";
  fs::permissions(pgpass, fs::perms::owner_read | fs::perms::owner_write);

  const std::string db_arg = " --db 'dbname=" + db.name() + " user=" + user + "' ";
  auto no_password = testing::run_edpipe("load --quiet" + db_arg + EDPIPE_SAMPLES_DIR, "PGPASSFILE=/nonexistent");
  EXPECT_EQ(no_password.status, 1);
  EXPECT_NE(no_password.err.find("password"), std::string::npos) << no_password.err;
  auto with_file = testing::run_edpipe("load --quiet" + db_arg + EDPIPE_SAMPLES_DIR, "PGPASSFILE=" + pgpass.string());
  EXPECT_EQ(with_file.status, 0) << with_file.err;
  // A wrong password given in a URI: the failure message masks it.
  const std::string wrong = "Wr0ng-" + password;
  auto failing = testing::run_edpipe("load --db 'postgresql://" + user + ":" + wrong + "@/" + db.name() + "?host=" +
                                     EDPIPE_TEST_PG_DIR + "' " + EDPIPE_SAMPLES_DIR, "PGPASSFILE=/nonexistent");
  EXPECT_EQ(failing.status, 1);
  for (const auto* out : {&no_password.out, &no_password.err, &with_file.out, &with_file.err, &failing.out, &failing.err}) {
    EXPECT_EQ(out->find(password), std::string::npos) << *out;
    EXPECT_EQ(out->find(wrong), std::string::npos) << *out;
  }
  std::ofstream(hba) << original;
  testing::run_command("psql -X -q -d postgres -c 'SELECT pg_reload_conf()'");
  testing::run_command("psql -X -q -d postgres -c 'DROP ROLE " + user + "'");
  fs::remove(pgpass);
}

}  // namespace
}  // namespace edpipe::load
