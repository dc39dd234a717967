// SLOWLOG's entry rules (trimming, redaction, order, max length), MONITOR's quoting, the
// latency monitor's one-sample-per-second series and its graph, and the histogram's
// cumulative counts. No host, no clock: times are passed in.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "host/introspection.h"
#include "host/latency_histogram.h"

namespace ferrite::host {
namespace {

std::vector<ferrite_slice> Args(const std::vector<std::string>& v) {
  std::vector<ferrite_slice> out;
  for (auto& s : v) out.push_back({s.data(), s.size()});
  return out;
}

TEST(SlowLog, ThresholdAndOff) {
  std::atomic<int64_t> slower{100}, len{128};
  SlowLog log(&slower, &len);
  EXPECT_FALSE(log.Wants(99));
  EXPECT_TRUE(log.Wants(100));
  slower = -1;
  EXPECT_FALSE(log.Wants(1000000));
  slower = 0;
  EXPECT_TRUE(log.Wants(0));
}

TEST(SlowLog, NewestFirstIdsAndMaxLen) {
  std::atomic<int64_t> slower{0}, len{3};
  SlowLog log(&slower, &len);
  for (int i = 0; i < 5; i++) {
    std::vector<std::string> v = {"ping", std::to_string(i)};
    auto a = Args(v);
    log.Push(2, a.data(), {}, i, 1000 + i, "127.0.0.1:1", "n");
  }
  EXPECT_EQ(log.Len(), 3u);
  auto all = log.Get(-1);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, 4);
  EXPECT_EQ(all[2].id, 2);
  EXPECT_EQ(all[0].argv[1], "4");
  EXPECT_EQ(log.Get(1).size(), 1u);
  EXPECT_EQ(log.Get(0).size(), 0u);
  log.Reset();
  EXPECT_EQ(log.Len(), 0u);
  std::vector<std::string> v = {"ping"};
  auto a = Args(v);
  log.Push(1, a.data(), {}, 0, 0, "", "");
  EXPECT_EQ(log.Get(1)[0].id, 5);  // ids go on across RESET, as Redis'
}

TEST(SlowLog, TrimsArgumentsAndRedacts) {
  std::atomic<int64_t> slower{0}, len{10};
  SlowLog log(&slower, &len);
  std::vector<std::string> v = {"sadd", "set"};
  for (int i = 3; i <= 33; i++) v.push_back(std::to_string(i));
  auto a = Args(v);
  log.Push(static_cast<int>(a.size()), a.data(), {}, 0, 0, "", "");
  auto e = log.Get(1)[0];
  ASSERT_EQ(e.argv.size(), 32u);
  EXPECT_EQ(e.argv[30], "31");
  EXPECT_EQ(e.argv[31], "... (2 more arguments)");

  std::vector<std::string> w = {"config", "set", "masterauth", std::string(129, 'A')};
  auto b = Args(w);
  log.Push(4, b.data(), RedactedArgs(4, b.data()), 0, 0, "", "");
  EXPECT_EQ(log.Get(1)[0].argv[3], "(redacted)");
  std::vector<std::string> x = {"set", "k", std::string(129, 'A')};
  auto c = Args(x);
  log.Push(3, c.data(), {}, 0, 0, "", "");
  EXPECT_EQ(log.Get(1)[0].argv[2], std::string(128, 'A') + "... (1 more bytes)");
}

TEST(Redaction, AuthHelloMigrate) {
  auto r = [](std::vector<std::string> v) {
    auto a = Args(v);
    return RedactedArgs(static_cast<int>(a.size()), a.data());
  };
  EXPECT_EQ(r({"AUTH", "pw"}), (std::vector<int>{1}));
  EXPECT_EQ(r({"auth", "user", "pw"}), (std::vector<int>{1, 2}));
  EXPECT_EQ(r({"HELLO", "3", "SETNAME", "auth", "AUTH", "u", "p"}), (std::vector<int>{5, 6}));
  EXPECT_EQ(r({"MIGRATE", "h", "1", "k", "0", "10", "AUTH2", "u", "p"}),
            (std::vector<int>{7, 8}));
  EXPECT_EQ(r({"MIGRATE", "h", "1", "k", "0", "10", "AUTH", "p", "KEYS", "AUTH"}),
            (std::vector<int>{7}));
  EXPECT_TRUE(r({"CONFIG", "SET", "maxmemory", "1"}).empty());
  EXPECT_TRUE(r({"GET", "AUTH"}).empty());
}

TEST(MonitorFeed, ReprQuotesLikeSdscatrepr) {
  std::string out;
  std::string in = "a\"b\\c\n\r\t\a\b\x01\xff ";
  MonitorFeed::AppendRepr(out, in.data(), in.size());
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x01\\xff \"");
}

TEST(LatencyMonitor, OneSamplePerSecondKeepsTheWorst) {
  std::atomic<int64_t> threshold{0};
  LatencyMonitor m(&threshold);
  EXPECT_FALSE(m.Wants(1000));  // 0 = off
  threshold = 10;
  EXPECT_FALSE(m.Wants(9));
  EXPECT_TRUE(m.Wants(10));
  m.Add("command", 12, 100);
  m.Add("command", 30, 100);
  m.Add("command", 20, 100);
  m.Add("command", 15, 101);
  LatencyMonitor::Series s;
  ASSERT_TRUE(m.Find("command", &s));
  auto v = s.InOrder();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].ms, 30u);
  EXPECT_EQ(v[1].time_s, 101);
  EXPECT_EQ(s.Last().ms, 15u);
  EXPECT_EQ(s.max, 30u);
  EXPECT_EQ(m.Reset("COMMAND"), 1);  // names compare without case, as Redis'
  EXPECT_FALSE(m.Find("command", &s));
}

TEST(LatencyMonitor, KeepsTheLast160Seconds) {
  std::atomic<int64_t> threshold{1};
  LatencyMonitor m(&threshold);
  for (int i = 1; i <= 200; i++) m.Add("x", i, i);
  LatencyMonitor::Series s;
  ASSERT_TRUE(m.Find("x", &s));
  auto v = s.InOrder();
  ASSERT_EQ(v.size(), 160u);
  EXPECT_EQ(v.front().time_s, 41);
  EXPECT_EQ(v.back().time_s, 200);
  EXPECT_EQ(m.Reset(""), 1);
}

TEST(LatencyMonitor, GraphHeaderRowsAndLabels) {
  std::atomic<int64_t> threshold{1};
  LatencyMonitor m(&threshold);
  m.Add("command", 10, 1000);
  m.Add("command", 40, 1030);
  LatencyMonitor::Series s;
  ASSERT_TRUE(m.Find("command", &s));
  std::string g = LatencyGraph("command", s, 1085);
  EXPECT_EQ(g, "command - high 40 ms, low 10 ms (all time high 40 ms)\n" + std::string(80, '-') +
                   "\n"
                   // 4 rows: the 10 ms sample at the bottom, the 40 ms one full height
                   " #\n |\n |\n_|\n"
                   // a blank row, then the labels written downwards: "1m" and "55s" ago
                   "  \n15\nm5\n s\n");
}

TEST(LatencyHistogram, CumulativeCounts) {
  LatencyHistogram h;
  for (int i = 0; i < 10; i++) h.Record(100);
  for (int i = 0; i < 5; i++) h.Record(100000);
  EXPECT_EQ(h.Count(), 15u);
  EXPECT_EQ(h.CountAtMost(50), 0u);
  EXPECT_EQ(h.CountAtMost(1000), 10u);
  EXPECT_EQ(h.CountAtMost(uint64_t{1} << 40), 15u);
}

}  // namespace
}  // namespace ferrite::host
