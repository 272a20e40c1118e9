#pragma once
// PostgreSQL array literals, for a list sent as one text parameter and cast in the statement
// ($1::text[], $1::bigint[]): one round trip for a list of any length, every value a parameter.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edpipe {

// {"a","b\"c"}: every element quoted, its `"` and `\` escaped, so any text goes through.
std::string text_array_literal(const std::vector<std::string>& items);
// The same, with NULL for an item that is missing.
std::string nullable_text_array_literal(const std::vector<std::optional<std::string>>& items);
// {1,-2,3}
std::string int_array_literal(const std::vector<int64_t>& items);
// The integers of an integer array's text ({1,-2,3}), in order.
std::vector<int64_t> parse_int_array_literal(std::string_view text);

// The elements of a one-dimensional array's text as PostgreSQL writes it ({a,"b \"c",NULL}), in
// order, as views: without a string allocated per element (a load reads thousands of them per
// batch). An element with escapes is unescaped into the reader's buffer, valid until the next.
class ArrayLiteralReader {
 public:
  explicit ArrayLiteralReader(std::string_view text);
  // The next element, nullopt for NULL; false after the last. Throws std::invalid_argument for
  // text that is not such an array.
  bool next(std::optional<std::string_view>& item);

 private:
  [[noreturn]] void malformed() const;
  std::string_view text_;
  size_t pos_ = 0;
  bool done_ = false;
  std::string unescaped_;
};

}  // namespace edpipe
