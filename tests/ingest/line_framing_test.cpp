#include <gtest/gtest.h>

#include "ingest/line_framing.h"
#include "test_support.h"

namespace edpipe::ingest {
namespace {

const std::string kRecord =
    R"({"v":1,"type":"job.log","ts":"2026-11-20T10:00:00.000Z","invocation_id":"4efa1823-5092-4b22-9a45-e67ae7d18273","level":"info","message":"sent"})";

IngestBatch decode_framed(const std::vector<std::string>& lines, FramingOptions f) {
  RecordDecoder decoder(std::move(f));
  IngestBatch batch;
  uint64_t n = 0;
  for (const auto& l : lines) decoder.decode_line(l, SourcePos{0, ++n, 0}, batch);
  return batch;
}

TEST(LineFraming, EveryFormatFindsTheRecord) {
  const std::string ts = "2026-11-20T10:00:00.000Z", id = "4efa1823-5092-4b22-9a45-e67ae7d18273";
  for (LogFormat f : {LogFormat::Lambda, LogFormat::Netlify, LogFormat::Docker, LogFormat::Kubectl}) {
    const std::string line = frame_line(f, kRecord, ts, id);
    for (LogFormat reader : {f, LogFormat::Auto}) {
      IngestBatch b = decode_framed({line}, {reader, ""});
      ASSERT_EQ(b.records.size(), 1u) << log_format_name(f) << " read as " << log_format_name(reader) << ": " << line;
      EXPECT_EQ(std::get<JobLog>(b.records[0].body).message, "sent");
      EXPECT_TRUE(b.counts.adds_up());
    }
  }
}

TEST(LineFraming, ConcreteLinesOfEachPlatform) {
  const LineFramer lambda({LogFormat::Lambda, ""});
  const std::string l = "2026-11-20T10:00:00.000Z\t6bc28136-1c3b-4a8a-9f5c-0a0a0a0a0a0a\tINFO\t" + kRecord;
  EXPECT_EQ(lambda.frame(l).kind, FramedLine::Json);
  EXPECT_EQ(l.substr(lambda.frame(l).begin), kRecord);
  // Lambda's own lines are not records.
  for (const char* platform : {"START RequestId: 6bc28136-1c3b-4a8a-9f5c-0a0a0a0a0a0a Version: $LATEST",
                               "END RequestId: 6bc28136-1c3b-4a8a-9f5c-0a0a0a0a0a0a",
                               "REPORT RequestId: 6bc28136\tDuration: 2.04 ms\tBilled Duration: 3 ms"}) {
    EXPECT_EQ(lambda.frame(platform).kind, FramedLine::NotRecord) << platform;
    EXPECT_EQ(LineFramer().frame(platform).kind, FramedLine::NotRecord) << platform;
  }
  EXPECT_EQ(lambda.frame("2026-11-20T10:00:00.000Z\tabc\tINFO\tplain text").kind, FramedLine::NotRecord);

  const LineFramer netlify({LogFormat::Netlify, ""});
  const std::string n = "Nov 20, 10:00:00 AM: 6bc28136 INFO   " + kRecord;
  EXPECT_EQ(n.substr(netlify.frame(n).begin), kRecord);
  EXPECT_EQ(netlify.frame("Nov 20, 10:00:00 AM: 6bc28136 INFO   Processing event").kind, FramedLine::NotRecord);

  const LineFramer kubectl({LogFormat::Kubectl, ""});
  const std::string k = "2026-11-20T10:00:00.123456789Z " + kRecord;
  EXPECT_EQ(k.substr(kubectl.frame(k).begin), kRecord);

  const LineFramer docker({LogFormat::Docker, ""});
  EXPECT_EQ(docker.frame(R"({"log":"x\n","stream":"stdout","time":"2026-11-20T10:00:00Z"})").kind, FramedLine::Wrapped);
  EXPECT_EQ(docker.frame(kRecord).kind, FramedLine::NotRecord);  // not a wrapper

  // Plain NDJSON is read by auto and ndjson alike; plain text is a non-record line.
  EXPECT_EQ(LineFramer().frame(kRecord).begin, 0u);
  EXPECT_EQ(LineFramer({LogFormat::Ndjson, ""}).frame("  " + kRecord).begin, 2u);
  EXPECT_EQ(LineFramer().frame("Processing event for table 7...").kind, FramedLine::NotRecord);
}

TEST(LineFraming, DockerInnerLineIsUnescapedAndDecided) {
  const std::string inner_torn = R"({"v":1,"type":"job.log","ts")";
  std::vector<std::string> lines = {
      frame_line(LogFormat::Docker, kRecord, "2026-11-20T10:00:00Z", ""),
      frame_line(LogFormat::Docker, "plain console text", "2026-11-20T10:00:00Z", ""),
      frame_line(LogFormat::Docker, inner_torn, "2026-11-20T10:00:00Z", ""),
      R"({"log":"{\"v\":1,\"type\":\"job.log\"","stream":"std)",  // the wrapper itself torn
  };
  IngestBatch b = decode_framed(lines, {LogFormat::Docker, ""});
  EXPECT_EQ(b.counts.total, 4u);
  EXPECT_EQ(b.counts.records, 1u);
  EXPECT_EQ(b.counts.non_record, 1u);
  EXPECT_EQ(b.counts.rejected, 2u);
  ASSERT_EQ(b.rejected.size(), 2u);
  // The dead-letter output keeps the whole line as read, wrapper included.
  EXPECT_EQ(b.rejected[0].raw, lines[2]);
  EXPECT_EQ(b.rejected[0].pos.line, 3u);
}

TEST(LineFraming, RegexNamedGroupAndDeadLetterKeepsThePrefix) {
  FramingOptions f{LogFormat::Regex, R"(^\[(?P<level>\w+)\] (?P<json>\{.*\}) trailer$)"};
  const std::string good = "[info] " + kRecord + " trailer";
  const std::string bad = "[info] {\"v\":1,\"type\":\"job.log\"} trailer";
  IngestBatch b = decode_framed({good, bad, "no match here"}, f);
  EXPECT_EQ(b.counts.records, 1u);
  EXPECT_EQ(b.counts.rejected, 1u);
  EXPECT_EQ(b.counts.non_record, 1u);
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].raw, bad);
  EXPECT_EQ(b.rejected[0].reason, RejectReason::MissingField);
}

TEST(LineFraming, BadRegexIsAClearError) {
  EXPECT_THROW(LineFramer({LogFormat::Regex, "(unclosed"}), FramingError);
  EXPECT_THROW(LineFramer({LogFormat::Regex, R"(\{.*\})"}), FramingError);  // no group json
  EXPECT_THROW(LineFramer({LogFormat::Regex, ""}), FramingError);
  EXPECT_THROW(LineFramer({LogFormat::Lambda, "(?P<json>.*)"}), FramingError);  // regex without --format regex
  try {
    LineFramer({LogFormat::Regex, "(unclosed"});
  } catch (const FramingError& e) {
    EXPECT_NE(std::string(e.what()).find("--line-regex"), std::string::npos);
  }
}

TEST(LineFraming, AutoMixMatchesPlainNdjson) {
  // One corpus per format (different seeds), all mixed line by line: auto gives the same rows as
  // the plain NDJSON of the same corpora.
  std::vector<std::string> plain, mixed;
  uint64_t seed = 1;
  for (LogFormat f : {LogFormat::Ndjson, LogFormat::Lambda, LogFormat::Netlify, LogFormat::Docker, LogFormat::Kubectl}) {
    gen::GeneratorOptions o;
    o.seed = seed++;
    o.invocations = 40;
    for (const auto& l : testing::generated_lines(o)) {
      plain.push_back(l);
      mixed.push_back(frame_line(f, l, "2026-11-20T10:00:00.000Z", "4efa1823-5092-4b22-9a45-e67ae7d18273"));
    }
  }
  std::mt19937 rng(7);
  std::shuffle(mixed.begin(), mixed.end(), rng);
  IngestBatch a = decode_framed(plain, {}), b = decode_framed(mixed, {});
  EXPECT_EQ(a.counts.records, b.counts.records);
  EXPECT_EQ(a.counts.rejected, b.counts.rejected);
  EXPECT_EQ(a.counts.non_record, b.counts.non_record);
  EXPECT_EQ(a.counts.total, b.counts.total);
}

}  // namespace
}  // namespace edpipe::ingest
