// One generated corpus, shuffled and split into batches at random many times, must always give
// the same rows and rollups once fragments are merged (wire format invariant 1), and loading
// it twice must change nothing (invariant 2).
#include <gtest/gtest.h>

#include <set>

#include "test_support.h"

namespace edpipe::transform {
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

// Log lines are where identity is delicate: repeated identical lines, and lines that differ only
// in data or source, split over loads, tail flushes and orders.
class LogIdentityTest : public ::testing::TestWithParam<bool> {  // with seq?
 protected:
  static std::vector<std::string> corpus(bool seq, gen::GeneratedTruth& truth) {
    gen::GeneratorOptions o;
    o.seed = 7;
    o.invocations = 300;
    o.interleave = 10;
    o.log_repeat_rate = 0.3;
    o.write_seq = seq;
    return testing::generated_lines(o, &truth);
  }
  // Every line as stored, but its id and occurrence: what must never go missing.
  static std::multiset<std::string> stored_lines(const testing::MergedRows& rows) {
    std::multiset<std::string> out;
    for (const auto& [id, r] : rows.logs) {
      std::string k = r.invocation_id.str() + (r.log.job_execution_id ? r.log.job_execution_id->str() : "-") + "|" +
                      std::to_string(r.ts) + "|" + std::string(log_level_name(r.log.level)) + "|" + std::string(r.log.message) +
                      "|" + std::string(r.log.data.value_or("-")) + "|" + std::string(r.log.source.value_or("-"));
      out.insert(k);
    }
    return out;
  }
};

TEST_P(LogIdentityTest, AnySplitIntoLoadsAndReplaysKeepsEveryLine) {
  const bool seq = GetParam();
  gen::GeneratedTruth truth;
  const auto lines = corpus(seq, truth);
  ASSERT_GT(truth.job_logs, truth.distinct_job_logs + 50) << "the corpus repeats lines";
  const auto one_load = testing::run_pipeline(lines);
  // In one load every line is a row: identical ones by seq or by occurrence.
  EXPECT_EQ(one_load.rows.logs.size(), truth.job_logs);
  const auto distinct = stored_lines(one_load.rows);
  const std::set<std::string> distinct_set(distinct.begin(), distinct.end());
  EXPECT_EQ(distinct_set.size(), truth.distinct_job_logs);

  std::mt19937_64 rng(seq ? 11 : 12);
  for (int run = 0; run < 12; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    // Loads: the lines dealt out at random over 2-6 loads (an invocation's lines may land in
    // several), loaded in random order with random tail flushes, then some loaded again.
    const size_t loads = 2 + rng() % 5;
    std::vector<std::vector<std::string>> parts(loads);
    for (const auto& l : lines) parts[rng() % loads].push_back(l);
    testing::Store store;
    AssemblerOptions opts;
    opts.quiet_after = run % 2 ? 0 : opts.quiet_after;
    for (const auto& p : parts) {
      std::vector<size_t> cuts;
      for (size_t i = rng() % 6; i > 0; --i) cuts.push_back(rng() % (p.size() + 1));
      store.run(p, cuts, opts);
    }
    for (size_t i = 0; i < loads; i += 2) store.run(parts[i]);  // replays
    const auto r = store.result();
    const auto kept = stored_lines(r.rows);
    for (const auto& line : distinct_set) EXPECT_TRUE(kept.count(line)) << "lost: " << line;
    if (seq) {
      EXPECT_TRUE(r.rows.logs == one_load.rows.logs) << "with seq, any split gives the one-load rows";
      EXPECT_EQ(r.tally.job_logs, truth.job_logs);
    } else {
      // Identical lines split over loads may collapse (the documented limit); nothing else.
      EXPECT_LE(r.rows.logs.size(), truth.job_logs);
      EXPECT_GE(r.rows.logs.size(), truth.distinct_job_logs);
    }
    EXPECT_EQ(r.tally.job_logs, r.rows.logs.size());
  }
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutSeq, LogIdentityTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "WithSeq" : "WithoutSeq"; });

}  // namespace
}  // namespace edpipe::transform
