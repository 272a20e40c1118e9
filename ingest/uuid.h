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
  bool is_nil() const noexcept {
    for (auto b : bytes) if (b) return false;
    return true;
  }
  // Canonical lower-case 8-4-4-4-12 text.
  std::string str() const;
  void append_to(std::string& out) const;

  // Accepts exactly the 36-character hyphenated form, any hex case.
  static std::optional<Uuid> parse(std::string_view text) noexcept;
};

struct UuidHash {
  size_t operator()(const Uuid& u) const noexcept {
    uint64_t a, b;
    std::memcpy(&a, u.bytes.data(), 8);
    std::memcpy(&b, u.bytes.data() + 8, 8);
    // Random UUIDs are already well mixed; the multiply covers name-based ones.
    return static_cast<size_t>((a ^ (b * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull >> 7);
  }
};

}  // namespace edpipe
