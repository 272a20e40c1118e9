#include <gtest/gtest.h>

#include <map>
#include <random>

#include "transform/uuid_map.h"

namespace edpipe::transform {
namespace {

Uuid uuid_of(uint64_t a, uint64_t b) {
  Uuid u;
  std::memcpy(u.bytes.data(), &a, 8);
  std::memcpy(u.bytes.data() + 8, &b, 8);
  return u;
}

struct Entry {
  uint32_t n = 7;  // a value-initialised entry keeps its member initialisers
  int64_t sum = 0;
};

// Against std::map over many growths: every key found with its value, none twice, none lost.
TEST(UuidMap, AgreesWithStdMapAcrossGrowths) {
  UuidMap<Entry> map;
  std::map<Uuid, int64_t> model;
  std::vector<Uuid> first_seen;  // the keys in insertion order
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    // A small key space: many repeats; the nil UUID and keys that collide in their low bits too.
    const uint64_t k = rng() % 60000;
    const Uuid key = k == 0 ? Uuid{} : uuid_of(k << 20, k % 3);
    bool inserted;
    Entry& e = map.get(key, inserted);
    EXPECT_EQ(inserted, !model.count(key));
    if (inserted) {
      EXPECT_EQ(e.n, 7u);
      first_seen.push_back(key);
    }
    e.sum += i;
    model[key] += i;
  }
  ASSERT_EQ(map.size(), model.size());
  size_t visited = 0;
  map.for_each([&](const Uuid& key, const Entry& e) {
    ++visited;
    auto it = model.find(key);
    ASSERT_NE(it, model.end());
    EXPECT_EQ(e.sum, it->second);
  });
  EXPECT_EQ(visited, model.size());
  // A key's insertion number names it (the tally's invocation indices).
  for (size_t n = 0; n < first_seen.size(); ++n) ASSERT_EQ(map.key_at(n), first_seen[n]) << n;
  for (const auto& [key, sum] : model) {
    const Entry* e = map.find(key);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->sum, sum);
  }
  EXPECT_EQ(map.find(uuid_of(1, 1)), nullptr);
}

TEST(UuidMap, ReserveAfterInsertsKeepsEverythingAndMovesKeepTheTable) {
  UuidMap<int64_t> map;
  EXPECT_EQ(map.find(uuid_of(1, 2)), nullptr);  // an empty map answers without a table
  bool inserted;
  for (uint64_t k = 1; k <= 100; ++k) map.get(uuid_of(k, k), inserted) = static_cast<int64_t>(k);
  map.reserve(100000);
  UuidMap<int64_t> moved(std::move(map));
  ASSERT_EQ(moved.size(), 100u);
  for (uint64_t k = 1; k <= 100; ++k) {
    ASSERT_NE(moved.find(uuid_of(k, k)), nullptr);
    EXPECT_EQ(*moved.find(uuid_of(k, k)), static_cast<int64_t>(k));
  }
  EXPECT_EQ(moved.get(uuid_of(5, 5), inserted), 5);
  EXPECT_FALSE(inserted);
}

}  // namespace
}  // namespace edpipe::transform
