// Snapshot and AOF round trips through the in-process harness with the real type
// plugins: what one host saves, a fresh host loads with identical contents (types,
// values, expiries, memcached flags, every db); hand-built RDBs in each compact encoding
// Redis 7.0 writes and in Redis 7.4's hash field-TTL forms (types 24, 25, version 12);
// AOF truncation repair and corruption offsets.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "host/host.h"
#include "host/persistence/aof.h"
#include "host/persistence/persistence.h"
#include "host/persistence/rdb_compact.h"
#include "host/persistence/rdb_format.h"
#include "host/persistence/rdb_reader.h"
#include "host/persistence/rdb_writer.h"
#include "tests/harness/harness.h"

namespace ferrite::host::persist {
namespace {

using test::Harness;
using test::HarnessOptions;
using test::Reply;
using ::testing::HasSubstr;

HarnessOptions AllTypes() {
  HarnessOptions o;
  o.plugins = {"strings", "keys", "lists", "hashes", "sets", "zsets"};
  return o;
}

std::string Flat(const Reply& r) {
  if (r.elems.empty()) return r.str + (r.type == FERRITE_REPLY_INTEGER ? std::to_string(r.integer) : "");
  std::string s = "[";
  for (auto& e : r.elems) s += Flat(e) + ",";
  return s + "]";
}

std::vector<std::string> Sorted(const Reply& r) {
  std::vector<std::string> v;
  for (auto& e : r.elems) v.push_back(Flat(e));
  std::sort(v.begin(), v.end());
  return v;
}

uint32_t FlagsOf(Harness& h, int db, const std::string& key) {
  Keyspace& ks = h.host().keyspace();
  uint64_t hash = HashKey(key);
  Entry* e = ks.shard(ks.ShardIndex(hash)).dbs[db].Find(key, hash);
  return e ? e->flags() : 0xdeadbeef;
}

// Canonical text of the whole dataset: db, key, type, value, expiry, flags.
std::vector<std::string> Dump(Harness& h) {
  std::vector<std::string> out;
  for (int db = 0; db < 16; db++) {
    h.Run({"SELECT", std::to_string(db)});
    for (auto& k : Sorted(h.Run({"KEYS", "*"}))) {
      std::string type = h.Run({"TYPE", k}).str, v;
      if (type == "string") v = h.Run({"GET", k}).str;
      if (type == "list") v = Flat(h.Run({"LRANGE", k, "0", "-1"}));
      if (type == "set") for (auto& m : Sorted(h.Run({"SMEMBERS", k}))) v += m + ",";
      if (type == "hash") for (auto& m : Sorted(h.Run({"HGETALL", k}))) v += m + ",";
      if (type == "zset") v = Flat(h.Run({"ZRANGE", k, "0", "-1", "WITHSCORES"}));
      int64_t pttl = h.Run({"PEXPIRETIME", k}).integer;
      out.push_back(std::to_string(db) + " " + k + " " + type + " " + v + " exp=" +
                    std::to_string(pttl) + " flags=" + std::to_string(FlagsOf(h, db, k)));
    }
  }
  h.Run({"SELECT", "0"});
  return out;
}

void Populate(Harness& h) {
  RegisterPersistenceCommands(&h.host());
  h.Run({"SET", "s", "hello"});
  h.Run({"SET", "int", "12345"});
  h.Run({"SET", "big", "9223372036854775807"});
  h.Run({"SET", "long", std::string(3000, 'z') + "tail"});
  h.Run({"SET", "empty", ""});
  h.Run({"SET", "bin", std::string("a\0b\r\n", 5)});
  h.Run({"SET", "ttl", "v", "PX", "100000000"});
  h.Run({"FERRITE.SETFLAGS", "s", "42"});
  h.Run({"RPUSH", "l", "a", "b", "1", "2", std::string(200, 'q')});
  std::vector<std::string> big = {"RPUSH", "biglist"};
  for (int i = 0; i < 1000; i++) big.push_back("e" + std::to_string(i));
  h.Run(big);
  h.Run({"SADD", "iset", "1", "2", "-3"});
  h.Run({"SADD", "sset", "x", "y", "z"});
  h.Run({"HSET", "h", "f1", "v1", "f2", "2"});
  h.Run({"ZADD", "z", "1.5", "a", "-2", "b", "inf", "c"});
  h.Run({"SELECT", "15"});
  h.Run({"SET", "in15", "x"});
  h.Run({"HSET", "h15", "a", "b"});
  h.Run({"PEXPIRE", "h15", "50000000"});
  h.Run({"SELECT", "0"});
}

std::string Snapshot(Harness& h) {
  RdbOutput out(-1, true);
  RdbSaveOptions opt;
  opt.now_ms = h.host().clock().NowMs();
  EXPECT_TRUE(WriteRdb(h.host(), out, opt));
  return out.memory();
}

TEST(Snapshot, RoundTripKeepsEveryTypeExpiryFlagAndDb) {
  Harness a(AllTypes());
  Populate(a);
  std::string rdb = Snapshot(a);
  EXPECT_EQ(rdb.substr(0, 9), "REDIS0010");
  Harness b(AllTypes());
  RdbLoadOptions o;
  o.now_ms = b.host().clock().NowMs();
  auto st = LoadRdb(b.host(), rdb, o);
  EXPECT_EQ(st.keys, 15u);
  EXPECT_EQ(st.consumed, rdb.size());
  auto da = Dump(a), db = Dump(b);
  EXPECT_EQ(da, db);
  EXPECT_EQ(FlagsOf(b, 0, "s"), 42u);
  EXPECT_EQ(db.size(), 15u);
}

TEST(Snapshot, ExpiredKeysAreNotLoaded) {
  Harness a(AllTypes());
  a.Run({"SET", "gone", "v", "PX", "1000"});
  a.Run({"SET", "kept", "v"});
  std::string rdb = Snapshot(a);
  Harness b(AllTypes());
  RdbLoadOptions o;
  o.now_ms = b.host().clock().NowMs() + 5000;
  auto st = LoadRdb(b.host(), rdb, o);
  EXPECT_EQ(st.keys, 1u);
  EXPECT_EQ(st.expired_skipped, 1u);
}

HarnessOptions Hashes() {
  HarnessOptions o;
  o.plugins = {"strings", "keys", "hashes"};
  return o;
}

std::vector<int64_t> Ints(const Reply& r) {
  std::vector<int64_t> v;
  for (auto& e : r.elems) v.push_back(e.integer);
  return v;
}

TEST(Snapshot, HashFieldTtlsRoundTripAsRedis74HashMetadata) {
  Harness a(Hashes());
  a.Run({"HSET", "h", "a", "1", "b", "2", "c", "3"});
  a.Run({"HPEXPIRE", "h", "5000", "FIELDS", "1", "a"});
  a.Run({"HPEXPIRE", "h", "9000", "FIELDS", "1", "c"});
  a.Run({"HSET", "plain", "x", "1"});
  a.Run({"HSET", "solo", "s", "1"});
  a.Run({"HPEXPIRE", "solo", "6000", "FIELDS", "1", "s"});
  std::vector<std::string> big = {"HSET", "big"};
  // Past hash-max-listpack-entries (512): a hashtable.
  for (int i = 0; i < 600; i++) big.insert(big.end(), {"f" + std::to_string(i), "v"});
  a.Run(big);
  a.Run({"HPEXPIRE", "big", "7000", "FIELDS", "1", "f7"});
  int64_t at_a = Ints(a.Run({"HPEXPIRETIME", "h", "FIELDS", "1", "a"}))[0];
  std::string rdb = Snapshot(a);
  // Type 24, key, then the 8-byte LE minimum expire: the TTL-less hash stays type 4.
  std::string head = std::string("\x18\x01h", 3);
  for (int i = 0; i < 8; i++) head.push_back(static_cast<char>((at_a >> (8 * i)) & 0xff));
  EXPECT_NE(rdb.find(head), std::string::npos);
  EXPECT_NE(rdb.find(std::string("\x04\x05plain", 7)), std::string::npos);
  Harness b(Hashes());
  RdbLoadOptions o;
  o.now_ms = b.host().clock().NowMs();
  auto st = LoadRdb(b.host(), rdb, o);
  EXPECT_EQ(st.keys, 4u);
  int64_t now = b.NowMs();
  EXPECT_EQ(Ints(b.Run({"HPEXPIRETIME", "h", "FIELDS", "3", "a", "b", "c"})),
            (std::vector<int64_t>{at_a, -1, at_a + 4000}));
  EXPECT_EQ(b.Run({"OBJECT", "ENCODING", "h"}).str, "listpackex");
  EXPECT_EQ(b.Run({"OBJECT", "ENCODING", "big"}).str, "hashtable");
  EXPECT_EQ(b.Run({"HLEN", "big"}).integer, 600);
  EXPECT_EQ(b.Run({"OBJECT", "ENCODING", "plain"}).str, "listpack");
  // Loaded TTLs are in the active-expiry index: the cycle reaps without any hash command.
  b.AdvanceTime(at_a + 4000 - now);
  for (int i = 0; i < 256; i++) b.AdvanceTime(0);  // a slow cycle may cover one shard
  EXPECT_EQ(b.Run({"DBSIZE"}).integer, 3);  // solo's only field expired
  EXPECT_EQ(b.Run({"EXISTS", "solo"}).integer, 0);
  EXPECT_EQ(b.Run({"HLEN", "big"}).integer, 599);
  EXPECT_EQ(Sorted(b.Run({"HGETALL", "h"})), (std::vector<std::string>{"2", "b"}));
}

TEST(Snapshot, HashFieldsExpiredWhileOnDiskAreDropped) {
  Harness a(Hashes());
  a.Run({"HSET", "h", "a", "1", "b", "2"});
  a.Run({"HPEXPIRE", "h", "10000", "FIELDS", "1", "a"});
  a.Run({"HSET", "all", "x", "1"});
  a.Run({"HPEXPIRE", "all", "10000", "FIELDS", "1", "x"});
  std::string rdb = Snapshot(a);
  Harness b(Hashes());
  b.AdvanceTime(20000);  // loaded 20 s later than saved
  RdbLoadOptions o;
  o.now_ms = b.host().clock().NowMs();
  LoadRdb(b.host(), rdb, o);
  EXPECT_EQ(Sorted(b.Run({"HGETALL", "h"})), (std::vector<std::string>{"2", "b"}));
  EXPECT_EQ(b.Run({"OBJECT", "ENCODING", "h"}).str, "listpack");
  EXPECT_EQ(b.Run({"EXISTS", "all"}).integer, 0);  // every field gone: no key at all
}

TEST(Snapshot, HashLoadHonoursConfiguredListpackLimits) {
  Harness a(Hashes());
  a.Run({"HSET", "n", "a", "1", "b", "2", "c", "3"});
  a.Run({"HSET", "v", "a", "12345"});
  a.Run({"HSET", "ok", "a", "1"});
  std::string rdb = Snapshot(a);
  Harness b(Hashes());
  ASSERT_EQ(b.Run({"CONFIG", "SET", "hash-max-listpack-entries", "2"}).str, "OK");
  ASSERT_EQ(b.Run({"CONFIG", "SET", "hash-max-listpack-value", "4"}).str, "OK");
  RdbLoadOptions o;
  o.now_ms = b.host().clock().NowMs();
  LoadRdb(b.host(), rdb, o);
  EXPECT_EQ(b.Run({"OBJECT", "ENCODING", "n"}).str, "hashtable");
  EXPECT_EQ(b.Run({"OBJECT", "ENCODING", "v"}).str, "hashtable");
  EXPECT_EQ(b.Run({"OBJECT", "ENCODING", "ok"}).str, "listpack");
  EXPECT_EQ(b.Run({"HGET", "v", "a"}).str, "12345");
}

// A save writes every field with its TTL, dead or not (Redis 7.4 does too); only a load
// drops fields, against its host's clock. The save used to drop fields by the wall
// clock, which disagreed with the host's: here the harness clock stands still while the
// wall clock passes the field's expiry, and the hash used to be saved with no fields.
TEST(Snapshot, HashSaveWritesFieldsTheHostStillHolds) {
  Harness a(Hashes());
  a.Run({"HSET", "h", "doomed", "v1", "kept", "v2"});
  a.Run({"HPEXPIRE", "h", "1", "FIELDS", "1", "doomed"});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // wall clock only
  ASSERT_EQ(a.Run({"HLEN", "h"}).integer, 2);
  std::string rdb = Snapshot(a);
  EXPECT_NE(rdb.find("doomed"), std::string::npos);
  EXPECT_NE(rdb.find("kept"), std::string::npos);
  Harness b(Hashes());  // its clock is past the expiry: the load drops the field
  RdbLoadOptions o;
  o.now_ms = b.NowMs();
  EXPECT_EQ(LoadRdb(b.host(), rdb, o).keys, 1u);
  EXPECT_EQ(b.Run({"HKEYS", "h"}).elems.size(), 1u);
  EXPECT_EQ(b.Run({"HEXISTS", "h", "doomed"}).integer, 0);
}

TEST(Snapshot, HashMetadataWithImpossibleExpireIsCorrupt) {
  // A hand-built type-24 value as Redis 7.4 writes it, then one whose field expiry lies
  // past Redis' EB_EXPIRE_TIME_MAX (2^48 - 1 ms): the first loads, the second is refused.
  auto build = [](uint64_t ttl) {
    RdbOutput o(-1, false);
    o.Put("REDIS0010", 9);
    o.Byte(24);
    o.String("h");
    o.Le64(4000000000000ULL);  // min expire
    o.Len(2);
    o.Len(ttl);  // expire = min + ttl - 1
    o.String("a");
    o.String("1");
    o.Len(0);  // no TTL
    o.String("b");
    o.String("2");
    o.Finish(true);
    return o.memory();
  };
  Harness b(Hashes());
  LoadRdb(b.host(), build(1001), {});
  EXPECT_EQ(Ints(b.Run({"HPEXPIRETIME", "h", "FIELDS", "2", "a", "b"})),
            (std::vector<int64_t>{4000000001000, -1}));
  Harness c(Hashes());
  try {
    LoadRdb(c.host(), build(uint64_t{1} << 48), {});
    FAIL();
  } catch (const RdbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot load value of key 'h'"));
  }
}

// RDB_TYPE_HASH_LISTPACK_EX (25) as Redis 7.4 writes a small hash with field TTLs, in a
// version-12 file: the key, the min expire (8 bytes LE), then a listpack of (field,
// value, ttl) triplets, ttl the absolute expiry in ms or 0 for none.
std::string ListpackExRdb(const std::vector<std::string>& triplets, uint64_t min_expire,
                          const std::string& key = "h") {
  RdbOutput o(-1, false);
  o.Put("REDIS0012", 9);
  o.Byte(kTypeHashListpackEx);
  o.String(key);
  o.Le64(min_expire);
  o.String(EncodeListpackForTest(triplets));
  o.Finish(true);
  return o.memory();
}

// Loads `rdb` into a fresh hashes harness and returns the error text ("" if it loaded).
std::string LoadError(const std::string& rdb) {
  Harness b(Hashes());
  try {
    LoadRdb(b.host(), rdb, {});
    return "";
  } catch (const RdbError& e) {
    return e.what();
  }
}

TEST(Snapshot, LoadsRedis74HashListpackEx) {
  Harness b(Hashes());
  int64_t now = b.NowMs();
  std::string far = std::to_string(now + 60000), near = std::to_string(now + 5000);
  // Redis keeps volatile fields first, ordered by TTL; "n" has an integer-encoded value.
  std::string rdb = ListpackExRdb(
      {"c", "3", near, "a", "x", far, "gone", "v", std::to_string(now - 1), "n", "-7", "0"},
      static_cast<uint64_t>(now - 1));
  RdbLoadOptions o;
  o.now_ms = now;
  EXPECT_EQ(LoadRdb(b.host(), rdb, o).keys, 1u);
  EXPECT_EQ(Sorted(b.Run({"HGETALL", "h"})),
            (std::vector<std::string>{"-7", "3", "a", "c", "n", "x"}));
  EXPECT_EQ(Ints(b.Run({"HPEXPIRETIME", "h", "FIELDS", "4", "a", "c", "n", "gone"})),
            (std::vector<int64_t>{now + 60000, now + 5000, -1, -2}));
  EXPECT_EQ(b.Run({"OBJECT", "ENCODING", "h"}).str, "listpackex");
  // The loaded TTLs are in the active-expiry index: the cycle reaps fields of keys no
  // hash command touches, and deletes a hash left empty.
  LoadRdb(b.host(), ListpackExRdb({"s", "1", near}, 0, "solo"), o);
  EXPECT_EQ(b.Run({"DBSIZE"}).integer, 2);
  b.AdvanceTime(5000);
  for (int i = 0; i < 256; i++) b.AdvanceTime(0);  // a slow cycle may cover one shard
  EXPECT_EQ(b.Run({"DBSIZE"}).integer, 1);
  EXPECT_EQ(b.Run({"HLEN", "h"}).integer, 2);
}

TEST(Snapshot, HashListpackExEdgeCases) {
  Harness b(Hashes());
  int64_t now = b.NowMs();
  RdbLoadOptions o;
  o.now_ms = now;
  // Every field expired on disk: no key. No field with a TTL (Redis keeps the listpackex
  // encoding after HPERSIST): a plain listpack hash. The largest expiry Redis allows.
  auto st = LoadRdb(b.host(), ListpackExRdb({"a", "1", std::to_string(now)}, now), o);
  EXPECT_EQ(st.keys, 0u);
  EXPECT_EQ(b.Run({"EXISTS", "h"}).integer, 0);
  LoadRdb(b.host(), ListpackExRdb({"a", "1", "0", "b", "2", "0"}, 0), o);
  EXPECT_EQ(b.Run({"OBJECT", "ENCODING", "h"}).str, "listpack");
  EXPECT_EQ(b.Run({"HLEN", "h"}).integer, 2);
  std::string max = std::to_string(kFieldExpireMaxMs);
  LoadRdb(b.host(), ListpackExRdb({"a", "1", max}, 0), o);
  EXPECT_EQ(Ints(b.Run({"HPEXPIRETIME", "h", "FIELDS", "1", "a"})),
            std::vector<int64_t>{kFieldExpireMaxMs});
  // Past hash-max-listpack-entries / -value the loaded hash is a table, TTLs kept.
  Harness c(Hashes());
  ASSERT_EQ(c.Run({"CONFIG", "SET", "hash-max-listpack-entries", "2"}).str, "OK");
  ASSERT_EQ(c.Run({"CONFIG", "SET", "hash-max-listpack-value", "4"}).str, "OK");
  std::string at = std::to_string(now + 9000);
  LoadRdb(c.host(), ListpackExRdb({"a", "1", at, "b", "2", "0", "c", "3", "0"}, 0), o);
  EXPECT_EQ(c.Run({"OBJECT", "ENCODING", "h"}).str, "hashtable");
  EXPECT_EQ(Ints(c.Run({"HPEXPIRETIME", "h", "FIELDS", "2", "a", "b"})),
            (std::vector<int64_t>{now + 9000, -1}));
  LoadRdb(c.host(), ListpackExRdb({"a", "12345", at}, 0), o);
  EXPECT_EQ(c.Run({"OBJECT", "ENCODING", "h"}).str, "hashtable");
  EXPECT_EQ(c.Run({"HGET", "h", "a"}).str, "12345");
}

TEST(Snapshot, HashListpackExCorruptionIsALoadError) {
  std::string at = "4000000000000";
  EXPECT_THAT(LoadError(ListpackExRdb({"a", "1", at, "b", "2"}, 0)),
              HasSubstr("5 elements, not (field, value, ttl) triplets, in key 'h'"));
  EXPECT_THAT(LoadError(ListpackExRdb({"a", "1"}, 0)), HasSubstr("triplets"));
  for (const std::string& ttl :
       std::vector<std::string>{std::to_string(kFieldExpireMaxMs + 1), "-5", "abc", "01"})
    EXPECT_THAT(LoadError(ListpackExRdb({"a", "1", ttl}, 0)),
                HasSubstr("bad field TTL '" + ttl + "' in key 'h'"));
  // The same field twice, both live, or the first one already expired on disk.
  EXPECT_THAT(LoadError(ListpackExRdb({"a", "1", at, "a", "2", "0"}, 0)),
              HasSubstr("cannot load value of key 'h'"));
  EXPECT_THAT(LoadError(ListpackExRdb({"a", "1", "1000", "a", "2", "0"}, 0)),
              HasSubstr("cannot load value of key 'h'"));
  // A listpack whose total-bytes header disagrees with the string; a file cut in the
  // middle of the min expire.
  std::string rdb = ListpackExRdb({"a", "1", at}, 0);
  size_t lp_at = rdb.find(EncodeListpackForTest({"a", "1", at}));
  ASSERT_NE(lp_at, std::string::npos);
  rdb[lp_at] = static_cast<char>(rdb[lp_at] + 1);
  EXPECT_THAT(LoadError(rdb), HasSubstr("corrupt compact encoding in key 'h'"));
  std::string cut = ListpackExRdb({"a", "1", at}, 0).substr(0, 9 + 1 + 2 + 4);
  EXPECT_THAT(LoadError(cut), HasSubstr("unexpected end of file"));
}

TEST(Snapshot, DuplicateHashFieldIsALoadErrorInThePlainTypesToo) {
  RdbOutput o(-1, false);
  o.Put("REDIS0010", 9);
  o.Byte(kTypeHash);
  o.String("h");
  o.Len(2);
  for (const char* v : {"1", "2"}) {
    o.String("a");
    o.String(v);
  }
  o.Finish(true);
  EXPECT_THAT(LoadError(o.memory()), HasSubstr("cannot load value of key 'h'"));
}

TEST(Snapshot, LoadsARedis74FileWithClusterSlotInfo) {
  RdbOutput o(-1, false);
  o.Put("REDIS0012", 9);
  o.Byte(kOpSelectDb);
  o.Len(0);
  o.Byte(kOpSlotInfo);  // slot 866 holds 1 key, 0 with an expiry
  o.Len(866);
  o.Len(1);
  o.Len(0);
  o.Byte(kTypeString);
  o.String("k");
  o.String("v");
  o.Finish(true);
  Harness b(Hashes());
  EXPECT_EQ(LoadRdb(b.host(), o.memory(), {}).keys, 1u);
  EXPECT_EQ(b.Run({"GET", "k"}).str, "v");
}

TEST(Snapshot, ChecksumMismatchAndTruncationNameTheOffset) {
  Harness a(AllTypes());
  Populate(a);
  std::string rdb = Snapshot(a);
  std::string bad = rdb;
  bad[bad.size() / 2] ^= 0x01;
  Harness b(AllTypes());
  RdbLoadOptions o;
  o.now_ms = b.host().clock().NowMs();
  try {
    LoadRdb(b.host(), bad, o);
    // A flipped bit inside a value may still parse: then the checksum must catch it.
    FAIL() << "corrupt file loaded";
  } catch (const RdbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("byte offset"));
  }
  Harness c(AllTypes());
  for (size_t cut : {size_t{5}, size_t{40}, rdb.size() / 2, rdb.size() - 3}) {
    try {
      LoadRdb(c.host(), rdb.substr(0, cut), o);
      FAIL() << "truncated file loaded at " << cut;
    } catch (const RdbError& e) {
      EXPECT_THAT(e.what(), HasSubstr("byte offset")) << cut;
    }
  }
}

// A replica's diskless load parses the payload from its socket: any split of the bytes
// loads what the whole buffer loads, checksum verified, and leaves what follows the RDB
// (the replication stream's start) to the source.
TEST(Snapshot, SourceLoadsAnySplitAsTheWholeBuffer) {
  Harness a(AllTypes());
  Populate(a);
  std::string rdb = Snapshot(a);
  const std::string after = "*1\r\n$4\r\nPING\r\n";
  std::string payload = rdb + after;
  for (size_t step : {size_t{0}, size_t{1}, size_t{7}, size_t{4096}, payload.size()}) {
    Harness b(AllTypes());
    RdbLoadOptions o;
    o.now_ms = b.host().clock().NowMs();
    BufferSource src(payload, step);
    auto st = LoadRdb(b.host(), src, o);
    EXPECT_EQ(st.keys, 15u) << step;
    EXPECT_EQ(st.consumed, rdb.size()) << step;
    EXPECT_EQ(src.consumed(), rdb.size()) << step;
    EXPECT_EQ(Dump(a), Dump(b)) << step;
  }
  Harness c(AllTypes());
  RdbLoadOptions o;
  o.now_ms = c.host().clock().NowMs();
  std::string bad = rdb;
  bad[rdb.size() - 10] ^= 0x01;  // the last byte before the EOF opcode and checksum
  BufferSource corrupt(bad, 3);
  EXPECT_THROW(LoadRdb(c.host(), corrupt, o), RdbError);
  for (size_t cut : {size_t{5}, rdb.size() / 2, rdb.size() - 3}) {
    BufferSource cut_src(std::string_view(rdb).substr(0, cut), 5);
    EXPECT_THROW(LoadRdb(c.host(), cut_src, o), RdbError) << cut;
  }
}

// An RDB as redis-server 7.0 writes small collections, built by hand.
std::string CompactRdb() {
  RdbOutput o(-1, false);
  o.Put("REDIS0010", 9);
  o.Byte(kOpSelectDb);
  o.Len(0);
  auto key = [&](int type, const std::string& k) {
    o.Byte(static_cast<uint8_t>(type));
    o.String(k);
  };
  key(kTypeListQuicklist2, "ql2");
  o.Len(2);
  o.Len(kQuicklistPacked);
  o.String(EncodeListpackForTest({"a", "1", "b"}));
  o.Len(kQuicklistPlain);
  o.String("plainnode");
  key(kTypeListQuicklist, "ql1");
  o.Len(1);
  o.String(EncodeZiplistForTest({"x", "-7"}));
  key(kTypeListZiplist, "zl");
  o.String(EncodeZiplistForTest({"p", "q"}));
  key(kTypeSetIntset, "is");
  o.String(EncodeIntsetForTest({3, 1, 2}));
  key(kTypeSetListpack, "slp");
  o.String(EncodeListpackForTest({"m", "n"}));
  key(kTypeHashListpack, "hlp");
  o.String(EncodeListpackForTest({"f", "v", "n", "5"}));
  key(kTypeHashZiplist, "hzl");
  o.String(EncodeZiplistForTest({"f", "v"}));
  key(kTypeZsetListpack, "zlp");
  o.String(EncodeListpackForTest({"a", "1.5", "b", "2"}));
  key(kTypeZsetZiplist, "zzl");
  o.String(EncodeZiplistForTest({"c", "-3"}));
  key(kTypeZset, "zold");
  o.Len(1);
  o.String("m");
  o.Byte(3);
  o.Put("2.5", 3);
  o.Byte(kOpExpireMs);
  o.Le64(static_cast<uint64_t>(4102444800000));  // 2100-01-01
  key(kTypeString, "withttl");
  o.String("v");
  o.Finish(true);
  return o.memory();
}

TEST(Snapshot, LoadsEveryCompactEncodingRedisWrites) {
  Harness b(AllTypes());
  RdbLoadOptions o;
  o.now_ms = b.host().clock().NowMs();
  auto st = LoadRdb(b.host(), CompactRdb(), o);
  EXPECT_EQ(st.keys, 11u);
  EXPECT_THAT(b.Run({"LRANGE", "ql2", "0", "-1"}), test::IsBulkArray({"a", "1", "b", "plainnode"}));
  EXPECT_THAT(b.Run({"LRANGE", "ql1", "0", "-1"}), test::IsBulkArray({"x", "-7"}));
  EXPECT_THAT(b.Run({"LRANGE", "zl", "0", "-1"}), test::IsBulkArray({"p", "q"}));
  EXPECT_THAT(b.Run({"SMEMBERS", "is"}), test::IsUnorderedBulkArray({"1", "2", "3"}));
  EXPECT_THAT(b.Run({"SMEMBERS", "slp"}), test::IsUnorderedBulkArray({"m", "n"}));
  EXPECT_THAT(b.Run({"HGET", "hlp", "n"}), test::IsBulk("5"));
  EXPECT_THAT(b.Run({"HGET", "hzl", "f"}), test::IsBulk("v"));
  EXPECT_THAT(b.Run({"ZSCORE", "zlp", "a"}), test::IsDouble(1.5));
  EXPECT_THAT(b.Run({"ZSCORE", "zzl", "c"}), test::IsDouble(-3));
  EXPECT_THAT(b.Run({"ZSCORE", "zold", "m"}), test::IsDouble(2.5));
  EXPECT_THAT(b.Run({"PEXPIRETIME", "withttl"}), test::IsInt(4102444800000));
}

TEST(Snapshot, UnknownValueTypeNamesTypeAndKey) {
  RdbOutput o(-1, false);
  o.Put("REDIS0010", 9);
  o.Byte(kTypeStreamListpacks2);
  o.String("mystream");
  o.Finish(true);
  Harness b(AllTypes());
  try {
    LoadRdb(b.host(), o.memory(), {});
    FAIL();
  } catch (const RdbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("type 19 (stream)"));
    EXPECT_THAT(e.what(), HasSubstr("'mystream'"));
  }
  // A list without the lists module loaded.
  Harness a(AllTypes());
  a.Run({"RPUSH", "l", "x"});
  std::string rdb = Snapshot(a);
  Harness c;  // strings + keys only
  try {
    LoadRdb(c.host(), rdb, {});
    FAIL();
  } catch (const RdbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("type 1 (list) for key 'l' but no loaded module"));
  }
}

// Fuzz regression (crash-eff6d64e, fuzz/corpus/rdb/crash-zset-nan-score): a sorted set
// whose scores include a NaN followed by the same member again made the zset's skiplist
// unlink the wrong node (a double free). Redis refuses NaN scores on load; so do we, in
// every zset encoding.
TEST(Snapshot, ZsetNanScoreIsCorruptionInEveryEncoding) {
  auto expect_refused = [](const std::string& rdb, const char* what) {
    Harness b(AllTypes());
    try {
      LoadRdb(b.host(), rdb, {});
      ADD_FAILURE() << what << ": loaded";
    } catch (const RdbError& e) {
      EXPECT_THAT(e.what(), HasSubstr("zset with NaN score")) << what;
      EXPECT_THAT(e.what(), HasSubstr("byte offset")) << what;
    }
  };
  auto file = [](auto body) {
    RdbOutput o(-1, false);
    o.Put("REDIS0010", 9);
    body(o);
    o.Finish(true);
    return o.memory();
  };
  // ZSET_2 (binary doubles), 200 members so the value is a skiplist, "" NaN then "" again.
  expect_refused(file([](RdbOutput& o) {
    o.Byte(kTypeZset2);
    o.String("bigz");
    o.Len(200);
    o.String("");
    o.Double(std::nan(""));
    o.String("x");
    o.Double(1);
    o.String("");
    o.Double(2);
  }), "zset2");
  expect_refused(file([](RdbOutput& o) {  // RDB_TYPE_ZSET: length byte 253 is NaN
    o.Byte(kTypeZset);
    o.String("z");
    o.Len(1);
    o.String("m");
    o.Byte(253);
  }), "zset1");
  expect_refused(file([](RdbOutput& o) {
    o.Byte(kTypeZsetListpack);
    o.String("z");
    o.String(EncodeListpackForTest({"a", "nan", "b", "1"}));
  }), "listpack");
  // A real score still loads.
  Harness b(AllTypes());
  LoadRdb(b.host(), file([](RdbOutput& o) {
    o.Byte(kTypeZset2);
    o.String("z");
    o.Len(1);
    o.String("m");
    o.Double(-0.5);
  }), {});
  EXPECT_THAT(b.Run({"ZSCORE", "z", "m"}), test::IsDouble(-0.5));
}

std::string TempPath(const char* name) {
  return std::string("/tmp/ferrite-persist-test-") + std::to_string(getpid()) + "-" + name;
}

std::string ReadAll(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

TEST(Aof, RewriteBaseReplaysToTheSameDataset) {
  Harness a(AllTypes());
  Populate(a);
  std::string path = TempPath("rewrite.aof");
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_TRUE(AofRewriteBase(a.host(), fileno(f), a.host().clock().NowMs()));
  fclose(f);
  Harness b(AllTypes());
  RegisterPersistenceCommands(&b.host());
  auto st = LoadAof(b.host(), path, {});
  EXPECT_EQ(st.errors, 0u) << st.first_error;
  EXPECT_EQ(Dump(a), Dump(b));
  unlink(path.c_str());
}

TEST(Aof, WriterRecordsWritesWithSelectsAndReplays) {
  Harness a(AllTypes());
  std::string path = TempPath("writer.aof");
  unlink(path.c_str());
  std::atomic<int64_t> policy{static_cast<int64_t>(FsyncPolicy::kAlways)};
  AofWriter w(path, &policy);
  ASSERT_EQ(w.Open(), "");
  a.host().AddPropagationSink(&w);
  Populate(a);
  a.Run({"INCR", "int"});
  a.Run({"GET", "s"});  // reads are not recorded
  a.Run({"DEL", "empty"});
  a.Run({"MULTI"});
  a.Run({"LPUSH", "l", "front"});
  a.Run({"SADD", "sset", "w"});
  a.Run({"EXEC"});
  a.Run({"SELECT", "3"});
  a.Run({"SET", "in3", "x"});
  a.Run({"SELECT", "0"});
  a.host().RemovePropagationSink(&w);
  std::string text = ReadAll(path);
  EXPECT_EQ(text.rfind("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n", 0), 0u);
  EXPECT_EQ(text.find("GET"), std::string::npos);
  Harness b(AllTypes());
  RegisterPersistenceCommands(&b.host());
  auto st = LoadAof(b.host(), path, {});
  EXPECT_EQ(st.errors, 0u) << st.first_error;
  EXPECT_EQ(Dump(a), Dump(b));
  unlink(path.c_str());
}

TEST(Aof, TruncatedTailIsCutWhenAllowedAndRefusedOtherwise) {
  std::string path = TempPath("trunc.aof");
  std::string good = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
  std::string partial = "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\n12";
  {
    std::ofstream(path, std::ios::binary) << good << partial;
    Harness b(AllTypes());
    AofLoadOptions o;
    o.load_truncated = false;
    try {
      LoadAof(b.host(), path, o);
      FAIL();
    } catch (const std::exception& e) {
      EXPECT_THAT(e.what(), HasSubstr("truncated at byte offset " + std::to_string(good.size())));
    }
    EXPECT_EQ(ReadAll(path).size(), good.size() + partial.size());  // untouched
  }
  Harness b(AllTypes());
  auto st = LoadAof(b.host(), path, {});
  EXPECT_EQ(st.truncated_at, good.size());
  EXPECT_EQ(ReadAll(path), good);
  EXPECT_THAT(b.Run({"GET", "a"}), test::IsBulk("1"));
  EXPECT_THAT(b.Run({"GET", "b"}), test::IsNull());
  unlink(path.c_str());
}

TEST(Aof, UnfinishedTransactionIsTreatedAsTruncated) {
  std::string path = TempPath("multi.aof");
  std::string good = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
  std::string tx = "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";
  std::ofstream(path, std::ios::binary) << good << tx;
  Harness b(AllTypes());
  auto st = LoadAof(b.host(), path, {});
  EXPECT_EQ(st.truncated_at, good.size());
  EXPECT_THAT(b.Run({"GET", "b"}), test::IsNull());
  EXPECT_THAT(b.Run({"SET", "c", "3"}), test::IsOk());  // the harness client is not in MULTI
  unlink(path.c_str());
}

TEST(Aof, CorruptionInTheMiddleStopsWithTheOffset) {
  std::string path = TempPath("corrupt.aof");
  std::string good = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
  std::string after = "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n";
  std::ofstream(path, std::ios::binary) << good << "garbage!" << after;
  {
    Harness b(AllTypes());
    try {
      LoadAof(b.host(), path, {});
      FAIL();
    } catch (const std::exception& e) {
      EXPECT_THAT(e.what(), HasSubstr("bad file format"));
      EXPECT_THAT(e.what(), HasSubstr("byte offset " + std::to_string(good.size())));
    }
  }
  Harness b(AllTypes());
  AofLoadOptions o;
  o.load_corrupt = true;
  o.now_ms = 1;
  auto st = LoadAof(b.host(), path, o);
  EXPECT_EQ(st.truncated_at, good.size());
  EXPECT_THAT(b.Run({"GET", "a"}), test::IsBulk("1"));
  unlink(path.c_str());
  unlink((path + ".corrupt-0").c_str());
}

}  // namespace
}  // namespace ferrite::host::persist
