#include "core/uuid.h"

#include <bit>
#include <cstring>
#include <random>

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

std::optional<Uuid> Uuid::parse(std::string_view t) noexcept {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return std::nullopt;
  // Ids are parsed several times per record: four words of eight digits each, read straight
  // from the text (no copy into a scratch buffer that a wide load would then stall on).
  const char* p = t.data();
  uint64_t bad = 0;
  const uint32_t w0 = hex8(load8(p), bad);                               // 8 digits
  const uint32_t w1 = hex8(load4(p + 9) | load4(p + 14) << 32, bad);     // 4-4
  const uint32_t w2 = hex8(load4(p + 19) | load4(p + 24) << 32, bad);    // 4-(4 of 12)
  const uint32_t w3 = hex8(load8(p + 28), bad);                          // the last 8
  if (bad) return std::nullopt;
  Uuid u;
  std::memcpy(u.bytes.data(), &w0, 4);
  std::memcpy(u.bytes.data() + 4, &w1, 4);
  std::memcpy(u.bytes.data() + 8, &w2, 4);
  std::memcpy(u.bytes.data() + 12, &w3, 4);
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
