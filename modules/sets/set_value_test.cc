// Data-structure tests for the set value: no host.
#include "set_value.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace ferrite::mod::sets {
namespace {

std::string I(int64_t v) { return std::to_string(v); }

TEST(IntSet, WidthUpgradesKeepOrder) {
  SetPtr s(SetValue::CreateIntSet());
  EXPECT_TRUE(s.Add("5", 512));
  EXPECT_TRUE(s.Add("-3", 512));
  EXPECT_FALSE(s.Add("5", 512));
  EXPECT_EQ(s->IntSetWidth(), 2);
  EXPECT_TRUE(s.Add("100000", 512));  // needs 4 bytes, goes last
  EXPECT_EQ(s->IntSetWidth(), 4);
  EXPECT_TRUE(s.Add(I(INT64_MIN), 512));  // needs 8 bytes, goes first
  EXPECT_EQ(s->IntSetWidth(), 8);
  EXPECT_EQ(s->Members(), (std::vector<std::string>{I(INT64_MIN), "-3", "5", "100000"}));
  EXPECT_TRUE(s->Contains("100000"));
  EXPECT_FALSE(s->Contains(I(INT64_MAX)));
  EXPECT_TRUE(s->Remove("-3"));
  EXPECT_FALSE(s->Remove("-3"));
  EXPECT_EQ(s->Size(), 3u);
  EXPECT_STREQ(s->EncodingName(), "intset");
}

TEST(IntSet, ManyRandomMatchesStdSet) {
  SetPtr s(SetValue::CreateIntSet());
  std::set<int64_t> ref;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 5000; i++) {
    int64_t v = static_cast<int64_t>(rng() % 2000) - 1000;
    if (i == 4000) v = 1 << 20;  // one width upgrade on the way
    if (rng() % 3 == 0) {
      EXPECT_EQ(s->Remove(I(v)), ref.erase(v) == 1);
    } else {
      EXPECT_EQ(s.Add(I(v), 100000), ref.insert(v).second);
    }
  }
  ASSERT_EQ(s->Size(), ref.size());
  std::vector<std::string> want;
  for (int64_t v : ref) want.push_back(I(v));
  EXPECT_EQ(s->Members(), want);
}

// The intset lives in the value's own block: a small one costs one allocation of
// about 4 + n * width bytes, and growing it moves the value (SetPtr follows).
TEST(IntSet, OneTightBlock) {
  SetPtr s(SetValue::CreateIntSet());
  for (int i = 0; i < 10; i++) s.Add(I(i), 512);
  EXPECT_LE(s->MemUsage(), 40u);  // 4 + 10 * 2 bytes, rounded up by malloc
  const SetValue* before = s.get();
  for (int i = 10; i < 200; i++) s.Add(I(i), 512);
  EXPECT_NE(s.get(), before);
  EXPECT_LE(s->MemUsage(), 4u + 200 * 2 + 32);
  EXPECT_EQ(s->Size(), 200u);
}

TEST(IntSet, ShrinkToFitGivesBackTheBlockAfterRemovals) {
  SetPtr s(SetValue::CreateIntSet());
  for (int i = 0; i < 200; i++) s.Add(I(i), 512);
  EXPECT_EQ(s->ShrinkToFit(), s.get());  // nothing to give back
  size_t big = s->MemUsage();
  for (int i = 10; i < 200; i++) ASSERT_TRUE(s->Remove(I(i)));
  EXPECT_EQ(s->MemUsage(), big);  // Remove keeps the block
  s.reset(s->ShrinkToFit());      // the old block is released by reset
  EXPECT_LE(s->MemUsage(), 40u);
  EXPECT_EQ(s->Members(), (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
}

TEST(IntSet, AddLeavesTheOldBlockIntactWhenItMoves) {
  SetValue* v = SetValue::CreateIntSet();
  bool added = false;
  SetValue* cur = v;
  while (cur == v) {
    SetValue* now = v->Add(I(static_cast<int64_t>(v->Size())), 512, &added);
    ASSERT_TRUE(added);
    if (now != v) {
      cur = now;
      break;
    }
  }
  // The old block still holds its members; the new one has one more.
  EXPECT_EQ(cur->Size(), v->Size() + 1);
  EXPECT_TRUE(cur->Contains(I(static_cast<int64_t>(v->Size()))));
  SetValue::Destroy(v);
  SetValue::Destroy(cur);
}

TEST(MemberAsInt, FollowsString2ll) {
  int64_t v;
  EXPECT_TRUE(MemberAsInt("0", &v));
  EXPECT_TRUE(MemberAsInt("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_FALSE(MemberAsInt("9223372036854775808", &v));
  EXPECT_FALSE(MemberAsInt("01", &v));
  EXPECT_FALSE(MemberAsInt("-0", &v));
  EXPECT_FALSE(MemberAsInt("+1", &v));
  EXPECT_FALSE(MemberAsInt(" 1", &v));
  EXPECT_FALSE(MemberAsInt("", &v));
}

TEST(SetValue, IntsetConvertsOnStringMember) {
  SetPtr s(SetValue::Create("1"));
  EXPECT_TRUE(s.Add("1", 512));
  EXPECT_TRUE(s.Add("2", 512));
  EXPECT_STREQ(s->EncodingName(), "intset");
  EXPECT_TRUE(s.Add("a", 512));
  EXPECT_STREQ(s->EncodingName(), "hashtable");
  EXPECT_TRUE(s->Contains("1"));
  EXPECT_TRUE(s->Contains("a"));
  EXPECT_FALSE(s->Contains("01"));
  EXPECT_EQ(s->Size(), 3u);
}

TEST(SetValue, FirstMemberDecidesEncoding) {
  SetPtr s(SetValue::Create("x"));
  EXPECT_STREQ(s->EncodingName(), "hashtable");
  s.Add("1", 512);
  EXPECT_STREQ(s->EncodingName(), "hashtable");
}

TEST(SetValue, IntsetConvertsPastMaxEntriesAndNeverBack) {
  SetPtr s(SetValue::Create("1"));
  for (int i = 0; i < 4; i++) s.Add(std::to_string(i), 4);
  EXPECT_STREQ(s->EncodingName(), "intset");
  s.Add("4", 4);
  EXPECT_STREQ(s->EncodingName(), "hashtable");
  for (int i = 0; i < 5; i++) EXPECT_TRUE(s->Remove(std::to_string(i)));
  EXPECT_EQ(s->Size(), 0u);
  EXPECT_STREQ(s->EncodingName(), "hashtable");
}

TEST(SetValue, IntsetIteratesAscending) {
  SetPtr s(SetValue::Create("3"));
  for (auto m : {"3", "-1", "2", "10"}) s.Add(m, 512);
  EXPECT_EQ(s->Members(), (std::vector<std::string>{"-1", "2", "3", "10"}));
}

// Every member present for the whole scan is returned at least once even though the
// table grows (and later shrinks) between SCAN steps.
TEST(SetValue, ScanSurvivesRehash) {
  SetPtr s(SetValue::Create("m"));
  for (int i = 0; i < 100; i++) s.Add("m" + std::to_string(i), 512);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = s->Scan(cursor, [&](std::string_view m) { seen.emplace(m); });
    if (step++ == 5) {
      for (int i = 100; i < 2000; i++) s.Add("n" + std::to_string(i), 512);
    }
  } while (cursor != 0);
  for (int i = 0; i < 100; i++) EXPECT_TRUE(seen.count("m" + std::to_string(i))) << i;

  // Shrink mid-scan.
  seen.clear();
  cursor = 0;
  step = 0;
  do {
    cursor = s->Scan(cursor, [&](std::string_view m) { seen.emplace(m); });
    if (step++ == 50) {
      for (int i = 100; i < 2000; i++) s->Remove("n" + std::to_string(i));
    }
  } while (cursor != 0);
  for (int i = 0; i < 100; i++) EXPECT_TRUE(seen.count("m" + std::to_string(i))) << i;
}

TEST(SetValue, ScanOfIntsetReturnsAllWithCursorZero) {
  SetPtr s(SetValue::Create("1"));
  for (int i = 0; i < 50; i++) s.Add(std::to_string(i), 512);
  size_t n = 0;
  EXPECT_EQ(s->Scan(0, [&](std::string_view) { n++; }), 0u);
  EXPECT_EQ(n, 50u);
}

TEST(SetValue, RandomReturnsMembers) {
  SetPtr s(SetValue::Create("a"));
  for (auto m : {"a", "b", "c"}) s.Add(m, 512);
  std::set<std::string> seen;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 300; i++) seen.insert(s->Random(rng));
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b", "c"}));
}

// Members sharing a bucket are drawn as often as members alone in theirs (Redis' suite:
// "SRANDMEMBER histogram distribution - hashtable", a chi-square test).
TEST(SetValue, RandomIsUniformAcrossChains) {
  std::vector<std::string> members;
  for (int i = 0; i < 10; i++) members.push_back("member:" + std::to_string(i));
  SetPtr s(SetValue::Create(members[0]));
  for (const auto& m : members) s.Add(m, 512);
  ASSERT_STREQ(s->EncodingName(), "hashtable");
  // Ten members in a 16-bucket table: at least two share a bucket (checked, so the test
  // keeps meaning something if the hash changes).
  std::set<uint64_t> buckets;
  for (const auto& m : members) buckets.insert(HashBytes(m) & 15);
  ASSERT_LT(buckets.size(), members.size());
  std::map<std::string, int> hits;
  std::mt19937_64 rng(7);
  const int kDraws = 100000;
  for (int i = 0; i < kDraws; i++) hits[s->Random(rng)]++;
  ASSERT_EQ(hits.size(), members.size());
  for (const auto& [m, n] : hits) {
    EXPECT_GT(n, kDraws / 10 * 9 / 10) << m;
    EXPECT_LT(n, kDraws / 10 * 11 / 10) << m;
  }
}

TEST(SetValue, CloneIsDeep) {
  SetPtr s(SetValue::Create("a"));
  for (auto m : {"a", "b"}) s.Add(m, 512);
  SetPtr c(s->Clone());
  s->Remove("a");
  EXPECT_TRUE(c->Contains("a"));
  EXPECT_EQ(c->Size(), 2u);
  EXPECT_STREQ(c->EncodingName(), "hashtable");
}

TEST(SetValue, MemUsageGrowsWithContent) {
  SetPtr s(SetValue::Create("a"));
  size_t before = s->MemUsage();
  for (int i = 0; i < 100; i++) s.Add("member:" + std::to_string(i), 512);
  EXPECT_GT(s->MemUsage(), before + 100 * 8);
}

// The table keeps the sum of its keys' lengths as members come and go (SetValue's
// MemUsage reads it: the host asks after every write, so it must not walk the nodes).
// After random inserts and removals it equals a walk's sum.
TEST(ChainedTable, KeyBytesMatchAWalk) {
  ChainedTable<SetNode, SetNodeTraits> t;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 3000; i++) {
    std::string m = "member:" + std::to_string(rng() % 700) + std::string(rng() % 20, 'x');
    if (rng() % 3) {
      if (!t.Find(m)) t.Insert(SetNode::Make(m));
    } else if (SetNode* n = t.Remove(m)) {
      SetNode::Free(n);
    }
    size_t walked = 0;
    t.ForEach([&](SetNode* n) { walked += n->View().size(); });
    ASSERT_EQ(t.KeyBytes(), walked) << i;
  }
  t.Clear([](SetNode* n) { SetNode::Free(n); });
  EXPECT_EQ(t.KeyBytes(), 0u);
}

}  // namespace
}  // namespace ferrite::mod::sets
