// Family tests for the hashes module through the in-process harness.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

// HGETALL replies a map (RESP2 renders it flat); compare its entries in order.
std::vector<std::string> MapEntries(const Reply& r) {
  EXPECT_EQ(r.type, FERRITE_REPLY_MAP) << r.ToString();
  std::vector<std::string> out;
  for (auto& e : r.elems) out.push_back(e.str);
  return out;
}
using Strs = std::vector<std::string>;

const char kWrongType[] = "WRONGTYPE Operation against a key holding the wrong kind of value";

class HashesTest : public ::testing::Test {
 protected:
  static HarnessOptions Opts() {
    HarnessOptions o;
    o.plugins = {"hashes", "strings", "keys"};
    return o;
  }
  HashesTest() : h(Opts()) {}
  Harness h;
};

TEST_F(HashesTest, GuideExample) {
  EXPECT_THAT(h.Run({"HSET", "user:1", "name", "Alice", "email", "alice@example.com"}), IsInt(2));
  EXPECT_THAT(h.Run({"HGET", "user:1", "name"}), IsBulk("Alice"));
  EXPECT_EQ(MapEntries(h.Run({"HGETALL", "user:1"})),
            (Strs{"name", "Alice", "email", "alice@example.com"}));
  EXPECT_THAT(h.Run({"TYPE", "user:1"}), IsSimple("hash"));
}

TEST_F(HashesTest, BasicCommands) {
  EXPECT_THAT(h.Run({"HSET", "h", "a", "1", "b", "2"}), IsInt(2));
  EXPECT_THAT(h.Run({"HSET", "h", "a", "10", "c", "3"}), IsInt(1));
  EXPECT_THAT(h.Run({"HMSET", "h", "d", "4"}), IsOk());
  EXPECT_THAT(h.Run({"HSETNX", "h", "a", "x"}), IsInt(0));
  EXPECT_THAT(h.Run({"HSETNX", "h", "e", "5"}), IsInt(1));
  EXPECT_THAT(h.Run({"HMGET", "h", "a", "zz", "e"}),
              IsArrayOf({IsBulk("10"), IsNull(), IsBulk("5")}));
  EXPECT_THAT(h.Run({"HLEN", "h"}), IsInt(5));
  EXPECT_THAT(h.Run({"HSTRLEN", "h", "a"}), IsInt(2));
  EXPECT_THAT(h.Run({"HEXISTS", "h", "a"}), IsInt(1));
  EXPECT_THAT(h.Run({"HEXISTS", "h", "zz"}), IsInt(0));
  EXPECT_THAT(h.Run({"HKEYS", "h"}), IsUnorderedBulkArray({"a", "b", "c", "d", "e"}));
  EXPECT_THAT(h.Run({"HVALS", "h"}), IsUnorderedBulkArray({"10", "2", "3", "4", "5"}));
  EXPECT_THAT(h.Run({"HDEL", "h", "a", "zz", "b"}), IsInt(2));
  EXPECT_THAT(h.Run({"HDEL", "h", "c", "d", "e"}), IsInt(3));
  EXPECT_THAT(h.Run({"EXISTS", "h"}), IsInt(0));
}

TEST_F(HashesTest, MissingKey) {
  EXPECT_THAT(h.Run({"HGET", "no", "a"}), IsNull());
  EXPECT_THAT(h.Run({"HMGET", "no", "a"}), IsArrayOf({IsNull()}));
  EXPECT_THAT(h.Run({"HLEN", "no"}), IsInt(0));
  EXPECT_THAT(h.Run({"HDEL", "no", "a"}), IsInt(0));
  EXPECT_EQ(MapEntries(h.Run({"HGETALL", "no"})), Strs{});
  EXPECT_THAT(h.Run({"HKEYS", "no"}), IsEmptyArray());
  EXPECT_THAT(h.Run({"HSTRLEN", "no", "a"}), IsInt(0));
  EXPECT_THAT(h.Run({"HRANDFIELD", "no"}), IsNull());
  EXPECT_THAT(h.Run({"HRANDFIELD", "no", "3"}), IsEmptyArray());
  EXPECT_THAT(h.Run({"HSCAN", "no", "0"}), IsArrayOf({IsBulk("0"), IsEmptyArray()}));
  EXPECT_THAT(h.Run({"HTTL", "no", "FIELDS", "2", "a", "b"}), IsIntArray({-2, -2}));
  EXPECT_THAT(h.Run({"HEXPIRE", "no", "10", "FIELDS", "1", "a"}), IsIntArray({-2}));
  EXPECT_THAT(h.Run({"HPERSIST", "no", "FIELDS", "1", "a"}), IsIntArray({-2}));
}

TEST_F(HashesTest, WrongType) {
  h.Run({"SET", "s", "v"});
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"HSET", "s", "a", "1"}, {"HSETNX", "s", "a", "1"}, {"HGET", "s", "a"},
           {"HMGET", "s", "a"}, {"HDEL", "s", "a"}, {"HLEN", "s"}, {"HSTRLEN", "s", "a"},
           {"HEXISTS", "s", "a"}, {"HKEYS", "s"}, {"HVALS", "s"}, {"HGETALL", "s"},
           {"HINCRBY", "s", "a", "1"}, {"HINCRBYFLOAT", "s", "a", "1"}, {"HRANDFIELD", "s"},
           {"HSCAN", "s", "0"}, {"HEXPIRE", "s", "1", "FIELDS", "1", "a"},
           {"HTTL", "s", "FIELDS", "1", "a"}, {"HPERSIST", "s", "FIELDS", "1", "a"}}) {
    EXPECT_THAT(h.Run(cmd), IsError(kWrongType)) << cmd[0];
  }
}

TEST_F(HashesTest, Arity) {
  EXPECT_THAT(h.Run({"HSET", "h", "a"}), IsError("ERR wrong number of arguments for 'hset' command"));
  EXPECT_THAT(h.Run({"HSET", "h", "a", "1", "b"}),
              IsError("ERR wrong number of arguments for 'hset' command"));
  EXPECT_THAT(h.Run({"HMSET", "h", "a", "1", "b"}),
              IsError("ERR wrong number of arguments for 'hmset' command"));
  EXPECT_THAT(h.Run({"HGET", "h"}), IsError("ERR wrong number of arguments for 'hget' command"));
  EXPECT_THAT(h.Run({"HLEN", "h", "x"}), IsError("ERR wrong number of arguments for 'hlen' command"));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "1", "FIELDS", "1"}),
              IsError("ERR wrong number of arguments for 'hexpire' command"));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "1"}),
              IsError("ERR wrong number of arguments for 'httl' command"));
}

TEST_F(HashesTest, IncrBy) {
  EXPECT_THAT(h.Run({"HINCRBY", "h", "n", "5"}), IsInt(5));
  EXPECT_THAT(h.Run({"HINCRBY", "h", "n", "-7"}), IsInt(-2));
  h.Run({"HSET", "h", "s", "abc", "f", "1.5"});
  EXPECT_THAT(h.Run({"HINCRBY", "h", "s", "1"}), IsError("ERR hash value is not an integer"));
  EXPECT_THAT(h.Run({"HINCRBY", "h", "n", "x"}),
              IsError("ERR value is not an integer or out of range"));
  h.Run({"HSET", "h", "big", "9223372036854775800"});
  EXPECT_THAT(h.Run({"HINCRBY", "h", "big", "100"}),
              IsError("ERR increment or decrement would overflow"));
  EXPECT_THAT(h.Run({"HINCRBYFLOAT", "h", "f", "0.1"}), IsBulk("1.6"));
  EXPECT_THAT(h.Run({"HINCRBYFLOAT", "h", "new", "3"}), IsBulk("3"));
  EXPECT_THAT(h.Run({"HINCRBYFLOAT", "h", "s", "1"}), IsError("ERR hash value is not a float"));
  EXPECT_THAT(h.Run({"HINCRBYFLOAT", "h", "f", "x"}), IsError("ERR value is not a valid float"));
  EXPECT_THAT(h.Run({"HINCRBYFLOAT", "h", "f", "inf"}), IsError("ERR value is NaN or Infinity"));
}

TEST_F(HashesTest, RandField) {
  h.Run({"HSET", "h", "a", "1", "b", "2", "c", "3"});
  EXPECT_THAT(h.Run({"HRANDFIELD", "h", "5"}), IsUnorderedBulkArray({"a", "b", "c"}));
  EXPECT_EQ(h.Run({"HRANDFIELD", "h", "-7"}).elems.size(), 7u);
  Reply r = h.Run({"HRANDFIELD", "h", "2", "WITHVALUES"});
  ASSERT_EQ(r.elems.size(), 4u);
  EXPECT_EQ(r.elems[0].str == "a" ? "1" : r.elems[0].str == "b" ? "2" : "3", r.elems[1].str);
  std::set<std::string> distinct{r.elems[0].str, r.elems[2].str};
  EXPECT_EQ(distinct.size(), 2u);
  EXPECT_THAT(h.Run({"HRANDFIELD", "h", "0"}), IsEmptyArray());
  EXPECT_THAT(h.Run({"HRANDFIELD", "h", "x"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"HRANDFIELD", "h", "1", "foo"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"}),
              IsError("ERR value is out of range"));
}

TEST_F(HashesTest, ScanCompactAndTable) {
  h.Run({"HSET", "h", "a", "1", "b", "2"});
  EXPECT_THAT(h.Run({"HSCAN", "h", "0", "MATCH", "a*"}),
              IsArrayOf({IsBulk("0"), IsBulkArray({"a", "1"})}));
  EXPECT_THAT(h.Run({"HSCAN", "h", "x"}), IsError("ERR invalid cursor"));
  EXPECT_THAT(h.Run({"HSCAN", "h", "0", "COUNT", "0"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"HSCAN", "h", "0", "FOO"}), IsError("ERR syntax error"));
  std::vector<std::string> cmd{"HSET", "big"};
  for (int i = 0; i < 600; i++) {  // past hash-max-listpack-entries (512)
    cmd.push_back("f" + std::to_string(i));
    cmd.push_back("v");
  }
  h.Run(cmd);
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "big"}), IsBulk("hashtable"));
  std::set<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    Reply r = h.Run({"HSCAN", "big", cursor, "COUNT", "20"});
    ASSERT_EQ(r.elems.size(), 2u);
    cursor = r.elems[0].str;
    for (size_t i = 0; i < r.elems[1].elems.size(); i += 2) seen.insert(r.elems[1].elems[i].str);
    ASSERT_LT(++rounds, 1000);
  } while (cursor != "0");
  EXPECT_EQ(seen.size(), 600u);
  EXPECT_GT(rounds, 1);
}

TEST_F(HashesTest, EncodingThresholdsFollowOptions) {
  h.Run({"HSET", "h", "a", "1"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "h"}), IsBulk("listpack"));
  h.Run({"HSET", "h", "long", std::string(65, 'x')});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "h"}), IsBulk("hashtable"));
  ASSERT_THAT(h.Run({"CONFIG", "SET", "hash-max-listpack-entries", "2"}), IsOk());
  h.Run({"HSET", "g", "a", "1", "b", "2"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "g"}), IsBulk("listpack"));
  h.Run({"HSET", "g", "c", "3"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "g"}), IsBulk("hashtable"));
}

TEST_F(HashesTest, FieldExpiry) {
  h.Run({"HSET", "h", "a", "1", "b", "2", "c", "3"});
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "10", "FIELDS", "2", "a", "zz"}), IsIntArray({1, -2}));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "3", "a", "b", "zz"}), IsIntArray({10, -1, -2}));
  EXPECT_THAT(h.Run({"HPTTL", "h", "FIELDS", "1", "a"}), IsIntArray({10000}));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "h"}), IsBulk("listpackex"));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "5", "NX", "FIELDS", "2", "a", "b"}), IsIntArray({0, 1}));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "20", "XX", "FIELDS", "2", "a", "c"}), IsIntArray({1, 0}));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "1", "GT", "FIELDS", "2", "a", "c"}), IsIntArray({0, 0}));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "1", "LT", "FIELDS", "2", "a", "c"}), IsIntArray({1, 1}));
  EXPECT_THAT(h.Run({"HPERSIST", "h", "FIELDS", "3", "c", "c", "zz"}), IsIntArray({1, -1, -2}));
  // a: 1s, b: 5s
  h.AdvanceTime(1000);
  EXPECT_THAT(h.Run({"HGET", "h", "a"}), IsNull());
  EXPECT_THAT(h.Run({"HLEN", "h"}), IsInt(2));
  EXPECT_THAT(h.Run({"HPEXPIRE", "h", "0", "FIELDS", "1", "c"}), IsIntArray({2}));
  h.AdvanceTime(4000);
  EXPECT_EQ(MapEntries(h.Run({"HGETALL", "h"})), Strs{});
  EXPECT_THAT(h.Run({"EXISTS", "h"}), IsInt(0));
}

TEST_F(HashesTest, FieldExpiryAbsoluteAndErrors) {
  h.Run({"HSET", "h", "a", "1"});
  Reply now = h.Run({"TIME"});
  ASSERT_EQ(now.elems.size(), 2u) << now.ToString();
  int64_t sec = std::stoll(now.elems[0].str);
  std::string at = std::to_string(sec + 100);
  EXPECT_THAT(h.Run({"HEXPIREAT", "h", at, "FIELDS", "1", "a"}), IsIntArray({1}));
  EXPECT_THAT(h.Run({"HEXPIRETIME", "h", "FIELDS", "1", "a"}), IsIntArray({sec + 100}));
  EXPECT_THAT(h.Run({"HPEXPIRETIME", "h", "FIELDS", "1", "a"}), IsIntArray({(sec + 100) * 1000}));
  EXPECT_THAT(h.Run({"HSET", "h", "a", "2"}), IsInt(0));  // overwrite clears the TTL
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "1", "a"}), IsIntArray({-1}));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "-1", "FIELDS", "1", "a"}),
              IsError("ERR invalid expire time, must be >= 0"));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "x", "FIELDS", "1", "a"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "10", "FIELDX", "1", "a"}),
              IsError("ERR Mandatory argument FIELDS is missing or not at the right position"));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "10", "FIELDS", "0", "a"}),
              IsError("ERR Parameter `numFields` should be greater than 0"));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "10", "FIELDS", "2", "a"}),
              IsError("ERR The `numfields` parameter must match the number of arguments"));
  EXPECT_THAT(h.Run({"HEXPIRE", "h", "99999999999999", "FIELDS", "1", "a"}),
              IsError("ERR invalid expire time in 'hexpire' command"));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "2", "a"}),
              IsError("ERR The `numfields` parameter must match the number of arguments"));
}

TEST_F(HashesTest, IncrByKeepsFieldTtl) {
  h.Run({"HSET", "h", "n", "1"});
  h.Run({"HEXPIRE", "h", "100", "FIELDS", "1", "n"});
  EXPECT_THAT(h.Run({"HINCRBY", "h", "n", "1"}), IsInt(2));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "1", "n"}), IsIntArray({100}));
}

TEST_F(HashesTest, KeyExpiry) {
  h.Run({"HSET", "h", "a", "1"});
  h.Run({"PEXPIRE", "h", "50"});
  h.AdvanceTime(51);
  EXPECT_THAT(h.Run({"HGET", "h", "a"}), IsNull());
  EXPECT_THAT(h.Run({"HLEN", "h"}), IsInt(0));
}

// --- active field expiry (the host's sub-key expiry index) -------------------------

std::vector<std::string> Propagated(const PropagationRecorder& rec) {
  std::vector<std::string> out;
  for (auto& c : rec.commands()) {
    if (!c.argv.empty() && c.argv[0] == "SELECT") continue;
    std::string s = std::to_string(c.db) + ":";
    for (size_t i = 0; i < c.argv.size(); i++) s += (i ? " " : "") + c.argv[i];
    out.push_back(s);
  }
  return out;
}

std::vector<std::string> Events(const EventRecorder& rec) {
  std::vector<std::string> out;
  for (auto& e : rec.events()) out.push_back(std::to_string(e.db) + ":" + e.event + ":" + e.key);
  return out;
}

// Moves the clock, then runs more cron cycles without moving it: one cycle stops after
// its time budget (a slow machine may cover a single shard), and each starts at the
// next shard, so enough of them reach every shard whatever the machine's speed.
void AdvanceAndReap(Harness& h, int64_t ms) {
  h.AdvanceTime(ms);
  for (int i = 0; i < 256; i++) h.AdvanceTime(0);
}

TEST_F(HashesTest, ActiveExpiryReapsUntouchedHash) {
  ASSERT_THAT(h.Run({"CONFIG", "SET", "notify-keyspace-events", "KEA"}), IsOk());
  h.Run({"HSET", "gone", "a", "1", "b", "2"});
  h.Run({"HSET", "kept", "x", "1", "y", "2"});
  h.Run({"HPEXPIRE", "gone", "100", "FIELDS", "2", "a", "b"});
  h.Run({"HPEXPIRE", "kept", "100", "FIELDS", "1", "x"});
  h.Run({"HPEXPIRE", "kept", "500", "FIELDS", "1", "y"});
  PropagationRecorder prop(h);
  EventRecorder ev(h, FERRITE_NOTIFY_HASH | FERRITE_NOTIFY_GENERIC);
  AdvanceAndReap(h, 99);
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(2));
  EXPECT_TRUE(prop.commands().empty());
  AdvanceAndReap(h, 1);  // no hash command touches either key from here on
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(1));
  EXPECT_THAT(h.Run({"EXISTS", "gone"}), IsInt(0));
  EXPECT_THAT(h.Run({"KEYS", "*"}), IsBulkArray({"kept"}));
  std::vector<std::string> p = Propagated(prop);
  std::sort(p.begin(), p.end());
  EXPECT_EQ(p, (Strs{"0:HDEL gone a", "0:HDEL gone b", "0:HDEL kept x"}));
  std::vector<std::string> e = Events(ev);
  std::sort(e.begin(), e.end());
  EXPECT_EQ(e, (Strs{"0:del:gone", "0:hexpired:gone", "0:hexpired:kept"}));
  AdvanceAndReap(h, 400);  // y: the re-filed next time is honoured too
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0));
}

TEST_F(HashesTest, ActiveExpiryFollowsRenameCopyMoveAndDb) {
  h.Run({"HSET", "h", "a", "1"});
  h.Run({"HPEXPIRE", "h", "100", "FIELDS", "1", "a"});
  ASSERT_THAT(h.Run({"RENAME", "h", "r"}), IsOk());
  ASSERT_THAT(h.Run({"COPY", "r", "c"}), IsInt(1));
  ASSERT_THAT(h.Run({"COPY", "r", "d", "DB", "2"}), IsInt(1));
  ASSERT_THAT(h.Run({"MOVE", "c", "1"}), IsInt(1));
  PropagationRecorder prop(h);
  AdvanceAndReap(h, 100);
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0));
  EXPECT_THAT(h.Run({"SELECT", "1"}), IsOk());
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0));
  EXPECT_THAT(h.Run({"SELECT", "2"}), IsOk());
  EXPECT_THAT(h.Run({"DBSIZE"}), IsInt(0));
  std::vector<std::string> p = Propagated(prop);
  std::sort(p.begin(), p.end());
  EXPECT_EQ(p, (Strs{"0:HDEL r a", "1:HDEL c a", "2:HDEL d a"}));
}

TEST_F(HashesTest, ActiveExpiryIndexDroppedByDeleteOverwritePersistFlush) {
  for (const char* k : {"del", "over", "pers", "flushed"}) {
    h.Run({"HSET", k, "a", "1"});
    h.Run({"HPEXPIRE", k, "100", "FIELDS", "1", "a"});
  }
  h.Run({"DEL", "del"});
  h.Run({"SET", "over", "string"});
  h.Run({"HPERSIST", "pers", "FIELDS", "1", "a"});
  PropagationRecorder prop(h);
  AdvanceAndReap(h, 200);
  EXPECT_THAT(h.Run({"GET", "over"}), IsBulk("string"));
  EXPECT_THAT(h.Run({"HGET", "pers", "a"}), IsBulk("1"));
  EXPECT_EQ(Propagated(prop), (Strs{"0:HDEL flushed a"}));
  h.Run({"HSET", "f2", "a", "1"});
  h.Run({"HPEXPIRE", "f2", "100", "FIELDS", "1", "a"});
  h.Run({"FLUSHALL"});
  size_t before = prop.commands().size();
  AdvanceAndReap(h, 200);
  EXPECT_EQ(prop.commands().size(), before);
}

TEST_F(HashesTest, LazyExpiryLeavesIndexConsistent) {
  // A field reaped by a command first leaves a stale (earlier) index time: the cycle
  // must just recompute, and still reap the later field on time.
  h.Run({"HSET", "h", "a", "1", "b", "2", "c", "3"});
  h.Run({"HPEXPIRE", "h", "100", "FIELDS", "1", "a"});
  h.Run({"HPEXPIRE", "h", "300", "FIELDS", "1", "b"});
  h.Run({"HDEL", "h", "a"});
  PropagationRecorder prop(h);
  AdvanceAndReap(h, 150);
  EXPECT_TRUE(Propagated(prop).empty());
  EXPECT_THAT(h.Run({"HLEN", "h"}), IsInt(2));
  AdvanceAndReap(h, 150);
  EXPECT_EQ(Propagated(prop), (Strs{"0:HDEL h b"}));
  EXPECT_EQ(MapEntries(h.Run({"HGETALL", "h"})), (Strs{"c", "3"}));
}

// Snapshot round trips of field TTLs and limits on load: host/persistence/
// persistence_family_test.cc (the harness has no DEBUG RELOAD).

TEST_F(HashesTest, CopyHonoursConfiguredLimits) {
  h.Run({"HSET", "n", "a", "1", "b", "2", "c", "3"});
  h.Run({"HSET", "v", "a", "12345"});
  ASSERT_THAT(h.Run({"OBJECT", "ENCODING", "n"}), IsBulk("listpack"));
  ASSERT_THAT(h.Run({"CONFIG", "SET", "hash-max-listpack-entries", "2"}), IsOk());
  ASSERT_THAT(h.Run({"CONFIG", "SET", "hash-max-listpack-value", "4"}), IsOk());
  ASSERT_THAT(h.Run({"COPY", "n", "n2"}), IsInt(1));
  ASSERT_THAT(h.Run({"COPY", "v", "v2"}), IsInt(1));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "n2"}), IsBulk("hashtable"));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "v2"}), IsBulk("hashtable"));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "n"}), IsBulk("listpack"));  // untouched
  EXPECT_EQ(MapEntries(h.Run({"HGETALL", "v2"})), (Strs{"a", "12345"}));
}

}  // namespace
}  // namespace ferrite::test
