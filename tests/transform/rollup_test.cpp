#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "transform/hourly_rollup.h"

namespace edpipe::transform {
namespace {

std::vector<double> lognormal(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(5.5, 1.2);
  std::vector<double> v(n);
  for (auto& x : v) x = std::clamp(std::round(d(rng)), 1.0, 900000.0);
  return v;
}

double exact_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(std::floor(q * (v.size() - 1)))];
}

TEST(DurationSketch, PercentilesWithinOnePercent) {
  for (uint64_t seed : {1, 2, 3}) {
    auto v = lognormal(20000, seed);
    DurationSketch s;
    for (double x : v) s.add(x);
    for (double q : {0.5, 0.95, 0.99, 0.0, 1.0}) {
      const double exact = exact_quantile(v, q);
      const double est = *s.quantile(q);
      EXPECT_LE(std::abs(est - exact), 0.01 * exact) << "q=" << q << " exact=" << exact << " est=" << est;
    }
  }
}

TEST(DurationSketch, FewBucketsForTheWholeRange) {
  DurationSketch s;
  for (double x = 1; x <= 900000; x *= 1.001) s.add(x);
  EXPECT_LT(s.buckets().size(), 700u);
}

TEST(DurationSketch, MergeAndSubtractAreExact) {
  auto v = lognormal(3000, 9);
  DurationSketch all, a, b;
  for (size_t i = 0; i < v.size(); ++i) {
    all.add(v[i]);
    (i % 3 ? a : b).add(v[i]);
  }
  DurationSketch ab = a;
  ab.merge(b);
  EXPECT_EQ(ab, all);
  ab.merge(b, -1);
  EXPECT_EQ(ab, a);
  EXPECT_EQ(DurationSketch::from_buckets(all.zero_count(), all.buckets()), all);
  DurationSketch z;
  z.add(0);
  EXPECT_EQ(*z.quantile(0.5), 0.0);
  EXPECT_FALSE(DurationSketch{}.quantile(0.5));
}

InvocationContribution contribution(InvocationStatus st, std::optional<int64_t> d, int jobs_failed = 0) {
  InvocationContribution c;
  c.key = {0, "fn"};
  c.status = st;
  c.duration_ms = d;
  c.events_detected = 2;
  c.jobs_run = 3;
  c.jobs_failed = jobs_failed;
  c.jobs_succeeded = 3 - jobs_failed;
  c.detected_events = {"a", "b"};
  for (int i = 0; i < jobs_failed; ++i) c.failed_jobs.push_back("send");
  return c;
}

TEST(HourlyRollup, CountsAndDurations) {
  HourlyRollup r;
  r.add(contribution(InvocationStatus::Completed, 100));
  r.add(contribution(InvocationStatus::Failed, 300, 1));
  r.add(contribution(InvocationStatus::Abandoned, std::nullopt, 2));
  r.add(contribution(InvocationStatus::Running, std::nullopt));
  EXPECT_EQ(r.total_invocations, 4);
  EXPECT_EQ(r.successful_invocations, 1);
  EXPECT_EQ(r.failed_invocations, 2);  // failed + abandoned
  EXPECT_EQ(r.running_invocations, 1);
  EXPECT_EQ(r.events_detected, 8);
  EXPECT_EQ(r.jobs_run, 12);
  EXPECT_EQ(r.jobs_failed, 3);
  EXPECT_EQ(*r.avg_duration_ms(), 200.0);
  EXPECT_EQ(r.min_duration_ms, 100);
  EXPECT_EQ(r.max_duration_ms, 300);
  auto top = HourlyRollup::top(r.failed_jobs, 5);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0], (std::pair<std::string, int64_t>{"send", 3}));
}

TEST(HourlyRollup, DisjointRollupsMergeExactlyAndContributionsSubtract) {
  HourlyRollup whole, left, right;
  std::mt19937_64 rng(3);
  std::vector<InvocationContribution> cs;
  for (int i = 0; i < 500; ++i)
    cs.push_back(contribution(static_cast<InvocationStatus>(rng() % 4), int64_t(1 + rng() % 5000), int(rng() % 3)));
  for (size_t i = 0; i < cs.size(); ++i) {
    whole.add(cs[i]);
    (i % 2 ? left : right).add(cs[i]);
  }
  HourlyRollup merged = right;
  merged.merge(left);
  EXPECT_EQ(merged, whole);

  HourlyRollup sub = whole;
  sub.add(cs[7], -1);
  HourlyRollup without;
  for (size_t i = 0; i < cs.size(); ++i)
    if (i != 7) without.add(cs[i]);
  EXPECT_EQ(sub.total_invocations, without.total_invocations);
  EXPECT_EQ(sub.durations, without.durations);
  EXPECT_EQ(sub.failed_jobs, without.failed_jobs);
  EXPECT_EQ(sub.duration_sum_ms, without.duration_sum_ms);
}

TEST(HourlyRollup, RemovingAnExtremeMarksMinMaxStale) {
  HourlyRollup r;
  r.add(contribution(InvocationStatus::Completed, 10));
  r.add(contribution(InvocationStatus::Completed, 20));
  r.add(contribution(InvocationStatus::Completed, 15), 1);
  r.add(contribution(InvocationStatus::Completed, 15), -1);
  EXPECT_FALSE(r.min_max_stale);
  r.add(contribution(InvocationStatus::Completed, 20), -1);
  EXPECT_TRUE(r.min_max_stale);
}

}  // namespace
}  // namespace edpipe::transform
