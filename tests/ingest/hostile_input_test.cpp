// The hostile input table (docs/wire-format.md "Hostile input"): each input's fate, and every other line of
// the same input still read as a record.
#include <gtest/gtest.h>
#include <zlib.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ingest/trace_reader.h"
#include "test_support.h"

namespace edpipe::ingest {
namespace {
namespace fs = std::filesystem;

const std::string kInv = R"("invocation_id":"550e8400-e29b-41d4-a716-446655440000")";
std::string log_line(const std::string& extra = "", const std::string& message = R"("m")",
                     const std::string& ts = R"("2026-11-20T10:00:00Z")") {
  return R"({"type":"job.log","ts":)" + ts + "," + kInv + R"(,"level":"info","message":)" + message + extra + "}";
}
const std::string kGoodBefore = log_line("", R"("before")"), kGoodAfter = log_line("", R"("after")");

struct Fate {
  LineCounts counts;
  std::vector<RejectedLine> rejected;
  std::vector<std::string> messages;  // of the records read
  std::vector<InputError> failures;
};

class HostileInput : public testing::TempDirTest {
 protected:

  static Fate read(const std::vector<std::string>& paths) {
    std::vector<InputSpec> specs;
    for (const auto& p : paths) specs.push_back({p, std::nullopt});
    TraceReader reader(specs);
    Fate f;
    IngestBatch b;
    while (reader.next(b)) {
      f.counts += b.counts;
      f.rejected.insert(f.rejected.end(), b.rejected.begin(), b.rejected.end());
      for (const auto& r : b.records)
        if (auto* l = std::get_if<JobLog>(&r.body)) f.messages.emplace_back(l->message);
    }
    f.failures = reader.failures();
    return f;
  }
  // The hostile bytes as the middle line of a file between two good records.
  Fate sandwich(const std::string& hostile) {
    const fs::path p = dir_ / "input.ndjson";
    std::ofstream(p, std::ios::binary) << kGoodBefore << "\n" << hostile << "\n" << kGoodAfter << "\n";
    Fate f = read({p.string()});
    EXPECT_EQ(f.counts.total, 3u);
    EXPECT_TRUE(f.counts.adds_up());
    EXPECT_NE(std::find(f.messages.begin(), f.messages.end(), "before"), f.messages.end());
    EXPECT_NE(std::find(f.messages.begin(), f.messages.end(), "after"), f.messages.end());
    return f;
  }
  void expect_rejected(const std::string& hostile, RejectReason reason) {
    Fate f = sandwich(hostile);
    ASSERT_EQ(f.rejected.size(), 1u) << hostile.substr(0, 200);
    EXPECT_EQ(f.rejected[0].reason, reason) << f.rejected[0].detail;
    EXPECT_EQ(f.rejected[0].pos.line, 2u);
  }
  void expect_non_record(const std::string& hostile) {
    Fate f = sandwich(hostile);
    EXPECT_EQ(f.counts.non_record, 1u) << hostile.substr(0, 200);
    EXPECT_EQ(f.counts.rejected, 0u);
  }
};

TEST_F(HostileInput, BinaryGarbageAndNulBytes) {
  expect_non_record(std::string("\x00\x01\xff\xfe\x80garbage\x07", 14));
  expect_non_record(std::string(64, '\0'));
  expect_rejected(std::string("{\xff\xfe\x80\x01", 5), RejectReason::InvalidUtf8);
  expect_rejected(log_line("", std::string("\"a\0b\"", 5)), RejectReason::InvalidJson);  // a raw NUL in a string
}

TEST_F(HostileInput, InvalidUtf8InKeysAndValues) {
  expect_rejected(log_line(",\"\xff\":1"), RejectReason::InvalidUtf8);
  expect_rejected(log_line("", "\"caf\xe9\""), RejectReason::InvalidUtf8);
}

TEST_F(HostileInput, EscapedNulIsARecord) {
  // Valid JSON: ingest keeps it; the load stage leaves the value out of PostgreSQL and
  // dead-letters it (tests/load: RefusedValues).
  Fate f = sandwich(log_line("", R"("a\u0000b")"));
  EXPECT_EQ(f.counts.records, 3u);
}

TEST_F(HostileInput, AHundredMegabyteLine) {
  const std::string huge = log_line("", "\"" + std::string(100u << 20, 'x') + "\"");
  expect_rejected(huge, RejectReason::LineTooLong);
}

TEST_F(HostileInput, NestedTenThousandDeep) {
  expect_rejected(log_line(",\"data\":" + std::string(10000, '[') + "1" + std::string(10000, ']')), RejectReason::TooDeep);
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
  expect_rejected(log_line(",\"data\":" + objects + "1" + std::string(10000, '}')), RejectReason::TooDeep);
  expect_rejected(std::string(10000, '{'), RejectReason::InvalidJson);  // unclosed as well
}

TEST_F(HostileInput, NumbersOutOfRange) {
  const std::string end = R"({"type":"invocation.end","ts":"2026-11-20T10:00:00Z",)" + kInv + R"(,"status":"completed","duration_ms":)";
  expect_rejected(end + "99999999999999999999}", RejectReason::WrongType);
  expect_rejected(end + "-5}", RejectReason::WrongType);
  expect_rejected(end + "1e400}", RejectReason::InvalidJson);
  expect_rejected(log_line("", R"("m")", "99999999999999999"), RejectReason::BadTimestamp);
  // An out-of-range number in a field edpipe does not read is no reason to drop the record.
  Fate f = sandwich(log_line(",\"x\":123456789012345678901234567890"));
  EXPECT_EQ(f.counts.records, 3u);
}

TEST_F(HostileInput, DuplicateKeysTheLastOneCounts) {
  // {"type":"job.log","type":"invocation.end",...}: read as an invocation.end, which then lacks `status`.
  Fate f = sandwich(R"({"type":"job.log","type":"invocation.end","ts":"2026-11-20T10:00:00Z",)" + kInv +
                    R"(,"level":"info","message":"m"})");
  ASSERT_EQ(f.rejected.size(), 1u);
  EXPECT_EQ(f.rejected[0].reason, RejectReason::MissingField);
  EXPECT_NE(f.rejected[0].detail.find("status"), std::string::npos);
}

TEST_F(HostileInput, WrongTypeForEveryRequiredField) {
  const std::string ev = R"("event_execution_id":"e0000001-0000-4000-8000-000000000001","event_name":"ev")";
  const std::string job = R"("job_execution_id":"f0000001-0000-4000-8000-000000000001",)" + ev.substr(0, 59) + R"(,"job_name":"j")";
  // Each record type with each required field replaced by a JSON value of the wrong type.
  const std::vector<std::pair<std::string, std::string>> records = {
      {"invocation.start", R"("source_function":"f")"},
      {"invocation.end", R"("status":"completed")"},
      {"event.detection.start", ev},
      {"event.detection.end", ev + R"(,"detected":true)"},
      {"event.handler.start", ev},
      {"event.handler.end", ev},
      {"job.start", job},
      {"job.end", job + R"(,"status":"completed")"},
      {"job.log", R"("level":"info","message":"m")"},
  };
  int cases = 0;
  for (const auto& [type, fields] : records) {
    const std::string good = R"({"type":")" + type + R"(","ts":"2026-11-20T10:00:00Z",)" + kInv + "," + fields + "}";
    ASSERT_EQ(testing::decode_lines({good}).counts.records, 1u) << good;
    // Every "name":value pair of the record, one at a time, with its value swapped for one of
    // another JSON type.
    for (size_t at = good.find("\":"); at != std::string::npos; at = good.find("\":", at + 2)) {
      const size_t vstart = at + 2;
      size_t vend = vstart;
      if (good[vstart] == '"') vend = good.find('"', vstart + 1) + 1;
      else while (vend < good.size() && good[vend] != ',' && good[vend] != '}') ++vend;
      const std::string key = good.substr(good.rfind('"', at - 1) + 1, at - good.rfind('"', at - 1) - 1);
      for (const std::string wrong : {"[]", "{}", "12", "true"}) {
        if (good.substr(vstart, vend - vstart) == wrong) continue;
        if (key == "detected" && wrong == "true") continue;
        if (key == "ts" && wrong == "12") continue;  // epoch milliseconds: a valid ts
        const std::string bad = good.substr(0, vstart) + wrong + good.substr(vend);
        IngestBatch b = testing::decode_lines({bad});
        ++cases;
        if (key == "type") {  // not a record type: not a record at all
          EXPECT_EQ(b.counts.rejected + b.counts.non_record, 1u) << bad;
          continue;
        }
        ASSERT_EQ(b.rejected.size(), 1u) << bad;
        const RejectReason r = b.rejected[0].reason;
        EXPECT_TRUE(r == RejectReason::WrongType || r == RejectReason::BadTimestamp || r == RejectReason::BadUuid)
            << bad << ": " << b.rejected[0].detail;
        EXPECT_NE(b.rejected[0].detail.find(key), std::string::npos) << b.rejected[0].detail;
      }
    }
  }
  EXPECT_GT(cases, 100);
}

TEST_F(HostileInput, UuidOfTheWrongLength) {
  std::string bad = log_line();
  bad.replace(bad.find("446655440000"), 12, "44665544000");
  expect_rejected(bad, RejectReason::BadUuid);
  bad = log_line();
  bad.replace(bad.find("446655440000"), 12, "4466554400001");
  expect_rejected(bad, RejectReason::BadUuid);
}

TEST_F(HostileInput, TimestampsFarInThePastAndFuture) {
  Fate past = sandwich(log_line("", R"("m")", R"("0001-01-01T00:00:00Z")"));
  EXPECT_EQ(past.counts.records, 3u);  // year 1 is a time PostgreSQL stores
  expect_rejected(log_line("", R"("m")", R"("9999-12-31T23:59:59Z")"), RejectReason::BadTimestamp);  // ahead of the clock
  expect_rejected(log_line("", R"("m")", R"("10000-01-01T00:00:00Z")"), RejectReason::BadTimestamp);
  expect_rejected(log_line("", R"("m")", "-62135596800001"), RejectReason::BadTimestamp);  // before year 1
}

TEST_F(HostileInput, EmptyFileAndAFileThatIsOnlyANewline) {
  std::ofstream(dir_ / "empty.ndjson").close();
  std::ofstream(dir_ / "newline.ndjson") << "\n";
  Fate empty = read({(dir_ / "empty.ndjson").string()});
  EXPECT_EQ(empty.counts.total, 0u);
  EXPECT_TRUE(empty.failures.empty());
  Fate nl = read({(dir_ / "newline.ndjson").string()});
  EXPECT_EQ(nl.counts.total, 1u);
  EXPECT_EQ(nl.counts.non_record, 1u);
}

TEST_F(HostileInput, UnreadableFileAndDirectoryAsAFileFailWhileTheOthersLoad) {
  const fs::path good = dir_ / "good.ndjson";
  std::ofstream(good) << kGoodBefore << "\n";
  fs::create_directories(dir_ / "a-directory.ndjson");
  // /proc/self/mem opens but fails at the first read (EIO), even for root.
  Fate f = read({"/proc/self/mem", (dir_ / "a-directory.ndjson").string(), good.string()});
  EXPECT_EQ(f.messages, std::vector<std::string>{"before"});
  ASSERT_EQ(f.failures.size(), 2u);
  EXPECT_NE(std::string(f.failures[0].what()).find("/proc/self/mem"), std::string::npos);
  EXPECT_NE(std::string(f.failures[1].what()).find("a-directory.ndjson"), std::string::npos);
}

}  // namespace
}  // namespace edpipe::ingest
