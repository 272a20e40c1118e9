#include <gtest/gtest.h>

#include "test_support.h"
#include "transform/privacy_filter.h"

namespace edpipe::transform {
namespace {

constexpr const char* kEmail = R"([\w.+-]+@[\w-]+\.[\w.]+)";
const std::string kInv = R"("ts":"2026-11-20T10:00:00.000Z","invocation_id":"4efa1823-5092-4b22-9a45-e67ae7d18273")";

TEST(PrivacyFilter, RedactsStringValuesNotKeys) {
  PrivacyOptions o;
  o.redact_patterns = {kEmail};
  PrivacyFilter f(o);
  std::string json = R"({"event":{"data":{"new":{"email":"ann@example.com","note":"cc bob@example.org, thanks","ann@example.com":1,"n":5}}}})";
  f.filter_json(json);
  EXPECT_EQ(json, R"({"event":{"data":{"new":{"email":"[REDACTED]","note":"cc [REDACTED], thanks","ann@example.com":1,"n":5}}}})");
  // An escaped @ is found too: matching looks at the string's value, not its escaped text.
  std::string escaped = R"(["ann\u0040example.com", "a\"b"])";
  f.filter_json(escaped);
  EXPECT_EQ(escaped, R"(["[REDACTED]", "a\"b"])");
  std::string text = "mail ann@example.com or bob@example.org";
  f.redact_text(text);
  EXPECT_EQ(text, "mail [REDACTED] or [REDACTED]");
}

TEST(PrivacyFilter, RedactFieldAtAnyDepthWhateverItsValue) {
  PrivacyOptions o;
  o.redact_fields = {"password", "card"};
  PrivacyFilter f(o);
  std::string json = R"({"user":{"password":"hunter2","card":{"number":"4111","cvc":123},"name":"Ann"},"list":[{"password":null}]})";
  f.filter_json(json);
  EXPECT_EQ(json, R"({"user":{"password":"[REDACTED]","card":"[REDACTED]","name":"Ann"},"list":[{"password":"[REDACTED]"}]})");
}

TEST(PrivacyFilter, OversizedJsonBecomesATruncationNote) {
  PrivacyOptions o;
  o.max_json_bytes = 100;
  PrivacyFilter f(o);
  std::string big = "{\"blob\":\"" + std::string(200, 'x') + "\"}";
  const size_t size = big.size();
  f.filter_json(big);
  EXPECT_EQ(big, truncated_json_note(size));
  std::string small = R"({"a":1})";
  f.filter_json(small);
  EXPECT_EQ(small, R"({"a":1})");
}

TEST(PrivacyFilter, DropSwitchesAndRecordFields) {
  const std::vector<std::string> lines = {
      R"({"v":1,"type":"invocation.start",)" + kInv + R"(,"source_function":"f","source_event_payload":{"event":{"data":{"new":{"email":"ann@example.com"}}}},"source_user_email":"ann@example.com"})",
      R"({"v":1,"type":"job.start",)" + kInv + R"(,"job_execution_id":"00000000-0000-4000-8000-000000000001","event_execution_id":"00000000-0000-4000-8000-000000000002","job_name":"j","job_options":{"to":"ann@example.com"}})",
      R"({"v":1,"type":"job.end",)" + kInv + R"(,"job_execution_id":"00000000-0000-4000-8000-000000000001","event_execution_id":"00000000-0000-4000-8000-000000000002","job_name":"j","status":"failed","result":{"ok":false},"error":{"message":"no mailbox ann@example.com","stack":"Error at x.js:1"}})",
      R"({"v":1,"type":"job.log",)" + kInv + R"(,"job_execution_id":"00000000-0000-4000-8000-000000000001","level":"info","message":"mailing ann@example.com"})",
  };
  ingest::IngestBatch b = testing::decode_lines(lines);
  ASSERT_EQ(b.records.size(), 4u);
  {
    PrivacyOptions o;
    o.redact_patterns = {kEmail};
    std::vector<ingest::TraceRecord> r = b.records;
    PrivacyFilter(o).filter(r, b.text);
    const auto& start = std::get<ingest::InvocationStart>(r[0].body);
    EXPECT_EQ(*start.source_event_payload, R"({"event":{"data":{"new":{"email":"[REDACTED]"}}}})");
    EXPECT_EQ(*start.source_user_email, "[REDACTED]");
    EXPECT_EQ(*std::get<ingest::JobStart>(r[1].body).job_options, R"({"to":"[REDACTED]"})");
    EXPECT_EQ(*std::get<ingest::JobEnd>(r[2].body).error->message, "no mailbox [REDACTED]");
    EXPECT_EQ(std::get<ingest::JobLog>(r[3].body).message, "mailing [REDACTED]");
  }
  {
    PrivacyOptions o;
    o.no_payloads = o.no_job_options = o.no_results = o.no_stacks = o.no_logs = true;
    std::vector<ingest::TraceRecord> r = b.records;
    PrivacyFilter(o).filter(r, b.text);
    ASSERT_EQ(r.size(), 3u);  // the log line is gone
    EXPECT_FALSE(std::get<ingest::InvocationStart>(r[0].body).source_event_payload);
    EXPECT_FALSE(std::get<ingest::JobStart>(r[1].body).job_options);
    const auto& end = std::get<ingest::JobEnd>(r[2].body);
    EXPECT_FALSE(end.result);
    EXPECT_FALSE(end.error->stack);
    EXPECT_EQ(*end.error->message, "no mailbox ann@example.com");  // messages stay
  }
}

TEST(PrivacyFilter, BadPatternIsAClearError) {
  PrivacyOptions o;
  o.redact_patterns = {"(unclosed"};
  EXPECT_THROW(PrivacyFilter{o}, PrivacyError);
  try {
    PrivacyFilter{o};
  } catch (const PrivacyError& e) {
    EXPECT_NE(std::string(e.what()).find("(unclosed"), std::string::npos);
  }
}

}  // namespace
}  // namespace edpipe::transform
