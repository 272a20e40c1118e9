#include "core/sql_array.h"

#include <cctype>
#include <charconv>

namespace edpipe {

namespace {
void append_quoted(std::string& out, const std::string& item) {
  out += '"';
  for (const char c : item) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}
}  // namespace

std::string text_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append_quoted(out, items[i]);
  }
  return out + "}";
}

std::string nullable_text_array_literal(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    if (items[i]) append_quoted(out, *items[i]);
    else out += "NULL";
  }
  return out + "}";
}

std::string int_array_literal(const std::vector<int64_t>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + std::to_string(items[i]);
  return out + "}";
}

std::vector<int64_t> parse_int_array_literal(std::string_view text) {
  std::vector<int64_t> out;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    if (*p == '-' || std::isdigit(static_cast<unsigned char>(*p))) {
      int64_t v = 0;
      const auto [next, ec] = std::from_chars(p, end, v);
      if (ec != std::errc()) break;
      out.push_back(v);
      p = next;
    } else {
      ++p;
    }
  }
  return out;
}

}  // namespace edpipe
