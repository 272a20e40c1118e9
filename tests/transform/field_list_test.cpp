// The one list of a record's text fields (ingest/trace_record.h, for_each_field) against the
// places that must know every field: copying and the privacy filter are derived from it in the
// code; here the decoder and the content ranks are held to it, so that a field added to the list
// and forgotten in either fails a test. For each record type a line holds every listed field with
// a value of its own; the decoder must give each back under its name, and changing any one of
// them must change the record's content rank.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "test_support.h"
#include "transform/content_hash.h"

namespace edpipe::transform {
namespace {

std::string marker(const ingest::TextField& f) { return std::string("m-") + f.name; }
std::string json_marker(const ingest::TextField& f) { return std::string("{\"m\":\"") + f.name + "\"}"; }

template <class Body>
std::vector<ingest::TextField> listed_fields() {
  Body b{};
  if constexpr (requires { b.error; }) b.error.emplace();
  std::vector<ingest::TextField> out;
  ingest::for_each_field(b, [&](const ingest::TextField& f, auto&) { out.push_back(f); });
  return out;
}

// A line of `type` with `extra` (its other required fields) and every listed text field.
template <class Body>
std::string line_with_every_field(const std::string& type, const std::string& extra) {
  std::string top, error;
  for (const auto& f : listed_fields<Body>()) {
    const std::string name(f.name);
    const std::string value =
        f.kind == ingest::TextField::Kind::Json ? json_marker(f) : "\"" + marker(f) + "\"";
    if (name.rfind("error.", 0) == 0)
      error += (error.empty() ? "" : ",") + ("\"" + name.substr(6) + "\":" + value);
    else
      top += ",\"" + name + "\":" + value;
  }
  std::string line = R"({"type":")" + type +
                     R"(","ts":"2026-11-20T10:00:00Z","invocation_id":"aaaaaaaa-0000-4000-8000-00000000000a")" + extra + top;
  if (!error.empty()) line += ",\"error\":{" + error + "}";
  return line + "}";
}

template <class Body>
ContentRank rank_of(const Body& b) {
  if constexpr (std::is_same_v<Body, ingest::JobLog>) {
    JobLogRow row;
    row.log = b;
    return content_rank(row);
  } else {
    return content_rank(b);
  }
}

template <class Body>
void check(const std::string& type, const std::string& extra) {
  SCOPED_TRACE(type);
  const auto fields = listed_fields<Body>();
  ASSERT_FALSE(fields.empty());
  const std::string line = line_with_every_field<Body>(type, extra);
  const ingest::TraceRecord r = testing::decode_one(line);
  const Body* decoded = std::get_if<Body>(&r.body);
  ASSERT_NE(decoded, nullptr) << line;
  // The decoder gives back every listed field, each its own value.
  Body b = *decoded;
  size_t seen = 0;
  ingest::for_each_field(b, [&](const ingest::TextField& f, auto& value) {
    ++seen;
    const std::string want = f.kind == ingest::TextField::Kind::Json ? json_marker(f) : marker(f);
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, ingest::Text>) {
      EXPECT_EQ(value, want) << f.name << " in " << line;
    } else {
      ASSERT_TRUE(value.has_value()) << f.name << " was not decoded from " << line;
      EXPECT_EQ(*value, want) << f.name;
    }
  });
  EXPECT_EQ(seen, fields.size()) << "a listed field of the error was not decoded";
  // Every listed field counts in the content rank.
  const ContentRank base = rank_of(b);
  for (size_t i = 0; i < fields.size(); ++i) {
    Body changed = b;
    size_t k = 0;
    ingest::for_each_field(changed, [&](const ingest::TextField& f, auto& value) {
      if (k++ != i) return;
      const bool json = f.kind == ingest::TextField::Kind::Json;
      value = json ? std::string_view("{\"m\":\"other\"}") : std::string_view("other");
    });
    EXPECT_NE(rank_of(changed), base) << fields[i].name << " does not count in the content rank";
  }
}

TEST(FieldList, EveryListedFieldIsDecodedAndCountsInTheContentRank) {
  const std::string ev = R"(,"event_execution_id":"eeeeeeee-0000-4000-8000-00000000000e")";
  const std::string job = R"(,"job_execution_id":"bbbbbbbb-0000-4000-8000-00000000000b")" + ev;
  check<ingest::InvocationStart>("invocation.start", "");
  check<ingest::InvocationEnd>("invocation.end", R"(,"status":"failed","duration_ms":5)");
  check<ingest::DetectionStart>("event.detection.start", ev);
  check<ingest::DetectionEnd>("event.detection.end", ev + R"(,"detected":true,"duration_ms":1)");
  check<ingest::HandlerStart>("event.handler.start", ev);
  check<ingest::HandlerEnd>("event.handler.end", ev + R"(,"duration_ms":1)");
  check<ingest::JobStart>("job.start", job);
  check<ingest::JobEnd>("job.end", job + R"(,"status":"failed","duration_ms":1)");
  check<ingest::JobLog>("job.log", R"(,"job_execution_id":"bbbbbbbb-0000-4000-8000-00000000000b","level":"warn","seq":3)");
}

}  // namespace
}  // namespace edpipe::transform
