// Fragments of one id within a batch merge into one row before the batch goes to the database
// (ON CONFLICT may touch a row only once, and a COPY of new rows must not repeat a key).
#include <gtest/gtest.h>

#include "test_support.h"

#include "load/load_lane.h"
#include "load/row_loader.h"

namespace edpipe::load {
namespace {

Uuid id(int n) { return *Uuid::parse("00000000-0000-4000-8000-" + std::string(11, '0') + std::to_string(n)); }

transform::InvocationState fragment(int n, Timestamp ts) {
  transform::InvocationState s;
  s.id = id(n);
  observe(s, ts, std::nullopt, testing::test_text());
  return s;
}

TEST(Coalesce, FragmentsOfOneIdMergeInPlaceInFirstSeenOrder) {
  transform::RowBatch b;
  b.invocations = {fragment(1, 50), fragment(2, 10), fragment(1, 10), fragment(3, 7), fragment(1, 90)};
  transform::EventExecutionState e;
  e.id = id(8);
  e.invocation_id = id(1);
  observe(e, 20, std::string("corr-b"), testing::test_text());
  transform::EventExecutionState e2 = e;
  observe(e2, 30, std::string("corr-a"), testing::test_text());
  b.event_executions = {e, e2};
  transform::JobLogRow l;
  l.id = id(9);
  l.invocation_id = id(1);
  l.ts = 40;
  b.job_logs = {l, l};
  const transform::InvocationState want = merge(merge(b.invocations[0], b.invocations[2]), b.invocations[4]);

  transform::RowBatch out = coalesce_fragments(std::move(b));
  ASSERT_EQ(out.invocations.size(), 3u);
  EXPECT_EQ(out.invocations[0], want);
  EXPECT_EQ(out.invocations[0].first_ts, 10);
  EXPECT_EQ(out.invocations[0].last_ts, 90);
  EXPECT_EQ(out.invocations[1].id, id(2));
  EXPECT_EQ(out.invocations[2].id, id(3));
  ASSERT_EQ(out.event_executions.size(), 1u);
  EXPECT_EQ(out.event_executions[0].correlation_id, "corr-a");  // the smaller one wins
  EXPECT_EQ(out.event_executions[0].last_ts, 30);
  EXPECT_EQ(out.job_logs.size(), 1u);
}

TEST(Coalesce, ABatchWithoutDuplicatesIsLeftAsItIs) {
  transform::RowBatch b;
  for (int n = 1; n <= 5; ++n) b.invocations.push_back(fragment(n, n));
  const auto before = b.invocations;
  transform::RowBatch out = coalesce_fragments(std::move(b));
  EXPECT_EQ(out.invocations, before);
}

// What the loader does with a batch handed on in parts (RowLoader::load of parts): each row
// copied once into its lane's part, then each lane's part merged. The same rows, in the same
// order, as merging the joined batch and splitting it.
TEST(Coalesce, PartsSplitByLaneThenMergedEqualTheJoinedBatchMergedThenSplit) {
  std::vector<transform::RowBatch> parts(3);
  parts[0].invocations = {fragment(1, 50), fragment(2, 10), fragment(4, 3)};
  parts[1].invocations = {fragment(1, 10), fragment(3, 7), fragment(2, 5)};
  parts[2].invocations = {fragment(1, 90), fragment(5, 1), fragment(4, 8)};
  for (size_t k = 0; k < parts.size(); ++k) parts[k].text.push_back(std::make_shared<TextArena>());
  const auto lane_of = [](const Uuid& u) { return size_t{u.str().back() == '1' || u.str().back() == '4' ? 0u : 1u}; };

  std::vector<transform::RowBatch> copy = parts;
  auto want = split_by_invocation(coalesce_fragments(transform::RowBatch::concat(std::move(copy))), 2, lane_of);
  auto got = split_by_invocation(std::move(parts), 2, lane_of);
  for (size_t lane = 0; lane < 2; ++lane) {
    EXPECT_EQ(got[lane].text.size(), 3u) << "every lane's part keeps the text of every part";
    const transform::RowBatch merged = coalesce_fragments(std::move(got[lane]));
    EXPECT_EQ(merged.invocations, want[lane].invocations) << "lane " << lane;
  }
  ASSERT_EQ(want[0].invocations.size(), 2u);
  EXPECT_EQ(want[0].invocations[0].first_ts, 10);  // invocation 1, its three fragments merged
  EXPECT_EQ(want[0].invocations[0].last_ts, 90);
}

}  // namespace
}  // namespace edpipe::load
