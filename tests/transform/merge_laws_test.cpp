// merge() must be commutative, associative and idempotent for every row type: the load stage
// applies the same merge against the database, in whatever order fragments arrive.
#include <gtest/gtest.h>

#include "test_support.h"

namespace edpipe::transform {
namespace {

// Random fragments of real rows: the records of one row split into three random subsets.
struct Fragments {
  std::vector<std::array<InvocationState, 3>> invocations;
  std::vector<std::array<EventExecutionState, 3>> events;
  std::vector<std::array<JobExecutionState, 3>> jobs;
};

Fragments make_fragments(uint64_t seed) {
  gen::GeneratorOptions o;
  o.seed = seed;
  o.invocations = 60;
  o.failure_rate = 0.3;
  o.job_failure_rate = 0.3;
  o.detection_error_rate = 0.2;
  auto lines = testing::generated_lines(o);
  // Duplicate some records with other ts and outcomes, as real emitters do.
  std::mt19937_64 rng(seed);
  std::vector<std::string> extra;
  for (const auto& l : lines) {
    if (l.find("\"type\":\"job.end\"") != std::string::npos && rng() % 4 == 0) {
      std::string dup = l;
      auto p = dup.find("\"status\":\"completed\"");
      if (p != std::string::npos) dup.replace(p, 20, "\"status\":\"failed\"");
      extra.push_back(dup);
    }
    if (l.find("\"type\":\"invocation.end\"") != std::string::npos && rng() % 3 == 0) extra.push_back(l);
  }
  lines.insert(lines.end(), extra.begin(), extra.end());
  auto batch = testing::decode_lines(lines);

  std::map<Uuid, std::array<InvocationState, 3>> inv;
  std::map<Uuid, std::array<EventExecutionState, 3>> ev;
  std::map<Uuid, std::array<JobExecutionState, 3>> job;
  for (auto& r : batch.records) {
    const size_t part = rng() % 3;
    auto& is = inv[r.invocation_id][part];
    is.id = r.invocation_id;
    observe(is, r.ts, r.correlation_id, testing::test_text());
    std::visit(
        [&](auto&& body) {
          using B = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<B, ingest::InvocationStart> || std::is_same_v<B, ingest::InvocationEnd>) {
            fold_step(is, r.ts, body, testing::test_text());
          } else if constexpr (std::is_same_v<B, ingest::JobStart> || std::is_same_v<B, ingest::JobEnd>) {
            auto& js = job[body.job_execution_id][part];
            js.id = body.job_execution_id;
            js.invocation_id = r.invocation_id;
            observe(js, r.ts, r.correlation_id, testing::test_text());
            fold_step(js, r.ts, body, testing::test_text());
          } else if constexpr (!std::is_same_v<B, ingest::JobLog>) {
            auto& es = ev[body.event_execution_id][part];
            es.id = body.event_execution_id;
            es.invocation_id = r.invocation_id;
            observe(es, r.ts, r.correlation_id, testing::test_text());
            fold_step(es, r.ts, body, testing::test_text());
          }
        },
        r.body);
  }
  // A part that got no record of a row is still a fragment of that row: the identity of merge.
  auto same_ids = [](auto& parts) {
    for (auto& p : parts)
      if (p.id != Uuid{}) {
        for (auto& q : parts) {
          q.id = p.id;
          if constexpr (requires { q.invocation_id; }) q.invocation_id = p.invocation_id;
        }
        break;
      }
  };
  Fragments f;
  for (auto& [id, a] : inv) f.invocations.push_back(a);
  for (auto& [id, a] : ev) f.events.push_back(a);
  for (auto& [id, a] : job) f.jobs.push_back(a);
  for (auto& a : f.invocations) same_ids(a);
  for (auto& a : f.events) same_ids(a);
  for (auto& a : f.jobs) same_ids(a);
  return f;
}

template <class S>
void check_laws(const std::array<S, 3>& f) {
  const S &a = f[0], &b = f[1], &c = f[2];
  EXPECT_EQ(merge(a, b), merge(b, a));
  EXPECT_EQ(merge(merge(a, b), c), merge(a, merge(b, c)));
  EXPECT_EQ(merge(a, a), a);
  const S abc = merge(merge(a, b), c);
  EXPECT_EQ(merge(abc, b), abc);  // re-merging a part already in changes nothing (replay)
}

TEST(MergeLaws, HoldForEveryRowTypeOnRandomFragments) {
  for (uint64_t seed : {1, 2, 3}) {
    auto f = make_fragments(seed);
    ASSERT_GT(f.invocations.size(), 50u);
    for (const auto& x : f.invocations) check_laws(x);
    for (const auto& x : f.events) check_laws(x);
    for (const auto& x : f.jobs) check_laws(x);
  }
}

InvocationState with_end(ingest::Outcome o, Timestamp ts, std::optional<int64_t> dur) {
  InvocationState s;
  s.end = Stamped<ingest::InvocationEnd>{ts, ingest::InvocationEnd{o, dur, std::nullopt}};
  observe(s, ts, std::nullopt, testing::test_text());
  return s;
}

TEST(MergeRules, FailedEndWinsOverCompletedInEitherOrder) {
  auto done = with_end(ingest::Outcome::Completed, 100, 5);
  auto fail = with_end(ingest::Outcome::Failed, 200, 9);
  EXPECT_EQ(merge(done, fail).end->body.status, ingest::Outcome::Failed);
  EXPECT_EQ(merge(fail, done).end->body.status, ingest::Outcome::Failed);
  EXPECT_EQ(merge(done, fail).end->body.duration_ms, 9);
}

TEST(MergeRules, EarlierEndOfTheSameStatusWinsWithItsDuration) {
  auto early = with_end(ingest::Outcome::Completed, 100, 500);
  auto late = with_end(ingest::Outcome::Completed, 250, 650);
  EXPECT_EQ(merge(late, early).end->ts, 100);
  EXPECT_EQ(merge(late, early).end->body.duration_ms, 500);
  EXPECT_EQ(merge(late, early).last_ts, 250);
  EXPECT_EQ(merge(late, early).first_ts, 100);
}

TEST(MergeRules, EarliestStartWinsAndCorrelationIsKept) {
  InvocationState a, b;
  a.start = Stamped<ingest::InvocationStart>{50, {.source_function = "late"}};
  b.start = Stamped<ingest::InvocationStart>{40, {.source_function = "early"}};
  observe(a, 50, std::string("c"), testing::test_text());
  observe(b, 40, std::nullopt, testing::test_text());
  EXPECT_EQ(merge(a, b).start->body.source_function, "early");
  EXPECT_EQ(merge(b, a).correlation_id, "c");
}

TEST(MergeRules, DetectionEndWithErrorWins) {
  EventExecutionState a, b;
  a.detection_end = Stamped<ingest::DetectionEnd>{10, {.detected = true}};
  b.detection_end = Stamped<ingest::DetectionEnd>{20, {.detected = false, .error = ingest::ErrorInfo{"boom", std::nullopt}}};
  EXPECT_TRUE(merge(a, b).detection_end->body.error);
  EXPECT_TRUE(merge(b, a).detection_end->body.error);
}

TEST(MergeRules, LogRowsMergeToTheSameRow) {
  JobLogRow a;
  a.ts = 5;
  a.log.message = "m";
  EXPECT_EQ(merge(a, a), a);
}

}  // namespace
}  // namespace edpipe::transform
