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

TEST(CopyWriter, PiecesCutOnlyBetweenRowsAndTheBufferIsReused) {
  testing::TestDatabase db(false);
  pqxx::work tx(db.conn());
  tx.exec("CREATE TEMP TABLE t (n bigint, a text)");
  CopyWriter w;
  // Rows of every size around the 256 KiB piece, one far past it, newlines escaped inside.
  std::vector<std::string> texts;
  for (size_t n = 0; n < 40; ++n) texts.push_back(std::string(n == 7 ? 900 * 1024 : 1 + n * 9973, 'a' + n % 26) + "\n|");
  for (int round = 0; round < 2; ++round) {
    for (size_t n = 0; n < texts.size(); ++n) {
      w.integer(static_cast<int64_t>(n + round * texts.size())).text(texts[n]);
      w.end_row();
    }
    w.copy_into(tx, "t");
    EXPECT_EQ(w.rows(), 0u);
  }
  w.integer(-1).text("left over by a failed try");
  w.end_row();
  w.clear();
  w.copy_into(tx, "t");  // nothing: cleared
  auto r = tx.exec("SELECT n, a FROM t ORDER BY n");
  ASSERT_EQ(r.size(), 2 * texts.size());
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i][0].as<int64_t>(), static_cast<int64_t>(i));
    EXPECT_EQ(r[i][1].as<std::string>(), texts[i % texts.size()]) << "row " << i;
  }
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
