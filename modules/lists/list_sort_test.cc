// Family tests of SORT / SORT_RO through the in-process harness, with the modules whose
// values SORT reads (sets, zsets, hashes, strings). Expected replies are
// redis-server 7.0.15's.
#include <memory>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::mod::lists {
namespace {

using test::Harness;
using test::HarnessOptions;
using test::IsArrayOf;
using test::IsBulk;
using test::IsBulkArray;
using test::IsError;
using test::IsInt;
using test::IsNull;
using test::IsOk;
using ::testing::ElementsAre;
using Cmd = std::vector<std::string>;

HarnessOptions Opts() {
  HarnessOptions o;
  o.plugins = {"lists", "sets", "zsets", "hashes", "strings", "keys"};
  o.config = {{"server.notify_keyspace_events", "KEA"}};
  return o;
}

class SortTest : public ::testing::Test {
 protected:
  Harness h{Opts()};
};

TEST_F(SortTest, NumericAlphaDescLimit) {
  h.Run({"RPUSH", "l", "3", "1", "10", "2"});
  EXPECT_THAT(h.Run({"SORT", "l"}), IsBulkArray({"1", "2", "3", "10"}));
  EXPECT_THAT(h.Run({"SORT", "l", "DESC"}), IsBulkArray({"10", "3", "2", "1"}));
  EXPECT_THAT(h.Run({"SORT", "l", "ALPHA"}), IsBulkArray({"1", "10", "2", "3"}));
  EXPECT_THAT(h.Run({"SORT", "l", "LIMIT", "1", "2"}), IsBulkArray({"2", "3"}));
  EXPECT_THAT(h.Run({"SORT", "l", "LIMIT", "10", "2"}), IsBulkArray({}));
  EXPECT_THAT(h.Run({"SORT", "l", "LIMIT", "-5", "-1"}), IsBulkArray({"1", "2", "3", "10"}));
  EXPECT_THAT(h.Run({"SORT_RO", "l", "DESC", "LIMIT", "0", "1"}), IsBulkArray({"10"}));
  EXPECT_THAT(h.Run({"SORT", "nokey"}), IsBulkArray({}));
  h.Run({"RPUSH", "bad", "1", "x"});
  EXPECT_THAT(h.Run({"SORT", "bad"}),
              IsError("ERR One or more scores can't be converted into double"));
  EXPECT_THAT(h.Run({"SORT", "l", "LIMIT", "x", "1"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"SORT", "l", "FOO"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"SORT_RO", "l", "STORE", "d"}), IsError("ERR syntax error"));
  h.Run({"SET", "s", "x"});
  EXPECT_THAT(h.Run({"SORT", "s"}),
              IsError("WRONGTYPE Operation against a key holding the wrong kind of value"));
}

TEST_F(SortTest, ByAndGetPatterns) {
  h.Run({"RPUSH", "l", "a", "b", "c"});
  h.Run({"MSET", "w_a", "3", "w_b", "1", "w_c", "2", "v_a", "A", "v_c", "C"});
  h.Run({"HSET", "h_a", "f", "x"});
  h.Run({"HSET", "h_b", "f", "y"});
  EXPECT_THAT(h.Run({"SORT", "l", "BY", "w_*"}), IsBulkArray({"b", "c", "a"}));
  EXPECT_THAT(h.Run({"SORT", "l", "BY", "w_*", "GET", "#", "GET", "v_*", "GET", "h_*->f"}),
              IsArrayOf({IsBulk("b"), IsNull(), IsBulk("y"), IsBulk("c"), IsBulk("C"), IsNull(),
                         IsBulk("a"), IsBulk("A"), IsBulk("x")}));
  // A constant BY pattern keeps the list's order; DESC reverses it.
  EXPECT_THAT(h.Run({"SORT", "l", "BY", "nosort"}), IsBulkArray({"a", "b", "c"}));
  EXPECT_THAT(h.Run({"SORT", "l", "BY", "nosort", "DESC", "LIMIT", "0", "2"}),
              IsBulkArray({"c", "b"}));
  EXPECT_THAT(h.Run({"SORT", "l", "BY", "h_*->f", "ALPHA", "DESC"}), IsBulkArray({"b", "a", "c"}));
  EXPECT_THAT(h.Run({"SORT", "l", "ALPHA", "GET", "nostar"}), IsArrayOf({IsNull(), IsNull(), IsNull()}));
}

TEST_F(SortTest, SetsAndSortedSets) {
  h.Run({"SADD", "s", "5", "3", "9"});
  EXPECT_THAT(h.Run({"SORT", "s"}), IsBulkArray({"3", "5", "9"}));
  h.Run({"ZADD", "z", "1", "c", "2", "a", "3", "b"});
  EXPECT_THAT(h.Run({"SORT", "z", "ALPHA"}), IsBulkArray({"a", "b", "c"}));
  EXPECT_THAT(h.Run({"SORT", "z", "BY", "nosort"}), IsBulkArray({"c", "a", "b"}));
  EXPECT_THAT(h.Run({"SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5"}),
              IsBulkArray({"a", "c"}));
  // An unsorted set is sorted ALPHA when stored, so the result is deterministic.
  h.Run({"SADD", "t", "b", "c", "a"});
  EXPECT_THAT(h.Run({"SORT", "t", "BY", "nosort", "STORE", "d"}), IsInt(3));
  EXPECT_THAT(h.Run({"LRANGE", "d", "0", "-1"}), IsBulkArray({"a", "b", "c"}));
}

TEST_F(SortTest, StoreEventsAndPropagation) {
  h.Run({"RPUSH", "l", "2", "1"});
  h.Run({"SET", "d", "old", "EX", "100"});
  auto rec = std::make_unique<test::PropagationRecorder>(h);
  auto ev = std::make_unique<test::EventRecorder>(h, ~0u);
  EXPECT_THAT(h.Run({"SORT", "l", "STORE", "d"}), IsInt(2));
  EXPECT_THAT(h.Run({"SORT", "l", "GET", "x_*", "STORE", "e"}), IsInt(2));
  EXPECT_THAT(h.Run({"SORT", "nokey", "STORE", "d"}), IsInt(0));
  EXPECT_THAT(h.Run({"SORT", "nokey", "STORE", "d"}), IsInt(0));  // nothing to delete
  EXPECT_THAT(h.Run({"SORT", "l"}), IsBulkArray({"1", "2"}));
  std::vector<Cmd> cmds;
  for (auto& c : rec->commands())
    if (c.argv[0] != "SELECT") cmds.push_back(c.argv);
  std::vector<std::string> events;
  for (auto& e : ev->events()) events.push_back(e.event + ":" + e.key);
  rec.reset();
  ev.reset();
  EXPECT_THAT(cmds, ElementsAre(Cmd{"SORT", "l", "STORE", "d"},
                                Cmd{"SORT", "l", "GET", "x_*", "STORE", "e"},
                                Cmd{"SORT", "nokey", "STORE", "d"}));
  EXPECT_THAT(events, ElementsAre("sortstore:d", "sortstore:e", "del:d"));
  EXPECT_THAT(h.Run({"LRANGE", "e", "0", "-1"}), IsBulkArray({"", ""}));
  h.Run({"SORT", "l", "STORE", "d"});
  EXPECT_THAT(h.Run({"TTL", "d"}), IsInt(-1));
  EXPECT_THAT(h.Run({"COMMAND", "GETKEYS", "SORT", "l", "LIMIT", "0", "1", "STORE", "x"}),
              IsBulkArray({"l", "x"}));
}

}  // namespace
}  // namespace ferrite::mod::lists
