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

std::vector<std::optional<std::string>> read_all(std::string_view text) {
  std::vector<std::optional<std::string>> out;
  ArrayLiteralReader reader(text);
  std::optional<std::string_view> item;
  while (reader.next(item)) out.push_back(item ? std::optional<std::string>(*item) : std::nullopt);
  return out;
}

// As PostgreSQL writes a text[]: elements quoted when empty, spaced, holding a special
// character or spelling NULL; `"` and `\` escaped inside quotes.
TEST(SqlArray, AnArrayAsTheServerWritesItIsReadBackElementByElement) {
  using V = std::vector<std::optional<std::string>>;
  EXPECT_EQ(read_all("{}"), V{});
  EXPECT_EQ(read_all("{a}"), V{"a"});
  EXPECT_EQ(read_all(R"({completed,"failed true 12 job with spaces",NULL,"NULL",""})"),
            (V{"completed", "failed true 12 job with spaces", std::nullopt, "NULL", ""}));
  EXPECT_EQ(read_all(R"({"a\"b","c\\d","{1,2}",null, x ,"é ü"})"),
            (V{"a\"b", "c\\d", "{1,2}", std::nullopt, "x", "é ü"}));
  // What text_array_literal writes reads back as the same list.
  const std::vector<std::string> items = {"", "\\", "\"", ",", "}{", " lead", "trail ", "NULL", "a\\\"b"};
  V expected(items.begin(), items.end());
  EXPECT_EQ(read_all(text_array_literal(items)), expected);
}

TEST(SqlArray, TextThatIsNotAnArrayIsRefused) {
  for (const char* bad : {"", "{", "}", "a", "{a,}", "{,a}", "{\"a}", "{\"a\"b}", "{a\"b}", "{{a}}", "{a\\b}", "{ }"})
    EXPECT_THROW(read_all(bad), std::invalid_argument) << bad;
}

}  // namespace
}  // namespace edpipe
