#include "core/sql_array.h"

#include <cctype>
#include <charconv>
#include <stdexcept>
#include <strings.h>

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
  std::string out(items.size() * 21 + 2, '\0');  // 20 characters at most a number, and its comma
  char* p = out.data();
  *p++ = '{';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) *p++ = ',';
    p = std::to_chars(p, out.data() + out.size(), items[i]).ptr;
  }
  *p++ = '}';
  out.resize(static_cast<size_t>(p - out.data()));
  return out;
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

ArrayLiteralReader::ArrayLiteralReader(std::string_view text) : text_(text) {
  if (text_.size() < 2 || text_.front() != '{' || text_.back() != '}') malformed();
  pos_ = 1;
  done_ = text_.size() == 2;  // {}
}

void ArrayLiteralReader::malformed() const {
  throw std::invalid_argument("not a one-dimensional array literal: " + std::string(text_.substr(0, 80)));
}

bool ArrayLiteralReader::next(std::optional<std::string_view>& item) {
  if (done_) return false;
  const size_t last = text_.size() - 1;  // the closing brace
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (pos_ < last && is_space(text_[pos_])) ++pos_;
  if (pos_ >= last) malformed();
  size_t end;
  if (text_[pos_] == '"') {
    // Quoted: up to the unescaped quote; a backslash takes the next byte as it is.
    const size_t open = ++pos_;
    size_t p = open;
    bool escaped = false;
    while (p < last && text_[p] != '"') {
      if (text_[p] == '\\') {
        escaped = true;
        ++p;
      }
      ++p;
    }
    if (p >= last) malformed();
    if (!escaped) {
      item = text_.substr(open, p - open);
    } else {
      unescaped_.clear();
      for (size_t i = open; i < p; ++i) {
        if (text_[i] == '\\') ++i;
        unescaped_ += text_[i];
      }
      item = std::string_view(unescaped_);
    }
    end = p + 1;
    while (end < last && is_space(text_[end])) ++end;
  } else {
    end = pos_;
    while (end < last && text_[end] != ',') {
      if (text_[end] == '"' || text_[end] == '{' || text_[end] == '}' || text_[end] == '\\') malformed();
      ++end;
    }
    size_t stop = end;
    while (stop > pos_ && is_space(text_[stop - 1])) --stop;
    const std::string_view word = text_.substr(pos_, stop - pos_);
    if (word.empty()) malformed();
    if (word.size() == 4 && strncasecmp(word.data(), "NULL", 4) == 0) item = std::nullopt;
    else item = word;
  }
  if (end == last) {
    done_ = true;
  } else if (text_[end] == ',') {
    pos_ = end + 1;
  } else {
    malformed();
  }
  return true;
}

}  // namespace edpipe
