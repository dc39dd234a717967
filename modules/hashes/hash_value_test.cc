// Data-structure tests for HashValue and its table: no host involved.
#include "hash_value.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace ferrite::mod::hashes {
namespace {

std::map<std::string, std::string> All(const HashValue& h) {
  std::map<std::string, std::string> m;
  h.ForEach([&](std::string_view f, std::string_view v) { m[std::string(f)] = v; });
  return m;
}

TEST(HashValue, SetGetDelCompact) {
  HashValue h;
  Limits lim;
  EXPECT_TRUE(h.Set("a", "1", lim));
  EXPECT_TRUE(h.Set("b", "", lim));
  EXPECT_FALSE(h.Set("a", "longer value", lim));
  std::string_view v;
  ASSERT_TRUE(h.Get("a", &v));
  EXPECT_EQ(v, "longer value");
  ASSERT_TRUE(h.Get("b", &v));
  EXPECT_EQ(v, "");
  EXPECT_FALSE(h.Get("c", &v));
  EXPECT_STREQ(h.Encoding(), "listpack");
  EXPECT_TRUE(h.Del("a"));
  EXPECT_FALSE(h.Del("a"));
  EXPECT_EQ(h.Size(), 1u);
  EXPECT_TRUE(h.Del("b"));
  EXPECT_EQ(h.Size(), 0u);
}

TEST(HashValue, ConvertsAtEntryLimit) {
  HashValue h;
  Limits lim{4, 64};
  for (int i = 0; i < 4; i++) h.Set("f" + std::to_string(i), "v", lim);
  EXPECT_STREQ(h.Encoding(), "listpack");
  h.Set("f4", "v", lim);
  EXPECT_STREQ(h.Encoding(), "hashtable");
  EXPECT_EQ(h.Size(), 5u);
  EXPECT_EQ(All(h).size(), 5u);
}

TEST(HashValue, ConvertsOnLongFieldOrValue) {
  Limits lim{128, 8};
  HashValue a, b;
  a.Set("f", "123456789", lim);
  EXPECT_STREQ(a.Encoding(), "hashtable");
  b.Set("123456789", "v", lim);
  EXPECT_STREQ(b.Encoding(), "hashtable");
  HashValue c;
  c.Set("f", "12345678", lim);
  EXPECT_STREQ(c.Encoding(), "listpack");
}

TEST(HashValue, TableMatchesModelUnderChurn) {
  HashValue h;
  Limits lim{16, 64};
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; i++) {
    std::string f = "f" + std::to_string(rng() % 3000);
    if (rng() % 3 == 0) {
      EXPECT_EQ(h.Del(f), model.erase(f) == 1);
    } else {
      std::string v(rng() % 10, 'x');
      EXPECT_EQ(h.Set(f, v, lim), !model.count(f));
      model[f] = v;
    }
  }
  EXPECT_EQ(All(h), model);
}

TEST(HashValue, ScanCoversEverythingWhileTableGrows) {
  HashValue h;
  Limits lim{1, 64};
  for (int i = 0; i < 100; i++) h.Set("orig" + std::to_string(i), "v", lim);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = h.Scan(cursor, [&](std::string_view f, std::string_view) { seen.emplace(f); });
    // Grow the table mid-scan: fields present from the start must still all be seen.
    if (step < 30) {
      for (int k = 0; k < 20; k++) h.Set("new" + std::to_string(step * 20 + k), "v", lim);
    }
    step++;
  } while (cursor != 0);
  for (int i = 0; i < 100; i++) EXPECT_TRUE(seen.count("orig" + std::to_string(i))) << i;
}

TEST(HashValue, ScanCoversEverythingWhileTableShrinks) {
  HashValue h;
  Limits lim{1, 64};
  for (int i = 0; i < 2000; i++) h.Set("x" + std::to_string(i), "v", lim);
  for (int i = 0; i < 50; i++) h.Set("keep" + std::to_string(i), "v", lim);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int removed = 0;
  do {
    cursor = h.Scan(cursor, [&](std::string_view f, std::string_view) { seen.emplace(f); });
    for (int k = 0; k < 100 && removed < 2000; k++) h.Del("x" + std::to_string(removed++));
  } while (cursor != 0);
  for (int i = 0; i < 50; i++) EXPECT_TRUE(seen.count("keep" + std::to_string(i))) << i;
}

TEST(HashValue, CompactScanReturnsAllWithCursorZero) {
  HashValue h;
  Limits lim;
  h.Set("a", "1", lim);
  h.Set("b", "2", lim);
  int n = 0;
  EXPECT_EQ(h.Scan(0, [&](std::string_view, std::string_view) { n++; }), 0u);
  EXPECT_EQ(n, 2);
}

TEST(HashValue, FieldTtlsExpireAndReportEncoding) {
  HashValue h;
  Limits lim;
  h.Set("a", "1", lim);
  h.Set("b", "2", lim);
  h.SetExpire("a", 100);
  EXPECT_STREQ(h.Encoding(), "listpackex");
  EXPECT_EQ(h.GetExpire("a"), 100);
  EXPECT_EQ(h.GetExpire("b"), -1);
  std::vector<std::string> gone;
  h.ExpireDue(99, &gone);
  EXPECT_TRUE(gone.empty());
  h.ExpireDue(100, &gone);
  EXPECT_EQ(gone, std::vector<std::string>{"a"});
  EXPECT_EQ(h.Size(), 1u);
  EXPECT_STREQ(h.Encoding(), "listpack");
}

TEST(HashValue, SetClearsTtlUnlessKept) {
  HashValue h;
  Limits lim;
  h.Set("a", "1", lim);
  h.SetExpire("a", 100);
  h.Set("a", "2", lim, HashValue::Ttl::kKeep);
  EXPECT_EQ(h.GetExpire("a"), 100);
  h.Set("a", "3", lim);
  EXPECT_EQ(h.GetExpire("a"), -1);
  h.SetExpire("a", 50);
  EXPECT_TRUE(h.Persist("a"));
  EXPECT_FALSE(h.Persist("a"));
}

TEST(HashValue, CloneIsDeepForBothEncodings) {
  Limits lim{2, 64};
  for (int n : {2, 10}) {
    HashValue h;
    for (int i = 0; i < n; i++) h.Set("f" + std::to_string(i), "v", lim);
    h.SetExpire("f0", 5);
    std::unique_ptr<HashValue> c(h.Clone());
    h.Set("f0", "changed", lim);
    std::string_view v;
    ASSERT_TRUE(c->Get("f0", &v));
    EXPECT_EQ(v, "v");
    EXPECT_EQ(c->GetExpire("f0"), 5);
    EXPECT_EQ(All(*c).size(), static_cast<size_t>(n));
  }
}

TEST(HashValue, RandomReturnsMembers) {
  Limits lim{4, 64};
  for (int n : {3, 50}) {
    HashValue h;
    for (int i = 0; i < n; i++) h.Set("f" + std::to_string(i), std::to_string(i), lim);
    std::mt19937_64 rng(1);
    std::set<std::string> seen;
    for (int i = 0; i < 2000; i++) {
      auto nv = h.Random(rng);
      std::string_view v;
      ASSERT_TRUE(h.Get(nv.field, &v));
      EXPECT_EQ(v, nv.value);
      seen.emplace(nv.field);
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(n));
  }
}

// Every field equally likely, whatever its chain: 10 fields in a table (some share a
// bucket), 100000 draws each within 10% of the mean. A random bucket then a random chain
// position fails this (fields alone in their bucket come up about twice as often).
TEST(HashValue, RandomIsUniformAcrossChains) {
  Limits lim{4, 64};
  HashValue h;
  for (int i = 0; i < 10; i++) h.Set("field" + std::to_string(i), "v", lim);
  std::mt19937_64 rng(7);
  std::map<std::string, int> hits;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; i++) hits[std::string(h.Random(rng).field)]++;
  ASSERT_EQ(hits.size(), 10u);
  for (const auto& [f, n] : hits) {
    EXPECT_GT(n, kDraws / 10 * 9 / 10) << f;
    EXPECT_LT(n, kDraws / 10 * 11 / 10) << f;
  }
}

// --- the host's representation: packed block vs HashValue ------------------------

// A small TTL-less hash as the host would hold it (a tagged packed block).
void* SmallRep() {
  auto* h = new HashValue();
  Limits lim;
  h->Set("a", "1", lim);
  h->Set("b", "2", lim);
  return HashValue::ToRep(h);
}

std::map<std::string, std::string> AllRep(const void* rep) {
  HashValue storage;
  return All(*HashValue::View(rep, &storage));
}

TEST(HashRep, SmallTtlLessHashIsOneTaggedBlock) {
  void* rep = SmallRep();
  EXPECT_TRUE(HashValue::IsPacked(rep));
  EXPECT_EQ(AllRep(rep), (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  HashValue storage;
  EXPECT_STREQ(HashValue::View(rep, &storage)->Encoding(), "listpack");
  // header (8) + 4 strings of 1+1 bytes: the whole hash is one small malloc block
  EXPECT_LT(HashValue::RepMemUsage(rep), 32u);
  HashValue::FreeRep(rep);
}

TEST(HashRep, InPlaceEditKeepsTheBlock) {
  void* rep = SmallRep();
  HashValue storage;
  HashValue* h = HashValue::View(rep, &storage);
  EXPECT_FALSE(h->Set("a", "9", Limits{}));  // same size: edited in the host's block
  EXPECT_EQ(HashValue::Settle(h, rep), rep);
  EXPECT_EQ(AllRep(rep).at("a"), "9");
  HashValue::FreeRep(rep);
}

TEST(HashRep, GrowthMovesToANewBlockAndLeavesTheOldIntact) {
  void* rep = SmallRep();
  HashValue storage;
  HashValue* h = HashValue::View(rep, &storage);
  EXPECT_TRUE(h->Set("c", "3", Limits{}));
  void* now = HashValue::Settle(h, rep);
  ASSERT_NE(now, rep);
  EXPECT_TRUE(HashValue::IsPacked(now));
  EXPECT_EQ(AllRep(rep).size(), 2u);  // the host's old block is still whole until freed
  EXPECT_EQ(AllRep(now).size(), 3u);
  HashValue::FreeRep(rep);
  EXPECT_EQ(AllRep(now).at("c"), "3");
  HashValue::FreeRep(now);
}

TEST(HashRep, TtlOrTableMakesAHashValueAndPersistPacksAgain) {
  void* rep = SmallRep();
  HashValue storage;
  HashValue* h = HashValue::View(rep, &storage);
  h->SetExpire("a", 1000);
  void* now = HashValue::Settle(h, rep);
  ASSERT_FALSE(HashValue::IsPacked(now));
  HashValue::FreeRep(rep);  // what key_set_value does with the old rep
  auto* hv = static_cast<HashValue*>(now);
  EXPECT_EQ(hv->GetExpire("a"), 1000);
  EXPECT_STREQ(hv->Encoding(), "listpackex");
  EXPECT_EQ(All(*hv).size(), 2u);
  EXPECT_TRUE(hv->Persist("a"));
  void* packed = HashValue::Settle(hv, now);
  ASSERT_TRUE(HashValue::IsPacked(packed));
  HashValue::FreeRep(now);
  EXPECT_EQ(AllRep(packed).size(), 2u);
  // Over the entry limit: a table, which is never packed.
  HashValue storage2;
  HashValue* v = HashValue::View(packed, &storage2);
  v->Set("c", "3", Limits{2, 64});
  void* table = HashValue::Settle(v, packed);
  ASSERT_FALSE(HashValue::IsPacked(table));
  HashValue::FreeRep(packed);
  EXPECT_STREQ(static_cast<HashValue*>(table)->Encoding(), "hashtable");
  EXPECT_EQ(AllRep(table).size(), 3u);
  HashValue::FreeRep(table);
}

TEST(HashRep, DeletingEverythingFromAViewLeavesAnEmptyHashValue) {
  void* rep = SmallRep();
  HashValue storage;
  HashValue* h = HashValue::View(rep, &storage);
  h->Del("a");
  h->Del("b");
  void* now = HashValue::Settle(h, rep);
  ASSERT_FALSE(HashValue::IsPacked(now));
  HashValue::FreeRep(rep);
  EXPECT_EQ(static_cast<HashValue*>(now)->Size(), 0u);
  HashValue::FreeRep(now);
}

}  // namespace
}  // namespace ferrite::mod::hashes
