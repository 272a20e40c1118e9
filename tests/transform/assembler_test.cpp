#include <gtest/gtest.h>

#include <set>

#include "test_support.h"
#include "transform/content_hash.h"
#include "transform/derive.h"

namespace edpipe::transform {
namespace {

const std::string kInv = R"("invocation_id":"550e8400-e29b-41d4-a716-446655440000")";

std::string rec(const std::string& type, const std::string& ts, const std::string& rest) {
  return "{\"type\":\"" + type + "\",\"ts\":\"" + ts + "\"," + kInv + "," + rest + "}";
}

std::vector<std::string> one_invocation() {
  const std::string ev = R"("event_execution_id":"e0000001-0000-4000-8000-000000000001","event_name":"ev")";
  const std::string job = R"("job_execution_id":"f0000001-0000-4000-8000-000000000001","event_execution_id":"e0000001-0000-4000-8000-000000000001","job_name":"send")";
  return {
      rec("invocation.start", "2026-11-20T10:00:00.000Z", R"("source_function":"fn")"),
      rec("event.detection.start", "2026-11-20T10:00:00.010Z", ev),
      rec("event.detection.end", "2026-11-20T10:00:00.020Z", ev + R"(,"detected":true)"),
      rec("event.handler.start", "2026-11-20T10:00:00.021Z", ev),
      rec("job.start", "2026-11-20T10:00:00.030Z", job),
      rec("job.log", "2026-11-20T10:00:00.040Z", R"("job_execution_id":"f0000001-0000-4000-8000-000000000001","level":"info","message":"same")"),
      rec("job.log", "2026-11-20T10:00:00.040Z", R"("job_execution_id":"f0000001-0000-4000-8000-000000000001","level":"info","message":"same")"),
      rec("job.end", "2026-11-20T10:00:00.090Z", job + R"(,"status":"completed")"),
      rec("event.handler.end", "2026-11-20T10:00:00.095Z", ev),
      rec("invocation.end", "2026-11-20T10:00:00.100Z", R"("status":"completed")"),
  };
}

TEST(Assembler, RebuildsTheHierarchy) {
  auto r = testing::run_pipeline(one_invocation());
  ASSERT_EQ(r.rows.invocations.size(), 1u);
  ASSERT_EQ(r.rows.events.size(), 1u);
  ASSERT_EQ(r.rows.jobs.size(), 1u);
  EXPECT_EQ(r.rows.logs.size(), 2u);  // identical lines are both kept
  const auto& inv = r.rows.invocations.begin()->second;
  EXPECT_EQ(total_duration_ms(inv), 100);
  EXPECT_EQ(source_function(inv), "fn");
  const auto& e = r.rows.events.begin()->second;
  EXPECT_EQ(event_status(e, false), EventStatus::Completed);
  EXPECT_EQ(handler_duration_ms(e), 74);
  const auto& j = r.rows.jobs.begin()->second;
  EXPECT_EQ(duration_ms(j), 60);
  EXPECT_EQ(j.invocation_id, inv.id);
  EXPECT_EQ(r.tally.invocations_by_status[size_t(InvocationStatus::Completed)], 1u);
  EXPECT_EQ(r.tally.rollups.size(), 1u);
  EXPECT_EQ(r.tally.rollups.begin()->second.events_detected, 1);
}

TEST(Assembler, OrderDoesNotMatter) {
  auto lines = one_invocation();
  auto base = testing::run_pipeline(lines);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20; ++i) {
    std::shuffle(lines.begin(), lines.end(), rng);
    EXPECT_EQ(testing::run_pipeline(lines, {3, 6}).rows, base.rows);
  }
}

// Past 16 children an invocation finds them through an index instead of a scan: every child,
// before and after the switch, gets all of its records, in any order and any split.
TEST(Assembler, AnInvocationWithManyChildrenKeepsEachChildsRecords) {
  std::vector<std::string> lines = {rec("invocation.start", "2026-11-20T10:00:00.000Z", R"("source_function":"fn")")};
  constexpr int kChildren = 40;
  for (int i = 0; i < kChildren; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "%04d", i);
    const std::string ev = std::string(R"("event_execution_id":"e0000001-0000-4000-8000-00000000)") + id +
                           R"(","event_name":"ev)" + id + "\"";
    const std::string job = std::string(R"("job_execution_id":"f0000001-0000-4000-8000-00000000)") + id +
                            R"(","event_execution_id":"e0000001-0000-4000-8000-00000000)" + id + R"(","job_name":"send")";
    lines.push_back(rec("event.detection.start", "2026-11-20T10:00:00.010Z", ev));
    lines.push_back(rec("event.detection.end", "2026-11-20T10:00:00.020Z", ev + R"(,"detected":true)"));
    lines.push_back(rec("job.start", "2026-11-20T10:00:00.030Z", job));
    lines.push_back(rec("job.end", "2026-11-20T10:00:00.090Z", job + (i % 3 ? R"(,"status":"completed")" : R"(,"status":"failed")")));
  }
  lines.push_back(rec("invocation.end", "2026-11-20T10:00:01.000Z", R"("status":"completed")"));
  const auto base = testing::run_pipeline(lines);
  ASSERT_EQ(base.rows.events.size(), size_t{kChildren});
  ASSERT_EQ(base.rows.jobs.size(), size_t{kChildren});
  for (const auto& [id, e] : base.rows.events) {
    EXPECT_TRUE(e.detection_start && e.detection_end) << id.str();
    EXPECT_EQ(event_name(e).substr(0, 2), "ev");
  }
  int failed = 0;
  for (const auto& [id, j] : base.rows.jobs) {
    EXPECT_TRUE(j.start && j.end) << id.str();
    failed += j.end && j.end->body.status == ingest::Outcome::Failed;
  }
  EXPECT_EQ(failed, (kChildren + 2) / 3);
  EXPECT_EQ(base.tally.jobs_by_status[size_t(JobStatus::Failed)], uint64_t(failed));
  std::mt19937_64 rng(11);
  for (int round = 0; round < 10; ++round) {
    std::shuffle(lines.begin(), lines.end(), rng);
    EXPECT_EQ(testing::run_pipeline(lines, {rng() % lines.size()}).rows, base.rows);
  }
}

TEST(Assembler, LateRecordsFormAFragmentThatMergesExactly) {
  auto lines = one_invocation();
  // The invocation ends, then much later (another invocation moves the watermark) a duplicate
  // failed end arrives: the invocation was handed on in between.
  const std::string other = R"({"type":"job.log","ts":"2026-11-20T11:00:00Z","invocation_id":"00000000-0000-4000-8000-000000000009","level":"info","message":"x"})";
  lines.push_back(other);
  lines.push_back(rec("invocation.end", "2026-11-20T10:00:00.300Z", R"("status":"failed")"));
  auto r = testing::run_pipeline(lines, {lines.size() - 1});
  EXPECT_GT(r.rows.fragments, 2u);  // handed on twice: a real fragment
  const auto& inv = r.rows.invocations.at(*Uuid::parse("550e8400-e29b-41d4-a716-446655440000"));
  EXPECT_EQ(invocation_status(inv, AbandonRule{r.watermark}), InvocationStatus::Failed);
  EXPECT_EQ(r.tally.invocations, 2u);  // rows, not fragments
  EXPECT_EQ(r.tally.invocations_by_status[size_t(InvocationStatus::Failed)], 1u);
}

TEST(Assembler, AbandonedAgainstTheNewestTsNotTheWallClock) {
  std::vector<std::string> lines = {
      rec("invocation.start", "2026-11-20T10:00:00Z", R"("source_function":"fn")"),
      R"({"type":"invocation.start","ts":"2026-11-20T10:16:00Z","invocation_id":"00000000-0000-4000-8000-000000000009","source_function":"fn"})",
  };
  auto r = testing::run_pipeline(lines);
  EXPECT_EQ(r.tally.invocations_by_status[size_t(InvocationStatus::Abandoned)], 1u);
  EXPECT_EQ(r.tally.invocations_by_status[size_t(InvocationStatus::Running)], 1u);
  AssemblerOptions longer;
  longer.abandon_after = 20 * 60 * kMicrosPerSecond;
  auto r2 = testing::run_pipeline(lines, {}, longer);
  EXPECT_EQ(r2.tally.invocations_by_status[size_t(InvocationStatus::Running)], 2u);
}

TEST(Assembler, HandsOnEndedQuietInvocationsAndKeepsOpenOnes) {
  ingest::RecordDecoder d;
  auto batch = testing::decode_lines(one_invocation());
  TraceAssembler a;
  a.add(batch.records);
  RowBatch out;
  a.take_ready(out);
  EXPECT_TRUE(out.empty());  // ended, but not quiet yet
  auto later = testing::decode_lines({R"({"type":"invocation.start","ts":"2026-11-20T10:02:00Z","invocation_id":"00000000-0000-4000-8000-000000000009","source_function":"fn"})"});
  a.add(later.records);
  a.take_ready(out);
  EXPECT_EQ(out.invocations.size(), 1u);
  EXPECT_EQ(out.job_logs.size(), 2u);
  EXPECT_EQ(a.open_invocations(), 1u);
}

// take_ready() looks at the open invocations only once the watermark reaches the earliest time
// one of them can be ready. A late first record, or an end (quiet_after is shorter than
// abandon_after), brings that time forward; neither may be missed.
TEST(Assembler, HandsOnEachInvocationAtTheFirstCallThatFindsItReady) {
  AssemblerOptions o;
  o.quiet_after = 60 * kMicrosPerSecond;
  o.abandon_after = 900 * kMicrosPerSecond;
  TraceAssembler a(o);
  auto id = [](int n) {
    Uuid u;
    u.bytes[15] = static_cast<uint8_t>(n);
    return u;
  };
  auto add = [&](int inv, int64_t second, ingest::RecordBody body) {
    std::vector<ingest::TraceRecord> batch(1);
    batch[0].ts = 1'800'000'000 * kMicrosPerSecond + second * kMicrosPerSecond;
    batch[0].invocation_id = id(inv);
    batch[0].body = std::move(body);
    a.add(batch);
  };
  auto handed_on = [&] {
    RowBatch rows;
    a.take_ready(rows);
    std::vector<int> ids;
    for (const auto& i : rows.invocations) ids.push_back(i.id.bytes[15]);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  using V = std::vector<int>;
  add(1, 0, ingest::InvocationStart{.source_function = "fn"});
  add(1, 1, ingest::InvocationEnd{});
  add(2, 0, ingest::InvocationStart{.source_function = "fn"});
  EXPECT_EQ(handed_on(), V{});
  add(3, 100, ingest::InvocationStart{.source_function = "fn"});
  EXPECT_EQ(handed_on(), V{1});  // ended at 1 s, quiet since 61 s
  // A late invocation whose whole life lies before the watermark is ready at once.
  add(4, 10, ingest::InvocationStart{.source_function = "fn"});
  add(4, 10, ingest::InvocationEnd{});
  EXPECT_EQ(handed_on(), V{4});
  // An end brings an invocation's time forward from abandon_after to quiet_after.
  add(2, 120, ingest::InvocationEnd{});
  EXPECT_EQ(handed_on(), V{});
  add(3, 200, ingest::JobLog{.message = "still working"});
  EXPECT_EQ(handed_on(), V{2});  // quiet since 180 s
  add(5, 1101, ingest::InvocationStart{.source_function = "fn"});
  EXPECT_EQ(handed_on(), V{3});  // abandoned: nothing since 200 s, 900 s window
  EXPECT_EQ(a.open_invocations(), 1u);
}

TEST(Assembler, MaxOpenHandsOnTheLeastRecentlyActiveAndStaysExact) {
  gen::GeneratorOptions o;
  o.invocations = 3000;
  o.interleave = 400;  // far more in flight than the limit below
  const auto lines = testing::generated_lines(o);
  AssemblerOptions bounded;
  bounded.max_open = 50;
  size_t most_open = 0;
  uint64_t early = 0;
  {
    ingest::RecordDecoder decoder;
    TraceAssembler a(bounded);
    for (size_t i = 0; i < lines.size(); i += 200) {
      ingest::IngestBatch b;
      for (size_t k = i; k < std::min(lines.size(), i + 200); ++k) decoder.decode_line(lines[k], {0, k + 1, 0}, b);
      a.add(b.records);
      RowBatch rows;
      a.take_ready(rows);
      most_open = std::max(most_open, a.open_invocations());
    }
    early = a.handed_on_early();
  }
  EXPECT_LE(most_open, 50u);
  EXPECT_GT(early, 1000u);  // the limit did bite
  // Handed on early or not, the rows and rollups are the same (log rows aside: identical lines in
  // two fragments collapse, a documented limit, and the generator repeats none).
  const auto limited = testing::run_pipeline(lines, testing::every_n(lines.size(), 200), bounded);
  const auto unlimited = testing::run_pipeline(lines);
  testing::expect_same_tally(limited.tally, unlimited.tally);
}

JobLogRow log_line(std::string message, std::optional<std::string> data = std::nullopt,
                   std::optional<std::string> source = std::nullopt, std::optional<int64_t> seq = std::nullopt) {
  JobLogRow r;
  r.ts = 77;
  r.log.message = testing::test_text().keep(message);
  if (data) r.log.data = testing::test_text().keep(*data);
  if (source) r.log.source = testing::test_text().keep(*source);
  r.log.seq = seq;
  return r;
}

TEST(LogRows, LinesThatDifferInAnythingStoredNeverShareAnId) {
  const std::vector<JobLogRow> lines = {log_line("same", "{\"n\":1}"), log_line("same", "{\"n\":2}"),
                                        log_line("same", "{\"n\":1}", "console"), log_line("same")};
  std::vector<JobLogRow> x = lines, y(lines.rbegin(), lines.rend());
  EXPECT_EQ(number_log_rows(x), 0u);
  number_log_rows(y);
  EXPECT_EQ(x, y);  // arrival order decides nothing
  std::set<Uuid> ids;
  for (const auto& r : x) {
    ids.insert(r.id);
    EXPECT_EQ(r.occurrence, 0u) << "no two of them are the same line";
    EXPECT_EQ(r.id.bytes[6] >> 4, 8);  // UUID version 8
  }
  EXPECT_EQ(ids.size(), lines.size());
  // Each line's id depends on its own content alone: loaded apart, they keep their ids.
  for (const auto& line : lines) {
    std::vector<JobLogRow> alone = {line};
    number_log_rows(alone);
    EXPECT_TRUE(ids.count(alone[0].id));
  }
}

TEST(LogRows, IdenticalLinesAreNumberedAndJsonCountsByValue) {
  // The same data written two ways is the same stored value: the same line twice.
  std::vector<JobLogRow> x = {log_line("m", "{\"a\":1,\"b\":[1,2]}"), log_line("m", "{ \"b\": [1, 2.0], \"a\": 1 }")};
  number_log_rows(x);
  EXPECT_NE(x[0].id, x[1].id);
  EXPECT_EQ(x[0].occurrence + x[1].occurrence, 1u);
  std::vector<JobLogRow> one = {log_line("m", "{\"b\":[1,2],\"a\":1}")};
  number_log_rows(one);
  EXPECT_TRUE(one[0].id == x[0].id || one[0].id == x[1].id);
}

TEST(LogRows, WithSeqTheIdIsTheSeqAndConflictsKeepTheLowerRank) {
  std::vector<JobLogRow> x = {log_line("a", std::nullopt, std::nullopt, 0), log_line("a", std::nullopt, std::nullopt, 1),
                              log_line("a", std::nullopt, std::nullopt, 1)};  // a replayed line
  EXPECT_EQ(number_log_rows(x), 0u);
  ASSERT_EQ(x.size(), 2u);  // identical lines with their own seq stay distinct; the replay merges
  EXPECT_NE(x[0].id, x[1].id);
  // Two different lines with one seq: a conflict; the same one stays whatever the order.
  const JobLogRow p = log_line("first", std::nullopt, std::nullopt, 5), q = log_line("second", std::nullopt, std::nullopt, 5);
  std::vector<JobLogRow> pq = {p, q}, qp = {q, p};
  EXPECT_EQ(number_log_rows(pq), 1u);
  EXPECT_EQ(number_log_rows(qp), 1u);
  ASSERT_EQ(pq.size(), 1u);
  EXPECT_EQ(pq, qp);
  EXPECT_EQ(pq[0].rank, std::min(content_rank(p), content_rank(q)));
  EXPECT_EQ(pq[0].id, log_row_id_by_seq(Uuid{}, 5));
}

}  // namespace
}  // namespace edpipe::transform
