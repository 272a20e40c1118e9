#include "uuid.h"

#include <random>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace edpipe {
namespace {
// Hex digit values, 0xFF for anything else: one table load per character, no branches.
constexpr std::array<uint8_t, 256> kHexValue = [] {
  std::array<uint8_t, 256> t{};
  t.fill(0xFF);
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<uint8_t>(c - 'A' + 10);
  return t;
}();
// Where the 16 bytes' high hex digits sit in the 36-character form.
constexpr uint8_t kDigitPos[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
}  // namespace

std::optional<Uuid> Uuid::parse(std::string_view t) noexcept {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return std::nullopt;
  Uuid u;
#if defined(__SSE2__)
  // Ids are parsed several times per record: 16 hex digits per SSE2 step instead of a loop.
  alignas(16) char hex[32];
  std::memcpy(hex, t.data(), 8);
  std::memcpy(hex + 8, t.data() + 9, 4);
  std::memcpy(hex + 12, t.data() + 14, 4);
  std::memcpy(hex + 16, t.data() + 19, 4);
  std::memcpy(hex + 20, t.data() + 24, 12);
  for (int half = 0; half < 2; ++half) {
    const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(hex + 16 * half));
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));                             // '0'..'9' -> 0..9
    const __m128i a = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));  // a-f/A-F -> 0..5
    const __m128i is_digit = _mm_and_si128(_mm_cmpgt_epi8(d, _mm_set1_epi8(-1)), _mm_cmplt_epi8(d, _mm_set1_epi8(10)));
    const __m128i is_alpha = _mm_and_si128(_mm_cmpgt_epi8(a, _mm_set1_epi8(-1)), _mm_cmplt_epi8(a, _mm_set1_epi8(6)));
    if (_mm_movemask_epi8(_mm_or_si128(is_digit, is_alpha)) != 0xFFFF) return std::nullopt;
    const __m128i val = _mm_or_si128(_mm_and_si128(is_digit, d), _mm_and_si128(is_alpha, _mm_add_epi8(a, _mm_set1_epi8(10))));
    const __m128i pairs = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(val, _mm_set1_epi16(0x00FF)), 4), _mm_srli_epi16(val, 8));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(u.bytes.data() + 8 * half), _mm_packus_epi16(pairs, pairs));
  }
#else
  uint8_t bad = 0;
  for (size_t i = 0; i < 16; ++i) {
    const uint8_t hi = kHexValue[static_cast<uint8_t>(t[kDigitPos[i]])];
    const uint8_t lo = kHexValue[static_cast<uint8_t>(t[kDigitPos[i] + 1])];
    bad |= hi | lo;
    u.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (bad & 0xF0) return std::nullopt;
#endif
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

uint64_t UuidHash::seed() noexcept {
  static const uint64_t s = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  return s;
}

}  // namespace edpipe
