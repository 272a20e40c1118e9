#include <gtest/gtest.h>

#include <thread>

#include "core/timestamp.h"

namespace edpipe {
namespace {

constexpr Timestamp k20261120T101500 = 1795169700LL * kMicrosPerSecond;  // 2026-11-20T10:15:00Z

TEST(Rfc3339, ZuluWithMilliseconds) {
  EXPECT_EQ(parse_rfc3339("2026-11-20T10:15:00.123Z"), k20261120T101500 + 123000);
}

TEST(Rfc3339, ZeroToNineFractionDigits) {
  EXPECT_EQ(parse_rfc3339("2026-11-20T10:15:00Z"), k20261120T101500);
  EXPECT_EQ(parse_rfc3339("2026-11-20T10:15:00.1Z"), k20261120T101500 + 100000);
  EXPECT_EQ(parse_rfc3339("2026-11-20T10:15:00.123456Z"), k20261120T101500 + 123456);
  EXPECT_EQ(parse_rfc3339("2026-11-20T10:15:00.123456789Z"), k20261120T101500 + 123457);  // rounded to µs
  EXPECT_EQ(parse_rfc3339("2026-11-20T10:15:00.1234564Z"), k20261120T101500 + 123456);
  EXPECT_FALSE(parse_rfc3339("2026-11-20T10:15:00.1234567891Z"));  // 10 digits
  EXPECT_FALSE(parse_rfc3339("2026-11-20T10:15:00.Z"));
}

TEST(Rfc3339, Offsets) {
  EXPECT_EQ(parse_rfc3339("2026-11-20T11:15:00+01:00"), k20261120T101500);
  EXPECT_EQ(parse_rfc3339("2026-11-20T05:45:00.5-04:30"), k20261120T101500 + 500000);
  EXPECT_EQ(parse_rfc3339("2026-11-20t10:15:00z"), k20261120T101500);
  EXPECT_EQ(parse_rfc3339("2026-11-20 10:15:00Z"), k20261120T101500);
}

TEST(Rfc3339, ZoneRequiredUnlessUtcDefault) {
  EXPECT_FALSE(parse_rfc3339("2026-11-20T10:15:00.123"));
  EXPECT_EQ(parse_rfc3339("2026-11-20T10:15:00.123456", ZoneRule::DefaultUtc), k20261120T101500 + 123456);
}

TEST(Rfc3339, RejectsMalformedAndImpossibleDates) {
  for (const char* bad : {"", "yesterday", "2026-11-20", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
                          "2026-11-31T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T10:60:00Z", "2026-11-20T10:15:00+1:00",
                          "2026-11-20T10:15:00Zjunk", "0000-01-01T00:00:00Z", "2026-11-20T10:15:00+24:00"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z"));  // leap year
  EXPECT_TRUE(parse_rfc3339("0001-01-01T00:00:00Z"));
  EXPECT_TRUE(parse_rfc3339("9999-12-31T23:59:59.999999Z"));
}

// The form emitters write ("...T12:34:56.789Z") takes a shorter path once its date was seen: it
// must give what the general path gives (the same instant written "+00:00"), for every byte at
// every position.
TEST(Rfc3339, TheCommonFormAgreesWithTheGeneralPathOnEverySingleByteChange) {
  for (const std::string base : {"2026-11-20T00:00:00.047Z", "2024-02-29T23:59:60.999Z", "0001-01-01T00:00:00.000Z",
                                 "9999-12-31T23:59:59.999Z"}) {
    for (size_t i = 0; i < base.size(); ++i) {
      for (int c = 0; c < 256; ++c) {
        std::string t = base;
        t[i] = static_cast<char>(c);
        std::optional<Timestamp> expected;
        if (t.back() == 'Z') expected = parse_rfc3339(t.substr(0, 23) + "+00:00");  // and its date is cached
        else expected = parse_rfc3339(t);
        ASSERT_EQ(parse_rfc3339(t), expected) << "position " << i << ", byte " << c;
      }
    }
  }
  // Nothing cached yet (a new thread): a text of NULs where the date goes is no date.
  std::thread([] {
    EXPECT_EQ(parse_rfc3339(std::string(10, '\0') + "T00:00:00.000Z"), std::nullopt);
  }).join();
}

TEST(EpochMillis, ConvertsAndBounds) {
  EXPECT_EQ(from_epoch_millis(1795169700123), k20261120T101500 + 123000);
  EXPECT_EQ(from_epoch_millis(0), 0);
  EXPECT_FALSE(from_epoch_millis(INT64_MAX / 10));
}

TEST(Format, RoundTripsAndHourFloor) {
  for (Timestamp t : {Timestamp(0), k20261120T101500 + 1, Timestamp(-1), Timestamp(-86400LL * kMicrosPerSecond * 365)}) {
    auto s = format_rfc3339(t);
    EXPECT_EQ(parse_rfc3339(s), t) << s;
  }
  EXPECT_EQ(format_rfc3339(k20261120T101500 + 123), "2026-11-20T10:15:00.000123Z");
  EXPECT_EQ(hour_floor(k20261120T101500 + 5), k20261120T101500 - 15 * 60 * kMicrosPerSecond);
  EXPECT_EQ(hour_floor(-1), -kMicrosPerHour);
  EXPECT_EQ(format_hour(hour_floor(k20261120T101500)), "2026-11-20 10:00");
}

}  // namespace
}  // namespace edpipe
