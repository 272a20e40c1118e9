#include <gtest/gtest.h>

#include "uuid.h"

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

TEST(Uuid, OrdersAndHashesByBytes) {
  auto a = *Uuid::parse("00000000-0000-0000-0000-000000000001");
  auto b = *Uuid::parse("00000000-0000-0000-0000-000000000002");
  EXPECT_LT(a, b);
  EXPECT_NE(UuidHash{}(a), UuidHash{}(b));
  EXPECT_TRUE(Uuid{}.is_nil());
}

}  // namespace
}  // namespace edpipe
