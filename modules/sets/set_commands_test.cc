// Family tests for the sets module through the in-process harness.
#include <set>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

using ::testing::AnyOf;

const char kWrongType[] = "WRONGTYPE Operation against a key holding the wrong kind of value";

class SetsTest : public ::testing::Test {
 protected:
  SetsTest() : h_(HarnessOptions{.plugins = {"sets", "strings", "keys"}}) {}
  Harness h_;
};

std::set<std::string> Strings(const Reply& r) {
  std::set<std::string> out;
  for (auto& e : r.elems) out.insert(e.str);
  return out;
}

TEST_F(SetsTest, AddRemCardIsMember) {
  EXPECT_THAT(h_.Run({"SADD", "s", "a", "b", "a"}), IsInt(2));
  EXPECT_THAT(h_.Run({"SADD", "s", "b", "c"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SCARD", "s"}), IsInt(3));
  EXPECT_THAT(h_.Run({"SISMEMBER", "s", "a"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SISMEMBER", "s", "z"}), IsInt(0));
  EXPECT_THAT(h_.Run({"SMISMEMBER", "s", "a", "z"}), IsIntArray({1, 0}));
  EXPECT_THAT(h_.Run({"SREM", "s", "a", "z"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SMEMBERS", "s"}), IsUnorderedBulkArray({"b", "c"}));
  EXPECT_THAT(h_.Run({"SREM", "s", "b", "c"}), IsInt(2));
  EXPECT_THAT(h_.Run({"EXISTS", "s"}), IsInt(0));  // emptied key is deleted
}

TEST_F(SetsTest, MissingKey) {
  EXPECT_THAT(h_.Run({"SCARD", "no"}), IsInt(0));
  EXPECT_THAT(h_.Run({"SISMEMBER", "no", "a"}), IsInt(0));
  EXPECT_THAT(h_.Run({"SMEMBERS", "no"}), IsEmptyArray());
  EXPECT_THAT(h_.Run({"SREM", "no", "a"}), IsInt(0));
  EXPECT_THAT(h_.Run({"SPOP", "no"}), IsNull());
  EXPECT_THAT(h_.Run({"SRANDMEMBER", "no"}), IsNull());
  EXPECT_THAT(h_.Run({"SRANDMEMBER", "no", "3"}), IsEmptyArray());
  EXPECT_THAT(h_.Run({"SMOVE", "no", "d", "a"}), IsInt(0));
  EXPECT_THAT(h_.Run({"SINTER", "no"}), IsEmptyArray());
  EXPECT_THAT(h_.Run({"SSCAN", "no", "0"}),
              IsArrayOf({IsBulk("0"), IsEmptyArray()}));
}

TEST_F(SetsTest, WrongType) {
  ASSERT_THAT(h_.Run({"SET", "str", "x"}), IsOk());
  for (auto cmd : std::vector<std::vector<std::string>>{
           {"SADD", "str", "a"}, {"SREM", "str", "a"}, {"SCARD", "str"},
           {"SISMEMBER", "str", "a"}, {"SMISMEMBER", "str", "a"}, {"SMEMBERS", "str"},
           {"SPOP", "str"}, {"SRANDMEMBER", "str"}, {"SSCAN", "str", "0"},
           {"SINTER", "no", "str"}, {"SUNION", "str"}, {"SDIFF", "no", "str"},
           {"SINTERCARD", "2", "no", "str"}, {"SINTERSTORE", "d", "str"}}) {
    EXPECT_THAT(h_.Run(cmd), IsError(kWrongType)) << cmd[0];
  }
  ASSERT_THAT(h_.Run({"SADD", "s", "1"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SMOVE", "s", "str", "9"}), IsError(kWrongType));
  EXPECT_THAT(h_.Run({"SMOVE", "str", "s", "1"}), IsError(kWrongType));
}

// Arity comes from the registered table (COMMAND INFO), not from a copy here.
TEST_F(SetsTest, ArityFromTable) {
  for (std::string name : {"sadd", "srem", "scard", "sismember", "smismember", "smembers",
                           "spop", "srandmember", "smove", "sscan", "sinter", "sinterstore",
                           "sintercard", "sunion", "sunionstore", "sdiff", "sdiffstore"}) {
    Reply info = h_.Run({"COMMAND", "INFO", name});
    ASSERT_EQ(info.elems.size(), 1u) << name;
    ASSERT_GE(info.elems[0].elems.size(), 2u) << name;
    int64_t arity = info.elems[0].elems[1].integer;
    size_t too_few = static_cast<size_t>(arity < 0 ? -arity - 1 : arity - 1);
    std::vector<std::string> argv = {name};
    while (argv.size() < too_few) argv.push_back("k");
    EXPECT_THAT(h_.Run(argv),
                IsError("ERR wrong number of arguments for '" + name + "' command"));
    if (arity > 0) {
      argv.resize(static_cast<size_t>(arity) + 1, "k");
      EXPECT_THAT(h_.Run(argv), IsErrorPrefix("ERR wrong number of arguments")) << name;
    }
  }
}

TEST_F(SetsTest, Encodings) {
  ASSERT_THAT(h_.Run({"SADD", "i", "1", "2"}), IsInt(2));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "i"}), IsBulk("intset"));
  ASSERT_THAT(h_.Run({"SADD", "i", "x"}), IsInt(1));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "i"}), IsBulk("hashtable"));
  ASSERT_THAT(h_.Run({"CONFIG", "SET", "set-max-intset-entries", "2"}), IsOk());
  ASSERT_THAT(h_.Run({"SADD", "j", "1", "2"}), IsInt(2));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "j"}), IsBulk("intset"));
  ASSERT_THAT(h_.Run({"SADD", "j", "3"}), IsInt(1));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "j"}), IsBulk("hashtable"));
}

TEST_F(SetsTest, PopAndRandom) {
  ASSERT_THAT(h_.Run({"SADD", "s", "a", "b", "c", "d"}), IsInt(4));
  Reply one = h_.Run({"SPOP", "s"});
  EXPECT_EQ(one.type, FERRITE_REPLY_BULK);
  EXPECT_THAT(h_.Run({"SCARD", "s"}), IsInt(3));
  EXPECT_THAT(h_.Run({"SPOP", "s", "-1"}), IsError("ERR value is out of range, must be positive"));
  EXPECT_THAT(h_.Run({"SPOP", "s", "1", "2"}), IsError("ERR syntax error"));
  EXPECT_EQ(h_.Run({"SRANDMEMBER", "s", "-10"}).elems.size(), 10u);
  EXPECT_EQ(Strings(h_.Run({"SRANDMEMBER", "s", "10"})).size(), 3u);
  EXPECT_EQ(Strings(h_.Run({"SRANDMEMBER", "s", "2"})).size(), 2u);
  EXPECT_EQ(h_.Run({"SPOP", "s", "10"}).elems.size(), 3u);
  EXPECT_THAT(h_.Run({"EXISTS", "s"}), IsInt(0));
}

TEST_F(SetsTest, Move) {
  ASSERT_THAT(h_.Run({"SADD", "s", "a", "b"}), IsInt(2));
  EXPECT_THAT(h_.Run({"SMOVE", "s", "d", "a"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SMOVE", "s", "d", "a"}), IsInt(0));
  EXPECT_THAT(h_.Run({"SMOVE", "s", "s", "b"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SMOVE", "s", "d", "b"}), IsInt(1));
  EXPECT_THAT(h_.Run({"EXISTS", "s"}), IsInt(0));
  EXPECT_THAT(h_.Run({"SMEMBERS", "d"}), IsUnorderedBulkArray({"a", "b"}));
}

TEST_F(SetsTest, Algebra) {
  ASSERT_THAT(h_.Run({"SADD", "a", "1", "2", "3", "x"}), IsInt(4));
  ASSERT_THAT(h_.Run({"SADD", "b", "2", "3", "4"}), IsInt(3));
  EXPECT_THAT(h_.Run({"SINTER", "a", "b"}), IsUnorderedBulkArray({"2", "3"}));
  EXPECT_THAT(h_.Run({"SUNION", "a", "b"}), IsUnorderedBulkArray({"1", "2", "3", "4", "x"}));
  EXPECT_THAT(h_.Run({"SDIFF", "a", "b"}), IsUnorderedBulkArray({"1", "x"}));
  EXPECT_THAT(h_.Run({"SINTERCARD", "2", "a", "b"}), IsInt(2));
  EXPECT_THAT(h_.Run({"SINTERCARD", "2", "a", "b", "LIMIT", "1"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SINTERCARD", "0", "a"}), IsError("ERR numkeys should be greater than 0"));
  EXPECT_THAT(h_.Run({"SINTERCARD", "3", "a"}),
              IsError("ERR Number of keys can't be greater than number of args"));
  EXPECT_THAT(h_.Run({"SINTERCARD", "1", "a", "LIMIT", "-1"}),
              IsError("ERR LIMIT can't be negative"));
  EXPECT_THAT(h_.Run({"SUNIONSTORE", "u", "a", "b"}), IsInt(5));
  EXPECT_THAT(h_.Run({"SDIFFSTORE", "u", "b", "a"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SMEMBERS", "u"}), IsBulkArray({"4"}));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "u"}), IsBulk("intset"));
  EXPECT_THAT(h_.Run({"SINTERSTORE", "u", "a", "nokey"}), IsInt(0));
  EXPECT_THAT(h_.Run({"EXISTS", "u"}), IsInt(0));
  // The destination may be one of the sources.
  EXPECT_THAT(h_.Run({"SINTERSTORE", "a", "a", "b"}), IsInt(2));
  EXPECT_THAT(h_.Run({"SMEMBERS", "a"}), IsUnorderedBulkArray({"2", "3"}));
}

TEST_F(SetsTest, StoreDropsTtl) {
  ASSERT_THAT(h_.Run({"SADD", "a", "1"}), IsInt(1));
  ASSERT_THAT(h_.Run({"SADD", "d", "9"}), IsInt(1));
  ASSERT_THAT(h_.Run({"EXPIRE", "d", "100"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SUNIONSTORE", "d", "a"}), IsInt(1));
  EXPECT_THAT(h_.Run({"TTL", "d"}), IsInt(-1));
}

TEST_F(SetsTest, ExpiredSetIsGone) {
  ASSERT_THAT(h_.Run({"SADD", "s", "a"}), IsInt(1));
  ASSERT_THAT(h_.Run({"PEXPIRE", "s", "100"}), IsInt(1));
  h_.AdvanceTime(200);
  EXPECT_THAT(h_.Run({"SCARD", "s"}), IsInt(0));
  EXPECT_THAT(h_.Run({"SADD", "s", "b"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SMEMBERS", "s"}), IsBulkArray({"b"}));
}

TEST_F(SetsTest, ScanHashtableVisitsAll) {
  std::vector<std::string> argv = {"SADD", "s"};
  for (int i = 0; i < 300; i++) argv.push_back("m" + std::to_string(i));
  ASSERT_THAT(h_.Run(argv), IsInt(300));
  std::set<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    Reply r = h_.Run({"SSCAN", "s", cursor, "COUNT", "20"});
    ASSERT_EQ(r.elems.size(), 2u);
    cursor = r.elems[0].str;
    for (auto& e : r.elems[1].elems) seen.insert(e.str);
  } while (cursor != "0" && ++rounds < 10000);
  EXPECT_EQ(seen.size(), 300u);
  Reply m = h_.Run({"SSCAN", "s", "0", "MATCH", "m1?", "COUNT", "1000"});
  EXPECT_EQ(m.elems[1].elems.size(), 10u);
  EXPECT_THAT(h_.Run({"SSCAN", "s", "x"}), IsError("ERR invalid cursor"));
  EXPECT_THAT(h_.Run({"SSCAN", "s", "0", "COUNT", "0"}), IsError("ERR syntax error"));
}

TEST_F(SetsTest, DebugReloadRoundTrip) {
  ASSERT_THAT(h_.Run({"SADD", "i", "1", "2", "-5"}), IsInt(3));
  ASSERT_THAT(h_.Run({"SADD", "h", "a", "b"}), IsInt(2));
  Reply r = h_.Run({"DEBUG", "RELOAD"});
  if (r.type == FERRITE_REPLY_ERROR) GTEST_SKIP() << "DEBUG RELOAD: " << r.str;
  EXPECT_THAT(h_.Run({"SMEMBERS", "i"}), IsBulkArray({"-5", "1", "2"}));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "i"}), IsBulk("intset"));
  EXPECT_THAT(h_.Run({"SMEMBERS", "h"}), IsUnorderedBulkArray({"a", "b"}));
}

// Adding one member at a time moves the value to bigger blocks (intset and header
// share one); every move re-points the key, which must keep its TTL and members.
TEST_F(SetsTest, GrowingOneByOneKeepsMembersAndTtl) {
  ASSERT_THAT(h_.Run({"SADD", "s", "0"}), IsInt(1));
  ASSERT_THAT(h_.Run({"PEXPIRE", "s", "100000"}), IsInt(1));
  for (int i = 1; i < 600; i++) {
    ASSERT_THAT(h_.Run({"SADD", "s", std::to_string(i)}), IsInt(1)) << i;
    if (i == 511) {
      EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "s"}), IsBulk("intset"));
    }
  }
  ASSERT_THAT(h_.Run({"SADD", "s", "70000"}), IsInt(1));  // width upgrade: hash table now
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "s"}), IsBulk("hashtable"));
  EXPECT_THAT(h_.Run({"SCARD", "s"}), IsInt(601));
  for (int i = 0; i < 600; i += 37) EXPECT_THAT(h_.Run({"SISMEMBER", "s", std::to_string(i)}), IsInt(1));
  Reply ttl = h_.Run({"PTTL", "s"});
  EXPECT_GT(ttl.integer, 0);

  ASSERT_THAT(h_.Run({"SADD", "w", "1"}), IsInt(1));
  ASSERT_THAT(h_.Run({"SADD", "w", "-9223372036854775808", "40000"}), IsInt(2));
  EXPECT_THAT(h_.Run({"SMEMBERS", "w"}), IsBulkArray({"-9223372036854775808", "1", "40000"}));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "w"}), IsBulk("intset"));
}

int64_t UsedMemory(Harness& h) {
  std::string info = h.Run({"INFO", "memory"}).str;
  size_t at = info.find("used_memory:");
  return at == std::string::npos ? -1 : std::stoll(info.substr(at + 12));
}

// Removing most members gives the intset's block back (Redis' intset shrinks too), and
// the re-pointed key keeps its members and TTL.
TEST_F(SetsTest, RemovalsShrinkTheIntset) {
  std::vector<std::string> add = {"SADD", "s"}, rem = {"SREM", "s"};
  for (int i = 0; i < 400; i++) add.push_back(std::to_string(i));
  for (int i = 10; i < 400; i++) rem.push_back(std::to_string(i));
  ASSERT_THAT(h_.Run(add), IsInt(400));
  ASSERT_THAT(h_.Run({"PEXPIRE", "s", "100000"}), IsInt(1));
  int64_t full = UsedMemory(h_);
  ASSERT_GT(full, 0);
  ASSERT_THAT(h_.Run(rem), IsInt(390));
  EXPECT_LT(UsedMemory(h_), full - 390 * 2 + 64);  // 2-byte elements, block given back
  EXPECT_THAT(h_.Run({"SMEMBERS", "s"}),
              IsBulkArray({"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  EXPECT_GT(h_.Run({"PTTL", "s"}).integer, 0);
  EXPECT_EQ(h_.Run({"SPOP", "s", "5"}).elems.size(), 5u);
  EXPECT_THAT(h_.Run({"SCARD", "s"}), IsInt(5));
}

// COPY keeps the source's encoding, as Redis 7.0's setTypeDup does.
TEST_F(SetsTest, CopyKeepsEncoding) {
  ASSERT_THAT(h_.Run({"SADD", "s", "1", "2", "3", "4", "5", "6"}), IsInt(6));
  ASSERT_THAT(h_.Run({"CONFIG", "SET", "set-max-intset-entries", "4"}), IsOk());
  ASSERT_THAT(h_.Run({"COPY", "s", "c"}), IsInt(1));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "c"}), IsBulk("intset"));
  ASSERT_THAT(h_.Run({"SREM", "s", "1"}), IsInt(1));
  EXPECT_THAT(h_.Run({"SCARD", "c"}), IsInt(6));
}

}  // namespace
}  // namespace ferrite::test
