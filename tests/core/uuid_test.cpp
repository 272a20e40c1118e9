#include <gtest/gtest.h>

#include <string>

#include "core/uuid.h"

namespace edpipe {
namespace {

TEST(Uuid, ParsesAnyCaseAndPrintsLowerCase) {
  auto u = Uuid::parse("550E8400-e29b-41d4-A716-446655440000");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->str(), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(u->bytes[0], 0x55);
  EXPECT_EQ(u->bytes[15], 0x00);
}

TEST(Uuid, RejectsWrongShapes) {
  for (const char* bad : {"", "550e8400e29b41d4a716446655440000", "550e8400-e29b-41d4-a716-44665544000",
                          "550e8400-e29b-41d4-a716-4466554400000", "550e8400-e29b-41d4-a716_446655440000",
                          "g50e8400-e29b-41d4-a716-446655440000", "{550e8400-e29b-41d4-a716-446655440000}"})
    EXPECT_FALSE(Uuid::parse(bad)) << bad;
}

// Every byte value at every position of a valid id, against a plain digit-by-digit reading.
TEST(Uuid, AgreesWithAPlainReaderOnEverySingleCharacterChange) {
  auto plain = [](const std::string& t) -> std::optional<Uuid> {
    if (t.size() != 36) return std::nullopt;
    Uuid u;
    size_t digit = 0;
    for (size_t i = 0; i < 36; ++i) {
      const char c = t[i];
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (c != '-') return std::nullopt;
        continue;
      }
      int v;
      if (c >= '0' && c <= '9') v = c - '0';
      else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
      else return std::nullopt;
      u.bytes[digit / 2] = static_cast<uint8_t>(digit % 2 ? (u.bytes[digit / 2] | v) : v << 4);
      ++digit;
    }
    return u;
  };
  for (const std::string base : {"0123abCD-ef45-6789-AbCd-ef0123456789", "ffffffff-ffff-ffff-ffff-ffffffffffff",
                                 "00000000-0000-0000-0000-000000000000"}) {
    ASSERT_EQ(Uuid::parse(base), plain(base));
    for (size_t i = 0; i < base.size(); ++i) {
      for (int c = 0; c < 256; ++c) {
        std::string t = base;
        t[i] = static_cast<char>(c);
        ASSERT_EQ(Uuid::parse(t), plain(t)) << "position " << i << ", byte " << c;
      }
    }
  }
}

TEST(Uuid, OrdersAndHashesByBytes) {
  auto a = *Uuid::parse("00000000-0000-0000-0000-000000000001");
  auto b = *Uuid::parse("00000000-0000-0000-0000-000000000002");
  EXPECT_LT(a, b);
  EXPECT_NE(UuidHash{}(a), UuidHash{}(b));
  EXPECT_TRUE(Uuid{}.is_nil());
}

}  // namespace
}  // namespace edpipe
