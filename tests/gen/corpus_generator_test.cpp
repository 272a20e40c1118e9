// The generator's time layout: what the retention soak and the samples rely on.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace edpipe
