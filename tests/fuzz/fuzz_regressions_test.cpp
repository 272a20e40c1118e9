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

// `variants`: how many selector values (the first byte, in steps of kFramings) each input is replayed
// with; record_reader's pick simdjson's stage-1 implementations.
size_t replay(const char* target, void (*entry)(const uint8_t*, size_t), size_t variants = 1) {
  const fs::path dir = fs::path(EDPIPE_FUZZ_REGRESSIONS) / target;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == ".gitkeep") continue;
    std::ifstream f(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (bytes.empty()) continue;
    const auto first = static_cast<uint8_t>(bytes[0]);
    for (size_t k = 0; k < variants; ++k) {
      if (variants > 1) bytes[0] = static_cast<char>(first % fuzz::kFramings + fuzz::kFramings * k);
      SCOPED_TRACE(e.path().string() + " selector " + std::to_string(static_cast<uint8_t>(bytes[0])));
      entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    ++n;
  }
  ::testing::Test::RecordProperty("inputs", static_cast<int>(n));
  return n;
}

TEST(FuzzRegressions, RecordReaderUnderEveryStage1Implementation) {
  ASSERT_GE(fuzz::stage1_choices(), 2u);  // the fallback and at least one SIMD kernel
  EXPECT_GE(replay("record_reader", fuzz::record_reader, fuzz::stage1_choices()), 12u);
}
TEST(FuzzRegressions, Transform) { EXPECT_GE(replay("transform", fuzz::transform), 3u); }

}  // namespace
}  // namespace edpipe
