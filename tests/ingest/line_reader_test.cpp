#include <gtest/gtest.h>

#include "ingest/line_reader.h"
#include "test_support.h"

namespace edpipe::ingest {
namespace {
using testing::StringSource;

struct Collected {
  std::vector<std::string> lines;
  std::vector<uint64_t> line_numbers;
  std::vector<uint64_t> offsets;
  std::vector<OverlongLine> overlong;
};

Collected read_all(const std::string& data, size_t chunk, size_t read_size, size_t max_line) {
  StringSource src(data, chunk);
  LineReader reader(src, read_size, max_line);
  Collected c;
  LineBlock b;
  while (reader.next(b, c.overlong)) {
    uint64_t n = b.first_line, off = b.offset;
    std::string_view s(b.data, b.size);
    uint64_t counted = 0;
    while (!s.empty()) {
      size_t nl = s.find('\n');
      std::string_view line = s.substr(0, nl);
      c.lines.emplace_back(line);
      c.line_numbers.push_back(n++);
      c.offsets.push_back(off);
      ++counted;
      const size_t step = nl == std::string_view::npos ? s.size() : nl + 1;
      off += step;
      s.remove_prefix(step);
    }
    EXPECT_EQ(counted, b.line_count);
  }
  return c;
}

TEST(LineReader, WholeLinesAcrossReadsWithNumbersAndOffsets) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += "line " + std::to_string(i) + "\n";
  for (size_t chunk : {size_t(1), size_t(7), size_t(4096), SIZE_MAX}) {
    auto c = read_all(data, chunk, 64, 1024);
    ASSERT_EQ(c.lines.size(), 1000u) << chunk;
    EXPECT_EQ(c.lines[999], "line 999");
    EXPECT_EQ(c.line_numbers[999], 1000u);
    EXPECT_EQ(c.offsets[10], data.find("line 10\n"));
  }
}

// simdjson looks at the byte after a document; after the input's last line that byte is the
// block's padding, which must not hold what an earlier read left in the buffer.
TEST(LineReader, ThePaddingAfterTheLastLineIsBlanksNotAnEarlierReadsBytes) {
  StringSource src("xxxxxxxxxxxxxx}\n{\"a\":[1}", SIZE_MAX);
  LineReader reader(src, 16, 1024);
  std::vector<OverlongLine> overlong;
  LineBlock b;
  ASSERT_TRUE(reader.next(b, overlong));
  ASSERT_EQ(std::string_view(b.data, b.size), "xxxxxxxxxxxxxx}\n");
  ASSERT_TRUE(reader.next(b, overlong));
  ASSERT_EQ(std::string_view(b.data, b.size), "{\"a\":[1}");
  EXPECT_EQ(std::string(b.data + b.size, kBlockPadding), std::string(kBlockPadding, ' '));
  EXPECT_FALSE(reader.next(b, overlong));
}

TEST(LineReader, LastLineWithoutNewlineStillCounts) {
  auto c = read_all("a\nb\nlast", SIZE_MAX, 64, 1024);
  ASSERT_EQ(c.lines.size(), 3u);
  EXPECT_EQ(c.lines[2], "last");
  EXPECT_EQ(c.line_numbers[2], 3u);
}

TEST(LineReader, EmptyInputAndLoneNewline) {
  EXPECT_TRUE(read_all("", SIZE_MAX, 64, 1024).lines.empty());
  auto c = read_all("\n", SIZE_MAX, 64, 1024);
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0], "");
}

TEST(LineReader, LinesBeyondTheLimitAreSkippedAndReportedNeverStalling) {
  std::string big(5000, 'x');
  std::string data = "first\n" + big + "\nafter\n" + big + "y";  // the last one also without newline
  for (size_t chunk : {size_t(3), size_t(100), SIZE_MAX}) {
    auto c = read_all(data, chunk, 64, 1000);
    ASSERT_EQ(c.lines.size(), 2u) << chunk;
    EXPECT_EQ(c.lines[0], "first");
    EXPECT_EQ(c.lines[1], "after");
    EXPECT_EQ(c.line_numbers[1], 3u);
    EXPECT_EQ(c.offsets[1], 6u + 5001u);
    ASSERT_EQ(c.overlong.size(), 2u);
    EXPECT_EQ(c.overlong[0].line, 2u);
    EXPECT_EQ(c.overlong[0].size, 5000u);
    EXPECT_EQ(c.overlong[0].offset, 6u);
    EXPECT_EQ(c.overlong[1].line, 4u);
    EXPECT_EQ(c.overlong[1].size, 5001u);
  }
}

TEST(LineReader, LineExactlyAtTheLimitIsKept) {
  std::string at(1000, 'z');
  auto c = read_all(at + "\nnext\n", 13, 64, 1000);
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0].size(), 1000u);
  EXPECT_TRUE(c.overlong.empty());
}

}  // namespace
}  // namespace edpipe::ingest
