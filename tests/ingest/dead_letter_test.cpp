#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/json_text.h"
#include "ingest/dead_letter.h"

namespace edpipe::ingest {
namespace {

TEST(DeadLetter, OneJsonObjectPerLineWithEverythingToReplayIt) {
  RejectedLine r;
  r.pos = {0, 12, 3456};
  r.reason = RejectReason::BadUuid;
  r.detail = "field `invocation_id`: not a UUID";
  r.raw = "{\"type\":\"x\",\"tab\":\"\t\"}";
  r.raw_size = r.raw.size();
  std::string json = DeadLetterWriter::to_json(r, "logs/a.ndjson");
  ASSERT_EQ(json.back(), '\n');
  simdjson::dom::parser p;
  auto doc = p.parse(json);
  ASSERT_FALSE(doc.error());
  EXPECT_EQ(std::string_view(doc["file"]), "logs/a.ndjson");
  EXPECT_EQ(int64_t(doc["line"]), 12);
  EXPECT_EQ(int64_t(doc["offset"]), 3456);
  EXPECT_EQ(std::string_view(doc["reason"]), "bad_uuid");
  EXPECT_EQ(std::string_view(doc["raw"]), r.raw);
  EXPECT_TRUE(doc["raw_base64"].error());
}

TEST(DeadLetter, InvalidUtf8IsKeptExactlyAsBase64) {
  RejectedLine r;
  r.reason = RejectReason::InvalidUtf8;
  r.raw = std::string("{\"m\":\"\xff\xfe ok\"}");
  r.raw_size = r.raw.size();
  simdjson::dom::parser p;
  auto doc = p.parse(DeadLetterWriter::to_json(r, "f"));
  ASSERT_FALSE(doc.error());
  EXPECT_EQ(std::string_view(doc["raw_base64"]), base64_encode(r.raw));
  EXPECT_EQ(base64_encode("Ma"), "TWE=");
  EXPECT_EQ(base64_encode("Man"), "TWFu");
  EXPECT_EQ(base64_encode("M"), "TQ==");
}

TEST(JsonText, EscapesControlCharacters) {
  EXPECT_EQ(json_string("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_string("bad\xc3"), "\"bad\\ufffd\"");
}

}  // namespace
}  // namespace edpipe::ingest
