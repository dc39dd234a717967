// Family tests for the lists module through the in-process harness.
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

using ::testing::ElementsAre;

const char kWrongType[] = "WRONGTYPE Operation against a key holding the wrong kind of value";

class ListsTest : public ::testing::Test {
 protected:
  static HarnessOptions Opts() {
    HarnessOptions o;
    o.plugins = {"lists", "strings", "keys"};
    return o;
  }
  ListsTest() : h(Opts()) {}
  Harness h;
};

TEST_F(ListsTest, PushPopAndLength) {
  EXPECT_THAT(h.Run({"LPUSH", "queue", "task1", "task2"}), IsInt(2));
  EXPECT_THAT(h.Run({"RPOP", "queue"}), IsBulk("task1"));
  EXPECT_THAT(h.Run({"RPUSH", "queue", "a", "b"}), IsInt(3));
  EXPECT_THAT(h.Run({"LRANGE", "queue", "0", "-1"}), IsBulkArray({"task2", "a", "b"}));
  EXPECT_THAT(h.Run({"LLEN", "queue"}), IsInt(3));
  EXPECT_THAT(h.Run({"LPOP", "queue", "2"}), IsBulkArray({"task2", "a"}));
  EXPECT_THAT(h.Run({"RPOP", "queue", "5"}), IsBulkArray({"b"}));
  EXPECT_THAT(h.Run({"EXISTS", "queue"}), IsInt(0));  // emptied list is deleted
}

TEST_F(ListsTest, MissingKeyReplies) {
  EXPECT_THAT(h.Run({"LPOP", "nokey"}), IsNull());
  EXPECT_THAT(h.Run({"LPOP", "nokey", "2"}), IsNullArray());
  EXPECT_THAT(h.Run({"LLEN", "nokey"}), IsInt(0));
  EXPECT_THAT(h.Run({"LRANGE", "nokey", "0", "-1"}), IsEmptyArray());
  EXPECT_THAT(h.Run({"LINDEX", "nokey", "0"}), IsNull());
  EXPECT_THAT(h.Run({"LSET", "nokey", "0", "a"}), IsError("ERR no such key"));
  EXPECT_THAT(h.Run({"LINSERT", "nokey", "BEFORE", "a", "b"}), IsInt(0));
  EXPECT_THAT(h.Run({"LREM", "nokey", "0", "a"}), IsInt(0));
  EXPECT_THAT(h.Run({"LTRIM", "nokey", "0", "1"}), IsOk());
  EXPECT_THAT(h.Run({"LPOS", "nokey", "a"}), IsNull());
  EXPECT_THAT(h.Run({"LPOS", "nokey", "a", "COUNT", "1"}), IsEmptyArray());
  EXPECT_THAT(h.Run({"RPOPLPUSH", "nokey", "d"}), IsNull());
  EXPECT_THAT(h.Run({"LMPOP", "1", "nokey", "LEFT"}), IsNullArray());
  EXPECT_THAT(h.Run({"LPUSHX", "nokey", "a"}), IsInt(0));
  EXPECT_THAT(h.Run({"RPUSHX", "nokey", "a"}), IsInt(0));
  EXPECT_THAT(h.Run({"EXISTS", "nokey", "d"}), IsInt(0));
}

TEST_F(ListsTest, WrongTypeEverywhere) {
  ASSERT_THAT(h.Run({"SET", "s", "v"}), IsOk());
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"LPUSH", "s", "a"}, {"RPUSH", "s", "a"}, {"LPUSHX", "s", "a"}, {"RPUSHX", "s", "a"},
           {"LPOP", "s"}, {"RPOP", "s"}, {"LLEN", "s"}, {"LRANGE", "s", "0", "1"},
           {"LINDEX", "s", "0"}, {"LSET", "s", "0", "a"}, {"LINSERT", "s", "BEFORE", "a", "b"},
           {"LREM", "s", "0", "a"}, {"LTRIM", "s", "0", "1"}, {"LPOS", "s", "a"},
           {"RPOPLPUSH", "s", "d"}, {"LMOVE", "s", "d", "LEFT", "LEFT"},
           {"LMPOP", "1", "s", "LEFT"}, {"BLPOP", "s", "0"}, {"BRPOP", "s", "0"},
           {"BLMPOP", "0", "1", "s", "LEFT"}, {"BRPOPLPUSH", "s", "d", "0"}}) {
    EXPECT_THAT(h.Run(cmd), IsError(kWrongType)) << cmd[0];
  }
  // Destination of a move has the wrong type: nothing is popped.
  h.Run({"RPUSH", "l", "x"});
  EXPECT_THAT(h.Run({"RPOPLPUSH", "l", "s"}), IsError(kWrongType));
  EXPECT_THAT(h.Run({"LLEN", "l"}), IsInt(1));
}

TEST_F(ListsTest, ArityFromTable) {
  struct Case { const char* name; int arity; };
  for (auto c : {Case{"LPUSH", -3}, Case{"LLEN", 2}, Case{"LRANGE", 4}, Case{"LINSERT", 5},
                 Case{"LMOVE", 5}, Case{"BLPOP", -3}, Case{"BLMOVE", 6}, Case{"LMPOP", -4},
                 Case{"BLMPOP", -5}, Case{"LPOS", -3}}) {
    int n = c.arity < 0 ? -c.arity - 1 : c.arity - 1;  // one argument short / too many
    std::vector<std::string> argv{c.name};
    for (int i = 1; i < n; i++) argv.push_back("k");
    std::string lower(c.name);
    for (auto& ch : lower) ch = static_cast<char>(tolower(ch));
    EXPECT_THAT(h.Run(argv), IsError("ERR wrong number of arguments for '" + lower + "' command"))
        << c.name;
    if (c.arity > 0) {
      argv.push_back("k");
      argv.push_back("k");
      EXPECT_THAT(h.Run(argv), IsErrorPrefix("ERR wrong number of arguments")) << c.name;
    }
  }
  EXPECT_THAT(h.Run({"LPOP", "k", "1", "2"}),
              IsError("ERR wrong number of arguments for 'lpop' command"));
}

TEST_F(ListsTest, IndexSetInsertRemTrim) {
  h.Run({"RPUSH", "l", "a", "b", "c", "b", "d"});
  EXPECT_THAT(h.Run({"LINDEX", "l", "-1"}), IsBulk("d"));
  EXPECT_THAT(h.Run({"LINDEX", "l", "9"}), IsNull());
  EXPECT_THAT(h.Run({"LINDEX", "l", "x"}), IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"LSET", "l", "1", "B"}), IsOk());
  EXPECT_THAT(h.Run({"LSET", "l", "99", "B"}), IsError("ERR index out of range"));
  EXPECT_THAT(h.Run({"LINSERT", "l", "AFTER", "c", "C"}), IsInt(6));
  EXPECT_THAT(h.Run({"LINSERT", "l", "before", "a", "0"}), IsInt(7));
  EXPECT_THAT(h.Run({"LINSERT", "l", "before", "zz", "0"}), IsInt(-1));
  EXPECT_THAT(h.Run({"LINSERT", "l", "middle", "a", "0"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"LRANGE", "l", "0", "-1"}),
              IsBulkArray({"0", "a", "B", "c", "C", "b", "d"}));
  EXPECT_THAT(h.Run({"LREM", "l", "-1", "b"}), IsInt(1));
  EXPECT_THAT(h.Run({"LTRIM", "l", "1", "-2"}), IsOk());
  EXPECT_THAT(h.Run({"LRANGE", "l", "0", "-1"}), IsBulkArray({"a", "B", "c", "C"}));
  EXPECT_THAT(h.Run({"LRANGE", "l", "-100", "1"}), IsBulkArray({"a", "B"}));
  EXPECT_THAT(h.Run({"LRANGE", "l", "3", "1"}), IsEmptyArray());
  EXPECT_THAT(h.Run({"LTRIM", "l", "5", "10"}), IsOk());
  EXPECT_THAT(h.Run({"EXISTS", "l"}), IsInt(0));
}

TEST_F(ListsTest, PopCountErrors) {
  h.Run({"RPUSH", "l", "a"});
  EXPECT_THAT(h.Run({"LPOP", "l", "-1"}), IsError("ERR value is out of range, must be positive"));
  EXPECT_THAT(h.Run({"LPOP", "l", "x"}), IsError("ERR value is out of range, must be positive"));
  EXPECT_THAT(h.Run({"LPOP", "l", "0"}), IsEmptyArray());
}

TEST_F(ListsTest, LPosOptions) {
  h.Run({"RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"});
  EXPECT_THAT(h.Run({"LPOS", "l", "c"}), IsInt(2));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "RANK", "2"}), IsInt(6));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "RANK", "-1"}), IsInt(7));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "COUNT", "0"}), IsIntArray({2, 6, 7}));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "RANK", "-1", "COUNT", "2"}), IsIntArray({7, 6}));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "COUNT", "0", "MAXLEN", "3"}), IsIntArray({2}));
  EXPECT_THAT(h.Run({"LPOS", "l", "zz"}), IsNull());
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "RANK", "0"}),
              IsErrorPrefix("ERR RANK can't be zero: use 1 to start from the first match"));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "COUNT", "-1"}), IsError("ERR COUNT can't be negative"));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "MAXLEN", "-1"}), IsError("ERR MAXLEN can't be negative"));
  // Redis gives these two options' messages for a non-integer as well.
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "COUNT", "x"}), IsError("ERR COUNT can't be negative"));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "MAXLEN", "+"}), IsError("ERR MAXLEN can't be negative"));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "RANK", "x"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"LPOS", "l", "c", "FOO"}), IsError("ERR syntax error"));
}

TEST_F(ListsTest, MoveAndMPop) {
  h.Run({"RPUSH", "src", "a", "b", "c"});
  EXPECT_THAT(h.Run({"RPOPLPUSH", "src", "dst"}), IsBulk("c"));
  EXPECT_THAT(h.Run({"LMOVE", "src", "dst", "LEFT", "RIGHT"}), IsBulk("a"));
  EXPECT_THAT(h.Run({"LRANGE", "dst", "0", "-1"}), IsBulkArray({"c", "a"}));
  EXPECT_THAT(h.Run({"LMOVE", "dst", "dst", "LEFT", "RIGHT"}), IsBulk("c"));  // rotate
  EXPECT_THAT(h.Run({"LRANGE", "dst", "0", "-1"}), IsBulkArray({"a", "c"}));
  EXPECT_THAT(h.Run({"LMOVE", "src", "dst", "UP", "LEFT"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"LMPOP", "2", "nokey", "dst", "RIGHT", "COUNT", "5"}),
              IsArrayOf({IsBulk("dst"), IsBulkArray({"c", "a"})}));
  EXPECT_THAT(h.Run({"LMPOP", "0", "src", "LEFT"}), IsError("ERR numkeys should be greater than 0"));
  EXPECT_THAT(h.Run({"LMPOP", "2", "src", "LEFT"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"LMPOP", "1", "src", "LEFT", "COUNT", "0"}),
              IsError("ERR count should be greater than 0"));
  EXPECT_THAT(h.Run({"LMPOP", "1", "src", "LEFT", "COUNT", "1", "COUNT", "1"}),
              IsError("ERR syntax error"));
}

// Redis 7.0 answers "quicklist" for every list, below the node limit as above it.
TEST_F(ListsTest, EncodingIsQuicklistAsRedis70) {
  ASSERT_THAT(h.Run({"CONFIG", "SET", "list-max-listpack-size", "4"}), IsOk());
  h.Run({"RPUSH", "l", "1"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "l"}), IsBulk("quicklist"));
  h.Run({"RPUSH", "l", "2", "3", "4"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "l"}), IsBulk("quicklist"));
  h.Run({"RPUSH", "l", "5"});
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "l"}), IsBulk("quicklist"));
  EXPECT_THAT(h.Run({"TYPE", "l"}), IsSimple("list"));
}

TEST_F(ListsTest, ExpiryRemovesList) {
  h.Run({"RPUSH", "l", "a"});
  h.Run({"PEXPIRE", "l", "100"});
  h.AdvanceTime(101);
  EXPECT_THAT(h.Run({"LLEN", "l"}), IsInt(0));
  EXPECT_THAT(h.Run({"LPUSHX", "l", "a"}), IsInt(0));
}

TEST_F(ListsTest, BlockingPopServedByPushFromOtherClient) {
  Reply r = h.RunOn(1, {"BLPOP", "q1", "q2", "0"});
  EXPECT_TRUE(r.blocked) << r.ToString();
  EXPECT_THAT(h.RunOn(2, {"RPUSH", "q2", "x", "y"}), IsInt(2));
  auto p = h.Pending(1);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], IsBulkArray({"q2", "x"}));
  EXPECT_THAT(h.Run({"LRANGE", "q2", "0", "-1"}), IsBulkArray({"y"}));
}

TEST_F(ListsTest, BlockingWaitersServedFifo) {
  EXPECT_TRUE(h.RunOn(1, {"BRPOP", "q", "0"}).blocked);
  EXPECT_TRUE(h.RunOn(2, {"BRPOP", "q", "0"}).blocked);
  h.RunOn(3, {"RPUSH", "q", "first"});
  h.RunOn(3, {"RPUSH", "q", "second"});
  auto p1 = h.Pending(1), p2 = h.Pending(2);
  ASSERT_EQ(p1.size(), 1u);
  ASSERT_EQ(p2.size(), 1u);
  EXPECT_THAT(p1[0], IsBulkArray({"q", "first"}));
  EXPECT_THAT(p2[0], IsBulkArray({"q", "second"}));
}

TEST_F(ListsTest, BlockingTimeoutAndErrors) {
  EXPECT_TRUE(h.RunOn(1, {"BLPOP", "q", "0.5"}).blocked);
  h.AdvanceTime(499);
  EXPECT_TRUE(h.Pending(1).empty());
  h.AdvanceTime(2);
  auto p = h.Pending(1);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], IsNullArray());
  EXPECT_THAT(h.Run({"BLPOP", "q", "x"}), IsError("ERR timeout is not a float or out of range"));
  EXPECT_THAT(h.Run({"BLPOP", "q", "-1"}), IsError("ERR timeout is negative"));
  EXPECT_THAT(h.Run({"BLPOP", "q", "inf"}), IsError("ERR timeout is negative"));
}

TEST_F(ListsTest, BlockingMoveAndMPop) {
  EXPECT_TRUE(h.RunOn(1, {"BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"}).blocked);
  EXPECT_TRUE(h.RunOn(2, {"BLMPOP", "0", "2", "a", "src", "LEFT", "COUNT", "2"}).blocked);
  h.RunOn(3, {"RPUSH", "src", "1", "2", "3"});
  auto p1 = h.Pending(1), p2 = h.Pending(2);
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_THAT(p1[0], IsBulk("3"));
  ASSERT_EQ(p2.size(), 1u);
  EXPECT_THAT(p2[0], IsArrayOf({IsBulk("src"), IsBulkArray({"1", "2"})}));
  EXPECT_THAT(h.Run({"LRANGE", "dst", "0", "-1"}), IsBulkArray({"3"}));
  EXPECT_THAT(h.Run({"EXISTS", "src"}), IsInt(0));
}

TEST_F(ListsTest, NoBlockingInsideMulti) {
  ASSERT_THAT(h.Run({"MULTI"}), IsOk());
  h.Run({"BLPOP", "q", "0"});
  h.Run({"BRPOPLPUSH", "q", "d", "0"});
  Reply r = h.Run({"EXEC"});
  ASSERT_EQ(r.elems.size(), 2u) << r.ToString();
  EXPECT_THAT(r.elems[0], IsNullArray());
  EXPECT_THAT(r.elems[1], IsNullArray());
}

TEST_F(ListsTest, PushInsideMultiWakesWaiter) {
  EXPECT_TRUE(h.RunOn(1, {"BLPOP", "q", "0"}).blocked);
  h.RunOn(2, {"MULTI"});
  h.RunOn(2, {"RPUSH", "q", "a"});
  h.RunOn(2, {"RPUSH", "q", "b"});
  h.RunOn(2, {"EXEC"});
  auto p = h.Pending(1);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], IsBulkArray({"q", "a"}));
}

}  // namespace
}  // namespace ferrite::test
