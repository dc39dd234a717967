// Family tests for the streams module through the in-process harness.
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

using ::testing::ElementsAre;

const char kWrongType[] = "WRONGTYPE Operation against a key holding the wrong kind of value";

class StreamsTest : public ::testing::Test {
 protected:
  static HarnessOptions Opts() {
    HarnessOptions o;
    o.plugins = {"streams", "strings", "keys", "lists"};
    return o;
  }
  StreamsTest() : h(Opts()) {}
  Harness h;
};

// What was propagated, without the SELECTs.
std::vector<std::vector<std::string>> Commands(const PropagationRecorder& rec) {
  std::vector<std::vector<std::string>> out;
  for (auto& c : rec.commands())
    if (c.argv[0] != "SELECT") out.push_back(c.argv);
  return out;
}

// [id, [f, v, ...]]
::testing::Matcher<const Reply&> Entry(std::string id, std::vector<std::string> fv) {
  return IsArrayOf({IsBulk(std::move(id)), IsBulkArray(std::move(fv))});
}

TEST_F(StreamsTest, AddLenRangeRevRange) {
  EXPECT_THAT(h.Run({"XADD", "s", "1-1", "f", "v"}), IsBulk("1-1"));
  EXPECT_THAT(h.Run({"XADD", "s", "1-*", "f", "w"}), IsBulk("1-2"));
  EXPECT_THAT(h.Run({"XADD", "s", "2", "g", "x", "h", "y"}), IsBulk("2-0"));
  EXPECT_THAT(h.Run({"XLEN", "s"}), IsInt(3));
  EXPECT_THAT(h.Run({"XRANGE", "s", "-", "+"}),
              IsArrayOf({Entry("1-1", {"f", "v"}), Entry("1-2", {"f", "w"}),
                         Entry("2-0", {"g", "x", "h", "y"})}));
  EXPECT_THAT(h.Run({"XRANGE", "s", "(1-1", "+", "COUNT", "1"}),
              IsArrayOf({Entry("1-2", {"f", "w"})}));
  EXPECT_THAT(h.Run({"XREVRANGE", "s", "+", "-", "COUNT", "1"}),
              IsArrayOf({Entry("2-0", {"g", "x", "h", "y"})}));
  EXPECT_THAT(h.Run({"XRANGE", "s", "1", "1"}).elems.size(), 2u);  // 1 = 1-0 .. 1-max
  EXPECT_THAT(h.Run({"XRANGE", "s", "-", "+", "COUNT", "0"}), IsNullArray());
  EXPECT_THAT(h.Run({"XRANGE", "nokey", "-", "+"}), IsArrayOf({}));
  EXPECT_THAT(h.Run({"TYPE", "s"}), IsSimple("stream"));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "s"}), IsBulk("stream"));
}

TEST_F(StreamsTest, AddErrors) {
  EXPECT_THAT(h.Run({"XADD", "s", "0-0", "f", "v"}),
              IsError("ERR The ID specified in XADD must be greater than 0-0"));
  EXPECT_THAT(h.Run({"EXISTS", "s"}), IsInt(0));  // refused before the key is made
  h.Run({"XADD", "s", "5-5", "f", "v"});
  EXPECT_THAT(h.Run({"XADD", "s", "5-5", "f", "v"}),
              IsError("ERR The ID specified in XADD is equal or smaller than the target stream "
                      "top item"));
  EXPECT_THAT(h.Run({"XADD", "s", "x", "f", "v"}),
              IsError("ERR Invalid stream ID specified as stream command argument"));
  EXPECT_THAT(h.Run({"XADD", "s", "6", "f"}),
              IsError("ERR wrong number of arguments for 'xadd' command"));
  EXPECT_THAT(h.Run({"XADD", "s", "MAXLEN", "-1", "*", "f", "v"}),
              IsError("ERR The MAXLEN argument must be >= 0."));
  EXPECT_THAT(h.Run({"XADD", "s", "MAXLEN", "1", "LIMIT", "5", "*", "f", "v"}),
              IsError("ERR syntax error, LIMIT cannot be used without the special ~ option"));
  EXPECT_THAT(h.Run({"XADD", "s", "MAXLEN", "1", "MINID", "5", "*", "f", "v"}),
              IsError("ERR syntax error, MAXLEN and MINID options at the same time are not "
                      "compatible"));
  EXPECT_THAT(h.Run({"XADD", "nokey", "NOMKSTREAM", "*", "f", "v"}), IsNull());
  EXPECT_THAT(h.Run({"XADD", "s", "18446744073709551615-18446744073709551615", "f", "v"}),
              IsBulk("18446744073709551615-18446744073709551615"));
  EXPECT_THAT(h.Run({"XADD", "s", "*", "f", "v"}),
              IsError("ERR The stream has exhausted the last possible ID, unable to add more "
                      "items"));
}

TEST_F(StreamsTest, AutoIdsFollowTheHostClock) {
  int64_t now = h.NowMs();
  EXPECT_THAT(h.Run({"XADD", "s", "*", "f", "v"}), IsBulk(std::to_string(now) + "-0"));
  EXPECT_THAT(h.Run({"XADD", "s", "*", "f", "v"}), IsBulk(std::to_string(now) + "-1"));
  h.AdvanceTime(5);
  EXPECT_THAT(h.Run({"XADD", "s", "*", "f", "v"}), IsBulk(std::to_string(now + 5) + "-0"));
}

TEST_F(StreamsTest, DelTrimSetId) {
  for (int i = 1; i <= 10; i++) h.Run({"XADD", "s", std::to_string(i), "f", "v"});
  EXPECT_THAT(h.Run({"XDEL", "s", "1", "2", "99"}), IsInt(2));
  EXPECT_THAT(h.Run({"XDEL", "s", "x"}),
              IsError("ERR Invalid stream ID specified as stream command argument"));
  EXPECT_THAT(h.Run({"XTRIM", "s", "MAXLEN", "5"}), IsInt(3));
  EXPECT_THAT(h.Run({"XLEN", "s"}), IsInt(5));
  EXPECT_THAT(h.Run({"XTRIM", "s", "MINID", "8"}), IsInt(2));
  EXPECT_THAT(h.Run({"XTRIM", "s"}),
              IsError("ERR wrong number of arguments for 'xtrim' command"));
  EXPECT_THAT(h.Run({"XTRIM", "s", "FOO", "1"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"XSETID", "s", "5"}),
              IsError("ERR The ID specified in XSETID is smaller than the target stream top "
                      "item"));
  EXPECT_THAT(h.Run({"XSETID", "s", "20", "ENTRIESADDED", "1"}),
              IsError("ERR The entries_added specified in XSETID is smaller than the target "
                      "stream length"));
  EXPECT_THAT(h.Run({"XSETID", "s", "20"}), IsOk());
  EXPECT_THAT(h.Run({"XADD", "s", "19", "f", "v"}),
              IsErrorPrefix("ERR The ID specified in XADD is equal or smaller"));
  EXPECT_THAT(h.Run({"XSETID", "nokey", "1"}), IsError("ERR no such key"));
  // An emptied stream stays a key (unlike a list).
  EXPECT_THAT(h.Run({"XTRIM", "s", "MAXLEN", "0"}), IsInt(3));
  EXPECT_THAT(h.Run({"EXISTS", "s"}), IsInt(1));
  EXPECT_THAT(h.Run({"XLEN", "s"}), IsInt(0));
}

TEST_F(StreamsTest, WrongTypeEverywhere) {
  ASSERT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"XADD", "k", "*", "f", "v"}, {"XLEN", "k"}, {"XRANGE", "k", "-", "+"},
           {"XREVRANGE", "k", "+", "-"}, {"XDEL", "k", "1"}, {"XTRIM", "k", "MAXLEN", "1"},
           {"XSETID", "k", "1"}, {"XREAD", "STREAMS", "k", "0"},
           {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">"},
           {"XGROUP", "CREATE", "k", "g", "$"}, {"XACK", "k", "g", "1"},
           {"XPENDING", "k", "g"}, {"XCLAIM", "k", "g", "c", "0", "1"},
           {"XAUTOCLAIM", "k", "g", "c", "0", "0"}, {"XINFO", "STREAM", "k"}}) {
    EXPECT_THAT(h.Run(cmd), IsError(kWrongType)) << cmd[0];
  }
}

TEST_F(StreamsTest, SubcommandErrorsAsRedis7) {
  EXPECT_THAT(h.Run({"XGROUP", "CREATE", "k"}),
              IsError("ERR wrong number of arguments for 'xgroup|create' command"));
  EXPECT_THAT(h.Run({"XGROUP", "FOO", "k", "g"}),
              IsError("ERR unknown subcommand 'FOO'. Try XGROUP HELP."));
  EXPECT_THAT(h.Run({"XINFO", "HELP", "x"}),
              IsError("ERR wrong number of arguments for 'xinfo|help' command"));
  EXPECT_THAT(h.Run({"XGROUP", "CREATE", "k", "g", "$"}),
              IsErrorPrefix("ERR The XGROUP subcommand requires the key to exist."));
  EXPECT_THAT(h.Run({"XGROUP", "CREATE", "k", "g", "$", "MKSTREAM", "FOO"}),
              IsError("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try "
                      "XGROUP HELP."));
  EXPECT_THAT(h.Run({"XGROUP", "HELP"}).elems.size(), 17u);
}

TEST_F(StreamsTest, ConsumerGroupLifecycle) {
  EXPECT_THAT(h.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}), IsOk());
  EXPECT_THAT(h.Run({"XGROUP", "CREATE", "s", "g", "$"}),
              IsError("BUSYGROUP Consumer Group name already exists"));
  h.Run({"XADD", "s", "1", "f", "a"});
  h.Run({"XADD", "s", "2", "f", "b"});
  EXPECT_THAT(h.Run({"XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"}),
              IsArrayOf({IsArrayOf({IsBulk("s"), IsArrayOf({Entry("1-0", {"f", "a"})})})}));
  EXPECT_THAT(h.Run({"XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"}),
              IsArrayOf({IsArrayOf({IsBulk("s"), IsArrayOf({Entry("2-0", {"f", "b"})})})}));
  // History: alice's own pending entries only.
  EXPECT_THAT(h.Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"}),
              IsArrayOf({IsArrayOf({IsBulk("s"), IsArrayOf({Entry("1-0", {"f", "a"})})})}));
  Reply summary = h.Run({"XPENDING", "s", "g"});
  ASSERT_EQ(summary.elems.size(), 4u);
  EXPECT_THAT(summary.elems[0], IsInt(2));
  EXPECT_THAT(summary.elems[1], IsBulk("1-0"));
  EXPECT_THAT(summary.elems[2], IsBulk("2-0"));
  EXPECT_THAT(summary.elems[3], IsArrayOf({IsBulkArray({"alice", "1"}), IsBulkArray({"bob", "1"})}));
  Reply ext = h.Run({"XPENDING", "s", "g", "-", "+", "10", "alice"});
  ASSERT_EQ(ext.elems.size(), 1u);
  EXPECT_THAT(ext.elems[0].elems[3], IsInt(2));  // delivered twice (the history read)
  EXPECT_THAT(h.Run({"XACK", "s", "g", "1", "1", "7"}), IsInt(1));
  EXPECT_THAT(h.Run({"XACK", "s", "nogroup", "1"}), IsInt(0));
  EXPECT_THAT(h.Run({"XGROUP", "DELCONSUMER", "s", "g", "bob"}), IsInt(1));
  EXPECT_THAT(h.Run({"XPENDING", "s", "g"}),
              IsArrayOf({IsInt(0), IsNull(), IsNull(), IsNullArray()}));
  EXPECT_THAT(h.Run({"XGROUP", "DESTROY", "s", "g"}), IsInt(1));
  EXPECT_THAT(h.Run({"XGROUP", "DESTROY", "s", "g"}), IsInt(0));
  EXPECT_THAT(h.Run({"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"}),
              IsError("NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP "
                      "option"));
}

TEST_F(StreamsTest, ClaimAndAutoClaimMoveOwnership) {
  h.Run({"XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"});
  for (int i = 1; i <= 3; i++) h.Run({"XADD", "s", std::to_string(i), "f", "v"});
  h.Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"});
  h.AdvanceTime(100);
  // Too fresh for a min-idle of 1000; claimable with 50.
  EXPECT_THAT(h.Run({"XCLAIM", "s", "g", "bob", "1000", "1"}), IsArrayOf({}));
  EXPECT_THAT(h.Run({"XCLAIM", "s", "g", "bob", "50", "1", "JUSTID"}), IsBulkArray({"1-0"}));
  h.Run({"XDEL", "s", "2"});
  Reply r = h.Run({"XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "10"});
  ASSERT_EQ(r.elems.size(), 3u);
  EXPECT_THAT(r.elems[0], IsBulk("0-0"));
  EXPECT_THAT(r.elems[1], IsArrayOf({Entry("1-0", {"f", "v"}), Entry("3-0", {"f", "v"})}));
  EXPECT_THAT(r.elems[2], IsBulkArray({"2-0"}));  // deleted while pending: dropped
  EXPECT_THAT(h.Run({"XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"}),
              IsError("ERR COUNT must be > 0"));
  EXPECT_THAT(h.Run({"XCLAIM", "s", "g", "c", "x", "1"}),
              IsError("ERR Invalid min-idle-time argument for XCLAIM"));
  EXPECT_THAT(h.Run({"XCLAIM", "s", "g", "c", "0", "1", "BOGUS"}),
              IsError("ERR Unrecognized XCLAIM option 'BOGUS'"));
}

TEST_F(StreamsTest, ReadGroupPropagatesClaimsNotItself) {
  h.Run({"XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"});
  h.Run({"XADD", "s", "1", "f", "v"});
  PropagationRecorder rec(h);
  h.Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"});
  // A history read of a new consumer: only the consumer's creation (NOACK) goes out.
  h.Run({"XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", "0"});
  auto cmds = Commands(rec);
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_THAT(cmds[1], ElementsAre("XGROUP", "CREATECONSUMER", "s", "g", "bob"));
  auto& argv = cmds[0];
  ASSERT_EQ(argv.size(), 14u);
  EXPECT_EQ(argv[0], "XCLAIM");
  EXPECT_EQ(argv[3], "alice");
  EXPECT_EQ(argv[5], "1-0");
  EXPECT_EQ(argv[6], "TIME");
  EXPECT_EQ(argv[12], "LASTID");
  EXPECT_EQ(argv[13], "1-0");
}

TEST_F(StreamsTest, ApproximateTrimIsPropagatedExact) {
  h.Run({"CONFIG", "SET", "stream-node-max-entries", "2"});
  for (int i = 1; i <= 5; i++) h.Run({"XADD", "s", std::to_string(i), "f", "v"});
  PropagationRecorder rec(h);
  Reply id = h.Run({"XADD", "s", "MAXLEN", "~", "2", "*", "f", "v"});
  EXPECT_THAT(h.Run({"XLEN", "s"}), IsInt(2));  // whole nodes [1,2] and [3,4] went
  auto cmds = Commands(rec);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_THAT(cmds[0],
              ElementsAre("XADD", "s", "MAXLEN", "=", "2", id.str, "f", "v"));
  // LIMIT is dropped: an exact trim refuses it, and replay must not fail.
  PropagationRecorder rec2(h);
  EXPECT_THAT(h.Run({"XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "2"}), IsInt(2));
  auto cmds2 = Commands(rec2);
  ASSERT_EQ(cmds2.size(), 1u);
  EXPECT_THAT(cmds2[0], ElementsAre("XTRIM", "s", "MAXLEN", "=", "0"));
}

TEST_F(StreamsTest, BlockingReadWokenByAdd) {
  h.Run({"XADD", "s", "1", "f", "v"});
  Reply r = h.RunOn(1, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"});
  ASSERT_TRUE(r.blocked);
  Reply r2 = h.RunOn(2, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"});
  ASSERT_TRUE(r2.blocked);
  h.Run({"XADD", "s", "2", "f", "w"});
  for (int c : {1, 2}) {
    auto p = h.Pending(c);
    ASSERT_EQ(p.size(), 1u) << c;  // every reader is served, not only the first
    EXPECT_THAT(p[0], IsArrayOf({IsArrayOf({IsBulk("s"), IsArrayOf({Entry("2-0", {"f", "w"})})})}));
  }
}

TEST_F(StreamsTest, BlockingReadTimesOutAndIsNonBlockingInMulti) {
  Reply r = h.RunOn(1, {"XREAD", "BLOCK", "100", "STREAMS", "s", "$"});
  ASSERT_TRUE(r.blocked);
  h.AdvanceTime(150);
  auto p = h.Pending(1);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], IsNullArray());
  h.Run({"MULTI"});
  h.Run({"XREAD", "BLOCK", "0", "STREAMS", "s", "$"});
  EXPECT_THAT(h.Run({"EXEC"}), IsArrayOf({IsNullArray()}));
  EXPECT_THAT(h.Run({"XREAD", "BLOCK", "-1", "STREAMS", "s", "$"}),
              IsError("ERR timeout is negative"));
  EXPECT_THAT(h.Run({"XREAD", "BLOCK", "1.5", "STREAMS", "s", "$"}),
              IsError("ERR timeout is not an integer or out of range"));
}

TEST_F(StreamsTest, BlockedReadGroupFailsWhenKeyOrGroupGoes) {
  h.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"});
  ASSERT_TRUE(h.RunOn(1, {"XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">"}).blocked);
  h.Run({"DEL", "s"});
  auto p = h.Pending(1);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], IsError("UNBLOCKED the stream key no longer exists"));

  h.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"});
  ASSERT_TRUE(h.RunOn(1, {"XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">"}).blocked);
  h.Run({"XGROUP", "DESTROY", "s", "g"});
  p = h.Pending(1);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], IsError("NOGROUP the consumer group this client was blocked on no longer "
                            "exists"));

  // A plain XREAD keeps waiting through a delete and a type change.
  h.Run({"XADD", "t", "5", "f", "v"});
  ASSERT_TRUE(h.RunOn(1, {"XREAD", "BLOCK", "0", "STREAMS", "t", "$"}).blocked);
  h.Run({"SET", "t", "x"});
  h.Run({"DEL", "t"});
  EXPECT_TRUE(h.Pending(1).empty());
  h.Run({"XADD", "t", "6", "f", "w"});
  p = h.Pending(1);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], IsArrayOf({IsArrayOf({IsBulk("t"), IsArrayOf({Entry("6-0", {"f", "w"})})})}));
}

TEST_F(StreamsTest, BlockedReadGroupServedInArrivalOrder) {
  h.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"});
  ASSERT_TRUE(h.RunOn(1, {"XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">"}).blocked);
  ASSERT_TRUE(h.RunOn(2, {"XREADGROUP", "GROUP", "g", "b", "BLOCK", "0", "STREAMS", "s", ">"}).blocked);
  h.Run({"XADD", "s", "1", "f", "v"});
  EXPECT_EQ(h.Pending(1).size(), 1u);
  EXPECT_TRUE(h.Pending(2).empty());  // the group's one new entry went to the first
  h.Run({"XADD", "s", "2", "f", "v"});
  EXPECT_EQ(h.Pending(2).size(), 1u);
}

TEST_F(StreamsTest, BlockedReadOnTwoKeysAnswersWithTheKeyThatWokeIt) {
  for (const char* k : {"k1", "k2"}) h.Run({"XGROUP", "CREATE", k, "g", "$", "MKSTREAM"});
  ASSERT_TRUE(h.RunOn(1, {"XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "k1", "k2",
                          ">", ">"}).blocked);
  ASSERT_TRUE(h.RunOn(2, {"XREAD", "BLOCK", "0", "STREAMS", "k1", "k2", "$", "$"}).blocked);
  h.Run({"MULTI"});
  h.Run({"XADD", "k2", "5", "x", "1"});
  h.Run({"XADD", "k1", "6", "y", "1"});
  h.Run({"EXEC"});
  for (int c : {1, 2}) {
    auto p = h.Pending(c);
    ASSERT_EQ(p.size(), 1u) << c;  // k2 only: its write came first, as Redis 7.0 serves it
    EXPECT_THAT(p[0],
                IsArrayOf({IsArrayOf({IsBulk("k2"), IsArrayOf({Entry("5-0", {"x", "1"})})})}))
        << c;
  }
  EXPECT_THAT(h.Run({"XPENDING", "k1", "g"}),
              IsArrayOf({IsInt(0), IsNull(), IsNull(), IsNullArray()}));
}

TEST_F(StreamsTest, WatchSeesEntryWritesNotGroupBookkeeping) {
  h.Run({"XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"});
  h.Run({"XADD", "s", "1", "f", "v"});
  // As in Redis 7.0: XREADGROUP, XACK and XSETID do not touch a watched key's version.
  h.RunOn(1, {"WATCH", "s"});
  h.Run({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"});
  h.Run({"XACK", "s", "g", "1"});
  h.Run({"XSETID", "s", "5"});
  h.RunOn(1, {"MULTI"});
  h.RunOn(1, {"XLEN", "s"});
  EXPECT_THAT(h.RunOn(1, {"EXEC"}), IsArrayOf({IsInt(1)}));
  h.RunOn(1, {"WATCH", "s"});
  h.Run({"XADD", "s", "6", "f", "v"});
  h.RunOn(1, {"MULTI"});
  h.RunOn(1, {"XLEN", "s"});
  EXPECT_THAT(h.RunOn(1, {"EXEC"}), IsNullArray());
}

TEST_F(StreamsTest, KeyspaceEvents) {
  h.Run({"CONFIG", "SET", "notify-keyspace-events", "KEt"});
  EventRecorder ev(h, FERRITE_NOTIFY_STREAM);
  h.Run({"XADD", "s", "MAXLEN", "1", "1", "f", "v"});
  h.Run({"XADD", "s", "MAXLEN", "1", "2", "f", "v"});
  h.Run({"XDEL", "s", "2"});
  h.Run({"XGROUP", "CREATE", "s", "g", "$"});
  h.Run({"XGROUP", "CREATECONSUMER", "s", "g", "c"});
  h.Run({"XGROUP", "SETID", "s", "g", "0"});
  h.Run({"XGROUP", "DELCONSUMER", "s", "g", "c"});
  h.Run({"XGROUP", "DESTROY", "s", "g"});
  h.Run({"XSETID", "s", "10"});
  std::vector<std::string> names;
  for (auto& e : ev.events()) names.push_back(e.event);
  EXPECT_THAT(names, ElementsAre("xadd", "xadd", "xtrim", "xdel", "xgroup-create",
                                 "xgroup-createconsumer", "xgroup-setid", "xgroup-delconsumer",
                                 "xgroup-destroy", "xsetid"));
}

TEST_F(StreamsTest, CopyIsDeepAndRenameKeepsGroups) {
  h.Run({"XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"});
  h.Run({"XADD", "s", "1", "f", "v"});
  h.Run({"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"});
  EXPECT_THAT(h.Run({"COPY", "s", "c"}), IsInt(1));
  h.Run({"XACK", "c", "g", "1"});
  EXPECT_THAT(h.Run({"XPENDING", "s", "g"}).elems[0], IsInt(1));  // the original keeps it
  EXPECT_THAT(h.Run({"XPENDING", "c", "g"}).elems[0], IsInt(0));
  EXPECT_THAT(h.Run({"RENAME", "s", "r"}), IsOk());
  EXPECT_THAT(h.Run({"XPENDING", "r", "g"}).elems[0], IsInt(1));
}

TEST_F(StreamsTest, InfoStreamAndGroups) {
  h.Run({"XADD", "s", "1", "f", "v"});
  h.Run({"XADD", "s", "2", "f", "w"});
  h.Run({"XGROUP", "CREATE", "s", "g", "0"});
  Reply info = h.Run({"XINFO", "STREAM", "s"});
  ASSERT_EQ(info.elems.size(), 20u);
  EXPECT_THAT(info.elems[0], IsBulk("length"));
  EXPECT_THAT(info.elems[1], IsInt(2));
  EXPECT_THAT(info.elems[5], IsInt(2));  // radix-tree-nodes of one 16-byte key: head + leaf
  EXPECT_THAT(info.elems[17], Entry("1-0", {"f", "v"}));
  Reply groups = h.Run({"XINFO", "GROUPS", "s"});
  ASSERT_EQ(groups.elems.size(), 1u);
  EXPECT_THAT(groups.elems[0].elems[9], IsNull());   // entries-read: unknown until read
  EXPECT_THAT(groups.elems[0].elems[11], IsInt(2));  // lag
  EXPECT_THAT(h.Run({"XINFO", "STREAM", "nokey"}), IsError("ERR no such key"));
  EXPECT_THAT(h.Run({"XINFO", "CONSUMERS", "s", "nog"}),
              IsError("NOGROUP No such consumer group 'nog' for key name 's'"));
}

TEST_F(StreamsTest, ReadPlusAndDelEx) {
  h.Run({"XADD", "s", "1", "f", "a"});
  h.Run({"XADD", "s", "2", "f", "b"});
  EXPECT_THAT(h.Run({"XREAD", "STREAMS", "s", "+"}),
              IsArrayOf({IsArrayOf({IsBulk("s"), IsArrayOf({Entry("2-0", {"f", "b"})})})}));
  h.Run({"XGROUP", "CREATE", "s", "g", "0"});
  h.Run({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"});
  EXPECT_THAT(h.Run({"XDELEX", "s", "ACKED", "IDS", "2", "1", "9"}), IsIntArray({2, -1}));
  EXPECT_THAT(h.Run({"XACKDEL", "s", "g", "IDS", "1", "1"}), IsIntArray({1}));
  EXPECT_THAT(h.Run({"XLEN", "s"}), IsInt(1));
  EXPECT_THAT(h.Run({"XDELEX", "s", "DELREF", "IDS", "1", "2"}), IsIntArray({1}));
  EXPECT_THAT(h.Run({"XPENDING", "s", "g"}).elems[0], IsInt(0));
  EXPECT_THAT(h.Run({"XDELEX", "nokey", "IDS", "2", "1", "2"}), IsIntArray({-1, -1}));
  EXPECT_THAT(h.Run({"XDELEX", "s", "IDS", "0", "1"}),
              IsError("ERR Number of IDs must be a positive integer"));
}

}  // namespace
}  // namespace ferrite::test
