// Argument rules of the keys module, checked without a host. The expected values are
// what redis-server 7.0.15 replies (checked side by side).
#include "key_options.h"

#include <gtest/gtest.h>

#include <climits>
#include <list>
#include <string>
#include <vector>

namespace ferrite::mod::keys {
namespace {

// argv[0..] from words; the slices point into `words`, which must outlive them.
std::vector<ferrite_slice> Argv(const std::vector<std::string>& words) {
  std::vector<ferrite_slice> v;
  for (const auto& w : words) v.push_back({w.data(), w.size()});
  return v;
}

std::optional<ReplyError> Flags(std::vector<std::string> words, unsigned* flags) {
  auto argv = Argv(words);
  return ParseExpireFlags(static_cast<int>(argv.size()), argv.data(), 3, flags);
}

TEST(ExpireFlags, AcceptsEachAloneAndCompatiblePairs) {
  unsigned f = 0;
  EXPECT_FALSE(Flags({"EXPIRE", "k", "10"}, &f));
  EXPECT_EQ(f, 0u);
  EXPECT_FALSE(Flags({"EXPIRE", "k", "10", "nx"}, &f));
  EXPECT_EQ(f, unsigned{kExpireNx});
  EXPECT_FALSE(Flags({"EXPIRE", "k", "10", "XX", "gt"}, &f));
  EXPECT_EQ(f, unsigned{kExpireXx | kExpireGt});
  EXPECT_FALSE(Flags({"EXPIRE", "k", "10", "Lt", "lt"}, &f));
  EXPECT_EQ(f, unsigned{kExpireLt});
}

TEST(ExpireFlags, IncompatibleAndUnknownOptions) {
  unsigned f = 0;
  const std::string nx_msg = "ERR NX and XX, GT or LT options at the same time are not compatible";
  for (auto other : {"xx", "gt", "lt"}) {
    auto e = Flags({"EXPIRE", "k", "10", "nx", other}, &f);
    ASSERT_TRUE(e) << other;
    EXPECT_EQ(e->detail, nx_msg);
  }
  auto e = Flags({"EXPIRE", "k", "10", "gt", "lt"}, &f);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->detail, "ERR GT and LT options at the same time are not compatible");
  e = Flags({"EXPIRE", "k", "10", "foo"}, &f);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->detail, "ERR Unsupported option foo");
  // The unknown word wins over the incompatibility, as options are read in order.
  e = Flags({"EXPIRE", "k", "10", "nx", "xx", "bar"}, &f);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->detail, "ERR Unsupported option bar");
  e = Flags({"EXPIRE", "k", "10", "a\r\nb"}, &f);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->detail, "ERR Unsupported option a  b");
}

TEST(ExpireTime, OverflowIsDetected) {
  int64_t out = 0;
  EXPECT_TRUE(ToAbsoluteMs(10, TimeUnit::kSeconds, 1000, &out));
  EXPECT_EQ(out, 11000);
  EXPECT_TRUE(ToAbsoluteMs(-5, TimeUnit::kMillis, 1000, &out));
  EXPECT_EQ(out, 995);
  EXPECT_FALSE(ToAbsoluteMs(LLONG_MAX, TimeUnit::kSeconds, 0, &out));
  EXPECT_FALSE(ToAbsoluteMs(LLONG_MIN, TimeUnit::kSeconds, 0, &out));
  EXPECT_FALSE(ToAbsoluteMs(LLONG_MAX / 1000 + 1, TimeUnit::kSeconds, 0, &out));
  EXPECT_TRUE(ToAbsoluteMs(LLONG_MAX / 1000, TimeUnit::kSeconds, 0, &out));
  EXPECT_FALSE(ToAbsoluteMs(LLONG_MAX, TimeUnit::kMillis, 1, &out));   // PEXPIRE
  EXPECT_TRUE(ToAbsoluteMs(LLONG_MAX, TimeUnit::kMillis, 0, &out));    // PEXPIREAT
  EXPECT_EQ(out, LLONG_MAX);
  EXPECT_TRUE(ToAbsoluteMs(LLONG_MIN, TimeUnit::kMillis, 5, &out));
  EXPECT_EQ(out, LLONG_MIN + 5);
  EXPECT_EQ(InvalidExpireTimeMessage("PExpireAt"),
            "ERR invalid expire time in 'pexpireat' command");
}

TEST(ExpireTime, FlagsDecideWhetherToReplace) {
  EXPECT_TRUE(ExpireAllowed(0, 100, 50));
  EXPECT_TRUE(ExpireAllowed(kExpireNx, -1, 50));
  EXPECT_FALSE(ExpireAllowed(kExpireNx, 100, 50));
  EXPECT_TRUE(ExpireAllowed(kExpireXx, 100, 50));
  EXPECT_FALSE(ExpireAllowed(kExpireXx, -1, 50));
  EXPECT_TRUE(ExpireAllowed(kExpireGt, 100, 101));
  EXPECT_FALSE(ExpireAllowed(kExpireGt, 100, 100));
  EXPECT_FALSE(ExpireAllowed(kExpireGt, -1, 1000));  // no expiry counts as infinite
  EXPECT_TRUE(ExpireAllowed(kExpireLt, 100, 99));
  EXPECT_FALSE(ExpireAllowed(kExpireLt, 100, 100));
  EXPECT_TRUE(ExpireAllowed(kExpireLt, -1, 1000));
  EXPECT_FALSE(ExpireAllowed(kExpireXx | kExpireGt, -1, 1000));
  EXPECT_TRUE(ExpireAllowed(kExpireXx | kExpireLt, 100, 10));
}

TEST(Ttl, RoundsSecondsAndClampsAtZero) {
  EXPECT_EQ(TtlReply(-1, 5000, TimeUnit::kSeconds), -1);
  EXPECT_EQ(TtlReply(-1, 5000, TimeUnit::kMillis), -1);
  EXPECT_EQ(TtlReply(15000, 5000, TimeUnit::kSeconds), 10);
  EXPECT_EQ(TtlReply(15499, 5000, TimeUnit::kSeconds), 10);
  EXPECT_EQ(TtlReply(15500, 5000, TimeUnit::kSeconds), 11);
  EXPECT_EQ(TtlReply(15500, 5000, TimeUnit::kMillis), 10500);
  EXPECT_EQ(TtlReply(4000, 5000, TimeUnit::kMillis), 0);
  EXPECT_EQ(ExpireTimeReply(-1, TimeUnit::kSeconds), -1);
  EXPECT_EQ(ExpireTimeReply(1795667151716, TimeUnit::kSeconds), 1795667152);
  EXPECT_EQ(ExpireTimeReply(1795667151716, TimeUnit::kMillis), 1795667151716);
  // An expiry at INT64_MAX ms (GETEX k PXAT 9223372036854775807): redis-server 7.0
  // answers EXPIRETIME with 9223372036854776, not a wrapped negative number.
  EXPECT_EQ(ExpireTimeReply(INT64_MAX, TimeUnit::kSeconds), 9223372036854776);
  EXPECT_EQ(TtlReply(INT64_MAX, 0, TimeUnit::kSeconds), 9223372036854776);
}

TEST(ScanCursor, FollowsStrtoul) {
  uint64_t c = 99;
  EXPECT_TRUE(ParseScanCursor("0", &c));
  EXPECT_EQ(c, 0u);
  EXPECT_TRUE(ParseScanCursor("18446744073709551615", &c));
  EXPECT_EQ(c, UINT64_MAX);
  EXPECT_TRUE(ParseScanCursor("", &c));
  EXPECT_EQ(c, 0u);
  EXPECT_TRUE(ParseScanCursor("+7", &c));
  EXPECT_EQ(c, 7u);
  EXPECT_TRUE(ParseScanCursor("-1", &c));
  EXPECT_EQ(c, UINT64_MAX);
  EXPECT_FALSE(ParseScanCursor("18446744073709551616", &c));
  EXPECT_FALSE(ParseScanCursor(" 0", &c));
  EXPECT_FALSE(ParseScanCursor("abc", &c));
  EXPECT_FALSE(ParseScanCursor("1x", &c));
  EXPECT_FALSE(ParseScanCursor(std::string_view("1\0", 2), &c));
}

// ScanOptions keeps views into argv, so every call's words stay alive for the test.
std::list<std::vector<std::string>> g_scan_words;

std::optional<ReplyError> Scan(std::vector<std::string> words, ScanOptions* o) {
  auto argv = Argv(g_scan_words.emplace_back(std::move(words)));
  return ParseScanOptions(static_cast<int>(argv.size()), argv.data(), 2, o);
}

TEST(ScanOptionsTest, ParsesAndRejectsLikeRedis) {
  ScanOptions o;
  EXPECT_FALSE(Scan({"SCAN", "0", "count", "5", "MATCH", "a*", "type", "hash"}, &o));
  EXPECT_EQ(o.count, 5);
  EXPECT_TRUE(o.use_pattern);
  EXPECT_EQ(o.pattern, "a*");
  ASSERT_TRUE(o.type);
  EXPECT_EQ(*o.type, "hash");

  ScanOptions star;
  EXPECT_FALSE(Scan({"SCAN", "0", "match", "a*", "match", "*"}, &star));
  EXPECT_FALSE(star.use_pattern);

  ScanOptions bad;
  auto e = Scan({"SCAN", "0", "count", "0"}, &bad);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, FERRITE_E_SYNTAX);
  e = Scan({"SCAN", "0", "count", "-1"}, &bad);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, FERRITE_E_SYNTAX);
  e = Scan({"SCAN", "0", "count", "x"}, &bad);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, FERRITE_E_NOT_INTEGER);
  e = Scan({"SCAN", "0", "match"}, &bad);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, FERRITE_E_SYNTAX);
  e = Scan({"SCAN", "0", "foo", "bar"}, &bad);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, FERRITE_E_SYNTAX);
}

TEST(Flush, AcceptsOnlySyncOrAsync) {
  std::vector<std::string> ok1 = {"FLUSHDB"}, ok2 = {"FLUSHDB", "Async"},
                           ok3 = {"FLUSHALL", "SYNC"}, bad1 = {"FLUSHDB", "foo"},
                           bad2 = {"FLUSHALL", "sync", "sync"};
  for (auto* w : {&ok1, &ok2, &ok3}) {
    auto a = Argv(*w);
    EXPECT_TRUE(ParseFlushArgs(static_cast<int>(a.size()), a.data())) << (*w)[0];
  }
  for (auto* w : {&bad1, &bad2}) {
    auto a = Argv(*w);
    EXPECT_FALSE(ParseFlushArgs(static_cast<int>(a.size()), a.data()));
  }
}

TEST(DbIndex, RangeAndIntegerErrors) {
  int db = -1;
  EXPECT_FALSE(ParseDbIndex("15", 16, &db));
  EXPECT_EQ(db, 15);
  auto e = ParseDbIndex("16", 16, &db);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->detail, "ERR DB index is out of range");
  e = ParseDbIndex("-1", 16, &db);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->detail, "ERR DB index is out of range");
  e = ParseDbIndex("2147483648", 16, &db);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->detail,
            "ERR value is out of range, value must between -2147483648 and 2147483647");
  e = ParseDbIndex("01", 16, &db);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, FERRITE_E_NOT_INTEGER);
}

TEST(Policies, LfuAndLru) {
  EXPECT_TRUE(IsLfuPolicy("allkeys-lfu"));
  EXPECT_TRUE(IsLfuPolicy("volatile-lfu"));
  EXPECT_FALSE(IsLfuPolicy("allkeys-lru"));
  EXPECT_FALSE(IsLfuPolicy("noeviction"));
  EXPECT_TRUE(IsLruOrLfuPolicy("volatile-lru"));
  EXPECT_FALSE(IsLruOrLfuPolicy("volatile-ttl"));
  EXPECT_FALSE(IsLruOrLfuPolicy("allkeys-random"));
}

TEST(PrintableText, StopsAtNulAndBlanksNewlines) {
  EXPECT_EQ(Printable(std::string_view("ab\0cd", 5)), "ab");
  EXPECT_EQ(Printable("a\nb\rc"), "a b c");
  EXPECT_EQ(Printable(std::string(200, 'x'), 128).size(), 128u);
}

}  // namespace
}  // namespace ferrite::mod::keys
