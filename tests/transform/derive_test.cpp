#include <gtest/gtest.h>

#include "test_support.h"

#include "transform/derive.h"

namespace edpipe::transform {
namespace {

constexpr Timestamp kMin = 60 * kMicrosPerSecond;

TEST(Derive, InvocationStatusAndAbandonRule) {
  InvocationState s;
  s.start = Stamped<ingest::InvocationStart>{0, {.source_function = "fn"}};
  observe(s, 0, std::nullopt, testing::test_text());
  observe(s, 5 * kMin, std::nullopt, testing::test_text());
  AbandonRule rule{20 * kMin, 15 * kMin};
  EXPECT_EQ(invocation_status(s, rule), InvocationStatus::Running);  // newest 5 min, cut-off 5 min: not older
  rule.watermark = 20 * kMin + 1;
  EXPECT_EQ(invocation_status(s, rule), InvocationStatus::Abandoned);
  s.end = Stamped<ingest::InvocationEnd>{6 * kMin, {ingest::Outcome::Completed, std::nullopt, std::nullopt}};
  EXPECT_EQ(invocation_status(s, rule), InvocationStatus::Completed);  // a real end always wins
  EXPECT_EQ(total_duration_ms(s), 6 * 60 * 1000);
  s.end->body.duration_ms = 42;
  EXPECT_EQ(total_duration_ms(s), 42);
}

TEST(Derive, CreatedAtIsTheStartElseTheEarliestRecord) {
  InvocationState s;
  observe(s, 300, std::nullopt, testing::test_text());
  observe(s, 100, std::nullopt, testing::test_text());
  EXPECT_EQ(created_at(s), 100);
  s.start = Stamped<ingest::InvocationStart>{200, {}};
  EXPECT_EQ(created_at(s), 200);
}

TEST(Derive, EventStatusLifecycle) {
  EventExecutionState e;
  EXPECT_EQ(event_status(e, false), EventStatus::Detecting);
  EXPECT_EQ(event_status(e, true), EventStatus::Abandoned);
  e.detection_start = Stamped<ingest::DetectionStart>{0, {.event_name = "ev"}};
  e.detection_end = Stamped<ingest::DetectionEnd>{3000, {.detected = false}};
  EXPECT_EQ(event_status(e, true), EventStatus::NotDetected);
  EXPECT_EQ(detection_duration_ms(e), 3);
  EXPECT_FALSE(detected(e));
  e.detection_end->body.detected = true;
  EXPECT_EQ(event_status(e, false), EventStatus::Handling);
  EXPECT_EQ(event_status(e, true), EventStatus::Abandoned);
  e.handler_start = Stamped<ingest::HandlerStart>{4000, {}};
  e.handler_end = Stamped<ingest::HandlerEnd>{9000, {}};
  EXPECT_EQ(event_status(e, true), EventStatus::Completed);
  EXPECT_EQ(handler_duration_ms(e), 5);
  e.handler_end->body.error = ingest::ErrorInfo{"x", std::nullopt};
  EXPECT_EQ(event_status(e, false), EventStatus::HandlerFailed);
  EventExecutionState f;
  f.detection_end = Stamped<ingest::DetectionEnd>{1, {.detected = false, .error = ingest::ErrorInfo{"t", std::nullopt}}};
  EXPECT_EQ(event_status(f, false), EventStatus::DetectionFailed);
  EXPECT_EQ(event_name(e), "ev");
}

TEST(Derive, JobStatusAndDuration) {
  JobExecutionState j;
  j.start = Stamped<ingest::JobStart>{1000, {.job_name = "send"}};
  EXPECT_EQ(job_status(j, false), JobStatus::Running);
  EXPECT_EQ(job_status(j, true), JobStatus::Abandoned);
  j.end = Stamped<ingest::JobEnd>{220'600, {.job_name = "send", .status = ingest::Outcome::Failed}};
  EXPECT_EQ(job_status(j, true), JobStatus::Failed);
  EXPECT_EQ(duration_ms(j), 220);  // 219.6 ms rounds to 220
  EXPECT_EQ(job_name(j), "send");
  EXPECT_EQ(millis_between(10, 5), 0);  // clock skew never gives a negative duration
}

}  // namespace
}  // namespace edpipe::transform
