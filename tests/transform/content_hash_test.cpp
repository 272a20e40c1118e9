#include "transform/content_hash.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace edpipe::transform {
namespace {

Uuid uuid(const char* text) { return *Uuid::parse(text); }

std::string hex(const uint64_t h[2]) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h[0]),
                static_cast<unsigned long long>(h[1]));
  return buf;
}

// The hasher gathers small pieces and hashes long ones where they lie: whatever the pieces, the
// digest is the one-shot hash of their concatenation, at every length mod 16.
TEST(ContentHasher, StreamedDigestEqualsTheOneShotHashOfTheSameBytes) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string all;
    ContentHasher h;
    const int pieces = static_cast<int>(rng() % 12);
    for (int p = 0; p < pieces; ++p) {
      std::string piece(rng() % (round % 3 == 0 ? 600 : 20), '\0');
      for (auto& c : piece) c = static_cast<char>(rng());
      h.raw(piece.data(), piece.size());
      all += piece;
    }
    uint64_t streamed[2], one_shot[2];
    h.digest(streamed);
    murmur3_x64_128(all.data(), all.size(), ContentHasher::kSeed, one_shot);
    ASSERT_EQ(hex(streamed), hex(one_shot)) << "round " << round << ", " << all.size() << " bytes";
    // A digest does not end the stream: more bytes may follow.
    h.raw("x", 1);
    all += 'x';
    h.digest(streamed);
    murmur3_x64_128(all.data(), all.size(), ContentHasher::kSeed, one_shot);
    ASSERT_EQ(hex(streamed), hex(one_shot)) << "round " << round << " after a digest";
  }
}

// MurmurHash3_x64_128 as published (the reference implementation's outputs).
TEST(ContentHasher, MurmurMatchesTheReference) {
  uint64_t h[2];
  murmur3_x64_128("", 0, 0, h);
  EXPECT_EQ(hex(h), "00000000000000000000000000000000");
  murmur3_x64_128("hello", 5, 0, h);
  EXPECT_EQ(hex(h), "cbd8a7b341bd9b025b1e906a48ae1d19");
  murmur3_x64_128("The quick brown fox jumps over the lazy dog", 43, 0, h);
  EXPECT_EQ(hex(h), "e34bbc7bbc071b6c7a433ca9c49a9347");
}

// Ids and ranks are stored: a database loaded by an earlier build merges with what this one
// writes only if every key comes out as it did. These values were written by the build that
// first stored them.
TEST(ContentHasher, StoredKeysAreTheSameAsEver) {
  const Uuid inv = uuid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  const Uuid job = uuid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c");
  EXPECT_EQ(log_row_id_by_seq(inv, 3).str(), "99ca8159-44f0-8b7a-b407-a687e1914b28");
  const Uuid identity = log_identity(inv, job, 1700000000123456, ingest::LogLevel::Warn, "retrying \"x\"",
                                     std::string_view(R"({"b": [1, 2.50, "\u00e9"], "a": null})"), std::string_view("worker"));
  EXPECT_EQ(identity.str(), "bbcc6018-a410-8526-949e-21d6aaeea877");
  EXPECT_EQ(log_row_id(identity, 2).str(), "7d8fb547-b7f8-8315-9067-7ed377faa62c");
  EXPECT_EQ(log_identity(inv, std::nullopt, 0, ingest::LogLevel::Info, "", std::nullopt, std::nullopt).str(), "63e59f64-0d16-8de3-9ca0-5069d3074a83");
  // Invalid JSON is hashed as its text.
  EXPECT_EQ(log_identity(inv, job, 1, ingest::LogLevel::Debug, "m", std::string_view("{nope"), std::nullopt).str(), "efd8868c-9988-8cde-bc33-c95e1c9ca6c4");

  JobLogRow row;
  row.invocation_id = inv;
  row.ts = 1700000000123456;
  row.log.job_execution_id = job;
  row.log.level = ingest::LogLevel::Error;
  row.log.message = "failed";
  row.log.data = std::string_view(R"({"k":1})");
  row.log.seq = 9;
  row.correlation_id = std::string_view("corr-1");
  EXPECT_EQ(content_rank(row), 4347821411908463675LL);

  ingest::InvocationStart start;
  start.source_function = "event-detector-users";
  start.source_table = std::string_view("public.users");
  start.source_event_id = job;
  start.source_event_time = 1700000000000000;
  start.source_event_payload = std::string_view(R"({"op":"UPDATE"})");
  start.auto_load_modules = true;
  start.context = std::string_view("{}");
  EXPECT_EQ(content_rank(start), -6296858708292859149LL);

  ingest::JobEnd end;
  end.job_execution_id = job;
  end.event_execution_id = inv;
  end.job_name = "notify";
  end.status = ingest::Outcome::Failed;
  end.duration_ms = 1234;
  end.error = ingest::ErrorInfo{std::string_view("boom"), std::nullopt};
  EXPECT_EQ(content_rank(end), 7354981081636221345LL);
}

}  // namespace
}  // namespace edpipe::transform
