// Data-structure tests for the set value: no host.
#include "set_value.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace ferrite::mod::sets {
namespace {

TEST(IntSet, WidthUpgradesKeepOrder) {
  IntSet s;
  EXPECT_TRUE(s.Add(5));
  EXPECT_TRUE(s.Add(-3));
  EXPECT_FALSE(s.Add(5));
  EXPECT_EQ(s.Width(), 2);
  EXPECT_TRUE(s.Add(100000));  // needs 4 bytes, goes last
  EXPECT_EQ(s.Width(), 4);
  EXPECT_TRUE(s.Add(INT64_MIN));  // needs 8 bytes, goes first
  EXPECT_EQ(s.Width(), 8);
  ASSERT_EQ(s.Len(), 4u);
  EXPECT_EQ(s.Get(0), INT64_MIN);
  EXPECT_EQ(s.Get(1), -3);
  EXPECT_EQ(s.Get(2), 5);
  EXPECT_EQ(s.Get(3), 100000);
  EXPECT_TRUE(s.Contains(100000));
  EXPECT_FALSE(s.Contains(INT64_MAX));
  EXPECT_TRUE(s.Remove(-3));
  EXPECT_FALSE(s.Remove(-3));
  EXPECT_EQ(s.Len(), 3u);
  EXPECT_EQ(s.Bytes(), 8u + 3 * 8);
}

TEST(IntSet, ManyRandomMatchesStdSet) {
  IntSet s;
  std::set<int64_t> ref;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 5000; i++) {
    int64_t v = static_cast<int64_t>(rng() % 2000) - 1000;
    if (rng() % 3 == 0) {
      EXPECT_EQ(s.Remove(v), ref.erase(v) == 1);
    } else {
      EXPECT_EQ(s.Add(v), ref.insert(v).second);
    }
  }
  ASSERT_EQ(s.Len(), ref.size());
  size_t i = 0;
  for (int64_t v : ref) EXPECT_EQ(s.Get(i++), v);
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
  std::unique_ptr<SetValue> s(SetValue::Create("1"));
  EXPECT_TRUE(s->Add("1", 512));
  EXPECT_TRUE(s->Add("2", 512));
  EXPECT_STREQ(s->EncodingName(), "intset");
  EXPECT_TRUE(s->Add("a", 512));
  EXPECT_STREQ(s->EncodingName(), "hashtable");
  EXPECT_TRUE(s->Contains("1"));
  EXPECT_TRUE(s->Contains("a"));
  EXPECT_FALSE(s->Contains("01"));
  EXPECT_EQ(s->Size(), 3u);
}

TEST(SetValue, FirstMemberDecidesEncoding) {
  std::unique_ptr<SetValue> s(SetValue::Create("x"));
  EXPECT_STREQ(s->EncodingName(), "hashtable");
  s->Add("1", 512);
  EXPECT_STREQ(s->EncodingName(), "hashtable");
}

TEST(SetValue, IntsetConvertsPastMaxEntriesAndNeverBack) {
  std::unique_ptr<SetValue> s(SetValue::Create("1"));
  for (int i = 0; i < 4; i++) s->Add(std::to_string(i), 4);
  EXPECT_STREQ(s->EncodingName(), "intset");
  s->Add("4", 4);
  EXPECT_STREQ(s->EncodingName(), "hashtable");
  for (int i = 0; i < 5; i++) EXPECT_TRUE(s->Remove(std::to_string(i)));
  EXPECT_EQ(s->Size(), 0u);
  EXPECT_STREQ(s->EncodingName(), "hashtable");
}

TEST(SetValue, IntsetIteratesAscending) {
  std::unique_ptr<SetValue> s(SetValue::Create("3"));
  for (auto m : {"3", "-1", "2", "10"}) s->Add(m, 512);
  EXPECT_EQ(s->Members(), (std::vector<std::string>{"-1", "2", "3", "10"}));
}

// Every member present for the whole scan is returned at least once even though the
// table grows (and later shrinks) between SCAN steps.
TEST(SetValue, ScanSurvivesRehash) {
  std::unique_ptr<SetValue> s(SetValue::Create("m"));
  for (int i = 0; i < 100; i++) s->Add("m" + std::to_string(i), 512);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = s->Scan(cursor, [&](std::string_view m) { seen.emplace(m); });
    if (step++ == 5) {
      for (int i = 100; i < 2000; i++) s->Add("n" + std::to_string(i), 512);
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
  std::unique_ptr<SetValue> s(SetValue::Create("1"));
  for (int i = 0; i < 50; i++) s->Add(std::to_string(i), 512);
  size_t n = 0;
  EXPECT_EQ(s->Scan(0, [&](std::string_view) { n++; }), 0u);
  EXPECT_EQ(n, 50u);
}

TEST(SetValue, RandomReturnsMembers) {
  std::unique_ptr<SetValue> s(SetValue::Create("a"));
  for (auto m : {"a", "b", "c"}) s->Add(m, 512);
  std::set<std::string> seen;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 300; i++) seen.insert(s->Random(rng));
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b", "c"}));
}

TEST(SetValue, CloneIsDeep) {
  std::unique_ptr<SetValue> s(SetValue::Create("a"));
  for (auto m : {"a", "b"}) s->Add(m, 512);
  std::unique_ptr<SetValue> c(s->Clone());
  s->Remove("a");
  EXPECT_TRUE(c->Contains("a"));
  EXPECT_EQ(c->Size(), 2u);
  EXPECT_STREQ(c->EncodingName(), "hashtable");
}

TEST(SetValue, MemUsageGrowsWithContent) {
  std::unique_ptr<SetValue> s(SetValue::Create("a"));
  size_t before = s->MemUsage();
  for (int i = 0; i < 100; i++) s->Add("member:" + std::to_string(i), 512);
  EXPECT_GT(s->MemUsage(), before + 100 * 8);
}

}  // namespace
}  // namespace ferrite::mod::sets
