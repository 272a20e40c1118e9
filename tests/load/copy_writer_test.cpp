#include <gtest/gtest.h>

#include "copy_writer.h"
#include "pg_connection.h"
#include "pg_test_support.h"

namespace edpipe {
namespace {

TEST(CopyWriter, EscapesOnlyWhatCopyTextNeedsAndRoundTrips) {
  testing::TestDatabase db(false);
  pqxx::work tx(db.conn());
  tx.exec("CREATE TEMP TABLE t (a text, b bigint, c boolean, d timestamptz, e uuid)");
  CopyWriter w;
  const std::string tricky = "tab\there\nnew\\line\r caf\xc3\xa9 \\N";
  w.text(tricky).integer(-42).boolean(true).timestamp(1795169700123456).uuid(*Uuid::parse("550e8400-e29b-41d4-a716-446655440000"));
  w.end_row();
  w.null().null().null().null().null();
  w.end_row();
  w.copy_into(tx, "t");
  auto r = tx.exec("SELECT a, b, c, (extract(epoch FROM d) * 1000000)::bigint, e FROM t ORDER BY b NULLS LAST");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0][0].as<std::string>(), tricky);
  EXPECT_EQ(r[0][1].as<int64_t>(), -42);
  EXPECT_EQ(r[0][3].as<int64_t>(), 1795169700123456);
  EXPECT_EQ(r[0][4].as<std::string>(), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_TRUE(r[1][0].is_null());
}

TEST(Connection, PasswordsAreMasked) {
  EXPECT_EQ(mask_password("postgresql://u:pw@h:5432/db"), "postgresql://u:****@h:5432/db");
  EXPECT_EQ(mask_password("host=h password=pw dbname=d"), "host=h password=**** dbname=d");
  EXPECT_EQ(mask_password("host=h password = 'p w' dbname=d"), "host=h password = **** dbname=d");
  EXPECT_EQ(mask_secrets("FATAL: password pw rejected", "postgresql://u:pw@h/db"), "FATAL: password **** rejected");
  EXPECT_TRUE(is_transient("40P01"));
  EXPECT_TRUE(is_transient("08006"));
  EXPECT_FALSE(is_transient("22P02"));
}

}  // namespace
}  // namespace edpipe
