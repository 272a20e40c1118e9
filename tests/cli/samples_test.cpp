// `edpipe load --dry-run --json samples/` against the counts checked by hand in samples/README.md.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <memory>
#include <string>

namespace {

std::string capture(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p.get())) > 0) out.append(buf, n);
  return out;
}

class Samples : public ::testing::Test {
 protected:
  void SetUp() override {
    json_ = capture(std::string(EDPIPE_BINARY) + " load --dry-run --json --quiet " EDPIPE_SAMPLES_DIR);
    ASSERT_FALSE(parser_.parse(json_).get(doc_)) << json_;
  }
  int64_t at(const char* pointer) {
    int64_t v = -1;
    EXPECT_FALSE(doc_.at_pointer(pointer).get(v)) << pointer;
    return v;
  }
  std::string json_;
  simdjson::dom::parser parser_;
  simdjson::dom::element doc_;
};

TEST_F(Samples, LinesAddUp) {
  EXPECT_EQ(at("/inputs"), 8);
  EXPECT_EQ(at("/lines/total"), 81);
  EXPECT_EQ(at("/lines/records"), 62);
  EXPECT_EQ(at("/lines/non_record"), 16);
  EXPECT_EQ(at("/lines/unknown_type"), 1);
  EXPECT_EQ(at("/lines/rejected"), 3);
  EXPECT_EQ(at("/rejected_by_reason/invalid_json"), 1);
  EXPECT_EQ(at("/rejected_by_reason/bad_uuid"), 1);
  EXPECT_EQ(at("/rejected_by_reason/unsupported_version"), 1);
}

TEST_F(Samples, RecordsByType) {
  EXPECT_EQ(at("/records_by_type/invocation.start"), 9);
  EXPECT_EQ(at("/records_by_type/invocation.end"), 9);
  EXPECT_EQ(at("/records_by_type/event.detection.start"), 11);
  EXPECT_EQ(at("/records_by_type/event.detection.end"), 11);
  EXPECT_EQ(at("/records_by_type/event.handler.start"), 4);
  EXPECT_EQ(at("/records_by_type/event.handler.end"), 3);
  EXPECT_EQ(at("/records_by_type/job.start"), 5);
  EXPECT_EQ(at("/records_by_type/job.end"), 4);
  EXPECT_EQ(at("/records_by_type/job.log"), 6);
}

TEST_F(Samples, RowsAndStatuses) {
  EXPECT_EQ(at("/rows/invocations"), 9);
  EXPECT_EQ(at("/rows/event_executions"), 11);
  EXPECT_EQ(at("/rows/job_executions"), 5);
  EXPECT_EQ(at("/rows/job_logs"), 6);
  EXPECT_EQ(at("/rows/metrics_hourly"), 5);
  EXPECT_EQ(at("/invocations_by_status/completed"), 7);
  EXPECT_EQ(at("/invocations_by_status/failed"), 1);
  EXPECT_EQ(at("/invocations_by_status/abandoned"), 1);
  EXPECT_EQ(at("/invocations_by_status/running"), 0);
  EXPECT_EQ(at("/chained_invocations"), 1);
  EXPECT_EQ(at("/events_by_status/completed"), 2);
  EXPECT_EQ(at("/events_by_status/not_detected"), 6);
  EXPECT_EQ(at("/events_by_status/detection_failed"), 1);
  EXPECT_EQ(at("/events_by_status/handler_failed"), 1);
  EXPECT_EQ(at("/events_by_status/abandoned"), 1);
  EXPECT_EQ(at("/jobs_by_status/completed"), 3);
  EXPECT_EQ(at("/jobs_by_status/failed"), 1);
  EXPECT_EQ(at("/jobs_by_status/abandoned"), 1);
}

TEST_F(Samples, HourlyMetrics) {
  // Ordered by hour, then function.
  EXPECT_EQ(std::string_view(doc_.at_pointer("/metrics_hourly/0/hour_bucket")), "2026-11-19T23:00:00.000000Z");
  EXPECT_EQ(at("/metrics_hourly/0/max_duration_ms"), 400);
  EXPECT_EQ(std::string_view(doc_.at_pointer("/metrics_hourly/1/source_function")), "event-detector-moves");
  EXPECT_EQ(at("/metrics_hourly/1/total_jobs_run"), 2);
  EXPECT_EQ(at("/metrics_hourly/1/total_jobs_failed"), 1);
  EXPECT_EQ(at("/metrics_hourly/1/min_duration_ms"), 800);
  EXPECT_EQ(std::string_view(doc_.at_pointer("/metrics_hourly/1/top_failed_jobs/0/name")), "updateAnalytics");
  EXPECT_EQ(at("/metrics_hourly/2/min_duration_ms"), 500);  // the earlier of two duplicate ends
  // samples/formats/: one invocation per platform framing, all read by --format auto.
  EXPECT_EQ(std::string_view(doc_.at_pointer("/metrics_hourly/3/source_function")), "event-detector-orders");
  EXPECT_EQ(at("/metrics_hourly/3/successful_invocations"), 4);
  EXPECT_EQ(at("/metrics_hourly/3/min_duration_ms"), 20);
  EXPECT_EQ(at("/metrics_hourly/3/max_duration_ms"), 50);
  EXPECT_EQ(std::string_view(doc_.at_pointer("/metrics_hourly/4/source_function")), "event-detector-users");
  EXPECT_EQ(at("/metrics_hourly/4/failed_invocations"), 2);
  EXPECT_EQ(at("/metrics_hourly/4/successful_invocations"), 0);
  EXPECT_EQ(at("/metrics_hourly/4/total_events_detected"), 2);
  EXPECT_EQ(at("/metrics_hourly/4/max_duration_ms"), 150);
}

}  // namespace
