// INFO errorstats' filing rules (host/error_stats.h): the kind of an error, the order
// and escaping of the lines, the 128-kind cap and CONFIG RESETSTAT.
#include <gtest/gtest.h>

#include <string>

#include "host/error_stats.h"

namespace ferrite::host {
namespace {

TEST(ErrorStats, KindIsTheFirstWordWithinRedisLimit) {
  EXPECT_EQ(ErrorStats::KindOf("ERR syntax error"), "ERR");
  EXPECT_EQ(ErrorStats::KindOf("NOGROUP No such key"), "NOGROUP");
  EXPECT_EQ(ErrorStats::KindOf("WRONGTYPE Operation against"), "WRONGTYPE");
  EXPECT_EQ(ErrorStats::KindOf("NOSPACE"), "ERR");  // no space: ERR, as Redis
  EXPECT_EQ(ErrorStats::KindOf(""), "ERR");
  EXPECT_EQ(ErrorStats::KindOf(" leading"), "ERR");
  // Redis searches the first 32 bytes of "-KIND msg": a kind of 30 bytes is kept, one of
  // 31 is not (its space is the 33rd byte).
  std::string k30(30, 'A'), k31(31, 'B');
  EXPECT_EQ(ErrorStats::KindOf(k30 + " msg"), k30);
  EXPECT_EQ(ErrorStats::KindOf(k31 + " msg"), "ERR");
}

TEST(ErrorStats, LinesInByteOrderWithCounts) {
  ErrorStats s;
  s.Count("WRONGTYPE x");
  s.Count("ERR a");
  s.Count("ERR b");
  s.Count(FERRITE_E_NOSCRIPT, {});
  s.Count(FERRITE_E_ARITY, "get");
  EXPECT_EQ(s.InfoLines(),
            "errorstat_ERR:count=3\r\nerrorstat_NOSCRIPT:count=1\r\n"
            "errorstat_WRONGTYPE:count=1\r\n");
}

TEST(ErrorStats, UnsafeCharactersBecomeUnderscores) {
  ErrorStats s;
  s.Count("A:B#C msg");
  EXPECT_EQ(s.InfoLines(), "errorstat_A_B_C:count=1\r\n");
}

TEST(ErrorStats, The129thKindDisablesTheTableUntilReset) {
  ErrorStats s;
  for (size_t i = 0; i < ErrorStats::kMaxKinds; i++) s.Count("K" + std::to_string(i) + " m");
  s.Count("K0 again");  // a known kind still counts
  EXPECT_NE(s.InfoLines().find("errorstat_K0:count=2\r\n"), std::string::npos);
  s.Count("NEWKIND m");
  EXPECT_EQ(s.InfoLines(), "errorstat_ERRORSTATS_DISABLED:count=1\r\n");
  s.Count("ERR more");  // nothing is filed any more
  EXPECT_EQ(s.InfoLines(), "errorstat_ERRORSTATS_DISABLED:count=1\r\n");
  s.Reset();
  EXPECT_EQ(s.InfoLines(), "");
  s.Count("ERR again");
  EXPECT_EQ(s.InfoLines(), "errorstat_ERR:count=1\r\n");
}

}  // namespace
}  // namespace ferrite::host
