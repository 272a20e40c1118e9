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

const std::string kRecord =
    R"({"type":"invocation.end","ts":"2026-11-20T10:15:00Z","invocation_id":"550e8400-e29b-41d4-a716-446655440000","status":"completed"})";

class TraceReaderTest : public testing::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& content) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name, std::ios::binary) << content;
    return (dir_ / name).string();
  }
  static std::string gzip(const std::string& data) {
    std::string out(compressBound(data.size()) + 64, '\0');
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = data.size();
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = out.size();
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
  }
  static LineCounts read_all(TraceReader& reader, std::vector<RejectedLine>* rejected = nullptr) {
    LineCounts total;
    IngestBatch b;
    while (reader.next(b)) {
      total += b.counts;
      if (rejected) rejected->insert(rejected->end(), b.rejected.begin(), b.rejected.end());
    }
    return total;
  }
};

TEST_F(TraceReaderTest, DirectoryPicksTraceFilesRecursivelyInPathOrder) {
  write("b.ndjson", kRecord + "\n");
  write("a.log", kRecord + "\n");
  write("sub/c.jsonl", kRecord + "\n");
  write("d.ndjson.gz", gzip(kRecord + "\n"));
  write("notes.txt", "ignored\n");
  auto set = expand_inputs({dir_.string()});
  ASSERT_TRUE(set.errors.empty());
  std::vector<std::string> names;
  for (const auto& in : set.inputs) names.push_back(fs::path(in.path).filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"a.log", "b.ndjson", "d.ndjson.gz", "c.jsonl"}));
  TraceReader reader(set.inputs);
  EXPECT_EQ(read_all(reader).records, 4u);
}

TEST_F(TraceReaderTest, GlobPatternsAndMissingFiles) {
  write("x-1.ndjson", kRecord + "\n");
  write("x-2.ndjson", kRecord + "\n");
  auto set = expand_inputs({(dir_ / "x-*.ndjson").string(), (dir_ / "missing.ndjson").string(), (dir_ / "y-*").string()});
  EXPECT_EQ(set.inputs.size(), 2u);
  ASSERT_EQ(set.errors.size(), 2u);
  EXPECT_NE(set.errors[0].find("missing.ndjson: No such file"), std::string::npos);
  EXPECT_NE(set.errors[1].find("no file matches"), std::string::npos);
}

TEST_F(TraceReaderTest, MultiMemberGzipWithoutFinalNewline) {
  write("m.ndjson.gz", gzip(kRecord + "\nplain\n") + gzip(kRecord));
  TraceReader reader({{(dir_ / "m.ndjson.gz").string(), std::nullopt}});
  auto c = read_all(reader);
  EXPECT_EQ(c.total, 3u);
  EXPECT_EQ(c.records, 2u);
  EXPECT_TRUE(reader.failures().empty());
}

TEST_F(TraceReaderTest, GzipByContentEvenWithoutSuffix) {
  write("g.log", gzip(kRecord + "\n"));
  TraceReader reader({{(dir_ / "g.log").string(), std::nullopt}});
  EXPECT_EQ(read_all(reader).records, 1u);
}

TEST_F(TraceReaderTest, TruncatedGzipKeepsTheGoodPartAndNamesFileAndOffset) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += kRecord + "\n";
  std::string gz = gzip(body);
  write("t.ndjson.gz", gz.substr(0, gz.size() / 2));
  write("after.ndjson", kRecord + "\n");
  TraceReader reader({{(dir_ / "t.ndjson.gz").string(), std::nullopt}, {(dir_ / "after.ndjson").string(), std::nullopt}});
  auto c = read_all(reader);
  EXPECT_GT(c.records, 100u);
  EXPECT_LT(c.records, 5001u);
  ASSERT_EQ(reader.failures().size(), 1u);
  std::string what = reader.failures()[0].what();
  EXPECT_NE(what.find("t.ndjson.gz"), std::string::npos) << what;
  EXPECT_NE(what.find("truncated gzip"), std::string::npos) << what;
  EXPECT_NE(what.find("byte"), std::string::npos) << what;
}

TEST_F(TraceReaderTest, CorruptGzipIsAnInputFailure) {
  std::string gz = gzip(kRecord + "\n" + kRecord + "\n");
  gz[gz.size() / 2] ^= 0x5a;
  gz[gz.size() / 2 + 1] ^= 0x3c;
  write("c.ndjson.gz", gz);
  TraceReader reader({{(dir_ / "c.ndjson.gz").string(), std::nullopt}});
  read_all(reader);
  ASSERT_EQ(reader.failures().size(), 1u);
  EXPECT_NE(std::string(reader.failures()[0].what()).find("c.ndjson.gz"), std::string::npos);
}

TEST_F(TraceReaderTest, LinesAddUpAndOverlongLinesAreRejected) {
  std::string big = "{\"message\":\"" + std::string(kMaxLineBytes + 10, 'q') + "\"}";
  write("big.ndjson", kRecord + "\n" + big + "\nplain\n" + kRecord);
  TraceReader reader({{(dir_ / "big.ndjson").string(), std::nullopt}});
  std::vector<RejectedLine> rejected;
  auto c = read_all(reader, &rejected);
  EXPECT_EQ(c.total, 4u);
  EXPECT_EQ(c.records, 2u);
  EXPECT_EQ(c.non_record, 1u);
  EXPECT_EQ(c.rejected, 1u);
  EXPECT_TRUE(c.adds_up());
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].reason, RejectReason::LineTooLong);
  EXPECT_EQ(rejected[0].pos.line, 2u);
  EXPECT_EQ(rejected[0].raw_size, big.size());
}

TEST_F(TraceReaderTest, UnreadableInputsAreFailuresNotCrashes) {
  auto set = expand_inputs({dir_.string() + "/nope"});
  EXPECT_EQ(set.errors.size(), 1u);
  TraceReader reader({{"/definitely/not/here.ndjson", std::nullopt}, {dir_.string(), std::nullopt}});
  read_all(reader);
  EXPECT_EQ(reader.failures().size(), 2u);  // a missing file, and a directory read as a file
}

}  // namespace
}  // namespace edpipe::ingest
