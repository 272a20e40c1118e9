#include "core/uuid.h"

#include <bit>
#include <cstring>
#include <random>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace edpipe {
namespace {

static_assert(std::endian::native == std::endian::little, "hex8 reads the first digit from the low byte");
constexpr uint64_t kEachByte = 0x0101010101010101ULL;

// Eight hex digits (the first in the lowest byte, as loaded from memory) to their four bytes,
// eight at a time in one 64-bit word. Sets `bad` when any byte is not a hex digit.
inline uint32_t hex8(uint64_t x, uint64_t& bad) noexcept {
  bad |= x & (0x80 * kEachByte);                                 // not ASCII
  const uint64_t letter = (x >> 6) & kEachByte;                  // 0x40 bit: A-F, a-f (digits have none)
  const uint64_t y = x | (letter << 5);                          // letters to lower case
  // Digits +0x50, letters +0x29: a hex digit's value lands in 0x80..0x8F. No byte carries into
  // the next one unless it is not ASCII, which is bad already.
  const uint64_t t = y + (0x50 * kEachByte) - letter * (0x50 - 0x29);
  bad |= ~t & (0x80 * kEachByte);                                // below '0' or 'a'
  bad |= t & (0x70 * kEachByte);                                 // above 'f'
  const uint64_t nibble = t & (0x0F * kEachByte);               // '0'..'9' -> 0..9, 'a'..'f' -> 10..15
  const uint64_t at_least_10 = ((nibble + 6 * kEachByte) >> 4) & kEachByte;
  bad |= at_least_10 ^ letter;                                   // ':'..'?', '@', '`'
  // Pairs of nibbles to bytes: byte 2k = high << 4 | low.
  uint64_t w = ((nibble << 4) | (nibble >> 8)) & 0x00FF00FF00FF00FFULL;
  w = (w | (w >> 8)) & 0x0000FFFF0000FFFFULL;
  w = (w | (w >> 16)) & 0x00000000FFFFFFFFULL;
  return static_cast<uint32_t>(w);
}

inline uint64_t load8(const char* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t load4(const char* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

#if defined(__SSE2__)
// Sixteen hex digits to their eight bytes with SSE2 (every x86-64 has it): each digit's value
// picked from the digit or the letter reading, then the pairs of nibbles joined. Sets `bad`'s
// bytes where a byte is neither.
inline __m128i hex16(__m128i c, __m128i& bad) noexcept {
  const __m128i digit = _mm_sub_epi8(c, _mm_set1_epi8('0'));
  const __m128i letter = _mm_sub_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));  // any case
  // Unsigned "x <= n" as min(x, n) == x: no unsigned byte compare in SSE2.
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(digit, _mm_set1_epi8(9)), digit);
  const __m128i is_letter = _mm_cmpeq_epi8(_mm_min_epu8(letter, _mm_set1_epi8(5)), letter);
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(_mm_or_si128(is_digit, is_letter), _mm_setzero_si128()));
  const __m128i value = _mm_or_si128(_mm_and_si128(is_digit, digit),
                                     _mm_and_si128(is_letter, _mm_add_epi8(letter, _mm_set1_epi8(10))));
  // Each 16-bit lane holds two digits, the first in its low byte: first << 4 | second.
  return _mm_or_si128(_mm_slli_epi16(_mm_and_si128(value, _mm_set1_epi16(0x00FF)), 4), _mm_srli_epi16(value, 8));
}
#endif

std::optional<Uuid> Uuid::parse(std::string_view t) noexcept {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return std::nullopt;
  // Ids are parsed several times per record: the digits are read straight from the text, a
  // word at a time (no copy into a scratch buffer that a wide load would then stall on).
  const char* p = t.data();
  const uint64_t d0 = load8(p), d1 = load4(p + 9) | load4(p + 14) << 32;  // 8, 4-4
  const uint64_t d2 = load4(p + 19) | load4(p + 24) << 32, d3 = load8(p + 28);  // 4-(4 of 12), the last 8
  Uuid u;
#if defined(__SSE2__)
  __m128i bad = _mm_setzero_si128();
  const __m128i first = hex16(_mm_set_epi64x(static_cast<int64_t>(d1), static_cast<int64_t>(d0)), bad);
  const __m128i second = hex16(_mm_set_epi64x(static_cast<int64_t>(d3), static_cast<int64_t>(d2)), bad);
  if (_mm_movemask_epi8(bad)) return std::nullopt;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(u.bytes.data()), _mm_packus_epi16(first, second));
#else
  uint64_t bad = 0;
  const uint32_t w[4] = {hex8(d0, bad), hex8(d1, bad), hex8(d2, bad), hex8(d3, bad)};
  if (bad) return std::nullopt;
  std::memcpy(u.bytes.data(), w, 16);
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
