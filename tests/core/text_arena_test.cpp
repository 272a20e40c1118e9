// The arena records and rows view their text in: copies stay put while it grows, absorbing moves
// ownership without moving bytes, and clear() reuses the blocks.
#include "core/text_arena.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/line_reader.h"
#include "test_support.h"

namespace edpipe {
namespace {

bool inside(std::string_view view, const std::string& s) {
  return view.data() >= s.data() && view.data() < s.data() + s.size();
}

TEST(TextArena, CopiesStayValidWhileItGrows) {
  TextArena a(64);
  std::vector<std::string> originals;
  std::vector<std::string_view> kept;
  for (int i = 0; i < 2000; ++i) {
    originals.push_back(std::string(static_cast<size_t>(i % 97), static_cast<char>('a' + i % 26)) + std::to_string(i));
    kept.push_back(a.keep(originals.back()));
  }
  kept.push_back(a.keep(std::string(3 * TextArena::kMaxBlock, 'x')));  // a block of its own
  originals.push_back(std::string(3 * TextArena::kMaxBlock, 'x'));
  for (size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i], originals[i]) << i;
    EXPECT_FALSE(inside(kept[i], originals[i])) << "a copy, not the original";
  }
  EXPECT_GE(a.bytes_held(), 3 * TextArena::kMaxBlock);
}

TEST(TextArena, EmptyAndAbsentTextKeepTheirDifference) {
  TextArena a;
  EXPECT_EQ(a.keep(std::string_view()), "");
  EXPECT_EQ(a.keep(std::optional<std::string_view>()), std::nullopt);
  EXPECT_EQ(a.keep(std::optional<std::string_view>("")), std::optional<std::string_view>(""));
  EXPECT_TRUE(a.empty()) << "empty strings take no room";
}

TEST(TextArena, AbsorbedTextOutlivesTheArenaItCameFrom) {
  TextArena batch(128);
  const std::string_view first = batch.keep("first row's text");
  std::vector<std::string_view> views;
  {
    TextArena invocation(32);
    for (int i = 0; i < 100; ++i) views.push_back(invocation.keep("line " + std::to_string(i)));
    batch.absorb(std::move(invocation));
    EXPECT_TRUE(invocation.empty());
  }  // the invocation's arena is gone; its blocks are the batch's now
  for (int i = 0; i < 100; ++i) EXPECT_EQ(views[static_cast<size_t>(i)], "line " + std::to_string(i));
  EXPECT_EQ(first, "first row's text");
  EXPECT_EQ(batch.keep("after"), "after") << "the batch's own block is still the one filled";
  TextArena moved = std::move(batch);
  EXPECT_EQ(views[99], "line 99");
  EXPECT_TRUE(batch.empty());
}

TEST(TextArena, ClearReusesItsBlocks) {
  TextArena a(1024);
  for (int i = 0; i < 100; ++i) a.keep(std::string(100, 'a'));  // several blocks
  const size_t held = a.bytes_held();
  a.clear();
  EXPECT_EQ(a.bytes_held(), held) << "the blocks are kept";
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 100; ++i) a.keep(std::string(100, 'b'));
    EXPECT_EQ(a.bytes_held(), held) << "refilling the same amount allocates nothing";
    a.clear();
  }
}

}  // namespace
}  // namespace edpipe

#ifdef EDPIPE_ASAN
// Under AddressSanitizer (scripts/test's second pass), a view kept past its lender's release is
// caught where it is read. These tests exist in that build only: elsewhere nothing is poisoned.
namespace edpipe {
namespace {

TEST(ArenaPoisoning, AViewKeptPastClearIsCaughtWhereItIsRead) {
  TextArena a(64);
  const std::string_view v = a.keep(std::string_view("a view kept past clear"));  // in the 64-byte block
  EXPECT_EQ(__asan_address_is_poisoned(v.data()), 0);
  EXPECT_NE(__asan_address_is_poisoned(v.data() + 48), 0) << "room not handed out is poisoned";
  a.clear();
  EXPECT_NE(__asan_address_is_poisoned(v.data()), 0);
  EXPECT_DEATH(
      {
        volatile char c = v[3];
        (void)c;
      },
      "use-after-poison");
  const std::string_view again = a.keep(std::string_view("reused"));
  EXPECT_EQ(again.data(), v.data()) << "clear() keeps its blocks";
  EXPECT_EQ(__asan_address_is_poisoned(again.data() + again.size() - 1), 0);
}

TEST(ArenaPoisoning, AViewOfAReadBlockIsCaughtOnceTheReaderReadsOn) {
  std::string data;
  for (int i = 0; i < 400; ++i) data += "line " + std::to_string(i) + "\n";
  testing::StringSource src(data, 100);
  ingest::LineReader reader(src, 256, 1024);
  std::vector<ingest::OverlongLine> overlong;
  ingest::LineBlock b;
  ASSERT_TRUE(reader.next(b, overlong));
  const std::string_view first(b.data, 6);
  EXPECT_EQ(first, "line 0");
  while (reader.next(b, overlong)) {
  }
  EXPECT_NE(__asan_address_is_poisoned(first.data()), 0) << "the first block was refilled long ago";
  EXPECT_DEATH(
      {
        volatile char c = first[0];
        (void)c;
      },
      "heap-use-after-free");
}

}  // namespace
}  // namespace edpipe
#endif
