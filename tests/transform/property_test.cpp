// One generated corpus, shuffled and split into batches at random many times, must always give
// the same rows and rollups once fragments are merged (wire format invariant 1), and loading
// it twice must change nothing (invariant 2).
#include <gtest/gtest.h>

#include "test_support.h"

namespace edpipe {
namespace {

class PropertyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gen::GeneratorOptions o;
    o.seed = 42;
    o.invocations = 400;
    o.functions = 4;
    o.interleave = 12;
    o.abandon_rate = 0.05;
    o.failure_rate = 0.1;
    o.malformed_rate = 0.01;
    o.start = *parse_rfc3339("2026-11-20T09:40:00Z");
    lines_ = new std::vector<std::string>(testing::generated_lines(o, &truth_));
    // Spread over more than an hour so that invocations are abandoned and handed on early.
    o.seed = 43;
    o.start = *parse_rfc3339("2026-11-20T11:10:00Z");
    auto later = testing::generated_lines(o);
    lines_->insert(lines_->end(), later.begin(), later.end());
    reference_ = new testing::PipelineResult(testing::run_pipeline(*lines_));
  }
  static void TearDownTestSuite() {
    delete lines_;
    delete reference_;
  }
  static std::vector<std::string>* lines_;
  static testing::PipelineResult* reference_;
  static gen::GeneratedTruth truth_;
};
std::vector<std::string>* PropertyTest::lines_ = nullptr;
testing::PipelineResult* PropertyTest::reference_ = nullptr;
gen::GeneratedTruth PropertyTest::truth_;

TEST_F(PropertyTest, ReferenceMatchesTheGeneratorsTruth) {
  const auto& t = reference_->tally;
  EXPECT_EQ(t.invocations, 2 * truth_.invocations);
  EXPECT_GT(t.invocations_by_status[size_t(InvocationStatus::Abandoned)], 0u);
  EXPECT_EQ(reference_->rows.invocations.size(), t.invocations);
  EXPECT_EQ(reference_->rows.logs.size(), t.job_logs);
}

TEST_F(PropertyTest, ShuffledAndSplitAtRandomAlwaysGivesTheSameRowsAndRollups) {
  std::mt19937_64 rng(2026);
  size_t fragmented_runs = 0;
  for (int run = 0; run < 25; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    std::vector<std::string> lines = *lines_;
    // Half the runs shuffle everything; the others move whole blocks around, as replaying
    // files out of order does.
    if (run % 2 == 0) {
      std::shuffle(lines.begin(), lines.end(), rng);
    } else {
      const size_t blocks = 2 + rng() % 8;
      std::vector<std::vector<std::string>> parts(blocks);
      for (size_t i = 0; i < lines.size(); ++i) parts[i * blocks / lines.size()].push_back(lines[i]);
      std::shuffle(parts.begin(), parts.end(), rng);
      lines.clear();
      for (auto& p : parts) lines.insert(lines.end(), p.begin(), p.end());
    }
    std::vector<size_t> cuts;
    const size_t n_cuts = rng() % 40;
    for (size_t i = 0; i < n_cuts; ++i) cuts.push_back(rng() % lines.size());
    AssemblerOptions opts;
    opts.quiet_after = (run % 3 == 0) ? 0 : opts.quiet_after;  // hand on as early as possible
    auto r = testing::run_pipeline(lines, cuts, opts);
    if (r.rows.fragments > r.rows.invocations.size()) ++fragmented_runs;
    EXPECT_TRUE(r.rows == reference_->rows);
    EXPECT_EQ(r.watermark, reference_->watermark);
    testing::expect_same_tally(r.tally, reference_->tally);
  }
  EXPECT_GT(fragmented_runs, 5u);  // the property was exercised with real fragments
}

TEST_F(PropertyTest, LoadingTwiceChangesNothing) {
  testing::Store store;
  store.run(*lines_);
  store.run(*lines_, {lines_->size() / 3});
  auto r = store.result();
  EXPECT_TRUE(r.rows == reference_->rows);
  testing::expect_same_tally(r.tally, reference_->tally);
}

TEST_F(PropertyTest, FilesLoadedInSeparateRunsInAnyOrderGiveTheSameRows) {
  // Each "file" is its own load, replayed newest first.
  const size_t files = 5;
  testing::Store store;
  for (size_t f = files; f-- > 0;) {
    std::vector<std::string> part(lines_->begin() + f * lines_->size() / files,
                                  lines_->begin() + (f + 1) * lines_->size() / files);
    store.run(part);
  }
  auto r = store.result();
  EXPECT_TRUE(r.rows == reference_->rows);
  testing::expect_same_tally(r.tally, reference_->tally);
}

}  // namespace
}  // namespace edpipe
