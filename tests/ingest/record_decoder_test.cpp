#include <gtest/gtest.h>

#include "test_support.h"

namespace edpipe::ingest {
namespace {
using testing::decode_lines;
using testing::decode_one;
using testing::reject_one;

const std::string kInv = R"("invocation_id":"550e8400-e29b-41d4-a716-446655440000")";
const std::string kTs = R"("ts":"2026-11-20T10:15:00.123Z")";
const std::string kEv = R"("event_execution_id":"e0000001-0000-4000-8000-000000000001","event_name":"move.pickup")";
const std::string kJob = R"("job_execution_id":"f0000001-0000-4000-8000-000000000001")";

std::string rec(const std::string& type, const std::string& rest = "") {
  return "{\"type\":\"" + type + "\"," + kTs + "," + kInv + (rest.empty() ? "" : "," + rest) + "}";
}

TEST(RecordDecoder, InvocationStartWithAllFields) {
  auto r = decode_one(rec("invocation.start",
                          R"("correlation_id":"c-1","source_function":"fn","source_system":"hasura","source_table":"moves",)"
                          R"("source_operation":"UPDATE","source_event_id":"5e000001-0000-4000-8000-000000000001",)"
                          R"("source_event_time":1795169700000,"source_user_email":"a@b.c","source_user_role":"admin",)"
                          R"("source_job_id":"f0000001-0000-4000-8000-000000000001","auto_load_modules":true,)"
                          R"("event_modules_directory":"/events","context":{"k":[1,2]},"source_event_payload":{"x":1})"));
  ASSERT_EQ(r.type(), RecordType::InvocationStart);
  EXPECT_EQ(r.invocation_id.str(), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(r.correlation_id, "c-1");
  const auto& b = std::get<InvocationStart>(r.body);
  EXPECT_EQ(b.source_function, "fn");
  EXPECT_EQ(b.source_table, "moves");
  EXPECT_EQ(b.source_event_time, 1795169700LL * kMicrosPerSecond);
  EXPECT_EQ(b.source_job_id->str(), "f0000001-0000-4000-8000-000000000001");
  EXPECT_EQ(b.auto_load_modules, true);
  EXPECT_EQ(b.context, R"({"k":[1,2]})");
  EXPECT_EQ(b.source_event_payload, R"({"x":1})");
}

TEST(RecordDecoder, HasuraPayloadFillsMissingSourceFields) {
  auto r = decode_one(rec("invocation.start",
                          R"("source_function":"fn","source_event_payload":{"event":{"session_variables":)"
                          R"({"x-hasura-role":"driver","x-hasura-user-email":"d@c.com"},"op":"UPDATE"},)"
                          R"("created_at":"2025-10-05T12:00:00.123456","id":"5e000001-0000-4000-8000-000000000001",)"
                          R"("table":{"schema":"public","name":"moves"}})"));
  const auto& b = std::get<InvocationStart>(r.body);
  EXPECT_EQ(b.source_table, "moves");
  EXPECT_EQ(b.source_operation, "UPDATE");
  EXPECT_EQ(b.source_user_email, "d@c.com");
  EXPECT_EQ(b.source_user_role, "driver");
  EXPECT_EQ(b.source_event_id->str(), "5e000001-0000-4000-8000-000000000001");
  EXPECT_EQ(b.source_event_time, parse_rfc3339("2025-10-05T12:00:00.123456Z"));
}

TEST(RecordDecoder, HasuraPayloadNeverOverridesAndBadValuesStayNull) {
  auto r = decode_one(rec("invocation.start",
                          R"("source_function":"fn","source_table":"explicit","source_event_payload":)"
                          R"({"id":"not-a-uuid","created_at":"soon","table":{"name":"moves"}})"));
  const auto& b = std::get<InvocationStart>(r.body);
  EXPECT_EQ(b.source_table, "explicit");
  EXPECT_FALSE(b.source_event_id);
  EXPECT_FALSE(b.source_event_time);
  EXPECT_FALSE(b.source_user_email);
}

// The payload is read in the record's own pass: members of other types are passed over, the
// first string of a repeated key counts, and the stored text is the payload exactly.
TEST(RecordDecoder, HasuraPayloadOfOddShapesIsKeptWholeAndNeverRejects) {
  const std::string payload =
      R"({"id":5,"id":"5e000001-0000-4000-8000-000000000001","table":"moves","event":{"op":["UPDATE"],)"
      R"("session_variables":7,"data":{"new":{"a":[{"b":"}"}]}}},"created_at":null,)"
      R"("table":{"name":{"x":1},"name":"later"},"event":{"session_variables":{"x-hasura-role":"r","x-hasura-role":"s"}}} )";
  auto r = decode_one(rec("invocation.start", R"("source_function":"fn","source_event_payload":)" + payload +
                                                  R"(,"context":{"after":"payload"})"));
  const auto& b = std::get<InvocationStart>(r.body);
  EXPECT_EQ(b.source_event_payload, payload);
  EXPECT_EQ(b.source_event_id->str(), "5e000001-0000-4000-8000-000000000001");
  EXPECT_EQ(b.source_table, "later");
  EXPECT_FALSE(b.source_operation);
  EXPECT_FALSE(b.source_event_time);
  EXPECT_EQ(b.source_user_role, "r");
  EXPECT_FALSE(b.source_user_email);
  EXPECT_EQ(b.context, R"({"after":"payload"})");

  auto arr = decode_one(rec("invocation.start", R"("source_function":"fn","source_event_payload":[{"id":"x"}])"));
  EXPECT_EQ(std::get<InvocationStart>(arr.body).source_event_payload, R"([{"id":"x"}])");
  EXPECT_FALSE(std::get<InvocationStart>(arr.body).source_table);
}

TEST(RecordDecoder, EveryOtherRecordType) {
  auto end = decode_one(rec("invocation.end", R"("status":"failed","duration_ms":12.6,"error":{"message":"m","stack":"s"})"));
  const auto& e = std::get<InvocationEnd>(end.body);
  EXPECT_EQ(e.status, Outcome::Failed);
  EXPECT_EQ(e.duration_ms, 13);
  EXPECT_EQ(e.error->message, "m");
  EXPECT_EQ(e.error->stack, "s");

  auto ds = decode_one(rec("event.detection.start", kEv + R"(,"event_module_path":"/e.js")"));
  EXPECT_EQ(std::get<DetectionStart>(ds.body).event_module_path, "/e.js");
  auto de = decode_one(rec("event.detection.end", kEv + R"(,"detected":true,"duration_ms":3)"));
  EXPECT_TRUE(std::get<DetectionEnd>(de.body).detected);
  auto hs = decode_one(rec("event.handler.start", kEv));
  EXPECT_EQ(std::get<HandlerStart>(hs.body).event_name, "move.pickup");
  auto he = decode_one(rec("event.handler.end", kEv + R"(,"error":"plain string error")"));
  EXPECT_EQ(std::get<HandlerEnd>(he.body).error->message, "plain string error");
  auto js = decode_one(rec("job.start", kJob + "," + kEv + R"(,"job_name":"send","job_function_name":"sendFn","job_options":[1,"a"])"));
  EXPECT_EQ(std::get<JobStart>(js.body).job_options, R"([1,"a"])");
  auto je = decode_one(rec("job.end", kJob + "," + kEv + R"(,"job_name":"send","status":"completed","result":"ok")"));
  EXPECT_EQ(std::get<JobEnd>(je.body).result, R"("ok")");
  auto jl = decode_one(rec("job.log", kJob + R"(,"level":"warn","message":"hi \"there\"\n","data":{"a":1},"source":"console")"));
  const auto& l = std::get<JobLog>(jl.body);
  EXPECT_EQ(l.level, LogLevel::Warn);
  EXPECT_EQ(l.message, "hi \"there\"\n");
  EXPECT_TRUE(l.job_execution_id);
  auto il = decode_one(rec("job.log", R"("level":"info","message":"invocation-level")"));
  EXPECT_FALSE(std::get<JobLog>(il.body).job_execution_id);
}

TEST(RecordDecoder, VersionOneAndUnknownFieldsAreAccepted) {
  auto r = decode_one(rec("invocation.end", R"("v":1,"status":"completed","future_field":{"deep":[1,{"x":2}]})"));
  EXPECT_EQ(r.type(), RecordType::InvocationEnd);
}

TEST(RecordDecoder, NullOptionalFieldsAreAbsent) {
  auto r = decode_one(rec("job.end", kJob + "," + kEv + R"(,"job_name":"j","status":"completed","result":null,"duration_ms":null,"error":null)"));
  const auto& b = std::get<JobEnd>(r.body);
  EXPECT_FALSE(b.result);
  EXPECT_FALSE(b.duration_ms);
  EXPECT_FALSE(b.error);
}

TEST(RecordDecoder, EpochMillisecondTimestamps) {
  auto r = decode_one(R"({"type":"invocation.end","ts":1795169700123,)" + kInv + R"(,"status":"completed"})");
  EXPECT_EQ(r.ts, 1795169700123LL * 1000);
}

struct RejectCase {
  std::string line;
  RejectReason reason;
  std::string detail_contains;
};

TEST(RecordDecoder, EveryRejectionReason) {
  const std::vector<RejectCase> cases = {
      {R"({"type":"invocation.end","ts":"2026-11-20T10:15:00Z",)" + kInv + R"(,"status":"comp)", RejectReason::InvalidJson, "not valid JSON"},
      {rec("invocation.end", R"("status":"completed")") + " trailing", RejectReason::InvalidJson, "not valid JSON"},
      {"{\"type\":\"job.log\"," + kTs + "," + kInv + ",\"level\":\"info\",\"message\":\"\xff\xfe\"}", RejectReason::InvalidUtf8, "UTF-8"},
      {rec("invocation.start"), RejectReason::MissingField, "`source_function`: is missing"},
      {rec("invocation.end", R"("status":null)"), RejectReason::MissingField, "`status`: is null"},
      {R"({"type":"invocation.end",)" + kInv + R"(,"status":"completed"})", RejectReason::MissingField, "`ts`"},
      {R"({"type":"invocation.end",)" + kTs + R"(,"status":"completed"})", RejectReason::MissingField, "`invocation_id`"},
      {rec("invocation.end", R"("status":"done")"), RejectReason::WrongType, "`status`"},
      {rec("invocation.end", R"("status":1)"), RejectReason::WrongType, "expected a string, got a number"},
      {rec("event.detection.end", kEv + R"(,"detected":"yes")"), RejectReason::WrongType, "`detected`"},
      {rec("job.log", R"("level":"fatal","message":"x")"), RejectReason::WrongType, "`level`"},
      {rec("invocation.end", R"("status":"completed","duration_ms":-5)"), RejectReason::WrongType, "`duration_ms`"},
      {rec("invocation.start", R"("source_function":"f","context":[1])"), RejectReason::WrongType, "`context`"},
      {R"({"type":7,)" + kTs + "," + kInv + "}", RejectReason::WrongType, "`type`"},
      {R"({"type":"invocation.end",)" + kTs + R"(,"invocation_id":"550e8400-e29b-41d4-a716-44665544000","status":"completed"})", RejectReason::BadUuid, "`invocation_id`"},
      {rec("job.start", R"("job_execution_id":"nope","event_execution_id":"e0000001-0000-4000-8000-000000000001","job_name":"j")"), RejectReason::BadUuid, "`job_execution_id`"},
      {R"({"type":"invocation.end","ts":"2026-11-20T10:15:00",)" + kInv + R"(,"status":"completed"})", RejectReason::BadTimestamp, "`ts`"},
      {R"({"type":"invocation.end","ts":true,)" + kInv + R"(,"status":"completed"})", RejectReason::WrongType, "`ts`"},
      {R"({"type":"invocation.end","ts":1.5,)" + kInv + R"(,"status":"completed"})", RejectReason::BadTimestamp, "`ts`"},
      {rec("invocation.end", R"("v":2,"status":"completed")"), RejectReason::UnsupportedVersion, "unsupported version 2"},
      {rec("invocation.end", R"("v":"1","status":"completed")"), RejectReason::WrongType, "`v`"},
      {rec("job.log", R"("level":"info","message":"m","data":)" + std::string(5000, '[') + std::string(5000, ']')), RejectReason::TooDeep, "deeper"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line.substr(0, 200));
    auto r = testing::reject_one(c.line);
    EXPECT_EQ(reject_reason_code(r.reason), reject_reason_code(c.reason)) << r.detail;
    EXPECT_NE(r.detail.find(c.detail_contains), std::string::npos) << r.detail;
    EXPECT_EQ(r.raw, c.line.substr(0, kMaxRawKept));
  }
}

TEST(RecordDecoder, BracketsInsideStringsAreNotNesting) {
  auto r = decode_one(rec("job.log", R"("level":"info","message":"m","data":{"a":")" + std::string(3000, '[') + "\"}"));
  EXPECT_EQ(std::get<JobLog>(r.body).data->size(), 3008u);
}

TEST(RecordDecoder, NonRecordLines) {
  auto b = decode_lines({"plain console text", "", "   ", "[1,2,3]", R"({"level":30,"msg":"pino line"})", "{}",
                         R"({"type":"metrics.flush","ts":"x"})", R"(  {"msg":"indented"})", "42"});
  EXPECT_EQ(b.counts.total, 9u);
  EXPECT_EQ(b.counts.non_record, 9u);
  EXPECT_EQ(b.counts.unknown_type, 1u);
  EXPECT_EQ(b.counts.records + b.counts.rejected, 0u);
}

TEST(RecordDecoder, CandidateByInvocationIdAloneIsValidated) {
  auto r = reject_one(R"({"invocation_id":"550e8400-e29b-41d4-a716-446655440000","msg":"no type"})");
  EXPECT_EQ(r.reason, RejectReason::MissingField);
}

TEST(RecordDecoder, LineTooLongIsRejectedWithItsSize) {
  std::string huge = "{\"message\":\"" + std::string(kMaxLineBytes, 'x') + "\"}";
  auto b = decode_lines({huge});
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].reason, RejectReason::LineTooLong);
  EXPECT_EQ(b.rejected[0].raw_size, huge.size());
  EXPECT_EQ(b.rejected[0].raw.size(), kMaxRawKept);
}

TEST(RecordDecoder, LineJustUnderTheLimitIsParsed) {
  std::string msg(kMaxLineBytes - 200, 'y');
  auto r = decode_one(rec("job.log", R"("level":"info","message":")" + msg + "\""));
  EXPECT_EQ(std::get<JobLog>(r.body).message.size(), msg.size());
}

// The stream path and the per-line path must decide every line alike, whatever surrounds it.
TEST(RecordDecoder, StreamAndLineByLineAgree) {
  std::vector<std::string> lines;
  auto all = testing::generated_lines({.invocations = 40, .malformed_rate = 0.05});
  lines.insert(lines.end(), all.begin(), all.end());
  lines.insert(lines.begin() + 10, "{\"type\":\"job.log\",\"message\":\"\xc3\x28\"}");  // invalid UTF-8 mid-stream
  lines.insert(lines.begin() + 20, R"({"a":1} {"b":2})");
  lines.insert(lines.begin() + 30, R"({"type":"invocation.end")");
  lines.insert(lines.begin() + 31, "{\r");

  IngestBatch per_line = decode_lines(lines);

  std::string block;
  for (const auto& l : lines) block += l + "\r\n";
  block.append(kBlockPadding, ' ');
  LineBlock lb{block.data(), block.size() - kBlockPadding, 1, 0, lines.size()};
  RecordDecoder decoder;
  IngestBatch streamed;
  decoder.decode(lb, 0, streamed);

  EXPECT_EQ(streamed.counts.total, lines.size());
  EXPECT_EQ(streamed.counts.records, per_line.counts.records);
  EXPECT_EQ(streamed.counts.non_record, per_line.counts.non_record);
  EXPECT_EQ(streamed.counts.rejected, per_line.counts.rejected);
  ASSERT_EQ(streamed.rejected.size(), per_line.rejected.size());
  for (size_t i = 0; i < streamed.rejected.size(); ++i) {
    EXPECT_EQ(streamed.rejected[i].pos.line, per_line.rejected[i].pos.line);
    EXPECT_EQ(streamed.rejected[i].reason, per_line.rejected[i].reason);
  }
  ASSERT_EQ(streamed.records.size(), per_line.records.size());
  for (size_t i = 0; i < streamed.records.size(); ++i) {
    EXPECT_EQ(streamed.records[i].ts, per_line.records[i].ts);
    EXPECT_EQ(streamed.records[i].body, per_line.records[i].body);
    EXPECT_EQ(streamed.records[i].pos.line, per_line.records[i].pos.line);
  }
  EXPECT_TRUE(streamed.counts.adds_up());
}

// Who owns a record's text: a block that outlives the batch is viewed (strings without escapes and
// raw JSON are its bytes); any other is copied into the batch's arena. Either way the text is the same.
TEST(RecordDecoder, RecordsViewABlockThatOutlivesTheBatchAndCopyAnyOther) {
  const std::string line =
      R"({"v":1,"type":"job.log","ts":"2026-11-20T10:00:00Z","invocation_id":"550e8400-e29b-41d4-a716-446655440000",)"
      R"("level":"info","message":"plain text","source":"tab\there","data":{"k":[1,2]},"correlation_id":"c-1"})";
  for (const bool outlives : {true, false}) {
    SCOPED_TRACE(outlives ? "block outlives the batch" : "block reused");
    std::string block = line + "\n";
    block.append(kBlockPadding, ' ');
    LineBlock lb{block.data(), line.size() + 1, 1, 0, 1};
    lb.outlives_batch = outlives;
    RecordDecoder decoder;
    IngestBatch b;
    decoder.decode(lb, 0, b);
    ASSERT_EQ(b.records.size(), 1u);
    const auto& log = std::get<JobLog>(b.records[0].body);
    auto in_block = [&](std::string_view v) { return v.data() >= block.data() && v.data() < block.data() + block.size(); };
    EXPECT_EQ(log.message, "plain text");
    EXPECT_EQ(*log.source, "tab\there") << "an escape is unescaped";
    EXPECT_EQ(*log.data, R"({"k":[1,2]})");
    EXPECT_EQ(*b.records[0].correlation_id, "c-1");
    EXPECT_EQ(in_block(log.message), outlives);
    EXPECT_EQ(in_block(*log.data), outlives);
    EXPECT_EQ(in_block(*b.records[0].correlation_id), outlives);
    EXPECT_FALSE(in_block(*log.source)) << "unescaped text is never the block's";
    EXPECT_EQ(b.text.empty(), false);
    // A reused block's records keep their text when the block is overwritten.
    std::fill(block.begin(), block.end(), '#');
    if (!outlives) {
      EXPECT_EQ(log.message, "plain text");
    }
  }
}

}  // namespace
}  // namespace edpipe::ingest
