#include "uuid.h"

namespace edpipe {
namespace {
int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Uuid> Uuid::parse(std::string_view t) noexcept {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return std::nullopt;
  Uuid u;
  size_t out = 0;
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) { ++i; continue; }
    int hi = hex_value(t[i]), lo = hex_value(t[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    u.bytes[out++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return u;
}

void Uuid::append_to(std::string& out) const {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[36];
  size_t p = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) buf[p++] = '-';
    buf[p++] = kHex[bytes[i] >> 4];
    buf[p++] = kHex[bytes[i] & 15];
  }
  out.append(buf, 36);
}

std::string Uuid::str() const {
  std::string s;
  s.reserve(36);
  append_to(s);
  return s;
}

}  // namespace edpipe
