// Data-structure tests for the sorted-set value: no host.
#include "zset_value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace ferrite::mod::zsets {
namespace {

std::vector<std::pair<std::string, double>> All(const ZSetValue& z, Dir dir = Dir::kForward) {
  std::vector<std::pair<std::string, double>> out;
  if (z.Size() == 0) return out;
  z.Walk(dir == Dir::kForward ? 0 : z.Size() - 1, dir, [&](std::string_view m, double s) {
    out.emplace_back(std::string(m), s);
    return true;
  });
  return out;
}

// A reference model: std::set ordered by (score, member).
using Ref = std::set<std::pair<double, std::string>>;

void ExpectSame(const ZSetValue& z, const Ref& ref) {
  ASSERT_EQ(z.Size(), ref.size());
  auto all = All(z);
  size_t i = 0;
  for (auto& [s, m] : ref) {
    EXPECT_EQ(all[i].first, m);
    EXPECT_EQ(all[i].second, s);
    EXPECT_EQ(z.Rank(m), i);
    EXPECT_EQ(z.AtRank(i).first, m);
    i++;
  }
  auto rev = All(z, Dir::kReverse);
  ASSERT_EQ(rev.size(), ref.size());
  EXPECT_EQ(rev.front().first, ref.rbegin()->second);
}

void RandomOps(ZSetPtr& z, const ZLimits& lim, int ops, uint64_t seed) {
  Ref ref;
  std::map<std::string, double> scores;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < ops; i++) {
    std::string m = "m" + std::to_string(rng() % 300);
    double s = static_cast<double>(rng() % 50);
    if (rng() % 4 == 0) {
      bool had = scores.count(m);
      EXPECT_EQ(z->Remove(m), had);
      if (had) {
        ref.erase({scores[m], m});
        scores.erase(m);
      }
    } else {
      if (scores.count(m)) ref.erase({scores[m], m});
      scores[m] = s;
      ref.insert({s, m});
      z.Set(m, s, lim);
    }
  }
  ExpectSame(*z, ref);
}

TEST(ZSetValue, ListpackMatchesModel) {
  ZLimits lim{100000, 64};
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  RandomOps(z, lim, 3000, 1);
  EXPECT_STREQ(z->EncodingName(), "listpack");
}

TEST(ZSetValue, SkiplistMatchesModel) {
  ZLimits lim{0, 64};
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  EXPECT_STREQ(z->EncodingName(), "skiplist");
  RandomOps(z, lim, 5000, 2);
}

TEST(ZSetValue, ConvertsPastEntriesLimit) {
  ZLimits lim{4, 64};
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  for (int i = 0; i < 4; i++) z.Set("m" + std::to_string(i), i, lim);
  EXPECT_STREQ(z->EncodingName(), "listpack");
  z.Set("m4", 4, lim);
  EXPECT_STREQ(z->EncodingName(), "skiplist");
  EXPECT_EQ(z->Size(), 5u);
  EXPECT_EQ(z->Rank("m4"), 4u);
  // Removing does not convert back; a rebuild does when it fits.
  z->Remove("m4");
  EXPECT_STREQ(z->EncodingName(), "skiplist");
  z.ConvertToListpackIfFits(lim);
  EXPECT_STREQ(z->EncodingName(), "listpack");
  EXPECT_EQ(All(*z).front().first, "m0");
}

TEST(ZSetValue, ConvertsOnLongMember) {
  ZLimits lim{128, 8};
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  z.Set("short", 1, lim);
  EXPECT_STREQ(z->EncodingName(), "listpack");
  z.Set("a-member-longer-than-8", 2, lim);
  EXPECT_STREQ(z->EncodingName(), "skiplist");
  EXPECT_EQ(z->Score("short"), 1.0);
}

TEST(ZSetValue, EqualScoresOrderByMemberBytes) {
  ZLimits lim;
  for (size_t entries : {size_t{128}, size_t{0}}) {
    lim.max_entries = entries;
    ZSetPtr z(ZSetValue::Create(lim, 1, 1));
    for (auto m : {"b", "a", "\xff", "ab", ""}) z.Set(m, 0, lim);
    std::vector<std::string> got;
    for (auto& [m, s] : All(*z)) got.push_back(m);
    EXPECT_EQ(got, (std::vector<std::string>{"", "a", "ab", "b", "\xff"}));
  }
}

TEST(ZSetValue, CountWhileGivesRangeBounds) {
  ZLimits lim{0, 64};
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  for (int i = 0; i < 1000; i++) z.Set("m" + std::to_string(i), i, lim);
  EXPECT_EQ(z->CountWhile([](std::string_view, double s) { return s < 10; }), 10u);
  EXPECT_EQ(z->CountWhile([](std::string_view, double s) { return s <= 10; }), 11u);
  EXPECT_EQ(z->CountWhile([](std::string_view, double s) { return true; }), 1000u);
}

TEST(ZSetValue, ScanSkiplistSurvivesGrowth) {
  ZLimits lim{0, 64};
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  for (int i = 0; i < 100; i++) z.Set("m" + std::to_string(i), i, lim);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = z->Scan(cursor, [&](std::string_view m, double) {
      seen.emplace(m);
      return true;
    });
    if (step++ == 3) {
      for (int i = 100; i < 3000; i++) z.Set("n" + std::to_string(i), i, lim);
    }
  } while (cursor != 0);
  for (int i = 0; i < 100; i++) EXPECT_TRUE(seen.count("m" + std::to_string(i))) << i;
}

TEST(ZSetValue, CloneIsDeepInBothEncodings) {
  for (size_t entries : {size_t{128}, size_t{0}}) {
    ZLimits lim{entries, 64};
    ZSetPtr z(ZSetValue::Create(lim, 1, 1));
    z.Set("a", 1, lim);
    z.Set("b", 2, lim);
    ZSetPtr c(z->Clone());
    z->Remove("a");
    EXPECT_EQ(c->Size(), 2u);
    EXPECT_EQ(c->Score("a"), 1.0);
    EXPECT_STREQ(c->EncodingName(), z->EncodingName());
  }
}

TEST(ZSetValue, UpdateInPlaceAndMove) {
  ZLimits lim{0, 64};
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  z.Set("a", 1, lim);
  z.Set("b", 2, lim);
  z.Set("c", 3, lim);
  z.Set("b", 2.5, lim);  // stays between a and c
  EXPECT_EQ(z->Rank("b"), 1u);
  z.Set("a", 10, lim);  // moves to the end
  EXPECT_EQ(z->Rank("a"), 2u);
  EXPECT_EQ(z->Rank("b"), 0u);
}

// The listpack stores integral scores as varints and others as raw doubles: every
// kind must come back bit-identical and in order.
TEST(ZSetValue, ListpackScoresRoundTrip) {
  ZLimits lim;
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  std::vector<double> scores = {0.0, -0.0, 1, -1, 63, -64, 1e15, -1e15, 9007199254740991.0,
                                9007199254740992.0, 1.1, -2.5, 1e300, INFINITY, -INFINITY,
                                4.9e-324};
  for (size_t i = 0; i < scores.size(); i++) z.Set("m" + std::to_string(i), scores[i], lim);
  EXPECT_STREQ(z->EncodingName(), "listpack");
  for (size_t i = 0; i < scores.size(); i++) {
    auto got = z->Score("m" + std::to_string(i));
    ASSERT_TRUE(got.has_value());
    double want = scores[i] == 0 ? 0.0 : scores[i];  // -0 is stored as 0, as in Redis
    EXPECT_EQ(std::memcmp(&*got, &want, sizeof(double)), 0) << scores[i];
  }
  double prev = -INFINITY;
  z->ForEach([&](std::string_view, double s) {
    EXPECT_LE(prev, s);
    prev = s;
    return true;
  });
}

// The listpack lives in the value's own block: 10 short members cost one allocation of
// about 4 + 10 * (1 + 8 + 1) bytes, and growing it moves the value (ZSetPtr follows).
TEST(ZSetValue, ListpackIsOneTightBlock) {
  ZLimits lim;
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  for (int i = 0; i < 10; i++) z.Set("member:" + std::to_string(i), i, lim);
  EXPECT_LE(z->MemUsage(), 104u + 16);  // 104 bytes, rounded up by malloc
  const ZSetValue* before = z.get();
  for (int i = 10; i < 100; i++) z.Set("member:" + std::to_string(i), i, lim);
  EXPECT_NE(z.get(), before);
  EXPECT_EQ(z->Size(), 100u);
  EXPECT_STREQ(z->EncodingName(), "listpack");
}

TEST(ZSetValue, ShrinkToFitGivesBackTheBlockAfterRemovals) {
  ZLimits lim;
  ZSetPtr z(ZSetValue::Create(lim, 1, 1));
  for (int i = 0; i < 100; i++) z.Set("member:" + std::to_string(i), i, lim);
  EXPECT_EQ(z->ShrinkToFit(), z.get());
  size_t big = z->MemUsage();
  for (int i = 10; i < 100; i++) ASSERT_TRUE(z->Remove("member:" + std::to_string(i)));
  EXPECT_EQ(z->MemUsage(), big);
  z.reset(z->ShrinkToFit());
  EXPECT_LE(z->MemUsage(), 104u + 16);
  EXPECT_EQ(z->Size(), 10u);
  EXPECT_EQ(z->Score("member:9"), 9.0);
}

TEST(ZSetValue, SetLeavesAReleasableBlockWhenItMoves) {
  ZLimits lim;
  ZSetValue* z = ZSetValue::Create(lim, 1, 1);
  ZSetValue* now = z;
  for (int i = 0; now == z; i++) now = z->Set("m" + std::to_string(i), i, lim);
  EXPECT_EQ(now->Score("m0"), 0.0);
  ZSetValue::Destroy(z);  // the stale block: only freed
  ZSetValue::Destroy(now);
}

// ZSkipList::MemUsage is a running count (the host asks after every write, so a walk
// made each ZADD O(n)): beyond the fixed part it must equal a walk over the nodes,
// whatever the sequence of inserts, moves and removals.
TEST(ZSkipList, MemUsageCountMatchesAWalk) {
  ZSkipList s;
  auto nodes = [&] {
    size_t b = 0;
    for (const ZNode* x = s.First(); x; x = x->lv[0].forward)
      b += offsetof(ZNode, lv) + sizeof(ZLevel) * x->nlevel + x->len;
    return b;
  };
  for (int i = 0; i < 2000; i++) s.Insert("member:" + std::to_string(i), i);
  const size_t fixed = s.MemUsage() - nodes();
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; i++) {
    std::string m = "member:" + std::to_string(rng() % 2000) + (rng() % 3 ? "" : "-x");
    if (rng() % 2) {
      if (s.Remove(m) && !s.Find(m + "-x")) s.Insert(m + "-x", rng() % 5000);
    } else if (s.Find(m)) {
      s.Update(m, static_cast<double>(rng() % 5000));
    }
    ASSERT_EQ(s.MemUsage() - nodes(), fixed) << i;
  }
}

}  // namespace
}  // namespace ferrite::mod::zsets
