// Family tests for the zsets module through the in-process harness.
#include <set>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

const char kWrongType[] = "WRONGTYPE Operation against a key holding the wrong kind of value";

class ZSetsTest : public ::testing::Test {
 protected:
  ZSetsTest() : h_(HarnessOptions{.plugins = {"zsets", "sets", "strings", "keys"}}) {}
  Harness h_;
};

TEST_F(ZSetsTest, AddScoreRankRange) {
  EXPECT_THAT(h_.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"}), IsInt(3));
  EXPECT_THAT(h_.Run({"ZSCORE", "z", "b"}), IsDouble(2));
  EXPECT_THAT(h_.Run({"ZRANK", "z", "c"}), IsInt(2));
  EXPECT_THAT(h_.Run({"ZREVRANK", "z", "c"}), IsInt(0));
  EXPECT_THAT(h_.Run({"ZRANK", "z", "c", "WITHSCORE"}), IsArrayOf({IsInt(2), IsDouble(3)}));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "0", "-1"}), IsBulkArray({"a", "b", "c"}));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "0", "-1", "REV"}), IsBulkArray({"c", "b", "a"}));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "(1", "+inf", "BYSCORE"}), IsBulkArray({"b", "c"}));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "1"}),
              IsBulkArray({"b"}));
  EXPECT_THAT(h_.Run({"ZRANGEBYSCORE", "z", "-inf", "2", "WITHSCORES"}),
              IsArrayOf({IsBulk("a"), IsDouble(1), IsBulk("b"), IsDouble(2)}));
  EXPECT_THAT(h_.Run({"ZCOUNT", "z", "(1", "3"}), IsInt(2));
  EXPECT_THAT(h_.Run({"ZCARD", "z"}), IsInt(3));
  EXPECT_THAT(h_.Run({"ZMSCORE", "z", "a", "x"}), IsArrayOf({IsDouble(1), IsNull()}));
}

TEST_F(ZSetsTest, AddFlagsAndErrors) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "1", "a"}), IsInt(1));
  EXPECT_THAT(h_.Run({"ZADD", "z", "XX", "NX", "1", "a"}),
              IsError("ERR XX and NX options at the same time are not compatible"));
  EXPECT_THAT(h_.Run({"ZADD", "z", "GT", "LT", "1", "a"}),
              IsError("ERR GT, LT, and/or NX options at the same time are not compatible"));
  EXPECT_THAT(h_.Run({"ZADD", "z", "INCR", "1", "a", "2", "b"}),
              IsError("ERR INCR option supports a single increment-element pair"));
  EXPECT_THAT(h_.Run({"ZADD", "z", "x", "a"}), IsError("ERR value is not a valid float"));
  EXPECT_THAT(h_.Run({"ZADD", "z", "1", "a", "2"}), IsError("ERR syntax error"));
  EXPECT_THAT(h_.Run({"ZADD", "z", "CH", "5", "a", "2", "b"}), IsInt(2));
  EXPECT_THAT(h_.Run({"ZADD", "z", "GT", "CH", "1", "a", "6", "b"}), IsInt(1));
  EXPECT_THAT(h_.Run({"ZADD", "z", "NX", "INCR", "1", "a"}), IsNull());
  EXPECT_THAT(h_.Run({"ZADD", "z", "INCR", "1.5", "a"}), IsDouble(6.5));
  EXPECT_THAT(h_.Run({"ZADD", "none", "XX", "1", "a"}), IsInt(0));
  EXPECT_THAT(h_.Run({"EXISTS", "none"}), IsInt(0));
  ASSERT_THAT(h_.Run({"ZADD", "z", "inf", "i"}), IsInt(1));
  EXPECT_THAT(h_.Run({"ZINCRBY", "z", "-inf", "i"}),
              IsError("ERR resulting score is not a number (NaN)"));
  EXPECT_THAT(h_.Run({"ZINCRBY", "z", "2", "new"}), IsDouble(2));
}

TEST_F(ZSetsTest, MissingKeyAndWrongType) {
  EXPECT_THAT(h_.Run({"ZSCORE", "no", "a"}), IsNull());
  EXPECT_THAT(h_.Run({"ZRANK", "no", "a"}), IsNull());
  EXPECT_THAT(h_.Run({"ZRANGE", "no", "0", "-1"}), IsEmptyArray());
  EXPECT_THAT(h_.Run({"ZPOPMIN", "no"}), IsEmptyArray());
  EXPECT_THAT(h_.Run({"ZMPOP", "1", "no", "MIN"}), IsNullArray());
  EXPECT_THAT(h_.Run({"ZRANDMEMBER", "no"}), IsNull());
  EXPECT_THAT(h_.Run({"ZREM", "no", "a"}), IsInt(0));
  ASSERT_THAT(h_.Run({"SET", "str", "x"}), IsOk());
  for (auto cmd : std::vector<std::vector<std::string>>{
           {"ZADD", "str", "1", "a"}, {"ZINCRBY", "str", "1", "a"}, {"ZREM", "str", "a"},
           {"ZCARD", "str"}, {"ZSCORE", "str", "a"}, {"ZRANK", "str", "a"},
           {"ZRANGE", "str", "0", "1"}, {"ZCOUNT", "str", "0", "1"},
           {"ZLEXCOUNT", "str", "-", "+"}, {"ZPOPMIN", "str"}, {"ZMPOP", "1", "str", "MIN"},
           {"BZPOPMIN", "str", "0"}, {"ZRANDMEMBER", "str"}, {"ZSCAN", "str", "0"},
           {"ZUNION", "1", "str"}, {"ZINTERCARD", "1", "str"},
           {"ZREMRANGEBYRANK", "str", "0", "1"}, {"ZRANGESTORE", "d", "str", "0", "1"}}) {
    EXPECT_THAT(h_.Run(cmd), IsError(kWrongType)) << cmd[0];
  }
}

TEST_F(ZSetsTest, ArityFromTable) {
  for (std::string name :
       {"zadd", "zincrby", "zrem", "zcard", "zscore", "zmscore", "zrank", "zrevrank", "zcount",
        "zlexcount", "zscan", "zrandmember", "zrange", "zrangestore", "zrevrange",
        "zrangebyscore", "zrevrangebyscore", "zrangebylex", "zrevrangebylex",
        "zremrangebyrank", "zremrangebyscore", "zremrangebylex", "zpopmin", "zpopmax", "zmpop",
        "bzpopmin", "bzpopmax", "bzmpop", "zunion", "zinter", "zdiff", "zintercard",
        "zunionstore", "zinterstore", "zdiffstore"}) {
    Reply info = h_.Run({"COMMAND", "INFO", name});
    ASSERT_EQ(info.elems.size(), 1u) << name;
    ASSERT_GE(info.elems[0].elems.size(), 2u) << name;
    int64_t arity = info.elems[0].elems[1].integer;
    size_t too_few = static_cast<size_t>(arity < 0 ? -arity - 1 : arity - 1);
    std::vector<std::string> argv = {name};
    while (argv.size() < too_few) argv.push_back("1");
    EXPECT_THAT(h_.Run(argv),
                IsError("ERR wrong number of arguments for '" + name + "' command"));
  }
}

TEST_F(ZSetsTest, LexRanges) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d"}), IsInt(4));
  EXPECT_THAT(h_.Run({"ZRANGEBYLEX", "z", "(a", "[c"}), IsBulkArray({"b", "c"}));
  EXPECT_THAT(h_.Run({"ZREVRANGEBYLEX", "z", "+", "(b"}), IsBulkArray({"d", "c"}));
  EXPECT_THAT(h_.Run({"ZLEXCOUNT", "z", "-", "+"}), IsInt(4));
  EXPECT_THAT(h_.Run({"ZRANGEBYLEX", "z", "a", "b"}),
              IsError("ERR min or max not valid string range item"));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"}),
              IsError("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "0", "1", "LIMIT", "0", "1"}),
              IsError("ERR syntax error, LIMIT is only supported in combination with either "
                      "BYSCORE or BYLEX"));
  EXPECT_THAT(h_.Run({"ZREMRANGEBYLEX", "z", "-", "(c"}), IsInt(2));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "0", "-1"}), IsBulkArray({"c", "d"}));
}

TEST_F(ZSetsTest, RemoveRanges) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"}), IsInt(4));
  EXPECT_THAT(h_.Run({"ZREMRANGEBYSCORE", "z", "(1", "2"}), IsInt(1));
  EXPECT_THAT(h_.Run({"ZREMRANGEBYRANK", "z", "-1", "-1"}), IsInt(1));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "0", "-1"}), IsBulkArray({"a", "c"}));
  EXPECT_THAT(h_.Run({"ZREMRANGEBYSCORE", "z", "x", "1"}),
              IsError("ERR min or max is not a float"));
  EXPECT_THAT(h_.Run({"ZREMRANGEBYRANK", "z", "0", "-1"}), IsInt(2));
  EXPECT_THAT(h_.Run({"EXISTS", "z"}), IsInt(0));
}

TEST_F(ZSetsTest, Pops) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"}), IsInt(4));
  EXPECT_THAT(h_.Run({"ZPOPMIN", "z"}), IsArrayOf({IsBulk("a"), IsDouble(1)}));
  EXPECT_THAT(h_.Run({"ZPOPMAX", "z", "2"}),
              IsArrayOf({IsBulk("d"), IsDouble(4), IsBulk("c"), IsDouble(3)}));
  EXPECT_THAT(h_.Run({"ZPOPMIN", "z", "-1"}),
              IsError("ERR value is out of range, must be positive"));
  EXPECT_THAT(h_.Run({"ZMPOP", "2", "no", "z", "MAX", "COUNT", "5"}),
              IsArrayOf({IsBulk("z"), IsArrayOf({IsArrayOf({IsBulk("b"), IsDouble(2)})})}));
  EXPECT_THAT(h_.Run({"EXISTS", "z"}), IsInt(0));
  EXPECT_THAT(h_.Run({"ZMPOP", "1", "z", "MIN", "COUNT", "0"}),
              IsError("ERR count should be greater than 0"));
  EXPECT_THAT(h_.Run({"ZMPOP", "0", "z", "MIN"}),
              IsError("ERR numkeys should be greater than 0"));
}

TEST_F(ZSetsTest, BlockingPopServedByAnotherClient) {
  Reply r = h_.RunOn(1, {"BZPOPMIN", "k1", "k2", "0"});
  ASSERT_TRUE(r.blocked);
  EXPECT_THAT(h_.RunOn(2, {"ZADD", "k2", "5", "m"}), IsInt(1));
  auto pending = h_.Pending(1);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_THAT(pending[0], IsArrayOf({IsBulk("k2"), IsBulk("m"), IsDouble(5)}));
  EXPECT_THAT(h_.RunOn(2, {"EXISTS", "k2"}), IsInt(0));
}

TEST_F(ZSetsTest, BlockingMPopTimesOut) {
  Reply r = h_.RunOn(1, {"BZMPOP", "0.5", "1", "k", "MIN"});
  ASSERT_TRUE(r.blocked);
  h_.AdvanceTime(600);
  auto pending = h_.Pending(1);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_THAT(pending[0], IsNullArray());
  EXPECT_THAT(h_.Run({"BZPOPMIN", "k", "x"}),
              IsError("ERR timeout is not a float or out of range"));
  EXPECT_THAT(h_.Run({"BZPOPMIN", "k", "-1"}), IsError("ERR timeout is negative"));
}

TEST_F(ZSetsTest, BlockingInsideMultiRepliesNull) {
  ASSERT_THAT(h_.Run({"MULTI"}), IsOk());
  ASSERT_THAT(h_.Run({"BZPOPMAX", "k", "0"}), IsSimple("QUEUED"));
  EXPECT_THAT(h_.Run({"EXEC"}), IsArrayOf({IsNullArray()}));
}

TEST_F(ZSetsTest, UnionInterDiffWithSets) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"}), IsInt(3));
  ASSERT_THAT(h_.Run({"SADD", "s", "a", "x"}), IsInt(2));
  EXPECT_THAT(h_.Run({"ZUNION", "2", "z", "s", "WITHSCORES"}),
              IsArrayOf({IsBulk("x"), IsDouble(1), IsBulk("a"), IsDouble(2), IsBulk("b"),
                         IsDouble(2), IsBulk("c"), IsDouble(3)}));
  EXPECT_THAT(h_.Run({"ZINTER", "2", "z", "s", "WEIGHTS", "10", "1", "AGGREGATE", "MAX"}),
              IsBulkArray({"a"}));
  EXPECT_THAT(h_.Run({"ZDIFF", "2", "z", "s"}), IsBulkArray({"b", "c"}));
  EXPECT_THAT(h_.Run({"ZUNIONSTORE", "d", "2", "z", "s", "WEIGHTS", "2", "1"}), IsInt(4));
  EXPECT_THAT(h_.Run({"ZSCORE", "d", "c"}), IsDouble(6));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "d"}), IsBulk("listpack"));
  EXPECT_THAT(h_.Run({"ZINTERCARD", "2", "z", "s"}), IsInt(1));
  EXPECT_THAT(h_.Run({"ZUNIONSTORE", "d", "0", "z"}),
              IsError("ERR at least 1 input key is needed for 'zunionstore' command"));
  EXPECT_THAT(h_.Run({"ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "x"}),
              IsError("ERR weight value is not a float"));
  EXPECT_THAT(h_.Run({"ZINTERSTORE", "d", "2", "z", "nokey"}), IsInt(0));
  EXPECT_THAT(h_.Run({"EXISTS", "d"}), IsInt(0));
}

TEST_F(ZSetsTest, RangeStore) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"}), IsInt(3));
  EXPECT_THAT(h_.Run({"ZRANGESTORE", "d", "z", "1", "-1"}), IsInt(2));
  EXPECT_THAT(h_.Run({"ZRANGE", "d", "0", "-1"}), IsBulkArray({"b", "c"}));
  EXPECT_THAT(h_.Run({"ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"}),
              IsError("ERR syntax error"));
  EXPECT_THAT(h_.Run({"ZRANGESTORE", "d", "z", "5", "9"}), IsInt(0));
  EXPECT_THAT(h_.Run({"EXISTS", "d"}), IsInt(0));
}

TEST_F(ZSetsTest, EncodingsFollowOptions) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "1", "a"}), IsInt(1));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "z"}), IsBulk("listpack"));
  ASSERT_THAT(h_.Run({"CONFIG", "SET", "zset-max-listpack-entries", "2"}), IsOk());
  ASSERT_THAT(h_.Run({"ZADD", "z", "2", "b", "3", "c"}), IsInt(2));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "z"}), IsBulk("skiplist"));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "0", "-1"}), IsBulkArray({"a", "b", "c"}));
}

TEST_F(ZSetsTest, ScanAndRandMember) {
  std::vector<std::string> argv = {"ZADD", "z"};
  for (int i = 0; i < 300; i++) {
    argv.push_back(std::to_string(i));
    argv.push_back("m" + std::to_string(i));
  }
  ASSERT_THAT(h_.Run(argv), IsInt(300));
  std::set<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    Reply r = h_.Run({"ZSCAN", "z", cursor});
    cursor = r.elems[0].str;
    for (size_t i = 0; i < r.elems[1].elems.size(); i += 2) seen.insert(r.elems[1].elems[i].str);
  } while (cursor != "0" && ++rounds < 10000);
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_EQ(h_.Run({"ZRANDMEMBER", "z", "-500"}).elems.size(), 500u);
  std::set<std::string> distinct;
  for (auto& e : h_.Run({"ZRANDMEMBER", "z", "50"}).elems) distinct.insert(e.str);
  EXPECT_EQ(distinct.size(), 50u);
  EXPECT_EQ(h_.Run({"ZRANDMEMBER", "z", "5", "WITHSCORES"}).elems.size(), 10u);
}

TEST_F(ZSetsTest, ExpiredZSetIsGone) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "1", "a"}), IsInt(1));
  ASSERT_THAT(h_.Run({"PEXPIRE", "z", "100"}), IsInt(1));
  h_.AdvanceTime(200);
  EXPECT_THAT(h_.Run({"ZCARD", "z"}), IsInt(0));
}

TEST_F(ZSetsTest, DebugReloadRoundTrip) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "1.5", "a", "-inf", "b", "2", "c"}), IsInt(3));
  Reply r = h_.Run({"DEBUG", "RELOAD"});
  if (r.type == FERRITE_REPLY_ERROR) GTEST_SKIP() << "DEBUG RELOAD: " << r.str;
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "0", "-1", "WITHSCORES"}),
              IsArrayOf({IsBulk("b"), IsDouble(-INFINITY), IsBulk("a"), IsDouble(1.5),
                         IsBulk("c"), IsDouble(2)}));
}

// Adding one member at a time moves the value to bigger blocks (listpack and header
// share one); every move re-points the key, which must keep its TTL and order.
TEST_F(ZSetsTest, GrowingOneByOneKeepsOrderAndTtl) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "0", "m0"}), IsInt(1));
  ASSERT_THAT(h_.Run({"PEXPIRE", "z", "100000"}), IsInt(1));
  for (int i = 1; i < 130; i++) {
    // Descending scores: every insert goes to the front of the listpack.
    ASSERT_THAT(h_.Run({"ZADD", "z", std::to_string(-i), "m" + std::to_string(i)}), IsInt(1));
    if (i == 127) {
      EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "z"}), IsBulk("listpack"));
    }
  }
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "z"}), IsBulk("skiplist"));
  EXPECT_THAT(h_.Run({"ZCARD", "z"}), IsInt(130));
  EXPECT_THAT(h_.Run({"ZRANGE", "z", "0", "1"}), IsBulkArray({"m129", "m128"}));
  EXPECT_GT(h_.Run({"PTTL", "z"}).integer, 0);

  // Re-scoring from a 1-byte integer to a double grows the entry in place or moves it.
  ASSERT_THAT(h_.Run({"ZADD", "y", "1", "a", "2", "b"}), IsInt(2));
  for (int i = 0; i < 20; i++) {
    ASSERT_NE(h_.Run({"ZINCRBY", "y", "0.1", "a"}).type, FERRITE_REPLY_ERROR);
  }
  EXPECT_THAT(h_.Run({"ZRANGE", "y", "0", "-1"}), IsBulkArray({"b", "a"}));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "y"}), IsBulk("listpack"));
}

int64_t UsedMemory(Harness& h) {
  std::string info = h.Run({"INFO", "memory"}).str;
  size_t at = info.find("used_memory:");
  return at == std::string::npos ? -1 : std::stoll(info.substr(at + 12));
}

// Removing most members gives the listpack's block back (Redis' listpack shrinks too),
// through ZREM, ZPOPMIN and ZREMRANGEBYRANK alike; members and TTL stay.
TEST_F(ZSetsTest, RemovalsShrinkTheListpack) {
  for (const char* how : {"zrem", "zpopmin", "zremrangebyrank"}) {
    std::vector<std::string> add = {"ZADD", "z"}, rem = {"ZREM", "z"};
    for (int i = 0; i < 120; i++) {
      add.push_back(std::to_string(i));
      add.push_back("member:" + std::to_string(i));
      if (i < 110) rem.push_back("member:" + std::to_string(i));
    }
    ASSERT_THAT(h_.Run(add), IsInt(120));
    ASSERT_THAT(h_.Run({"PEXPIRE", "z", "100000"}), IsInt(1));
    int64_t full = UsedMemory(h_);
    std::string h = how;
    if (h == "zrem") {
      ASSERT_THAT(h_.Run(rem), IsInt(110));
    } else if (h == "zpopmin") {
      ASSERT_EQ(h_.Run({"ZPOPMIN", "z", "110"}).elems.size(), 220u);
    } else if (h == "zremrangebyrank") {
      ASSERT_THAT(h_.Run({"ZREMRANGEBYRANK", "z", "0", "109"}), IsInt(110));
    }
    EXPECT_LT(UsedMemory(h_), full - 110 * 10) << how;  // >= 10 bytes per entry
    EXPECT_THAT(h_.Run({"ZRANGE", "z", "0", "0"}), IsBulkArray({"member:110"})) << how;
    EXPECT_GT(h_.Run({"PTTL", "z"}).integer, 0) << how;
    ASSERT_THAT(h_.Run({"DEL", "z"}), IsInt(1));
  }
}

// COPY keeps the source's encoding, as Redis 7.0's zsetDup does.
TEST_F(ZSetsTest, CopyKeepsEncoding) {
  ASSERT_THAT(h_.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"}),
              IsInt(6));
  ASSERT_THAT(h_.Run({"CONFIG", "SET", "zset-max-listpack-entries", "4"}), IsOk());
  ASSERT_THAT(h_.Run({"COPY", "z", "c"}), IsInt(1));
  EXPECT_THAT(h_.Run({"OBJECT", "ENCODING", "c"}), IsBulk("listpack"));
  ASSERT_THAT(h_.Run({"ZREM", "z", "a"}), IsInt(1));
  EXPECT_THAT(h_.Run({"ZCARD", "c"}), IsInt(6));
}

}  // namespace
}  // namespace ferrite::test
