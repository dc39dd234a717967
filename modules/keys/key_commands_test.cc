// Family tests of keys.so through the in-process harness (real host, real strings.so
// and keys.so). Expected replies are redis-server 7.0.15's, checked side by side.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

// Records keyspace events as "db:event:key".
// Keyspace events as "db:event:key".
std::vector<std::string> EventStrings(const EventRecorder& rec) {
  std::vector<std::string> out;
  for (auto& e : rec.events()) out.push_back(std::to_string(e.db) + ":" + e.event + ":" + e.key);
  return out;
}

// Propagated commands (what the AOF and replicas would get) as "db:arg arg ...".
std::vector<std::string> PropagatedStrings(const PropagationRecorder& rec) {
  std::vector<std::string> out;
  for (auto& c : rec.commands()) {
    std::string s = std::to_string(c.db) + ":";
    for (size_t i = 0; i < c.argv.size(); i++) s += (i ? " " : "") + c.argv[i];
    out.push_back(s);
  }
  return out;
}

HarnessOptions WithEvents() {
  HarnessOptions o;
  o.config = {{"server.notify_keyspace_events", "KEA"}};
  return o;
}

int64_t PExpireTime(Harness& h, const std::string& key) {
  return h.Run({"PEXPIRETIME", key}).integer;
}

// ---- arity --------------------------------------------------------------------------

struct Arity {
  const char* name;
  int arity;
};

// Redis 7.0's arities (COMMAND INFO), kept here rather than read back from keys.so so a
// wrong entry in the module's table is caught.
constexpr Arity kArities[] = {
    {"del", -2},       {"unlink", -2},   {"exists", -2},     {"touch", -2},
    {"type", 2},       {"expire", -3},   {"pexpire", -3},    {"expireat", -3},
    {"pexpireat", -3}, {"persist", 2},   {"ttl", 2},         {"pttl", 2},
    {"expiretime", 2}, {"pexpiretime", 2}, {"rename", 3},    {"renamenx", 3},
    {"copy", -3},      {"move", 3},      {"object", -2},     {"keys", 2},
    {"scan", -2},      {"randomkey", 1}, {"dbsize", 1},      {"flushdb", -1},
    {"flushall", -1},
};

TEST(KeysArity, TooFewAndTooManyArgumentsAreRejected) {
  Harness h;
  for (const auto& c : kArities) {
    std::string want = std::string("ERR wrong number of arguments for '") + c.name + "' command";
    int min = c.arity > 0 ? c.arity : -c.arity;
    if (min > 1) {
      std::vector<std::string> argv(min - 1, "x");
      argv[0] = c.name;
      EXPECT_THAT(h.Run(argv), IsError(want)) << c.name << " with " << min - 1;
    }
    if (c.arity > 0) {
      std::vector<std::string> argv(c.arity + 1, "x");
      argv[0] = c.name;
      EXPECT_THAT(h.Run(argv), IsError(want)) << c.name << " with " << c.arity + 1;
    }
  }
}

// ---- DEL UNLINK EXISTS TOUCH TYPE ---------------------------------------------------

TEST(KeysDel, DeletesAndCountsExistingKeysOnly) {
  Harness h;
  h.Run({"SET", "a", "1"});
  h.Run({"SET", "b", "2"});
  EXPECT_THAT(h.Run({"DEL", "a", "b", "missing", "a"}), IsInt(2));
  EXPECT_THAT(h.Run({"EXISTS", "a", "b"}), IsInt(0));
  EXPECT_THAT(h.Run({"DEL", "missing"}), IsInt(0));
  h.Run({"SET", "c", "3"});
  EXPECT_THAT(h.Run({"UNLINK", "c", "c"}), IsInt(1));
  EXPECT_THAT(h.Run({"GET", "c"}), IsNull());
}

TEST(KeysExists, CountsRepeatsAndIgnoresExpired) {
  Harness h;
  h.Run({"SET", "a", "1"});
  EXPECT_THAT(h.Run({"EXISTS", "a", "a", "nope"}), IsInt(2));
  EXPECT_THAT(h.Run({"TOUCH", "a", "a", "nope"}), IsInt(2));
  h.Run({"PEXPIRE", "a", "100"});
  h.AdvanceTime(100);
  EXPECT_THAT(h.Run({"EXISTS", "a"}), IsInt(0));
  EXPECT_THAT(h.Run({"TOUCH", "a"}), IsInt(0));
}

TEST(KeysType, StringAndNone) {
  Harness h;
  h.Run({"SET", "s", "v"});
  EXPECT_THAT(h.Run({"TYPE", "s"}), IsSimple("string"));
  EXPECT_THAT(h.Run({"TYPE", "nokey"}), IsSimple("none"));
}

// ---- expiry ---------------------------------------------------------------------------

TEST(KeysExpire, RelativeSetsTtlAndKeyGoesWhenTimeComes) {
  Harness h;
  h.Run({"SET", "k", "v"});
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(-1));
  EXPECT_THAT(h.Run({"PTTL", "k"}), IsInt(-1));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "10"}), IsInt(1));
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(10));
  EXPECT_THAT(h.Run({"PTTL", "k"}), IsInt(10000));
  h.AdvanceTime(2400);
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(8));  // 7.6 s rounds to 8
  EXPECT_THAT(h.Run({"PTTL", "k"}), IsInt(7600));
  h.AdvanceTime(7599);
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("v"));
  h.AdvanceTime(1);
  EXPECT_THAT(h.Run({"GET", "k"}), IsNull());
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(-2));
  EXPECT_THAT(h.Run({"PTTL", "k"}), IsInt(-2));
}

TEST(KeysExpire, MissingKeyRepliesZero) {
  Harness h;
  for (const char* cmd : {"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"}) {
    EXPECT_THAT(h.Run({cmd, "nokey", "100"}), IsInt(0)) << cmd;
  }
  EXPECT_THAT(h.Run({"EXISTS", "nokey"}), IsInt(0));
}

TEST(KeysExpire, AbsoluteFormsAndExpireTime) {
  Harness h;
  h.Run({"SET", "k", "v"});
  ASSERT_THAT(h.Run({"PEXPIRE", "k", "5000"}), IsInt(1));
  int64_t now = PExpireTime(h, "k") - 5000;
  int64_t at_ms = now + 61234;
  EXPECT_THAT(h.Run({"PEXPIREAT", "k", std::to_string(at_ms)}), IsInt(1));
  EXPECT_THAT(h.Run({"PEXPIRETIME", "k"}), IsInt(at_ms));
  EXPECT_THAT(h.Run({"EXPIRETIME", "k"}), IsInt((at_ms + 500) / 1000));
  int64_t at_s = now / 1000 + 100;
  EXPECT_THAT(h.Run({"EXPIREAT", "k", std::to_string(at_s)}), IsInt(1));
  EXPECT_THAT(h.Run({"PEXPIRETIME", "k"}), IsInt(at_s * 1000));
  EXPECT_THAT(h.Run({"EXPIRETIME", "nokey"}), IsInt(-2));
  EXPECT_THAT(h.Run({"PEXPIRETIME", "nokey"}), IsInt(-2));
  h.Run({"SET", "p", "v"});
  EXPECT_THAT(h.Run({"EXPIRETIME", "p"}), IsInt(-1));
  EXPECT_THAT(h.Run({"PEXPIRETIME", "p"}), IsInt(-1));
}

TEST(KeysExpire, PastOrNegativeTimeDeletesTheKey) {
  Harness h;
  for (std::vector<std::string> cmd :
       {std::vector<std::string>{"EXPIRE", "k", "-1"}, {"PEXPIRE", "k", "0"},
        {"EXPIREAT", "k", "1"}, {"PEXPIREAT", "k", "-5"}}) {
    h.Run({"SET", "k", "v"});
    cmd[1] = "k";
    EXPECT_THAT(h.Run(cmd), IsInt(1)) << cmd[0];
    EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(0)) << cmd[0];
  }
}

TEST(KeysExpire, NxXxGtLt) {
  Harness h;
  h.Run({"SET", "k", "v"});
  EXPECT_THAT(h.Run({"EXPIRE", "k", "100", "XX"}), IsInt(0));  // no TTL yet
  EXPECT_THAT(h.Run({"EXPIRE", "k", "100", "GT"}), IsInt(0));  // none = infinite
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(-1));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "100", "lt"}), IsInt(1));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "50", "nx"}), IsInt(0));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "200", "gt"}), IsInt(1));
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(200));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "200", "gt"}), IsInt(0));  // equal is not greater
  EXPECT_THAT(h.Run({"EXPIRE", "k", "300", "lt"}), IsInt(0));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "50", "xx", "lt"}), IsInt(1));
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(50));
  h.Run({"SET", "n", "v"});
  EXPECT_THAT(h.Run({"PEXPIRE", "n", "1500", "NX"}), IsInt(1));
  EXPECT_THAT(h.Run({"PTTL", "n"}), IsInt(1500));
}

TEST(KeysExpire, OptionErrorsAndOverflow) {
  Harness h;
  h.Run({"SET", "k", "v"});
  EXPECT_THAT(h.Run({"EXPIRE", "k", "10", "nx", "xx"}),
              IsError("ERR NX and XX, GT or LT options at the same time are not compatible"));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "10", "gt", "lt"}),
              IsError("ERR GT and LT options at the same time are not compatible"));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "10", "foo"}), IsError("ERR Unsupported option foo"));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "abc", "foo"}), IsError("ERR Unsupported option foo"));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "abc"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "9223372036854775807"}),
              IsError("ERR invalid expire time in 'expire' command"));
  EXPECT_THAT(h.Run({"EXPIRE", "nokey", "9223372036854775807"}),
              IsError("ERR invalid expire time in 'expire' command"));
  EXPECT_THAT(h.Run({"PEXPIRE", "k", "9223372036854775807"}),
              IsError("ERR invalid expire time in 'pexpire' command"));
  EXPECT_THAT(h.Run({"EXPIREAT", "k", "9223372036854775807"}),
              IsError("ERR invalid expire time in 'expireat' command"));
  EXPECT_THAT(h.Run({"EXPIRE", "k", "-9223372036854775808"}),
              IsError("ERR invalid expire time in 'expire' command"));
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(-1));  // nothing above changed it
  EXPECT_THAT(h.Run({"PEXPIREAT", "k", "9223372036854775807"}), IsInt(1));
}

TEST(KeysPersist, RemovesTtlOnce) {
  Harness h;
  EXPECT_THAT(h.Run({"PERSIST", "nokey"}), IsInt(0));
  h.Run({"SET", "k", "v"});
  EXPECT_THAT(h.Run({"PERSIST", "k"}), IsInt(0));
  h.Run({"EXPIRE", "k", "10"});
  EXPECT_THAT(h.Run({"PERSIST", "k"}), IsInt(1));
  EXPECT_THAT(h.Run({"PERSIST", "k"}), IsInt(0));
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(-1));
  h.AdvanceTime(20000);
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("v"));
}

// ---- KEYS SCAN RANDOMKEY DBSIZE ---------------------------------------------------------

TEST(KeysKeys, PatternsAndExpiredKeys) {
  Harness h;
  EXPECT_THAT(h.Run({"KEYS", "*"}), IsEmptyArray());
  for (const char* k : {"hello", "hallo", "hxllo", "hllo", "heeeello", "a*b"}) {
    h.Run({"SET", k, "1"});
  }
  EXPECT_THAT(h.Run({"KEYS", "*"}),
              IsUnorderedBulkArray({"hello", "hallo", "hxllo", "hllo", "heeeello", "a*b"}));
  EXPECT_THAT(h.Run({"KEYS", "h?llo"}), IsUnorderedBulkArray({"hello", "hallo", "hxllo"}));
  EXPECT_THAT(h.Run({"KEYS", "h*llo"}),
              IsUnorderedBulkArray({"hello", "hallo", "hxllo", "hllo", "heeeello"}));
  EXPECT_THAT(h.Run({"KEYS", "h[ae]llo"}), IsUnorderedBulkArray({"hello", "hallo"}));
  EXPECT_THAT(h.Run({"KEYS", "h[^e]llo"}), IsUnorderedBulkArray({"hallo", "hxllo"}));
  EXPECT_THAT(h.Run({"KEYS", "a\\*b"}), IsUnorderedBulkArray({"a*b"}));
  h.Run({"PEXPIRE", "hello", "10"});
  h.AdvanceTime(10);
  EXPECT_THAT(h.Run({"KEYS", "h?llo"}), IsUnorderedBulkArray({"hallo", "hxllo"}));
}

// Runs a full SCAN with the given options and returns every key reported (with repeats).
std::vector<std::string> FullScan(Harness& h, std::vector<std::string> opts) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  for (int guard = 0; guard < 100000; guard++) {
    std::vector<std::string> argv = {"SCAN", cursor};
    argv.insert(argv.end(), opts.begin(), opts.end());
    Reply r = h.Run(argv);
    EXPECT_EQ(r.type, FERRITE_REPLY_ARRAY);
    if (r.elems.size() != 2) return keys;
    for (const auto& e : r.elems[1].elems) keys.push_back(e.str);
    cursor = r.elems[0].str;
    if (cursor == "0") break;
  }
  return keys;
}

TEST(KeysScan, FullIterationMatchAndType) {
  Harness h;
  for (int i = 0; i < 1000; i++) h.Run({"SET", "key:" + std::to_string(i), "v"});
  h.Run({"SET", "other", "v"});
  auto all = FullScan(h, {"COUNT", "37"});
  std::set<std::string> uniq(all.begin(), all.end());
  EXPECT_EQ(uniq.size(), 1001u);
  auto matched = FullScan(h, {"MATCH", "key:1*"});
  std::set<std::string> m(matched.begin(), matched.end());
  EXPECT_EQ(m.size(), 111u);  // 1, 10-19, 100-199
  EXPECT_TRUE(m.count("key:199"));
  EXPECT_FALSE(m.count("other"));
  EXPECT_THAT(FullScan(h, {"TYPE", "STRING"}), SizeIs(1001));
  EXPECT_THAT(FullScan(h, {"TYPE", "list"}), SizeIs(0));
  EXPECT_THAT(FullScan(h, {"TYPE", "nosuchtype"}), SizeIs(0));
}

TEST(KeysScan, EveryKeyAtLeastOnceWhileTheTableGrows) {
  Harness h;
  constexpr int kOriginal = 2000;
  for (int i = 0; i < kOriginal; i++) h.Run({"SET", "orig:" + std::to_string(i), "v"});
  std::set<std::string> seen;
  std::string cursor = "0";
  int step = 0, added = 0;
  do {
    Reply r = h.Run({"SCAN", cursor, "COUNT", "50"});
    ASSERT_EQ(r.elems.size(), 2u);
    for (const auto& e : r.elems[1].elems) seen.insert(e.str);
    cursor = r.elems[0].str;
    // Grow the table hard between steps (forces several resizes mid-iteration).
    if (step++ < 3) {
      for (int i = 0; i < 10000; i++) h.Run({"SET", "new:" + std::to_string(added++), "v"});
    }
    ASSERT_LT(step, 100000);
  } while (cursor != "0");
  for (int i = 0; i < kOriginal; i++) {
    ASSERT_TRUE(seen.count("orig:" + std::to_string(i))) << "missed orig:" << i;
  }
}

TEST(KeysScan, ExpiredKeysAreNotReported) {
  Harness h;
  h.Run({"SET", "live", "v"});
  h.Run({"SET", "dead", "v"});
  h.Run({"PEXPIRE", "dead", "5"});
  h.AdvanceTime(5);
  EXPECT_THAT(FullScan(h, {}), ::testing::ElementsAre("live"));
}

TEST(KeysScan, ArgumentErrors) {
  Harness h;
  EXPECT_THAT(h.Run({"SCAN", "abc"}), IsError("ERR invalid cursor"));
  EXPECT_THAT(h.Run({"SCAN", " 0"}), IsError("ERR invalid cursor"));
  EXPECT_THAT(h.Run({"SCAN", "18446744073709551616"}), IsError("ERR invalid cursor"));
  EXPECT_THAT(h.Run({"SCAN", "0", "COUNT", "0"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"SCAN", "0", "COUNT", "x"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"SCAN", "0", "MATCH"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"SCAN", "0", "foo", "bar"}), IsError("ERR syntax error"));
  Reply r = h.Run({"SCAN", "0"});
  ASSERT_EQ(r.elems.size(), 2u);
  EXPECT_THAT(r.elems[0], IsBulk("0"));
  EXPECT_THAT(r.elems[1], IsEmptyArray());
}

TEST(KeysRandomKey, EmptyAndSingle) {
  Harness h;
  EXPECT_THAT(h.Run({"RANDOMKEY"}), IsNull());
  h.Run({"SET", "only", "v"});
  EXPECT_THAT(h.Run({"RANDOMKEY"}), IsBulk("only"));
  h.Run({"SET", "two", "v"});
  std::set<std::string> got;
  for (int i = 0; i < 200; i++) got.insert(h.Run({"RANDOMKEY"}).str);
  EXPECT_EQ(got, (std::set<std::string>{"only", "two"}));
}

// Found by test_strings_keys_differential.py: with one expired key among 64 shards the
// random probes often missed its shard and a fallback answered with the dead key. 4096
// shards make a miss of all 100 probes near certain (97.6%), so the old code fails here.
TEST(KeysRandomKey, NeverAnExpiredKey) {
  HarnessOptions opts;
  opts.config = {{"storage.shards", "4096"}};
  Harness h(opts);
  std::string past = std::to_string(h.NowMs() - 1000);
  h.Run({"SET", "dead", "v", "PXAT", past});
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(1));  // not yet removed, as in Redis
  EXPECT_THAT(h.Run({"RANDOMKEY"}), IsNull());
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0));
  h.Run({"SET", "dead", "v", "PXAT", past});
  h.Run({"SET", "live", "v"});
  for (int i = 0; i < 5; i++) EXPECT_THAT(h.Run({"RANDOMKEY"}), IsBulk("live"));
}

TEST(KeysDbSize, CountsTheCurrentDbOnly) {
  Harness h;
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0));
  h.Run({"SET", "a", "1"});
  h.Run({"SET", "b", "1"});
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(2));
  ASSERT_THAT(h.Run({"SELECT", "3"}), IsOk());
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0));
}

// ---- RENAME RENAMENX COPY MOVE ------------------------------------------------------------

TEST(KeysRename, MovesValueAndTtl) {
  Harness h;
  EXPECT_THAT(h.Run({"RENAME", "nokey", "x"}), IsError("ERR no such key"));
  EXPECT_THAT(h.Run({"RENAMENX", "nokey", "x"}), IsError("ERR no such key"));
  h.Run({"SET", "a", "1"});
  h.Run({"PEXPIRE", "a", "5000"});
  EXPECT_THAT(h.Run({"RENAME", "a", "b"}), IsOk());
  EXPECT_THAT(h.Run({"EXISTS", "a"}), IsInt(0));
  EXPECT_THAT(h.Run({"GET", "b"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"PTTL", "b"}), IsInt(5000));
  h.Run({"SET", "c", "3"});
  EXPECT_THAT(h.Run({"RENAME", "b", "c"}), IsOk());  // overwrites, TTL follows
  EXPECT_THAT(h.Run({"GET", "c"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"PTTL", "c"}), IsInt(5000));
  EXPECT_THAT(h.Run({"RENAME", "c", "c"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "c"}), IsBulk("1"));
}

TEST(KeysRenameNx, RefusesExistingTarget) {
  Harness h;
  h.Run({"SET", "a", "1"});
  h.Run({"SET", "b", "2"});
  EXPECT_THAT(h.Run({"RENAMENX", "a", "b"}), IsInt(0));
  EXPECT_THAT(h.Run({"GET", "b"}), IsBulk("2"));
  EXPECT_THAT(h.Run({"RENAMENX", "a", "a"}), IsInt(0));
  EXPECT_THAT(h.Run({"RENAMENX", "a", "c"}), IsInt(1));
  EXPECT_THAT(h.Run({"GET", "c"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"EXISTS", "a"}), IsInt(0));
}

TEST(KeysCopy, SameDbReplaceAndTtl) {
  Harness h;
  EXPECT_THAT(h.Run({"COPY", "nokey", "b"}), IsInt(0));
  h.Run({"SET", "a", "1"});
  h.Run({"PEXPIRE", "a", "7000"});
  EXPECT_THAT(h.Run({"COPY", "a", "b"}), IsInt(1));
  EXPECT_THAT(h.Run({"GET", "b"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"PTTL", "b"}), IsInt(7000));
  h.Run({"SET", "a", "2"});  // SET drops a's TTL; the copy is independent
  EXPECT_THAT(h.Run({"GET", "b"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"COPY", "a", "b"}), IsInt(0));
  EXPECT_THAT(h.Run({"COPY", "a", "b", "REPLACE"}), IsInt(1));
  EXPECT_THAT(h.Run({"GET", "b"}), IsBulk("2"));
  EXPECT_THAT(h.Run({"PTTL", "b"}), IsInt(-1));
  EXPECT_THAT(h.Run({"COPY", "a", "a"}),
              IsError("ERR source and destination objects are the same"));
}

TEST(KeysCopy, OtherDbAndErrors) {
  Harness h;
  h.Run({"SET", "a", "1"});
  EXPECT_THAT(h.Run({"COPY", "a", "a", "DB", "1"}), IsInt(1));
  EXPECT_THAT(h.Run({"COPY", "a", "z", "db", "2", "replace"}), IsInt(1));
  EXPECT_THAT(h.Run({"COPY", "a", "b", "DB", "16"}), IsError("ERR DB index is out of range"));
  EXPECT_THAT(h.Run({"COPY", "a", "b", "DB", "-1"}), IsError("ERR DB index is out of range"));
  EXPECT_THAT(h.Run({"COPY", "a", "b", "DB", "x"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"COPY", "a", "b", "DB"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"COPY", "a", "b", "foo"}), IsError("ERR syntax error"));
  ASSERT_THAT(h.Run({"SELECT", "1"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "a"}), IsBulk("1"));
  ASSERT_THAT(h.Run({"SELECT", "2"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "z"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(1));
}

TEST(KeysMove, ToAnotherDb) {
  Harness h;
  h.Run({"SET", "a", "1"});
  h.Run({"PEXPIRE", "a", "9000"});
  EXPECT_THAT(h.Run({"MOVE", "a", "0"}),
              IsError("ERR source and destination objects are the same"));
  EXPECT_THAT(h.Run({"MOVE", "a", "16"}), IsError("ERR DB index is out of range"));
  EXPECT_THAT(h.Run({"MOVE", "a", "x"}), IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"MOVE", "a", "99999999999"}),
              IsError("ERR value is out of range, value must between -2147483648 and 2147483647"));
  EXPECT_THAT(h.Run({"MOVE", "nokey", "1"}), IsInt(0));
  EXPECT_THAT(h.Run({"MOVE", "a", "1"}), IsInt(1));
  EXPECT_THAT(h.Run({"EXISTS", "a"}), IsInt(0));
  ASSERT_THAT(h.Run({"SELECT", "1"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "a"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"PTTL", "a"}), IsInt(9000));
  h.Run({"SELECT", "0"});
  h.Run({"SET", "a", "other"});
  EXPECT_THAT(h.Run({"MOVE", "a", "1"}), IsInt(0));  // taken in db 1
  EXPECT_THAT(h.Run({"GET", "a"}), IsBulk("other"));
}

// ---- OBJECT -------------------------------------------------------------------------------

TEST(KeysObject, EncodingRefcountAndMissingKey) {
  Harness h;
  h.Run({"SET", "i", "12345"});
  h.Run({"SET", "small", "7"});
  h.Run({"SET", "e", "hello"});
  h.Run({"SET", "r", std::string(45, 'x')});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "i"}), IsBulk("int"));
  EXPECT_THAT(h.Run({"object", "encoding", "e"}), IsBulk("embstr"));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "r"}), IsBulk("raw"));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "nokey"}), IsNull());
  EXPECT_THAT(h.Run({"OBJECT", "REFCOUNT", "small"}), IsInt(2147483647));
  EXPECT_THAT(h.Run({"OBJECT", "REFCOUNT", "i"}), IsInt(1));
  EXPECT_THAT(h.Run({"OBJECT", "REFCOUNT", "nokey"}), IsNull());
  EXPECT_THAT(h.Run({"OBJECT", "IDLETIME", "nokey"}), IsNull());
  EXPECT_THAT(h.Run({"OBJECT", "FREQ", "nokey"}), IsNull());
}

// Redis keeps a string edited in place (APPEND to an existing key, SETRANGE) "raw",
// whatever its bytes, until a whole-value write; such a value is not a shared integer.
// APPEND creating the key encodes it like SET. COPY and RENAME keep the encoding.
TEST(KeysObject, EncodingFollowsHowTheStringWasWritten) {
  Harness h;
  h.Run({"APPEND", "a", "1"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "a"}), IsBulk("int"));
  h.Run({"APPEND", "a", "2"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "a"}), IsBulk("raw"));
  EXPECT_THAT(h.Run({"OBJECT", "REFCOUNT", "a"}), IsInt(1));
  h.Run({"COPY", "a", "b"});
  h.Run({"RENAME", "b", "c"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "c"}), IsBulk("raw"));
  h.Run({"SETRANGE", "s", "0", "hi"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "s"}), IsBulk("raw"));
  h.Run({"SET", "e", "hello"});
  h.Run({"SETRANGE", "e", "0", ""});  // writes nothing: stays embstr
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "e"}), IsBulk("embstr"));
  h.Run({"SETRANGE", "e", "0", "H"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "e"}), IsBulk("raw"));
  h.Run({"SET", "a", "12"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "a"}), IsBulk("int"));
  EXPECT_THAT(h.Run({"OBJECT", "REFCOUNT", "a"}), IsInt(2147483647));
  h.Run({"APPEND", "a", "3"});
  h.Run({"INCR", "a"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "a"}), IsBulk("int"));
}

TEST(KeysObject, FreqNeedsAnLfuPolicy) {
  Harness h;
  h.Run({"SET", "k", "v"});
  EXPECT_THAT(h.Run({"OBJECT", "FREQ", "k"}),
              IsError("ERR An LFU maxmemory policy is not selected, access frequency not "
                      "tracked. Please note that when switching between policies at runtime "
                      "LRU and LFU data will take some time to adjust."));
  EXPECT_THAT(h.Run({"OBJECT", "IDLETIME", "k"}), IsInt(0));

  HarnessOptions lfu;
  lfu.config = {{"storage.eviction_policy", "allkeys-lfu"}};
  Harness h2(lfu);
  h2.Run({"SET", "k", "v"});
  Reply freq = h2.Run({"OBJECT", "FREQ", "k"});
  EXPECT_EQ(freq.type, FERRITE_REPLY_INTEGER) << freq.ToString();
  EXPECT_THAT(h2.Run({"OBJECT", "IDLETIME", "k"}),
              IsError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please "
                      "note that when switching between policies at runtime LRU and LFU data "
                      "will take some time to adjust."));
}

// As in redis 7.0: a new key starts at LFU_INIT_VAL (5), and OBJECT FREQ reports the
// counter less one per lfu-decay-time minute (default 1) without an access.
TEST(KeysObject, FreqStartsAtInitValueAndDecays) {
  HarnessOptions lfu;
  lfu.config = {{"storage.eviction_policy", "allkeys-lfu"}};
  Harness h(lfu);
  h.Run({"SET", "k", "v"});
  EXPECT_THAT(h.Run({"OBJECT", "FREQ", "k"}), IsInt(5));
  h.AdvanceTime(3 * 60000);
  EXPECT_THAT(h.Run({"OBJECT", "FREQ", "k"}), IsInt(2));
  h.AdvanceTime(10 * 60000);
  EXPECT_THAT(h.Run({"OBJECT", "FREQ", "k"}), IsInt(0));
}

// A key created long after the host started is not idle since the start.
TEST(KeysObject, IdleTimeOfANewKeyStartsAtZero) {
  Harness h;
  h.AdvanceTime(100000);
  h.Run({"SET", "k", "v"});
  h.Run({"APPEND", "l", "a"});
  EXPECT_THAT(h.Run({"OBJECT", "IDLETIME", "k"}), IsInt(0));
  EXPECT_THAT(h.Run({"OBJECT", "IDLETIME", "l"}), IsInt(0));
  h.AdvanceTime(7000);
  EXPECT_THAT(h.Run({"OBJECT", "IDLETIME", "l"}), IsInt(7));
}

// Disabled until open_key can skip touching the key: see docs/sdk-requests.md
// ("open a key without touching it"). Every open resets the idle time today.
TEST(KeysObject, IdleTimeGrowsWithoutAccess) {
  Harness h;
  h.Run({"SET", "k", "v"});
  h.AdvanceTime(5000);
  EXPECT_THAT(h.Run({"OBJECT", "IDLETIME", "k"}), IsInt(5));
  h.Run({"GET", "k"});
  EXPECT_THAT(h.Run({"OBJECT", "IDLETIME", "k"}), IsInt(0));
}

TEST(KeysObject, HelpAndSubcommandErrors) {
  Harness h;
  Reply help = h.Run({"OBJECT", "HELP"});
  ASSERT_EQ(help.elems.size(), 15u);
  EXPECT_THAT(help.elems[0],
              IsSimple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
  EXPECT_THAT(help.elems[14], IsSimple("    Prints this help."));
  EXPECT_THAT(h.Run({"OBJECT", "foo"}), IsError("ERR unknown subcommand 'foo'. Try OBJECT HELP."));
  EXPECT_THAT(h.Run({"object", "FOO", "k"}),
              IsError("ERR unknown subcommand 'FOO'. Try OBJECT HELP."));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING"}),
              IsError("ERR wrong number of arguments for 'object|encoding' command"));
  EXPECT_THAT(h.Run({"OBJECT", "Freq", "a", "b"}),
              IsError("ERR wrong number of arguments for 'object|freq' command"));
  EXPECT_THAT(h.Run({"OBJECT", "help", "x"}),
              IsError("ERR wrong number of arguments for 'object|help' command"));
}

// ---- FLUSHDB FLUSHALL and databases ---------------------------------------------------------

TEST(KeysFlush, FlushDbOnlyTouchesTheCurrentDb) {
  Harness h;
  h.Run({"SET", "a", "0"});
  h.Run({"SELECT", "5"});
  h.Run({"SET", "a", "5"});
  EXPECT_THAT(h.Run({"FLUSHDB", "foo"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"FLUSHDB", "ASYNC"}), IsOk());
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0));
  h.Run({"SELECT", "0"});
  EXPECT_THAT(h.Run({"GET", "a"}), IsBulk("0"));
  EXPECT_THAT(h.Run({"FLUSHDB"}), IsOk());
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0));
}

TEST(KeysFlush, FlushAllEmptiesEveryDb) {
  Harness h;
  for (int db = 0; db < 16; db++) {
    ASSERT_THAT(h.Run({"SELECT", std::to_string(db)}), IsOk());
    h.Run({"SET", "k", std::to_string(db)});
  }
  EXPECT_THAT(h.Run({"FLUSHALL", "sync", "x"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"FLUSHALL", "SYNC"}), IsOk());
  for (int db = 0; db < 16; db++) {
    h.Run({"SELECT", std::to_string(db)});
    EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0)) << db;
  }
  EXPECT_THAT(h.Run({"FLUSHALL"}), IsOk());
}

TEST(KeysDatabases, EachDbHasItsOwnKeysAndClientsTheirOwnDb) {
  Harness h;
  h.Run({"SET", "k", "zero"});
  h.Run({"SELECT", "1"});
  EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(0));
  EXPECT_THAT(h.Run({"KEYS", "*"}), IsEmptyArray());
  h.Run({"SET", "k", "one"});
  h.Run({"EXPIRE", "k", "100"});
  EXPECT_THAT(h.RunOn(1, {"GET", "k"}), IsBulk("zero"));  // client 1 is still in db 0
  EXPECT_THAT(h.RunOn(1, {"TTL", "k"}), IsInt(-1));
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(100));
  EXPECT_THAT(h.Run({"RENAME", "k", "k2"}), IsOk());
  EXPECT_THAT(h.RunOn(1, {"KEYS", "*"}), IsBulkArray({"k"}));
  EXPECT_THAT(h.Run({"KEYS", "*"}), IsBulkArray({"k2"}));
}

// ---- keyspace events and propagation ------------------------------------------------------

TEST(KeysEvents, NamesAndDbsAsRedis) {
  Harness h(WithEvents());
  EventRecorder rec(h, FERRITE_NOTIFY_GENERIC);
  h.Run({"SET", "a", "1"});
  h.Run({"EXPIRE", "a", "100"});
  h.Run({"EXPIRE", "a", "100", "NX"});  // refused: no event
  h.Run({"PERSIST", "a"});
  h.Run({"RENAME", "a", "b"});
  h.Run({"COPY", "b", "c", "DB", "2"});
  h.Run({"MOVE", "b", "1"});
  h.Run({"SET", "d", "1"});
  h.Run({"DEL", "d", "nokey"});
  h.Run({"SET", "e", "1"});
  h.Run({"EXPIRE", "e", "-1"});
  EXPECT_THAT(EventStrings(rec), ElementsAre("0:expire:a", "0:persist:a", "0:rename_from:a",
                                      "0:rename_to:b", "2:copy_to:c", "0:move_from:b",
                                      "1:move_to:b", "0:del:d", "0:del:e"));
  // The db switch around move_to / copy_to must not leak into the client.
  EXPECT_THAT(h.Run({"GET", "e"}), IsNull());
  h.Run({"SET", "f", "1"});
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(1));
}

TEST(KeysPropagation, ExpiryIsAbsoluteAndPastExpiryIsDel) {
  Harness h;
  struct {
    std::vector<std::string> cmds;
  } log;
  auto rec = std::make_unique<PropagationRecorder>(h);
  h.Run({"SET", "k", "v"});
  h.Run({"PEXPIRE", "k", "5000"});
  int64_t at = PExpireTime(h, "k");
  h.Run({"EXPIRE", "nokey", "10"});       // nothing changed: nothing propagated
  h.Run({"EXPIRE", "k", "10", "LT"});     // refused
  h.Run({"EXPIREAT", "k", std::to_string(at / 1000 + 60)});
  h.Run({"PERSIST", "k"});
  h.Run({"EXPIRE", "k", "-1"});
  h.Run({"EXISTS", "k"});
  h.Run({"DEL", "nokey"});
  h.Run({"SELECT", "3"});
  h.Run({"FLUSHDB"});                     // always propagated, even when empty
  log.cmds = PropagatedStrings(*rec);
  rec.reset();
  // SET is strings.so's; SELECT is how the host marks the db for the AOF.
  std::erase_if(log.cmds, [](const std::string& c) {
    return c.starts_with("0:SET ") || c.find(":SELECT ") != std::string::npos;
  });
  EXPECT_THAT(log.cmds, ElementsAre("0:PEXPIREAT k " + std::to_string(at),
                                "0:PEXPIREAT k " + std::to_string((at / 1000 + 60) * 1000),
                                "0:PERSIST k", "0:DEL k", "3:FLUSHDB"));
}

}  // namespace
}  // namespace ferrite::test
