// ferrite-migrate's pieces without a network: reply parsers, options, resume state.
// The import itself is tested end to end against a real memcached in
// tests/e2e/test_migrate_memcached.py.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "conn.h"
#include "options.h"
#include "resume_state.h"
#include "source_clock.h"
#include "source_replies.h"

namespace ferrite::migrate {
namespace {

TEST(Listing, MetadumpLineDecodesTheUriEncodedKeyAndExpiry) {
  // memcached 1.6.18 lists key "a%20b" (with a literal percent sign) as below.
  ListedKey k;
  ASSERT_EQ(ParseListingLine("key=a%2520b exp=1796620835 la=1 cas=1 fetch=no cls=1 size=71", &k),
            ListingLine::kKey);
  EXPECT_EQ(k.key, "a%20b");
  EXPECT_EQ(k.exptime, 1796620835);
  ASSERT_EQ(ParseListingLine("key=a%00b exp=-1 la=1 cas=2 fetch=yes cls=1 size=68", &k),
            ListingLine::kKey);
  EXPECT_EQ(k.key, std::string("a\0b", 3));
  EXPECT_EQ(k.exptime, -1);
}

TEST(Listing, MgdumpLinesCarryPlainOrBase64Keys) {
  ListedKey k;
  ASSERT_EQ(ParseListingLine("mg solo", &k), ListingLine::kKey);
  EXPECT_EQ(k.key, "solo");
  EXPECT_EQ(k.exptime, kUnknownExpiry);
  ASSERT_EQ(ParseListingLine("mg YQBi b", &k), ListingLine::kKey);
  EXPECT_EQ(k.key, std::string("a\0b", 3));
}

TEST(Listing, EndBusyErrorAndNoise) {
  ListedKey k;
  EXPECT_EQ(ParseListingLine("END", &k), ListingLine::kEnd);
  EXPECT_EQ(ParseListingLine("EN", &k), ListingLine::kEnd);
  EXPECT_EQ(ParseListingLine("BUSY currently processing crawler request", &k), ListingLine::kBusy);
  EXPECT_EQ(ParseListingLine("ERROR", &k), ListingLine::kError);
  EXPECT_EQ(ParseListingLine("CLIENT_ERROR unauthenticated", &k), ListingLine::kError);
  EXPECT_EQ(ParseListingLine("OK", &k), ListingLine::kIgnored);
  EXPECT_EQ(ParseListingLine("key=%zz exp=1", &k), ListingLine::kIgnored);
  EXPECT_EQ(ParseListingLine("key=%4", &k), ListingLine::kIgnored);
  EXPECT_EQ(ParseListingLine("key= exp=1", &k), ListingLine::kIgnored);
  EXPECT_EQ(ParseListingLine("key=" + std::string(251, 'k'), &k), ListingLine::kIgnored);
  EXPECT_EQ(ParseListingLine("mg a=b= b", &k), ListingLine::kIgnored);
}

TEST(Base64, RoundTripsEveryLengthAndRejectsMalformedInput) {
  std::string s;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s) << i;
    s.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(Base64Encode(std::string("a\0b", 3)), "YQBi");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_FALSE(Base64Decode("YWI"));
  EXPECT_FALSE(Base64Decode("Y=I="));
  EXPECT_FALSE(Base64Decode("YW!="));
  EXPECT_FALSE(Base64Decode("ab=="));  // non-zero leftover bits: not canonical
}

TEST(Keys, TextSafety) {
  EXPECT_TRUE(IsTextSafeKey("user:42"));
  EXPECT_FALSE(IsTextSafeKey("a b"));
  EXPECT_FALSE(IsTextSafeKey(std::string("a\0b", 3)));
  EXPECT_FALSE(IsTextSafeKey(""));
  EXPECT_FALSE(IsTextSafeKey(std::string(251, 'k')));
}

TEST(MgReply, HitMissAndErrors) {
  MgHeader h = ParseMgHeader("VA 3 f5 t100");
  EXPECT_EQ(h.kind, MgHeader::Kind::kValue);
  EXPECT_EQ(h.size, 3u);
  EXPECT_EQ(h.flags, 5u);
  EXPECT_EQ(h.ttl, 100);
  h = ParseMgHeader("VA 2 f4294967295 t-1");
  EXPECT_EQ(h.flags, 4294967295u);
  EXPECT_EQ(h.ttl, -1);
  EXPECT_EQ(ParseMgHeader("EN").kind, MgHeader::Kind::kMiss);
  EXPECT_EQ(ParseMgHeader("VA x f1").kind, MgHeader::Kind::kError);
  EXPECT_EQ(ParseMgHeader("VA 1 f4294967296").kind, MgHeader::Kind::kError);
  EXPECT_EQ(ParseMgHeader("SERVER_ERROR out of memory").kind, MgHeader::Kind::kError);
}

TEST(StoreReply, MetaAndResp) {
  EXPECT_EQ(ParseMetaStoreReply("HD"), StoreOutcome::kStored);
  EXPECT_EQ(ParseMetaStoreReply("NS"), StoreOutcome::kPresent);
  EXPECT_EQ(ParseMetaStoreReply("SERVER_ERROR object too large for cache"), StoreOutcome::kTooLarge);
  EXPECT_EQ(ParseMetaStoreReply("SERVER_ERROR out of memory storing object"), StoreOutcome::kFailed);
  EXPECT_EQ(ParseRespStoreReply("+OK"), StoreOutcome::kStored);
  EXPECT_EQ(ParseRespStoreReply("$-1"), StoreOutcome::kPresent);
  EXPECT_EQ(ParseRespStoreReply("_"), StoreOutcome::kPresent);
  EXPECT_EQ(ParseRespStoreReply("-OOM command not allowed when used memory > 'maxmemory'."),
            StoreOutcome::kFailed);
}

TEST(Version, ParsesAndCompares) {
  auto v = ParseVersion("VERSION 1.6.18");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->AtLeast(1, 6, 19));
  EXPECT_TRUE(v->AtLeast(1, 6, 18));
  EXPECT_TRUE(ParseVersion("VERSION 1.6.21-beta")->AtLeast(1, 6, 19));
  EXPECT_FALSE(ParseVersion("VERSION 1.6"));
  EXPECT_FALSE(ParseVersion("ERROR"));
}

TEST(Stats, NamedNumbersOnly) {
  EXPECT_EQ(ParseStatNumber("STAT time 1796679812", "time"), 1796679812);
  EXPECT_EQ(ParseStatNumber("STAT curr_items 0", "curr_items"), 0);
  EXPECT_FALSE(ParseStatNumber("STAT time_in_listen_disabled_us 0", "time"));
  EXPECT_FALSE(ParseStatNumber("STAT time x", "time"));
  EXPECT_FALSE(ParseStatNumber("STAT time ", "time"));
  EXPECT_FALSE(ParseStatNumber("STAT time", "time"));
  EXPECT_FALSE(ParseStatNumber("STAT uptime 5", "time"));
  EXPECT_EQ(ParseDecimal("1796679812"), 1796679812);
  EXPECT_FALSE(ParseDecimal("$10"));
}

TEST(Clock, AnExpiryIsTheSourceTimePlusTtlReadAtOneTick) {
  // memcached 1.6.18, no tick between the reads: time 1796679812, mg t100.
  EXPECT_EQ(ResolveExpiry(1796679812, 1796679812, 100, -1), 1796679912);
  EXPECT_EQ(ResolveExpiry(1796679812, 1796679812, 100, 1796679000), 1796679912);
  // A tick between them: the listing's exp= decides when it fits, else the earlier one.
  EXPECT_EQ(ResolveExpiry(1796679812, 1796679813, 100, 1796679913), 1796679913);
  EXPECT_EQ(ResolveExpiry(1796679812, 1796679813, 100, 1796679912), 1796679912);
  EXPECT_EQ(ResolveExpiry(1796679812, 1796679813, 100, 1796679999), 1796679912);
  EXPECT_EQ(ResolveExpiry(1796679812, 1796679813, 100, kUnknownExpiry), 1796679912);
}

TEST(Clock, ClocksWithinTheSlackAreOneClock) {
  EXPECT_EQ(ClockShift(1000, 1000), 0);
  EXPECT_EQ(ClockShift(1000, 1000 + kClockSlack), 0);
  EXPECT_EQ(ClockShift(1000, 1000 - kClockSlack), 0);
  EXPECT_EQ(ClockShift(1000, 1000 + kClockSlack + 1), kClockSlack + 1);
  EXPECT_EQ(ClockShift(1000, 400), -600);
}

TEST(Options, ParsesEveryFlagAndNamesTheBadOne) {
  Options o = ParseOptions({"--from", "memcached://10.0.0.1:11211", "--to", "redis://[::1]:6379",
                            "--prefix", "user:", "--rate", "5000", "--from-auth", "u:p:w",
                            "--resume", "/tmp/s", "--batch", "64"});
  EXPECT_EQ(o.from.host, "10.0.0.1");
  EXPECT_EQ(o.from.port, 11211);
  EXPECT_EQ(o.to.host, "::1");
  EXPECT_EQ(o.to_kind, TargetKind::kRedis);
  EXPECT_EQ(o.prefix, "user:");
  EXPECT_EQ(o.rate, 5000u);
  EXPECT_EQ(o.from_user, "u");
  EXPECT_EQ(o.from_password, "p:w");
  EXPECT_EQ(o.batch, 64u);
  EXPECT_EQ(ParseOptions({"--from", "memcached://h:1", "--to", "h:2"}).to_kind, TargetKind::kMemcached);
  EXPECT_THROW(ParseOptions({"--from", "h:1", "--to", "h:2"}), std::invalid_argument);
  EXPECT_THROW(ParseOptions({"--from", "memcached://h:0", "--to", "h:2"}), std::invalid_argument);
  EXPECT_THROW(ParseOptions({"--from", "memcached://h:1"}), std::invalid_argument);
  EXPECT_THROW(ParseOptions({"--from", "memcached://h:1", "--to", "h:2", "--rate", "-1"}),
               std::invalid_argument);
  EXPECT_THROW(ParseOptions({"--from", "memcached://h:1", "--to", "h:2", "--bogus", "1"}),
               std::invalid_argument);
}

TEST(ResumeState, RemembersSettledKeysAcrossRunsAndIgnoresATornLine) {
  auto path = std::filesystem::temp_directory_path() /
              ("migrate_state_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  {
    ResumeState s(path.string(), "hdr");
    s.Record("a");
    s.Record("b");
    s.Flush();
  }
  {
    std::ofstream(path, std::ios::app) << "0123";  // a run killed mid-write
  }
  {
    ResumeState s(path.string(), "hdr");
    EXPECT_EQ(s.Loaded(), 2u);
    EXPECT_TRUE(s.Done("a"));
    EXPECT_TRUE(s.Done("b"));
    EXPECT_FALSE(s.Done("c"));
    s.Record("c");
  }
  {
    ResumeState s(path.string(), "hdr");
    EXPECT_EQ(s.Loaded(), 3u);
  }
  EXPECT_THROW(ResumeState(path.string(), "another import"), std::runtime_error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ferrite::migrate
