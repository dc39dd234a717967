// Geohash arithmetic without a host. Expected values are redis-server 7.0.15's
// (the Redis documentation's Palermo/Catania examples among them).
#include "geohash.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace ferrite::mod::zsets::geo {
namespace {

uint64_t Score(double lon, double lat) {
  Bits h;
  EXPECT_TRUE(EncodeWGS84(lon, lat, kStepMax, &h));
  return Align52(h);
}

std::string Human(double v) {  // "%.17Lf" trimmed, as GEOPOS prints in RESP2
  char buf[64];
  snprintf(buf, sizeof buf, "%.17Lf", static_cast<long double>(v));
  std::string s(buf);
  while (s.back() == '0') s.pop_back();
  return s;
}

TEST(Geohash, ScoresPositionsAndStringsMatchRedis) {
  EXPECT_EQ(Score(13.361389, 38.115556), 3479099956230698u);
  EXPECT_EQ(Score(15.087269, 37.502669), 3479447370796909u);
  double xy[2];
  ASSERT_TRUE(DecodeScore(3479099956230698.0, xy));
  EXPECT_EQ(Human(xy[0]), "13.36138933897018433");
  EXPECT_EQ(Human(xy[1]), "38.11555639549629859");
  EXPECT_EQ(ToGeohashString(xy[0], xy[1]), "sqc8b49rny0");
  double c[2];
  ASSERT_TRUE(DecodeScore(3479447370796909.0, c));
  EXPECT_EQ(ToGeohashString(c[0], c[1]), "sqdtr74hyu0");
  char d[32];
  snprintf(d, sizeof d, "%.4f", Distance(xy[0], xy[1], c[0], c[1]));
  EXPECT_STREQ(d, "166274.1516");
}

TEST(Geohash, LimitsAreRefused) {
  Bits h;
  EXPECT_FALSE(EncodeWGS84(180.1, 0, kStepMax, &h));
  EXPECT_FALSE(EncodeWGS84(0, 85.06, kStepMax, &h));
  EXPECT_TRUE(EncodeWGS84(-180, -85.05112878, kStepMax, &h));
  EXPECT_EQ(Align52(h), 0u);
  EXPECT_FALSE(EncodeWGS84(0, 0, 0, &h));
}

TEST(Geohash, SearchBoxesCoverTheCircle) {
  // Every point of a grid around the centre that is within the radius falls in one
  // of the boxes Areas() picks.
  for (double radius : {100.0, 5000.0, 200000.0}) {
    Shape s;
    s.xy[0] = 13.36;
    s.xy[1] = 38.11;
    s.radius = radius;
    Radius r = Areas(&s);
    for (int i = -20; i <= 20; i++) {
      for (int j = -20; j <= 20; j++) {
        double p[2] = {s.xy[0] + i * radius / 111000.0 / 15, s.xy[1] + j * radius / 111000.0 / 15};
        double dist = 0;
        double pos[2];
        uint64_t sc = Score(p[0], p[1]);
        ASSERT_TRUE(DecodeScore(static_cast<double>(sc), pos));
        if (!WithinShape(s, pos, &dist)) continue;
        bool covered = false;
        for (auto& b : r.boxes) {
          uint64_t lo, hi;
          if (b.IsZero()) continue;
          ScoreRangeOf(b, &lo, &hi);
          covered = covered || (sc >= lo && sc < hi);
        }
        EXPECT_TRUE(covered) << radius << " " << i << " " << j;
      }
    }
  }
}

}  // namespace
}  // namespace ferrite::mod::zsets::geo
