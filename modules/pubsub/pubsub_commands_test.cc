// Family tests through the in-process harness: real pubsub.so, strings.so, keys.so.
// h.Pending(client) returns the pushes conn_push delivered to that client.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// A push (RESP3 '>', RESP2 array) of bulk strings, as conn_push delivers.
MATCHER_P(IsPush, parts, "push " + ::testing::PrintToString(parts)) {
  if (arg.type != FERRITE_REPLY_PUSH || arg.elems.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); i++)
    if (arg.elems[i].type != FERRITE_REPLY_BULK || arg.elems[i].str != parts[i]) return false;
  return true;
}
using Parts = std::vector<std::string>;

auto Confirm(std::string word, std::string name, int64_t n) {
  return IsArrayOf({IsBulk(word), IsBulk(name), IsInt(n)});
}

HarnessOptions Opts(int resp = 2) {
  HarnessOptions o;
  o.plugins = {"pubsub", "strings", "keys"};
  o.resp = resp;
  return o;
}

TEST(PubsubFamily, SubscribeThenPublishDelivers) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"SUBSCRIBE", "news"}), Confirm("subscribe", "news", 1));
  EXPECT_THAT(h.RunOn(1, {"PUBLISH", "news", "hello"}), IsInt(1));
  EXPECT_THAT(h.Pending(0), ElementsAre(IsPush(Parts{"message", "news", "hello"})));
  EXPECT_THAT(h.RunOn(1, {"PUBLISH", "other", "x"}), IsInt(0));
  EXPECT_THAT(h.Pending(0), IsEmpty());
}

TEST(PubsubFamily, MultiChannelSubscribeCountsUp) {
  Harness h(Opts());
  // The capture keeps the last top-level reply of a command: the third confirmation.
  EXPECT_THAT(h.Run({"SUBSCRIBE", "a", "b", "a"}), Confirm("subscribe", "a", 2));
  EXPECT_THAT(h.RunOn(1, {"PUBSUB", "NUMSUB", "a", "b", "c"}),
              IsArrayOf({IsBulk("a"), IsInt(1), IsBulk("b"), IsInt(1), IsBulk("c"), IsInt(0)}));
}

TEST(PubsubFamily, PatternSubscriberGetsPmessage) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"PSUBSCRIBE", "news.*"}), Confirm("psubscribe", "news.*", 1));
  EXPECT_THAT(h.Run({"SUBSCRIBE", "news.tech"}), Confirm("subscribe", "news.tech", 2));
  EXPECT_THAT(h.RunOn(1, {"PUBLISH", "news.tech", "m"}), IsInt(2));
  EXPECT_THAT(h.Pending(0), ElementsAre(IsPush(Parts{"message", "news.tech", "m"}),
                                        IsPush(Parts{"pmessage", "news.*", "news.tech", "m"})));
  EXPECT_THAT(h.RunOn(1, {"PUBSUB", "NUMPAT"}), IsInt(1));
}

TEST(PubsubFamily, Resp2SubscribedModeRefusesOtherCommands) {
  Harness h(Opts());
  h.Run({"SUBSCRIBE", "a"});
  EXPECT_THAT(h.Run({"GET", "k"}), IsErrorPrefix("ERR Can't execute 'get'"));
  EXPECT_THAT(h.Run({"PING"}), IsArrayOf({IsBulk("pong"), IsBulk("")}));
  EXPECT_THAT(h.Run({"PSUBSCRIBE", "x*"}), Confirm("psubscribe", "x*", 2));
  EXPECT_THAT(h.Run({"UNSUBSCRIBE"}), Confirm("unsubscribe", "a", 1));
  EXPECT_THAT(h.Run({"GET", "k"}), IsErrorPrefix("ERR Can't execute 'get'"));
  EXPECT_THAT(h.Run({"PUNSUBSCRIBE", "x*"}), Confirm("punsubscribe", "x*", 0));
  EXPECT_THAT(h.Run({"GET", "k"}), IsNull());
}

TEST(PubsubFamily, Resp3ClientKeepsRunningCommandsWhileSubscribed) {
  Harness h(Opts(3));
  h.Run({"SUBSCRIBE", "a"});
  EXPECT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("v"));
  EXPECT_THAT(h.RunOn(1, {"PUBLISH", "a", "other"}), IsInt(1));
  EXPECT_THAT(h.Pending(0), ElementsAre(IsPush(Parts{"message", "a", "other"})));
  // Publishing to itself: the push goes into its own reply, ahead of the count (the
  // capture keeps the last top-level reply), not through conn_push.
  EXPECT_THAT(h.Run({"PUBLISH", "a", "self"}), IsInt(1));
  EXPECT_THAT(h.Pending(0), IsEmpty());
}

TEST(PubsubFamily, UnsubscribeWithNothingRepliesNullChannel) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"UNSUBSCRIBE"}), IsArrayOf({IsBulk("unsubscribe"), IsNull(), IsInt(0)}));
  EXPECT_THAT(h.Run({"PUNSUBSCRIBE"}), IsArrayOf({IsBulk("punsubscribe"), IsNull(), IsInt(0)}));
  EXPECT_THAT(h.Run({"SUNSUBSCRIBE"}), IsArrayOf({IsBulk("sunsubscribe"), IsNull(), IsInt(0)}));
  // Unsubscribing from a channel never subscribed still confirms it.
  EXPECT_THAT(h.Run({"UNSUBSCRIBE", "nope"}), Confirm("unsubscribe", "nope", 0));
}

TEST(PubsubFamily, UnsubscribeStopsDelivery) {
  Harness h(Opts());
  h.Run({"SUBSCRIBE", "a", "b"});
  EXPECT_THAT(h.Run({"UNSUBSCRIBE", "a"}), Confirm("unsubscribe", "a", 1));
  EXPECT_THAT(h.RunOn(1, {"PUBLISH", "a", "x"}), IsInt(0));
  EXPECT_THAT(h.RunOn(1, {"PUBLISH", "b", "y"}), IsInt(1));
  EXPECT_THAT(h.Pending(0), ElementsAre(IsPush(Parts{"message", "b", "y"})));
}

TEST(PubsubFamily, ResetDropsSubscriptions) {
  Harness h(Opts());
  h.Run({"SUBSCRIBE", "a"});
  h.Run({"PSUBSCRIBE", "a*"});
  EXPECT_THAT(h.Run({"RESET"}), IsSimple("RESET"));
  EXPECT_THAT(h.Run({"GET", "k"}), IsNull());
  EXPECT_THAT(h.RunOn(1, {"PUBLISH", "a", "x"}), IsInt(0));
  EXPECT_THAT(h.Pending(0), IsEmpty());
  EXPECT_THAT(h.Run({"SUBSCRIBE", "b"}), Confirm("subscribe", "b", 1));
  EXPECT_THAT(h.RunOn(1, {"PUBLISH", "b", "y"}), IsInt(1));
  EXPECT_THAT(h.Pending(0), ElementsAre(IsPush(Parts{"message", "b", "y"})));
}

TEST(PubsubFamily, Resp3ConfirmationsArePushes) {
  Harness h(Opts(3));
  Reply r = h.Run({"SUBSCRIBE", "a"});
  EXPECT_EQ(r.type, FERRITE_REPLY_PUSH);
  EXPECT_THAT(r, Confirm("subscribe", "a", 1));
  r = h.Run({"UNSUBSCRIBE"});
  EXPECT_EQ(r.type, FERRITE_REPLY_PUSH);
  EXPECT_THAT(r, Confirm("unsubscribe", "a", 0));
}

TEST(PubsubFamily, ShardChannelsAreSeparate) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"SSUBSCRIBE", "s"}), Confirm("ssubscribe", "s", 1));
  EXPECT_THAT(h.Run({"SUBSCRIBE", "s"}), Confirm("subscribe", "s", 1));
  EXPECT_THAT(h.RunOn(1, {"SPUBLISH", "s", "m"}), IsInt(1));
  EXPECT_THAT(h.Pending(0), ElementsAre(IsPush(Parts{"smessage", "s", "m"})));
  EXPECT_THAT(h.RunOn(1, {"PUBSUB", "SHARDCHANNELS"}), IsBulkArray({"s"}));
  EXPECT_THAT(h.RunOn(1, {"PUBSUB", "SHARDNUMSUB", "s"}), IsArrayOf({IsBulk("s"), IsInt(1)}));
  EXPECT_THAT(h.Run({"SUNSUBSCRIBE"}), Confirm("sunsubscribe", "s", 0));
}

TEST(PubsubFamily, PubsubChannelsWithPattern) {
  Harness h(Opts());
  h.RunOn(0, {"SUBSCRIBE", "news.a", "news.b", "sport"});
  EXPECT_THAT(h.RunOn(1, {"PUBSUB", "CHANNELS"}),
              IsUnorderedBulkArray({"news.a", "news.b", "sport"}));
  EXPECT_THAT(h.RunOn(1, {"PUBSUB", "channels", "news.*"}),
              IsUnorderedBulkArray({"news.a", "news.b"}));
  EXPECT_THAT(h.RunOn(1, {"PUBSUB", "NUMPAT"}), IsInt(0));
}

TEST(PubsubFamily, PubsubErrorsMatchRedis) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"PUBSUB"}),
              IsError("ERR wrong number of arguments for 'pubsub' command"));
  EXPECT_THAT(h.Run({"PUBSUB", "foo"}), IsError("ERR unknown subcommand 'foo'. Try PUBSUB HELP."));
  EXPECT_THAT(h.Run({"PUBSUB", "NUMPAT", "x"}),
              IsError("ERR wrong number of arguments for 'pubsub|numpat' command"));
  EXPECT_THAT(h.Run({"PUBSUB", "channels", "a", "b"}),
              IsError("ERR unknown subcommand or wrong number of arguments for 'channels'. "
                      "Try PUBSUB HELP."));
  EXPECT_THAT(h.Run({"PUBLISH", "a"}),
              IsError("ERR wrong number of arguments for 'publish' command"));
  EXPECT_THAT(h.Run({"SUBSCRIBE"}),
              IsError("ERR wrong number of arguments for 'subscribe' command"));
  EXPECT_THAT(h.Run({"PUBSUB", "HELP"}).elems, SizeIs(14));
}

TEST(PubsubFamily, KeyspaceAndKeyeventNotifications) {
  Harness h(Opts());
  EXPECT_THAT(h.RunOn(1, {"CONFIG", "SET", "notify-keyspace-events", "KEA"}), IsOk());
  h.Run({"PSUBSCRIBE", "__key*__:*"});
  EXPECT_THAT(h.RunOn(1, {"SET", "foo", "bar"}), IsOk());
  EXPECT_THAT(h.Pending(0),
              ElementsAre(IsPush(Parts{"pmessage", "__key*__:*", "__keyspace@0__:foo", "set"}),
                          IsPush(Parts{"pmessage", "__key*__:*", "__keyevent@0__:set", "foo"})));
  h.RunOn(1, {"SELECT", "3"});
  EXPECT_THAT(h.RunOn(1, {"SET", "k", "1"}), IsOk());
  EXPECT_THAT(h.RunOn(1, {"DEL", "k"}), IsInt(1));
  EXPECT_THAT(h.Pending(0),
              ElementsAre(IsPush(Parts{"pmessage", "__key*__:*", "__keyspace@3__:k", "set"}),
                          IsPush(Parts{"pmessage", "__key*__:*", "__keyevent@3__:set", "k"}),
                          IsPush(Parts{"pmessage", "__key*__:*", "__keyspace@3__:k", "del"}),
                          IsPush(Parts{"pmessage", "__key*__:*", "__keyevent@3__:del", "k"})));
}

TEST(PubsubFamily, OnlyKeyeventWhenConfiguredE) {
  Harness h(Opts());
  EXPECT_THAT(h.RunOn(1, {"CONFIG", "SET", "notify-keyspace-events", "E$"}), IsOk());
  h.Run({"PSUBSCRIBE", "*"});
  h.RunOn(1, {"SET", "foo", "bar"});
  h.RunOn(1, {"DEL", "foo"});  // generic class not enabled
  EXPECT_THAT(h.Pending(0),
              ElementsAre(IsPush(Parts{"pmessage", "*", "__keyevent@0__:set", "foo"})));
}

TEST(PubsubFamily, ActiveExpiryPublishesExpired) {
  Harness h(Opts());
  EXPECT_THAT(h.RunOn(1, {"CONFIG", "SET", "notify-keyspace-events", "Ex"}), IsOk());
  h.Run({"SUBSCRIBE", "__keyevent@0__:expired"});
  EXPECT_THAT(h.RunOn(1, {"SET", "k", "v", "PX", "100"}), IsOk());
  EXPECT_THAT(h.Pending(0), IsEmpty());
  h.AdvanceTime(1000);
  EXPECT_THAT(h.Pending(0),
              ElementsAre(IsPush(Parts{"message", "__keyevent@0__:expired", "k"})));
}

TEST(PubsubFamily, NoEventsWhenNotifyOff) {
  Harness h(Opts());
  h.Run({"PSUBSCRIBE", "*"});
  h.RunOn(1, {"SET", "foo", "bar"});
  EXPECT_THAT(h.Pending(0), IsEmpty());
}

// Every command a recorder got, as "SELECT 0", "PUBLISH ch m"...
std::vector<std::string> Lines(const PropagationRecorder& r) {
  std::vector<std::string> out;
  for (auto& c : r.commands()) {
    std::string line;
    for (auto& a : c.argv) line += (line.empty() ? "" : " ") + a;
    out.push_back(line);
  }
  return out;
}

TEST(PubsubFamily, PublishGoesToReplicasNotToTheAof) {
  Harness h(Opts());
  PropagationRecorder aof(h, FERRITE_PROPAGATE_AOF);
  PropagationRecorder repl(h, FERRITE_PROPAGATE_REPL);
  EXPECT_THAT(h.Run({"PUBLISH", "ch", "m1"}), IsInt(0));
  EXPECT_THAT(h.Run({"SPUBLISH", "sch", "m2"}), IsInt(0));
  h.Run({"SELECT", "2"});
  EXPECT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  EXPECT_THAT(Lines(repl), ElementsAre("SELECT 0", "PUBLISH ch m1", "SPUBLISH sch m2",
                                       "SELECT 2", "SET k v"));
  // Each target has its own current db: the AOF's first SELECT is the SET's.
  EXPECT_THAT(Lines(aof), ElementsAre("SELECT 2", "SET k v"));
}

TEST(PubsubFamily, PublishInsideMultiJoinsTheTransaction) {
  Harness h(Opts());
  PropagationRecorder aof(h, FERRITE_PROPAGATE_AOF);
  PropagationRecorder repl(h, FERRITE_PROPAGATE_REPL);
  // One command: no MULTI/EXEC around it (Redis' unit/multi "MULTI propagation of
  // PUBLISH").
  h.Run({"MULTI"});
  h.Run({"PUBLISH", "bla", "bla"});
  h.Run({"EXEC"});
  EXPECT_THAT(Lines(repl), ElementsAre("SELECT 0", "PUBLISH bla bla"));
  EXPECT_THAT(Lines(aof), IsEmpty());
  h.Run({"MULTI"});
  h.Run({"SET", "a", "1"});
  h.Run({"PUBLISH", "ch", "x"});
  h.Run({"EXEC"});
  EXPECT_THAT(Lines(repl), ElementsAre("SELECT 0", "PUBLISH bla bla", "MULTI", "SET a 1",
                                       "PUBLISH ch x", "EXEC"));
  // MULTI and EXEC go to every target, as Redis' propagatePendingCommands sends them.
  EXPECT_THAT(Lines(aof), ElementsAre("SELECT 0", "MULTI", "SET a 1", "EXEC"));
}

TEST(PubsubFamily, ManySubscribersEachGetOneCopyInOrder) {
  Harness h(Opts());
  for (int c = 0; c < 20; c++) h.RunOn(c, {"SUBSCRIBE", "fan"});
  for (int i = 0; i < 50; i++)
    EXPECT_THAT(h.RunOn(100, {"PUBLISH", "fan", std::to_string(i)}), IsInt(20));
  for (int c = 0; c < 20; c++) {
    auto got = h.Pending(c);
    ASSERT_EQ(got.size(), 50u);
    for (int i = 0; i < 50; i++)
      EXPECT_THAT(got[i], IsPush(Parts{"message", "fan", std::to_string(i)}));
  }
}

}  // namespace
}  // namespace ferrite::test
