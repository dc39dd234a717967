// Keyspace data-structure tests (no host): table growth, SCAN cursor guarantees, the
// expiry index, shard locking order.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "host/keyspace.h"

namespace ferrite::host {
namespace {

Entry* Add(Table& t, const std::string& k) { return t.Insert(k, HashKey(k)); }

TEST(Table, InsertFindErase) {
  Table t;
  for (int i = 0; i < 1000; i++) Add(t, "k" + std::to_string(i));
  EXPECT_EQ(t.size(), 1000u);
  for (int i = 0; i < 1000; i++) {
    std::string k = "k" + std::to_string(i);
    Entry* e = t.Find(k, HashKey(k));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->key(), k);
  }
  std::string k = "k500";
  t.Erase(t.Find(k, HashKey(k)));
  EXPECT_EQ(t.Find(k, HashKey(k)), nullptr);
  EXPECT_EQ(t.size(), 999u);
}

TEST(Table, ScanVisitsEveryKeyWhileTableGrows) {
  Table t;
  std::set<std::string> original;
  for (int i = 0; i < 100; i++) {
    original.insert("o" + std::to_string(i));
    Add(t, "o" + std::to_string(i));
  }
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = t.Scan(cursor, [&](Entry* e) { seen.insert(std::string(e->key())); });
    // Grow the table (several doublings) between the first calls, as a busy server would.
    if (step < 5)
      for (int i = 0; i < 3000; i++) Add(t, "n" + std::to_string(step) + "_" + std::to_string(i));
    step++;
  } while (cursor != 0);
  EXPECT_GT(t.bucket_count(), 8192u);
  for (auto& k : original) EXPECT_TRUE(seen.count(k)) << k;
}

TEST(Table, ScanVisitsEveryKeyWhileTableShrinks) {
  Table t;
  for (int i = 0; i < 5000; i++) Add(t, "k" + std::to_string(i));
  std::set<std::string> keep;
  for (int i = 0; i < 5000; i += 50) keep.insert("k" + std::to_string(i));
  std::set<std::string> seen;
  uint64_t cursor = 0;
  bool deleted = false;
  do {
    cursor = t.Scan(cursor, [&](Entry* e) { seen.insert(std::string(e->key())); });
    if (!deleted) {
      for (int i = 0; i < 5000; i++) {
        std::string k = "k" + std::to_string(i);
        if (keep.count(k)) continue;
        if (Entry* e = t.Find(k, HashKey(k))) t.Erase(e);
      }
      deleted = true;
    }
  } while (cursor != 0);
  for (auto& k : keep) EXPECT_TRUE(seen.count(k)) << k;
}

TEST(Table, ExpiryIndexTracksSetAndErase) {
  Table t;
  std::mt19937_64 rng(1);
  Entry* a = Add(t, "a");
  Entry* b = Add(t, "b");
  EXPECT_EQ(t.volatile_size(), 0u);
  EXPECT_EQ(t.RandomVolatile(rng), nullptr);
  t.SetExpire(a, 100);
  t.SetExpire(b, 200);
  EXPECT_EQ(t.volatile_size(), 2u);
  t.SetExpire(a, -1);
  EXPECT_EQ(t.volatile_size(), 1u);
  EXPECT_EQ(t.RandomVolatile(rng), b);
  t.Erase(b);
  EXPECT_EQ(t.volatile_size(), 0u);
}

TEST(Table, ExpireOfFollowsSetUpdateAndSwapRemoval) {
  Table t;
  Entry* e[4];
  for (int i = 0; i < 4; i++) e[i] = Add(t, "k" + std::to_string(i));
  EXPECT_EQ(t.ExpireOf(e[0]), -1);
  for (int i = 0; i < 4; i++) t.SetExpire(e[i], 1000 + i);
  t.SetExpire(e[2], 5000);  // update in place
  EXPECT_EQ(t.volatile_size(), 4u);
  t.SetExpire(e[0], -1);  // the last slot moves into slot 0
  t.Erase(e[1]);
  EXPECT_EQ(t.volatile_size(), 2u);
  EXPECT_EQ(t.ExpireOf(e[0]), -1);
  EXPECT_EQ(t.ExpireOf(e[2]), 5000);
  EXPECT_EQ(t.ExpireOf(e[3]), 1003);
  EXPECT_TRUE(t.ExpiredAt(e[3], 1003));
  EXPECT_FALSE(t.ExpiredAt(e[3], 1002));
  EXPECT_FALSE(t.ExpiredAt(e[0], INT64_MAX));  // no expiry: never due
}

// The expiry lives in the table's index, not in the entry: a move carries it explicitly
// (as KeyRenameOrCopy does).
TEST(Table, UnlinkLinkMovesEntryWithMetadata) {
  Table a, b;
  Entry* e = Add(a, "k");
  e->set_flags(7);
  a.SetExpire(e, 42);
  int64_t at = a.ExpireOf(e);
  a.Unlink(e);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.volatile_size(), 0u);
  b.Link(e);
  EXPECT_EQ(b.volatile_size(), 0u);
  b.SetExpire(e, at);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.volatile_size(), 1u);
  EXPECT_EQ(b.ExpireOf(e), 42);
  EXPECT_EQ(b.Find("k", HashKey("k")), e);
  EXPECT_EQ(e->flags(), 7u);
}

// Entries do not keep their hash: growing and shrinking hash every key again.
TEST(Table, EntriesSurviveGrowAndShrink) {
  Table t;
  for (int i = 0; i < 4000; i++) Add(t, "key:" + std::to_string(i));
  size_t grown = t.bucket_count();
  for (int i = 0; i < 4000; i++) {
    if (i % 40 == 0) continue;
    std::string k = "key:" + std::to_string(i);
    t.Erase(t.Find(k, HashKey(k)));
  }
  EXPECT_LT(t.bucket_count(), grown);
  EXPECT_EQ(t.size(), 100u);
  for (int i = 0; i < 4000; i++) {
    std::string k = "key:" + std::to_string(i);
    Entry* e = t.Find(k, HashKey(k));
    if (i % 40 == 0) {
      ASSERT_NE(e, nullptr) << k;
      EXPECT_EQ(e->key(), k);
    } else {
      EXPECT_EQ(e, nullptr) << k;
    }
  }
}

// An inline value's room is what the allocator gave the entry past the key; memcached
// flags live with the string and a module value has none.
TEST(Table, InlineRoomAndStringFlags) {
  Table t;
  Entry* e = t.Insert("abc", HashKey("abc"), 100);
  EXPECT_TRUE(e->value_inline());
  EXPECT_GE(e->str_cap(), 100u);
  EXPECT_EQ(e->flags(), 0u);
  e->set_flags(0xFFFFFFFF);
  EXPECT_EQ(e->flags(), 0xFFFFFFFFu);
  Entry* empty = t.Insert("e", HashKey("e"));
  EXPECT_EQ(empty->str_cap(), 0u);
  Table::FreeValue(e);
  EXPECT_EQ(e->str_cap(), 0u);
  EXPECT_EQ(e->flags(), 0xFFFFFFFFu);  // a string rewrite does not reset them by itself
  static ferrite_type kType{};
  ASSERT_TRUE(AssignTypeId(&kType));
  e->set_module(&kType, nullptr);
  EXPECT_EQ(e->mod_type(), &kType);
  EXPECT_EQ(e->flags(), 0u);
  e->set_flags(5);  // ignored
  EXPECT_EQ(e->mod.ptr, nullptr);
  e->kind = ValueKind::kString;  // kType's value cannot be freed: hand the entry back
  e->str.ptr = nullptr;
  e->str.len = 0;
  ReleaseTypeId(&kType);
}

TEST(Keyspace, AccountingFollowsInsertAndClear) {
  Keyspace ks(4, 2);
  Table& t = ks.shard(0).dbs[0];
  Entry* e = t.Insert("key", HashKey("key"));
  EXPECT_EQ(ks.used_bytes.load(), static_cast<int64_t>(Table::EntryBytes(e)));
  t.ValueChanged(0, 1000);
  EXPECT_EQ(ks.used_bytes.load(), static_cast<int64_t>(Table::BaseBytes(e) + 1000));
  t.Clear();
  EXPECT_EQ(ks.used_bytes.load(), 0);
}

// The total is the sum of EntryBytes over the entries: an inline value's room counts from
// Insert on, and Unlink/Link (RENAME, MOVE) take away and add back the same amount.
TEST(Keyspace, AccountingIsTheSumOfEntryBytes) {
  Keyspace ks(1, 2);
  Table& a = ks.shard(0).dbs[0];
  Table& b = ks.shard(0).dbs[1];
  Entry* plain = a.Insert("plain", HashKey("plain"));
  Entry* in = a.Insert("inline", HashKey("inline"), 40);
  EXPECT_GE(in->str_cap(), 40u);
  EXPECT_EQ(a.bytes(), static_cast<int64_t>(Table::EntryBytes(plain) + Table::EntryBytes(in)));
  a.Unlink(in);
  EXPECT_EQ(a.bytes(), static_cast<int64_t>(Table::EntryBytes(plain)));
  b.Link(in);
  EXPECT_EQ(b.bytes(), static_cast<int64_t>(Table::EntryBytes(in)));
  EXPECT_EQ(ks.used_bytes.load(), a.bytes() + b.bytes());
  b.Erase(in);
  a.Erase(plain);
  EXPECT_EQ(ks.used_bytes.load(), 0);
}


TEST(Keyspace, VersionsAreUniqueAcrossShards) {
  Keyspace ks(8, 1);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; i++) EXPECT_TRUE(seen.insert(ks.NextVersion(i % 8)).second);
}

TEST(LockSet, SortsAndDeduplicates) {
  Keyspace ks(8, 1);
  std::vector<int> idx = {5, 1, 5, 3};
  {
    LockSet l;
    l.Acquire(ks, idx);
    EXPECT_TRUE(l.Holds(1));
    EXPECT_TRUE(l.Holds(5));
    EXPECT_FALSE(l.Holds(2));
    EXPECT_FALSE(ks.shard(5).mu.try_lock());
  }
  EXPECT_TRUE(ks.shard(5).mu.try_lock());
  ks.shard(5).mu.unlock();
}

bool Locked(Keyspace& ks, int i) {
  if (!ks.shard(i).mu.try_lock()) return true;
  ks.shard(i).mu.unlock();
  return false;
}

TEST(LockSet, OneShardIsHeldAndReleased) {
  Keyspace ks(8, 1);
  std::vector<int> idx = {6};
  {
    LockSet l;
    l.Acquire(ks, idx);
    EXPECT_TRUE(l.Holds(6));
    EXPECT_FALSE(l.Holds(0));
    EXPECT_TRUE(Locked(ks, 6));
  }
  EXPECT_FALSE(Locked(ks, 6));
}

// More distinct shards than the inline room: the overflow path must hold and release
// every one of them.
TEST(LockSet, ManyShardsBeyondInlineRoom) {
  Keyspace ks(16, 1);
  std::vector<int> idx = {15, 2, 9, 2, 4, 11, 0, 7, 15};
  {
    LockSet l;
    l.Acquire(ks, idx);
    for (int i : {0, 2, 4, 7, 9, 11, 15}) {
      EXPECT_TRUE(l.Holds(i)) << i;
      EXPECT_TRUE(Locked(ks, i)) << i;
    }
    for (int i : {1, 3, 5, 6, 8, 10, 12, 13, 14}) {
      EXPECT_FALSE(l.Holds(i)) << i;
      EXPECT_FALSE(Locked(ks, i)) << i;
    }
  }
  for (int i = 0; i < 16; i++) EXPECT_FALSE(Locked(ks, i)) << i;
}

TEST(LockSet, AllShardsAndExplicitRelease) {
  Keyspace ks(8, 1);
  LockSet l;
  l.AcquireAll(ks);
  EXPECT_TRUE(l.holds_all());
  for (int i = 0; i < 8; i++) {
    EXPECT_TRUE(l.Holds(i));
    EXPECT_TRUE(Locked(ks, i));
  }
  l.Release();
  EXPECT_FALSE(l.holds_all());
  EXPECT_FALSE(l.Holds(3));
  for (int i = 0; i < 8; i++) EXPECT_FALSE(Locked(ks, i)) << i;
}

// A version carries the CAS epoch in its top bits: a node past its primary's epoch never
// makes a version equal to one the primary made, whatever the counters are.
TEST(Keyspace, CasEpochSeparatesVersions) {
  Keyspace primary(4, 1), replica(4, 1);
  EXPECT_TRUE(primary.AdoptCasEpoch(7));  // 0 <= 7: moves to 8
  EXPECT_EQ(primary.cas_epoch(), 8u);
  EXPECT_TRUE(replica.AdoptCasEpoch(primary.cas_epoch()));
  EXPECT_EQ(replica.cas_epoch(), 9u);
  EXPECT_FALSE(replica.AdoptCasEpoch(primary.cas_epoch()));  // already past it: kept
  EXPECT_FALSE(replica.AdoptCasEpoch(3));
  std::set<uint64_t> made;
  for (int i = 0; i < 1000; i++) made.insert(primary.NextVersion(i % 4));
  for (int i = 0; i < 1000; i++) EXPECT_EQ(made.count(replica.NextVersion(i % 4)), 0u) << i;
  EXPECT_EQ(replica.NextVersion(0) >> Keyspace::kCasEpochShift, 9u);
  // A sibling that hears the promoted replica's epoch moves past it.
  EXPECT_TRUE(primary.AdoptCasEpoch(replica.cas_epoch()));
  EXPECT_EQ(primary.cas_epoch(), 10u);
  // The epoch wraps within its bits.
  Keyspace w(1, 1);
  EXPECT_TRUE(w.AdoptCasEpoch(Keyspace::kCasEpochMask));
  EXPECT_EQ(w.cas_epoch(), 0u);
}

TEST(Keyspace, RestampGivesEveryKeyAVersionInTheEpoch) {
  Keyspace ks(2, 2);
  std::vector<Entry*> all;
  for (int i = 0; i < 50; i++) {
    std::string k = "k" + std::to_string(i);
    int si = ks.ShardIndex(HashKey(k));
    Entry* e = ks.shard(si).dbs[i % 2].Insert(k, HashKey(k));
    e->version = ks.NextVersion(si);
    all.push_back(e);
  }
  ASSERT_TRUE(ks.AdoptCasEpoch(0));
  ks.Restamp();
  std::set<uint64_t> seen;
  for (Entry* e : all) {
    EXPECT_EQ(e->version >> Keyspace::kCasEpochShift, 1u);
    seen.insert(e->version);
  }
  EXPECT_EQ(seen.size(), all.size());
}

}  // namespace
}  // namespace ferrite::host
