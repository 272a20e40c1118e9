// Every input a fuzzer ever crashed on (tests/fuzz/regressions/<target>/) replayed in the normal
// suite: a fixed bug stays fixed. Each folder also holds a seed set (seed-*: every framing, and
// hostile lines), so that a replay that finds nothing to replay fails instead of passing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz_entries.h"

namespace edpipe {
namespace {
namespace fs = std::filesystem;

size_t replay(const char* target, void (*entry)(const uint8_t*, size_t)) {
  const fs::path dir = fs::path(EDPIPE_FUZZ_REGRESSIONS) / target;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == ".gitkeep") continue;
    std::ifstream f(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(e.path().string());
    entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  ::testing::Test::RecordProperty("inputs", static_cast<int>(n));
  return n;
}

TEST(FuzzRegressions, RecordReader) { EXPECT_GE(replay("record_reader", fuzz::record_reader), 11u); }
TEST(FuzzRegressions, Transform) { EXPECT_GE(replay("transform", fuzz::transform), 3u); }

}  // namespace
}  // namespace edpipe
