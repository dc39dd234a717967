#include "geohash.h"

#include <cmath>

namespace ferrite::mod::zsets::geo {

namespace {

constexpr double kPi = 3.14159265358979323846;  // M_PI
constexpr double kDegToRad = kPi / 180.0;
constexpr double kEarthRadiusMeters = 6372797.560856;  // Redis' WGS-84 quadratic mean
constexpr double kMercatorMax = 20037726.37;

double DegRad(double ang) { return ang * kDegToRad; }
double RadDeg(double ang) { return ang / kDegToRad; }

// Spreads the 32 bits of v over the even bit positions of a 64-bit word.
uint64_t Spread(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x << 2)) & 0x3333333333333333ULL;
  x = (x | (x << 1)) & 0x5555555555555555ULL;
  return x;
}

// The inverse: the even bits of x packed into 32 bits.
uint32_t Squash(uint64_t x) {
  x &= 0x5555555555555555ULL;
  x = (x | (x >> 1)) & 0x3333333333333333ULL;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
  return static_cast<uint32_t>(x);
}

// Latitude bits on the even positions, longitude bits on the odd ones.
uint64_t Interleave(uint32_t lat, uint32_t lon) { return Spread(lat) | (Spread(lon) << 1); }

const Range kWgsLong{kLongMin, kLongMax};
const Range kWgsLat{kLatMin, kLatMax};

bool RangeZero(const Range& r) { return r.max == 0 && r.min == 0; }

// One step east/west (x, the longitude bits) or north/south (y, the latitude bits) on
// the grid of `hash.step`, wrapping around as the bit arithmetic does.
void MoveX(Bits* h, int d) {
  if (d == 0) return;
  uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL, y = h->bits & 0x5555555555555555ULL;
  uint64_t zz = 0x5555555555555555ULL >> (64 - h->step * 2);
  if (d > 0) {
    x = x + (zz + 1);
  } else {
    x = x | zz;
    x = x - (zz + 1);
  }
  x &= (0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2));
  h->bits = x | y;
}

void MoveY(Bits* h, int d) {
  if (d == 0) return;
  uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL, y = h->bits & 0x5555555555555555ULL;
  uint64_t zz = 0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2);
  if (d > 0) {
    y = y + (zz + 1);
  } else {
    y = y | zz;
    y = y - (zz + 1);
  }
  y &= (0x5555555555555555ULL >> (64 - h->step * 2));
  h->bits = x | y;
}

Bits Moved(Bits h, int dx, int dy) {
  MoveX(&h, dx);
  MoveY(&h, dy);
  return h;
}

int EstimateSteps(double range_meters, double lat) {
  if (range_meters == 0) return 26;
  int step = 1;
  while (range_meters < kMercatorMax) {
    range_meters *= 2;
    step++;
  }
  step -= 2;  // make sure the range is inside the box in most cases
  // Boxes get narrower towards the poles.
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

void BoundingBox(Shape* s) {
  const double longitude = s->xy[0], latitude = s->xy[1];
  const double height = s->conversion * (s->type == Shape::kCircle ? s->radius : s->height / 2);
  const double width = s->conversion * (s->type == Shape::kCircle ? s->radius : s->width / 2);
  const double lat_delta = RadDeg(height / kEarthRadiusMeters);
  const double long_delta_top = RadDeg(width / kEarthRadiusMeters / cos(DegRad(latitude + lat_delta)));
  const double long_delta_bottom =
      RadDeg(width / kEarthRadiusMeters / cos(DegRad(latitude - lat_delta)));
  // The hemispheres widen in opposite directions.
  const bool southern = latitude < 0;
  s->bounds[0] = southern ? longitude - long_delta_bottom : longitude - long_delta_top;
  s->bounds[2] = southern ? longitude + long_delta_bottom : longitude + long_delta_top;
  s->bounds[1] = latitude - lat_delta;
  s->bounds[3] = latitude + lat_delta;
}

double LatDistance(double lat1, double lat2) {
  return kEarthRadiusMeters * fabs(DegRad(lat2) - DegRad(lat1));
}

}  // namespace

bool Encode(const Range& long_range, const Range& lat_range, double longitude, double latitude,
            uint8_t step, Bits* hash) {
  if (step > 32 || step == 0 || RangeZero(lat_range) || RangeZero(long_range)) return false;
  if (longitude > kLongMax || longitude < kLongMin || latitude > kLatMax || latitude < kLatMin)
    return false;
  hash->bits = 0;
  hash->step = step;
  if (latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min ||
      longitude > long_range.max)
    return false;
  double lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
  double long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
  lat_offset *= static_cast<double>(1ULL << step);
  long_offset *= static_cast<double>(1ULL << step);
  hash->bits = Interleave(static_cast<uint32_t>(lat_offset), static_cast<uint32_t>(long_offset));
  return true;
}

bool EncodeWGS84(double longitude, double latitude, uint8_t step, Bits* hash) {
  return Encode(kWgsLong, kWgsLat, longitude, latitude, step, hash);
}

bool Decode(const Range& long_range, const Range& lat_range, const Bits& hash, Area* area) {
  if (hash.IsZero() || RangeZero(lat_range) || RangeZero(long_range)) return false;
  area->hash = hash;
  const double cells = static_cast<double>(1ULL << hash.step);
  const double lat_scale = lat_range.max - lat_range.min;
  const double long_scale = long_range.max - long_range.min;
  const uint32_t ilato = Squash(hash.bits), ilono = Squash(hash.bits >> 1);
  area->latitude.min = lat_range.min + (ilato * 1.0 / cells) * lat_scale;
  area->latitude.max = lat_range.min + ((ilato + 1U) * 1.0 / cells) * lat_scale;
  area->longitude.min = long_range.min + (ilono * 1.0 / cells) * long_scale;
  area->longitude.max = long_range.min + ((ilono + 1U) * 1.0 / cells) * long_scale;
  return true;
}

bool DecodeScore(double score, double* xy) {
  Bits hash{static_cast<uint64_t>(score), kStepMax};
  Area area;
  if (!Decode(kWgsLong, kWgsLat, hash, &area)) return false;
  xy[0] = (area.longitude.min + area.longitude.max) / 2;
  if (xy[0] > kLongMax) xy[0] = kLongMax;
  if (xy[0] < kLongMin) xy[0] = kLongMin;
  xy[1] = (area.latitude.min + area.latitude.max) / 2;
  if (xy[1] > kLatMax) xy[1] = kLatMax;
  if (xy[1] < kLatMin) xy[1] = kLatMin;
  return true;
}

uint64_t Align52(const Bits& hash) { return hash.bits << (52 - hash.step * 2); }

std::string ToGeohashString(double longitude, double latitude) {
  static const char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  Bits hash;
  Encode(Range{-180, 180}, Range{-90, 90}, longitude, latitude, 26, &hash);
  std::string out(11, '0');
  // 52 bits give ten characters; the eleventh (Redis' API has always had 11) is '0'.
  for (int i = 0; i < 10; i++) out[i] = kAlphabet[(hash.bits >> (52 - ((i + 1) * 5))) & 0x1f];
  return out;
}

Radius Areas(Shape* shape) {
  BoundingBox(shape);
  const double min_lon = shape->bounds[0], min_lat = shape->bounds[1];
  const double max_lon = shape->bounds[2], max_lat = shape->bounds[3];
  const double longitude = shape->xy[0], latitude = shape->xy[1];
  // A box is reached from its centre through its corner.
  double radius_meters = shape->type == Shape::kCircle
                             ? shape->radius
                             : sqrt((shape->width / 2) * (shape->width / 2) +
                                    (shape->height / 2) * (shape->height / 2));
  radius_meters *= shape->conversion;

  int steps = EstimateSteps(radius_meters, latitude);
  Bits hash;
  Area area, north, south, east, west;
  auto at = [&](int s) {
    Encode(kWgsLong, kWgsLat, longitude, latitude, static_cast<uint8_t>(s), &hash);
    Decode(kWgsLong, kWgsLat, hash, &area);
  };
  at(steps);
  // Near a box edge the estimated step can be too fine for the neighbours to cover the
  // search area: one step coarser then.
  Decode(kWgsLong, kWgsLat, Moved(hash, 0, 1), &north);
  Decode(kWgsLong, kWgsLat, Moved(hash, 0, -1), &south);
  Decode(kWgsLong, kWgsLat, Moved(hash, 1, 0), &east);
  Decode(kWgsLong, kWgsLat, Moved(hash, -1, 0), &west);
  const bool decrease = north.latitude.max < max_lat || south.latitude.min > min_lat ||
                        east.longitude.max < max_lon || west.longitude.min > min_lon;
  if (steps > 1 && decrease) at(--steps);

  Radius r;
  r.boxes[0] = hash;
  r.boxes[1] = Moved(hash, 0, 1);    // north
  r.boxes[2] = Moved(hash, 0, -1);   // south
  r.boxes[3] = Moved(hash, 1, 0);    // east
  r.boxes[4] = Moved(hash, -1, 0);   // west
  r.boxes[5] = Moved(hash, 1, 1);    // north-east
  r.boxes[6] = Moved(hash, -1, 1);   // north-west
  r.boxes[7] = Moved(hash, 1, -1);   // south-east
  r.boxes[8] = Moved(hash, -1, -1);  // south-west
  // Neighbours on a side the search area does not reach are useless.
  if (steps >= 2) {
    if (area.latitude.min < min_lat) r.boxes[2] = r.boxes[8] = r.boxes[7] = Bits{};
    if (area.latitude.max > max_lat) r.boxes[1] = r.boxes[5] = r.boxes[6] = Bits{};
    if (area.longitude.min < min_lon) r.boxes[4] = r.boxes[8] = r.boxes[6] = Bits{};
    if (area.longitude.max > max_lon) r.boxes[3] = r.boxes[7] = r.boxes[5] = Bits{};
  }
  return r;
}

void ScoreRangeOf(const Bits& box, uint64_t* min, uint64_t* max) {
  *min = Align52(box);
  Bits next = box;
  next.bits++;
  *max = Align52(next);
}

double Distance(double lon1d, double lat1d, double lon2d, double lat2d) {
  const double lon1r = DegRad(lon1d), lon2r = DegRad(lon2d);
  const double v = sin((lon2r - lon1r) / 2);
  // Same longitude: the (cheaper) distance along the meridian.
  if (v == 0.0) return LatDistance(lat1d, lat2d);
  const double lat1r = DegRad(lat1d), lat2r = DegRad(lat2d);
  const double u = sin((lat2r - lat1r) / 2);
  const double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
  return 2.0 * kEarthRadiusMeters * asin(sqrt(a));
}

bool WithinShape(const Shape& s, const double* xy, double* distance) {
  if (s.type == Shape::kCircle) {
    *distance = Distance(s.xy[0], s.xy[1], xy[0], xy[1]);
    return *distance <= s.radius * s.conversion;
  }
  // The latitude distance is the cheaper one: checked first.
  if (LatDistance(xy[1], s.xy[1]) > s.height * s.conversion / 2) return false;
  if (Distance(xy[0], xy[1], s.xy[0], xy[1]) > s.width * s.conversion / 2) return false;
  *distance = Distance(s.xy[0], s.xy[1], xy[0], xy[1]);
  return true;
}

}  // namespace ferrite::mod::zsets::geo
