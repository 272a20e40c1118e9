#include <gtest/gtest.h>

#include "load/copy_writer.h"
#include "pg_test_support.h"

namespace edpipe::load {
namespace {

TEST(CopyWriter, EveryTypeRoundTripsInBinary) {
  testing::TestDatabase db(false);
  pqxx::work tx(db.conn());
  tx.exec("CREATE TEMP TABLE t (a text, b bigint, c boolean, d timestamptz, e uuid, f integer, g smallint, h jsonb)");
  CopyWriter w;
  const std::string tricky = "tab\there\nnew\\line\r caf\xc3\xa9 \\N";
  const std::string json = R"({"k": [1, "caf\u00e9\n", null], "t": "\\N"})";
  w.text(tricky).int64(-4'200'000'000'000).boolean(true).timestamp(1795169700123456);
  w.uuid(*Uuid::parse("550e8400-e29b-41d4-a716-446655440000")).int32(-2'000'000'000).int16(-300).json(json);
  w.end_row();
  w.text("").int64(7).boolean(false).timestamp(-1).null().int32(0).int16(32767).json("[]");  // before 1970 too
  w.end_row();
  w.null().null().null().null().null().null().null().null();
  w.end_row();
  w.copy_into(tx, "t");
  auto r = tx.exec("SELECT a, b, c, (extract(epoch FROM d) * 1000000)::bigint, e, f, g, h::text, h = $$" + json +
                   "$$::jsonb FROM t ORDER BY b NULLS LAST");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0][0].as<std::string>(), tricky);
  EXPECT_EQ(r[0][1].as<int64_t>(), -4'200'000'000'000);
  EXPECT_TRUE(r[0][2].as<bool>());
  EXPECT_EQ(r[0][3].as<int64_t>(), 1795169700123456);
  EXPECT_EQ(r[0][4].as<std::string>(), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(r[0][5].as<int>(), -2'000'000'000);
  EXPECT_EQ(r[0][6].as<int>(), -300);
  EXPECT_TRUE(r[0][8].as<bool>()) << r[0][7].as<std::string>();
  EXPECT_EQ(r[1][0].as<std::string>(), "");
  EXPECT_FALSE(r[1][2].as<bool>());
  EXPECT_EQ(r[1][3].as<int64_t>(), -1);
  EXPECT_TRUE(r[1][4].is_null());
  EXPECT_EQ(r[1][6].as<int>(), 32767);
  EXPECT_EQ(r[1][7].as<std::string>(), "[]");
  for (int c = 0; c < 8; ++c) EXPECT_TRUE(r[2][c].is_null()) << "column " << c;
}

// A value of the wrong width is refused with the server's SQLSTATE, not stored wrong; and
// a refused COPY leaves the connection usable for the next transaction.
TEST(CopyWriter, AMismatchedWidthIsRefusedWithItsSqlstate) {
  testing::TestDatabase db(false);
  {
    pqxx::work tx(db.conn());
    tx.exec("CREATE TABLE t (n integer)");
    tx.commit();
  }
  {
    pqxx::work tx(db.conn());
    CopyWriter w;
    w.int64(5);
    w.end_row();
    try {
      w.copy_into(tx, "t");
      FAIL() << "an int64 went into an integer column";
    } catch (const pqxx::sql_error& e) {
      EXPECT_EQ(e.sqlstate(), "22P03") << e.what();
      EXPECT_NE(std::string(e.what()).find("binary"), std::string::npos) << e.what();
    }
  }
  pqxx::work tx(db.conn());
  CopyWriter w;
  w.int32(5);
  w.end_row();
  w.copy_into(tx, "t", {"n"});
  EXPECT_EQ(tx.exec("SELECT sum(n) FROM t")[0][0].as<int>(), 5);
}

TEST(CopyWriter, LargeRowsAcrossPiecesAndTheBufferIsReused) {
  testing::TestDatabase db(false);
  pqxx::work tx(db.conn());
  tx.exec("CREATE TEMP TABLE t (n bigint, a text)");
  CopyWriter w;
  // Rows of every size around the 256 KiB piece, one far past it.
  std::vector<std::string> texts;
  for (size_t n = 0; n < 40; ++n) texts.push_back(std::string(n == 7 ? 900 * 1024 : 1 + n * 9973, 'a' + n % 26) + "\n|");
  for (int round = 0; round < 2; ++round) {
    for (size_t n = 0; n < texts.size(); ++n) {
      w.int64(static_cast<int64_t>(n + round * texts.size())).text(texts[n]);
      w.end_row();
    }
    w.copy_into(tx, "t");
    EXPECT_EQ(w.rows(), 0u);
  }
  w.int64(-1).text("left over by a failed try");
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

}  // namespace
}  // namespace edpipe::load
