// Redis' geohash (src/geohash.c, geohash_helper.c of 7.0), rewritten: a position is a
// 52-bit interleaved geohash (26 steps of longitude and latitude bits, latitude limited
// to ±85.05112878 as in Web Mercator) stored as a sorted-set score. A search covers the
// 3x3 geohash boxes around the centre at a step chosen from the radius, then filters by
// the exact distance (haversine on Redis' Earth radius). The arithmetic is kept exactly
// as Redis does it so the same inputs pick the same boxes, members and distances.
//
// Host-free: the zsets module's geo commands use it on scores.
#pragma once

#include <cstdint>
#include <string>

namespace ferrite::mod::zsets::geo {

constexpr int kStepMax = 26;  // 26 * 2 = 52 bits
constexpr double kLatMin = -85.05112878, kLatMax = 85.05112878;
constexpr double kLongMin = -180, kLongMax = 180;

struct Range {
  double min = 0, max = 0;
};

struct Bits {
  uint64_t bits = 0;
  uint8_t step = 0;
  bool IsZero() const { return bits == 0 && step == 0; }
};

struct Area {
  Bits hash;
  Range longitude, latitude;
};

// geohashEncode over the given ranges; false outside them (or Redis' Web Mercator limits).
bool Encode(const Range& long_range, const Range& lat_range, double longitude, double latitude,
            uint8_t step, Bits* hash);
bool EncodeWGS84(double longitude, double latitude, uint8_t step, Bits* hash);
bool Decode(const Range& long_range, const Range& lat_range, const Bits& hash, Area* area);
// The centre of the 52-bit cell a score names, clamped to the valid ranges.
bool DecodeScore(double score, double* xy);
uint64_t Align52(const Bits& hash);

// The 11-character base32 geohash GEOHASH replies (standard ±90 latitude range).
std::string ToGeohashString(double longitude, double latitude);

// A search shape: a circle (radius) or a box (width x height), in the unit's meters.
struct Shape {
  enum Type { kCircle, kBox } type = kCircle;
  double xy[2] = {0, 0};  // centre: longitude, latitude
  double conversion = 1;  // meters per unit
  double radius = 0;
  double width = 0, height = 0;
  double bounds[4] = {0, 0, 0, 0};  // filled by Areas(): min lon, min lat, max lon, max lat
};

// The centre box and its eight neighbours (north, south, east, west, north-east,
// north-west, south-east, south-west, in that order after the centre); boxes that
// cannot hold a match are zero.
struct Radius {
  Bits boxes[9];
};
Radius Areas(Shape* shape);

// Score range [min, max) of the members inside a box.
void ScoreRangeOf(const Bits& box, uint64_t* min, uint64_t* max);

double Distance(double lon1, double lat1, double lon2, double lat2);
// Whether the point at xy lies in the shape; *distance from the centre (meters).
bool WithinShape(const Shape& shape, const double* xy, double* distance);

}  // namespace ferrite::mod::zsets::geo
