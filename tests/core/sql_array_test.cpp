// Array literals: what PostgreSQL reads back as the same list (checked against the server by
// the load and view tests that send them).
#include "core/sql_array.h"

#include <gtest/gtest.h>

namespace edpipe {
namespace {

TEST(SqlArray, TextElementsAreQuotedAndEscaped) {
  EXPECT_EQ(text_array_literal({}), "{}");
  EXPECT_EQ(text_array_literal({"a", "b\"c", "d\\e", "", "{1,2}", "NULL"}),
            R"({"a","b\"c","d\\e","","{1,2}","NULL"})");
}

TEST(SqlArray, AMissingItemIsAnUnquotedNull) {
  EXPECT_EQ(nullable_text_array_literal({}), "{}");
  EXPECT_EQ(nullable_text_array_literal({std::string("1.5"), std::nullopt, std::string("NULL")}), R"({"1.5",NULL,"NULL"})");
}

TEST(SqlArray, IntegersRoundTrip) {
  const std::vector<int64_t> v = {0, -1, 42, INT64_MAX, INT64_MIN};
  EXPECT_EQ(int_array_literal(v), "{0,-1,42,9223372036854775807,-9223372036854775808}");
  EXPECT_EQ(parse_int_array_literal(int_array_literal(v)), v);
  EXPECT_TRUE(parse_int_array_literal("{}").empty());
}

}  // namespace
}  // namespace edpipe
