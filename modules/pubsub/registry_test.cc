// Registry and glob tests, no host: a recording sink stands in for conn_push.
#include "registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "ferrite/module.hpp"

namespace ferrite::mod::pubsub {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

struct Recorded {
  ConnId id;
  std::vector<std::string> parts;
  bool operator==(const Recorded& o) const { return id == o.id && parts == o.parts; }
};

class RecordingSink : public PushSink {
 public:
  bool Push(ConnId id, const std::string_view* parts, int n) override {
    got.push_back({id, std::vector<std::string>(parts, parts + n)});
    return true;
  }
  std::vector<Recorded> got;
};

TEST(Registry, PublishReachesChannelAndPatternSubscribers) {
  Registry r;
  RecordingSink sink;
  EXPECT_TRUE(r.Subscribe(1, Kind::kChannel, "news"));
  EXPECT_TRUE(r.Subscribe(2, Kind::kPattern, "n*"));
  EXPECT_TRUE(r.Subscribe(2, Kind::kChannel, "news"));
  EXPECT_EQ(r.Publish(Kind::kChannel, "news", "hi", sink), 3);
  EXPECT_THAT(sink.got,
              ElementsAre(Recorded{1, {"message", "news", "hi"}},
                          Recorded{2, {"message", "news", "hi"}},
                          Recorded{2, {"pmessage", "n*", "news", "hi"}}));
  EXPECT_EQ(r.Publish(Kind::kChannel, "other", "x", sink), 0);
}

TEST(Registry, ForEachOfListsEveryKindAndStopsWhenAsked) {
  Registry r;
  r.Subscribe(1, Kind::kChannel, "news");
  r.Subscribe(1, Kind::kPattern, "n*");
  r.Subscribe(1, Kind::kShard, "s1");
  r.Subscribe(2, Kind::kChannel, "other");
  std::vector<std::pair<Kind, std::string>> seen;
  r.ForEachOf(1, [&](Kind k, std::string_view n) {
    seen.emplace_back(k, std::string(n));
    return true;
  });
  EXPECT_THAT(seen, UnorderedElementsAre(std::pair{Kind::kChannel, std::string("news")},
                                         std::pair{Kind::kPattern, std::string("n*")},
                                         std::pair{Kind::kShard, std::string("s1")}));
  int calls = 0;
  r.ForEachOf(1, [&](Kind, std::string_view) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
  calls = 0;
  r.ForEachOf(9, [&](Kind, std::string_view) { return ++calls > 0; });
  EXPECT_EQ(calls, 0);
}

TEST(Registry, DuplicateSubscribeCountsOnce) {
  Registry r;
  bool first = false;
  EXPECT_TRUE(r.Subscribe(7, Kind::kChannel, "a", &first));
  EXPECT_TRUE(first);
  EXPECT_FALSE(r.Subscribe(7, Kind::kChannel, "a", &first));
  EXPECT_FALSE(first);
  EXPECT_EQ(r.NumSub(Kind::kChannel, "a"), 1);
  RecordingSink sink;
  EXPECT_EQ(r.Publish(Kind::kChannel, "a", "m", sink), 1);
}

TEST(Registry, CountsSeparateShardFromChannelsAndPatterns) {
  Registry r;
  r.Subscribe(1, Kind::kChannel, "a");
  r.Subscribe(1, Kind::kPattern, "p*");
  r.Subscribe(1, Kind::kShard, "s");
  EXPECT_EQ(r.CountFor(1, Kind::kChannel), 2u);
  EXPECT_EQ(r.CountFor(1, Kind::kPattern), 2u);
  EXPECT_EQ(r.CountFor(1, Kind::kShard), 1u);
  EXPECT_EQ(r.Total(1), 3u);
}

TEST(Registry, CountsPerKindForClientList) {
  Registry r;
  r.Subscribe(1, Kind::kChannel, "a");
  r.Subscribe(1, Kind::kChannel, "b");
  r.Subscribe(1, Kind::kPattern, "p*");
  r.Subscribe(1, Kind::kShard, "s");
  r.Subscribe(1, Kind::kShard, "t");
  r.Subscribe(1, Kind::kShard, "u");
  EXPECT_EQ(r.Counts(1), (std::array<size_t, 3>{2, 1, 3}));
  r.Unsubscribe(1, Kind::kShard, "t");
  EXPECT_EQ(r.Counts(1), (std::array<size_t, 3>{2, 1, 2}));
  EXPECT_EQ(r.Counts(2), (std::array<size_t, 3>{0, 0, 0}));
}

TEST(Registry, ShardPublishIgnoresPatternsAndChannels) {
  Registry r;
  RecordingSink sink;
  r.Subscribe(1, Kind::kChannel, "s");
  r.Subscribe(2, Kind::kPattern, "*");
  r.Subscribe(3, Kind::kShard, "s");
  EXPECT_EQ(r.Publish(Kind::kShard, "s", "m", sink), 1);
  EXPECT_THAT(sink.got, ElementsAre(Recorded{3, {"smessage", "s", "m"}}));
}

TEST(Registry, UnsubscribeAndDropForgetEverything) {
  Registry r;
  r.Subscribe(1, Kind::kChannel, "a");
  r.Subscribe(1, Kind::kChannel, "b");
  r.Subscribe(1, Kind::kPattern, "x*");
  r.Subscribe(2, Kind::kChannel, "a");
  EXPECT_TRUE(r.Unsubscribe(1, Kind::kChannel, "b"));
  EXPECT_FALSE(r.Unsubscribe(1, Kind::kChannel, "b"));
  EXPECT_FALSE(r.Unsubscribe(9, Kind::kChannel, "a"));
  EXPECT_THAT(r.Channels(Kind::kChannel, nullptr), UnorderedElementsAre("a"));
  r.Drop(1);
  EXPECT_EQ(r.Total(1), 0u);
  EXPECT_EQ(r.NumPat(), 0);
  EXPECT_EQ(r.NumSub(Kind::kChannel, "a"), 1);
  r.Drop(2);
  EXPECT_THAT(r.Channels(Kind::kChannel, nullptr), IsEmpty());
  EXPECT_FALSE(r.Known(2));
}

TEST(Registry, ClearKeepsTheConnectionKnown) {
  Registry r;
  bool first = false;
  r.Subscribe(5, Kind::kChannel, "a", &first);
  r.Subscribe(5, Kind::kPattern, "p*");
  r.Clear(5);
  EXPECT_EQ(r.Total(5), 0u);
  EXPECT_EQ(r.NumPat(), 0);
  EXPECT_THAT(r.Channels(Kind::kChannel, nullptr), IsEmpty());
  EXPECT_TRUE(r.Known(5));
  r.Subscribe(5, Kind::kChannel, "a", &first);
  EXPECT_FALSE(first);  // hooks are already registered
}

TEST(Registry, SubscriptionsOfKeepsSubscribeOrder) {
  Registry r;
  for (const char* c : {"z", "a", "m", "b"}) r.Subscribe(4, Kind::kChannel, c);
  r.Unsubscribe(4, Kind::kChannel, "m");
  r.Subscribe(4, Kind::kChannel, "m");
  EXPECT_THAT(r.SubscriptionsOf(4, Kind::kChannel), ElementsAre("z", "a", "b", "m"));
}

TEST(Registry, ChannelsFilterByPattern) {
  Registry r;
  for (const char* c : {"news.a", "news.b", "sport", "x"}) r.Subscribe(1, Kind::kChannel, c);
  std::string pat = "news.*";
  EXPECT_THAT(r.Channels(Kind::kChannel, &pat), UnorderedElementsAre("news.a", "news.b"));
  EXPECT_THAT(r.Channels(Kind::kShard, nullptr), IsEmpty());
}

TEST(Registry, NumPatCountsDistinctPatterns) {
  Registry r;
  r.Subscribe(1, Kind::kPattern, "a*");
  r.Subscribe(2, Kind::kPattern, "a*");
  r.Subscribe(2, Kind::kPattern, "b*");
  EXPECT_EQ(r.NumPat(), 2);
}

// Concurrent publishers and (un)subscribers: no message reaches a connection for a
// channel it is not subscribed to at that moment, and every publish of one thread
// reaches a stable subscriber in order.
TEST(Registry, ConcurrentPublishKeepsPerPublisherOrder) {
  Registry r;
  r.Subscribe(1, Kind::kChannel, "c");
  class OrderSink : public PushSink {
   public:
    bool Push(ConnId id, const std::string_view* parts, int) override {
      if (id == 1) seen.emplace_back(parts[2]);
      return true;
    }
    std::vector<std::string> seen;
  } sink;
  std::thread churn([&] {
    for (int i = 0; i < 2000; i++) {
      r.Subscribe(2, Kind::kChannel, "c");
      r.Unsubscribe(2, Kind::kChannel, "c");
    }
  });
  for (int i = 0; i < 2000; i++) r.Publish(Kind::kChannel, "c", std::to_string(i), sink);
  churn.join();
  ASSERT_EQ(sink.seen.size(), 2000u);
  for (int i = 0; i < 2000; i++) ASSERT_EQ(sink.seen[i], std::to_string(i));
}

// Expected answers were taken from redis-server 7.0.15 (stringmatchlen through
// PUBSUB CHANNELS <pattern>); tests/e2e/test_pubsub.py re-checks a random set side by
// side with a live redis-server.
struct GlobCase {
  const char* pattern;
  const char* str;
  bool match;
};

TEST(GlobMatch, MatchesLikeRedis) {
  const GlobCase cases[] = {
      {"*", "abc", true},          {"*", "", false},           {"", "", true},
      {"**", "", false},           {"a*", "a", true},          {"a*?", "a", false},
      {"h?llo", "hello", true},    {"h?llo", "hllo", false},   {"h[ae]llo", "hallo", true},
      {"h[^e]llo", "hello", false}, {"h[^e]llo", "hallo", true}, {"h[a-b]llo", "hbllo", true},
      {"h[b-a]llo", "hallo", true}, {"h\\*llo", "h*llo", true}, {"h\\*llo", "hallo", false},
      {"[abc", "c", true},         {"[abc", "d", false},       {"[a-]", "]", true},
      {"[a-]", "b", false},        {"[]a]", "a", false},       {"[^", "x", true},
      {"a\\", "a\\", true},        {"[\\]]", "]", true},       {"*a*b*c*", "xaybzc", true},
      {"*a*b*c*", "xaybz", false}, {"a*b", "ab", true},        {"a*b", "acb", true},
      {"a*b", "acbd", false},      {"?", "", false},           {"[", "[", false},
      {"\\", "\\", true},          {"__key*__:*", "__keyspace@0__:foo", true},
  };
  for (const auto& c : cases)
    EXPECT_EQ(sdk::GlobMatch(c.pattern, c.str), c.match)
        << "pattern '" << c.pattern << "' string '" << c.str << "'";
}

TEST(GlobMatch, NocaseRangesFoldAfterOrdering) {
  // Redis orders the range ends first, then lowercases them: [Z-a] becomes z..a,
  // which nothing falls in.
  EXPECT_FALSE(sdk::GlobMatch("[Z-a]", "m", true));
  EXPECT_TRUE(sdk::GlobMatch("[A-C]", "b", true));
  EXPECT_TRUE(sdk::GlobMatch("HELLO", "hello", true));
  EXPECT_FALSE(sdk::GlobMatch("[\\A]", "a", true));  // escapes inside a set are exact
}

}  // namespace
}  // namespace ferrite::mod::pubsub
