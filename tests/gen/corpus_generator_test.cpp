// The generator's time layout: what the retention soak and the samples rely on.
#include <gtest/gtest.h>

#include "core/timestamp.h"
#include "core/uuid.h"
#include "gen/corpus_generator.h"
#include "test_support.h"

namespace edpipe {
namespace {

gen::GeneratedTruth truth_of(const gen::GeneratorOptions& o) {
  gen::GeneratedTruth truth;
  testing::generated_lines(o, &truth);
  return truth;
}

TEST(CorpusGenerator, WithoutASpanInvocationsRunBackToBack) {
  gen::GeneratorOptions o;
  o.invocations = 300;
  const auto truth = truth_of(o);
  EXPECT_LT(truth.newest_ts - o.start, kMicrosPerHour);
}

TEST(CorpusGenerator, ASpanSpreadsTheStartsOverIt) {
  gen::GeneratorOptions o;
  o.invocations = 300;
  o.span = 24 * kMicrosPerHour;
  const auto truth = truth_of(o);
  // Mean spacing span / n: the last start falls near the span's end, give or take a few spacings.
  EXPECT_GT(truth.newest_ts - o.start, 22 * kMicrosPerHour);
  EXPECT_LT(truth.newest_ts - o.start, 26 * kMicrosPerHour);
  EXPECT_EQ(truth.invocations, 300u);
}

TEST(CorpusGenerator, ASpanKeepsTheSameSeedTheSameBytes) {
  gen::GeneratorOptions o;
  o.invocations = 50;
  o.span = 3 * kMicrosPerHour;
  EXPECT_EQ(testing::generated_lines(o), testing::generated_lines(o));
}

// Time-ordered ids: every invocation id is a UUIDv7 whose first 48 bits are its start (ms); the
// rest of the corpus is what the same seed gives with random ids.
TEST(CorpusGenerator, TimeOrderedIdsCarryTheInvocationsStart) {
  gen::GeneratorOptions o;
  o.invocations = 200;
  o.span = 2 * kMicrosPerHour;
  o.malformed_rate = 0;
  o.time_ordered_ids = false;
  const auto random_ids = testing::generated_lines(o);
  o.time_ordered_ids = true;
  const auto ordered = testing::generated_lines(o);
  ASSERT_EQ(ordered.size(), random_ids.size());
  size_t starts = 0;
  for (const auto& line : ordered) {
    if (line.find("\"type\":\"invocation.start\"") == std::string::npos) continue;
    const size_t at = line.find("\"invocation_id\":\"");
    ASSERT_NE(at, std::string::npos) << line;
    const auto id = Uuid::parse(std::string_view(line).substr(at + 17, 36));
    ASSERT_TRUE(id) << line;
    EXPECT_EQ(id->bytes[6] >> 4, 7) << line;
    uint64_t ms = 0;
    for (int i = 0; i < 6; ++i) ms = ms << 8 | id->bytes[i];
    // The start as written (ms, or with µs and an offset): within the same millisecond.
    const size_t ts = line.find("\"ts\":");
    ASSERT_NE(ts, std::string::npos);
    const std::string_view v = std::string_view(line).substr(ts + 5);
    const auto end = v.find_first_of(",}");
    std::string text(v.substr(0, end));
    if (text.front() == '"') text = text.substr(1, text.size() - 2);
    const auto parsed = text.find_first_not_of("0123456789") == std::string::npos
                            ? std::optional<Timestamp>(std::stoll(text) * 1000)
                            : parse_rfc3339(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(int64_t(ms), *parsed / 1000) << line;
    ++starts;
  }
  EXPECT_GT(starts, 150u);
}

}  // namespace
}  // namespace edpipe
