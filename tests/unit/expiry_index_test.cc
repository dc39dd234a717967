// ExpiryIndex against a std::unordered_map oracle: inserts, updates and deletes in random
// order across many grow/shrink cycles (backward-shift deletion must keep every
// remaining member reachable), and Random only ever answers members.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <unordered_map>
#include <vector>

#include "host/expiry_index.h"
#include "host/keyspace.h"

namespace ferrite::host {
namespace {

// Fake entries: only their addresses matter to the index (16-byte aligned like malloc's).
struct alignas(16) Fake {
  char pad[16];
};

TEST(ExpiryIndex, EmptyIndex) {
  ExpiryIndex ix;
  std::mt19937_64 rng(1);
  Fake f{};
  EXPECT_EQ(ix.Get(reinterpret_cast<Entry*>(&f)), -1);
  EXPECT_FALSE(ix.Erase(reinterpret_cast<Entry*>(&f)));
  EXPECT_EQ(ix.Random(rng), nullptr);
  EXPECT_EQ(ix.size(), 0u);
}

TEST(ExpiryIndex, MatchesAnOracleThroughGrowAndShrink) {
  std::vector<Fake> pool(5000);
  auto at = [&](size_t i) { return reinterpret_cast<Entry*>(&pool[i]); };
  ExpiryIndex ix;
  std::unordered_map<Entry*, int64_t> oracle;
  std::mt19937_64 rng(42);
  for (int round = 0; round < 4; round++) {
    // Fill most of the pool, updating some times along the way...
    for (int op = 0; op < 20000; op++) {
      Entry* e = at(rng() % pool.size());
      int64_t t = static_cast<int64_t>(rng() % 1000000);
      ix.Set(e, t);
      oracle[e] = t;
    }
    ASSERT_EQ(ix.size(), oracle.size());
    for (auto& [e, t] : oracle) ASSERT_EQ(ix.Get(e), t);
    EXPECT_LE(ix.size() * 4, ix.capacity() * 3);  // load stays at most 3/4
    for (int i = 0; i < 1000; i++) ASSERT_TRUE(oracle.count(ix.Random(rng)));
    // ...then empty it in random order, checking everything left at intervals.
    std::vector<Entry*> keys;
    for (auto& [e, t] : oracle) keys.push_back(e);
    std::shuffle(keys.begin(), keys.end(), rng);
    for (size_t i = 0; i < keys.size(); i++) {
      ASSERT_TRUE(ix.Erase(keys[i]));
      oracle.erase(keys[i]);
      ASSERT_FALSE(ix.Erase(keys[i]));
      if (i % 500 == 0) {
        for (auto& [e, t] : oracle) ASSERT_EQ(ix.Get(e), t);
      }
    }
    EXPECT_EQ(ix.size(), 0u);
    EXPECT_LE(ix.capacity(), 32u);  // shrank back
  }
}

TEST(ExpiryIndex, ClearForgetsEverything) {
  std::vector<Fake> pool(100);
  ExpiryIndex ix;
  for (auto& f : pool) ix.Set(reinterpret_cast<Entry*>(&f), 7);
  ix.Clear();
  EXPECT_EQ(ix.size(), 0u);
  EXPECT_EQ(ix.Get(reinterpret_cast<Entry*>(&pool[3])), -1);
  ix.Set(reinterpret_cast<Entry*>(&pool[3]), 9);
  EXPECT_EQ(ix.Get(reinterpret_cast<Entry*>(&pool[3])), 9);
}

}  // namespace
}  // namespace ferrite::host
