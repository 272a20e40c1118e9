#pragma once
// A UUID held as its 16 bytes: compared, hashed and printed without allocation.
#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace edpipe {

struct Uuid {
  std::array<uint8_t, 16> bytes{};

  auto operator<=>(const Uuid&) const = default;
  // Two words, not a memcmp call: ids are compared at every record.
  bool operator==(const Uuid& o) const noexcept {
    uint64_t a[2], b[2];
    std::memcpy(a, bytes.data(), 16);
    std::memcpy(b, o.bytes.data(), 16);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
  }
  bool is_nil() const noexcept {
    for (auto b : bytes) if (b) return false;
    return true;
  }
  // Canonical lower-case 8-4-4-4-12 text.
  std::string str() const;
  void append_to(std::string& out) const;

  // Accepts exactly the 36-character hyphenated form, any hex case.
  [[nodiscard]] static std::optional<Uuid> parse(std::string_view text) noexcept;
};

// The day partition of an invocation's rows (migration 016; SQL: edpipe_invocation_day): the UTC
// day, in days since 1970-01-01, of the time a UUIDv7 begins with. Ids of other versions, and v7
// times outside 2000-2099, have no day (kUndatedDay: their rows go to the undated partition).
constexpr int32_t kUndatedDay = 0;
inline int32_t invocation_day(const Uuid& invocation_id) noexcept {
  constexpr int64_t kMsPerDay = 86400000, kFirstDay = 10957 /* 2000-01-01 */, kEndDay = 47482 /* 2100-01-01 */;
  if ((invocation_id.bytes[6] >> 4) != 7) return kUndatedDay;
  int64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = (ms << 8) | invocation_id.bytes[i];
  const int64_t day = ms / kMsPerDay;
  return day >= kFirstDay && day < kEndDay ? static_cast<int32_t>(day) : kUndatedDay;
}

// Hash tables keyed by UUID see ids from outside: time-ordered UUIDs (v7) and sequential or
// crafted ids vary in a few bits only. Both halves are fully mixed (murmur3's finaliser), with a
// seed chosen at start-up, so no input can pile its ids into one bucket. (No output depends on
// a hash table's order.)
struct UuidHash {
  static uint64_t mix(uint64_t x) noexcept {  // murmur3's fmix64
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
  }
  static uint64_t seed() noexcept;  // chosen on first use, the same for every table
  size_t operator()(const Uuid& u) const noexcept {
    uint64_t a, b;
    std::memcpy(&a, u.bytes.data(), 8);
    std::memcpy(&b, u.bytes.data() + 8, 8);
    return static_cast<size_t>(mix(a ^ seed_) ^ mix(b + 0x9E3779B97F4A7C15ULL));
  }
  uint64_t seed_ = seed();
};

}  // namespace edpipe
