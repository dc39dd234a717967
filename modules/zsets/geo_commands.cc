// The geo commands on sorted sets (Redis 7.0's src/geo.c): GEOADD, GEODIST, GEOHASH,
// GEOPOS, GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH, GEOSEARCHSTORE. A member's
// score is its 52-bit geohash (geohash.h). Argument checks run in Redis' order, so the
// same bad request gets the same error.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ferrite/pqsort.hpp"
#include "geohash.h"
#include "zsets_internal.h"

namespace ferrite::mod::zsets {

using sdk::Ctx;
using sdk::Key;
using sdk::SV;

namespace {

// "%f,%f" as C prints it.
std::string PairText(double a, double b) {
  char buf[256];
  snprintf(buf, sizeof buf, "ERR invalid longitude,latitude pair %f,%f", a, b);
  return buf;
}

// extractLongLatOrReply: two floats within the Web Mercator limits.
bool ParseLongLat(const Ctx& ctx, const ferrite_slice* argv, double* xy) {
  for (int i = 0; i < 2; i++)
    if (!sdk::ParseDouble(SV(argv[i]), &xy[i])) return ctx.Error(FERRITE_E_NOT_FLOAT), false;
  if (xy[0] < geo::kLongMin || xy[0] > geo::kLongMax || xy[1] < geo::kLatMin ||
      xy[1] > geo::kLatMax) {
    return ctx.Error(PairText(xy[0], xy[1])), false;
  }
  return true;
}

// extractUnitOrReply: meters per unit, or -1 after the error.
double ParseUnit(const Ctx& ctx, std::string_view u) {
  if (sdk::EqualsIgnoreCase(u, "m")) return 1;
  if (sdk::EqualsIgnoreCase(u, "km")) return 1000;
  if (sdk::EqualsIgnoreCase(u, "ft")) return 0.3048;
  if (sdk::EqualsIgnoreCase(u, "mi")) return 1609.34;
  ctx.Error("ERR unsupported unit provided. please use M, KM, FT, MI");
  return -1;
}

bool ParseRadius(const Ctx& ctx, const ferrite_slice* argv, geo::Shape* s) {
  double d = 0;
  if (!sdk::ParseDouble(SV(argv[0]), &d)) return ctx.Error("ERR need numeric radius"), false;
  if (d < 0) return ctx.Error("ERR radius cannot be negative"), false;
  s->radius = d;
  s->conversion = ParseUnit(ctx, SV(argv[1]));
  return s->conversion >= 0;
}

bool ParseBox(const Ctx& ctx, const ferrite_slice* argv, geo::Shape* s) {
  double w = 0, h = 0;
  if (!sdk::ParseDouble(SV(argv[0]), &w)) return ctx.Error("ERR need numeric width"), false;
  if (!sdk::ParseDouble(SV(argv[1]), &h)) return ctx.Error("ERR need numeric height"), false;
  if (h < 0 || w < 0) return ctx.Error("ERR height or width cannot be negative"), false;
  s->width = w;
  s->height = h;
  s->conversion = ParseUnit(ctx, SV(argv[2]));
  return s->conversion >= 0;
}

// fixedpoint_d2string(d, 4): llrint(d * 10^4) printed with four decimals.
std::string Distance4(double d) {
  if (d == 0) return "0.0000";
  long long v = llrint(d * 10000.0);
  std::string sign = v < 0 ? "-" : "";
  unsigned long long a = v < 0 ? 0ULL - static_cast<unsigned long long>(v) : v;
  char frac[8];
  snprintf(frac, sizeof frac, "%04llu", a % 10000);
  return sign + std::to_string(a / 10000) + "." + frac;
}

// addReplyHumanLongDouble for a coordinate: its %.17Lf text without trailing zeros, as
// a bulk (RESP2) or as a double with those digits (RESP3).
void ReplyCoordinate(const Ctx& ctx, double v) {
  if (ctx.Resp() >= 3) ctx.DoubleText(sdk::FormatLongDouble(v));
  else ctx.Bulk(sdk::FormatLongDouble(v));
}

bool MemberPosition(const ZSetValue* z, std::string_view member, double* xy) {
  auto score = z->Score(member);
  return score && geo::DecodeScore(*score, xy);
}

struct Point {
  double xy[2];
  double dist;
  double score;
  std::string member;
};

// geoGetPointsInRange over [min, max) of one box: members within the shape, until
// `limit` (ANY) points are found.
void PointsInBox(const ZSetValue& z, const geo::Bits& box, const geo::Shape& shape,
                 std::vector<Point>* out, size_t limit) {
  uint64_t min = 0, max = 0;
  geo::ScoreRangeOf(box, &min, &max);
  ScoreRange r{static_cast<double>(min), static_cast<double>(max), false, true};
  auto [first, last] = SpanOf(z, r);
  if (first >= last) return;
  size_t n = last - first;
  z.Walk(first, Dir::kForward, [&](std::string_view m, double score) {
    Point p;
    double distance = 0;
    if (geo::DecodeScore(score, p.xy) && geo::WithinShape(shape, p.xy, &distance)) {
      p.dist = distance;
      p.score = score;
      p.member.assign(m);
      out->push_back(std::move(p));
    }
    if (!out->empty() && limit && out->size() >= limit) return false;
    return --n > 0;
  });
}

// membersOfAllNeighbors: the centre box and its neighbours, skipping zero boxes and a
// box equal to the one searched just before (huge radiuses make neighbours coincide).
void Search(const ZSetValue& z, geo::Shape* shape, std::vector<Point>* out, size_t limit) {
  geo::Radius r = geo::Areas(shape);
  int last_processed = 0;
  for (int i = 0; i < 9; i++) {
    if (r.boxes[i].IsZero()) continue;
    if (last_processed && r.boxes[i].bits == r.boxes[last_processed].bits &&
        r.boxes[i].step == r.boxes[last_processed].step)
      continue;
    if (!out->empty() && limit && out->size() >= limit) break;
    PointsInBox(z, r.boxes[i], *shape, out, limit);
    last_processed = i;
  }
}

enum Flags : unsigned {
  kByCoords = 1,       // GEORADIUS: around coordinates
  kByMember = 2,       // GEORADIUSBYMEMBER: around a member
  kNoStore = 4,        // the _RO variants: no STORE/STOREDIST
  kGeoSearch = 8,      // GEOSEARCH syntax
  kGeoSearchStore = 16 // GEOSEARCHSTORE: only STOREDIST
};

enum class Sort { kNone, kAsc, kDesc };

struct SearchRequest {
  geo::Shape shape;
  bool withdist = false, withhash = false, withcoords = false, any = false;
  bool frommember = false, fromloc = false, byradius = false, bybox = false;
  Sort sort = Sort::kNone;
  int64_t count = 0;
  std::optional<std::string_view> storekey;
  bool storedist = false;
};

// The options of georadiusGeneric, parsed in its order (FROMMEMBER is resolved against
// the zset as it is met). Replies the error itself and returns false.
bool ParseSearchOptions(const Ctx& ctx, int argc, const ferrite_slice* argv, int base,
                        unsigned flags, const ZSetValue* z, SearchRequest* rq) {
  const int remaining = argc - base;
  for (int i = 0; i < remaining; i++) {
    std::string_view arg = SV(argv[base + i]);
    auto is = [&](const char* w) { return sdk::EqualsIgnoreCase(arg, w); };
    const bool search = flags & kGeoSearch;
    const bool can_store = !(flags & kNoStore) && !search;
    if (is("withdist")) {
      rq->withdist = true;
    } else if (is("withhash")) {
      rq->withhash = true;
    } else if (is("withcoord")) {
      rq->withcoords = true;
    } else if (is("any")) {
      rq->any = true;
    } else if (is("asc")) {
      rq->sort = Sort::kAsc;
    } else if (is("desc")) {
      rq->sort = Sort::kDesc;
    } else if (is("count") && i + 1 < remaining) {
      if (!sdk::ParseInt64(SV(argv[base + i + 1]), &rq->count))
        return ctx.Error(FERRITE_E_NOT_INTEGER), false;
      if (rq->count <= 0) return ctx.Error("ERR COUNT must be > 0"), false;
      i++;
    } else if (is("store") && i + 1 < remaining && can_store) {
      rq->storekey = SV(argv[base + ++i]);
      rq->storedist = false;
    } else if (is("storedist") && i + 1 < remaining && can_store) {
      rq->storekey = SV(argv[base + ++i]);
      rq->storedist = true;
    } else if (is("storedist") && search && (flags & kGeoSearchStore)) {
      rq->storedist = true;
    } else if (is("frommember") && i + 1 < remaining && search && !rq->fromloc) {
      // Without a source key the search is empty: just finish parsing.
      if (z && !MemberPosition(z, SV(argv[base + i + 1]), rq->shape.xy))
        return ctx.Error("ERR could not decode requested zset member"), false;
      rq->frommember = true;
      i++;
    } else if (is("fromlonlat") && i + 2 < remaining && search && !rq->frommember) {
      if (!ParseLongLat(ctx, argv + base + i + 1, rq->shape.xy)) return false;
      rq->fromloc = true;
      i += 2;
    } else if (is("byradius") && i + 2 < remaining && search && !rq->bybox) {
      if (!ParseRadius(ctx, argv + base + i + 1, &rq->shape)) return false;
      rq->shape.type = geo::Shape::kCircle;
      rq->byradius = true;
      i += 2;
    } else if (is("bybox") && i + 3 < remaining && search && !rq->byradius) {
      if (!ParseBox(ctx, argv + base + i + 1, &rq->shape)) return false;
      rq->shape.type = geo::Shape::kBox;
      rq->bybox = true;
      i += 3;
    } else {
      return ctx.Error(FERRITE_E_SYNTAX), false;
    }
  }
  return true;
}

// The cross-option checks after parsing, in Redis' order.
bool CheckSearchRequest(const Ctx& ctx, std::string_view cmd, unsigned flags,
                        const SearchRequest& rq) {
  if (rq.storekey && (rq.withdist || rq.withhash || rq.withcoords)) {
    return ctx.Error(std::string("ERR ") +
                     ((flags & kGeoSearchStore) ? "GEOSEARCHSTORE"
                                                : "STORE option in GEORADIUS") +
                     " is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
           false;
  }
  if ((flags & kGeoSearch) && !(rq.frommember || rq.fromloc)) {
    return ctx.Error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " +
                     std::string(cmd)),
           false;
  }
  if ((flags & kGeoSearch) && !(rq.byradius || rq.bybox)) {
    return ctx.Error("ERR exactly one of BYRADIUS and BYBOX can be specified for " +
                     std::string(cmd)),
           false;
  }
  if (rq.any && !rq.count) return ctx.Error("ERR the ANY argument requires COUNT argument"), false;
  return true;
}

void ReplyPoints(const Ctx& ctx, const SearchRequest& rq, std::vector<Point>& points,
                 size_t returned) {
  const size_t options = rq.withdist + rq.withcoords + rq.withhash;
  ctx.Array(returned);
  for (size_t i = 0; i < returned; i++) {
    Point& p = points[i];
    if (options) ctx.Array(options + 1);
    ctx.Bulk(p.member);
    if (rq.withdist) ctx.Bulk(Distance4(p.dist / rq.shape.conversion));
    if (rq.withhash) ctx.Int(static_cast<int64_t>(p.score));
    if (rq.withcoords) {
      ctx.Array(2);
      ReplyCoordinate(ctx, p.xy[0]);
      ReplyCoordinate(ctx, p.xy[1]);
    }
  }
}

// STORE / STOREDIST / GEOSEARCHSTORE: the first `returned` points as a new sorted set
// (scores: geohashes, or distances in the request's unit), replacing the key.
int StorePoints(const Ctx& ctx, unsigned flags, const SearchRequest& rq,
                const std::vector<Point>& points, size_t returned) {
  auto* st = ctx.State<ZSetsState>();
  Key dst = ctx.OpenWrite(*rq.storekey);
  if (returned == 0) {
    if (dst.Exists()) {
      dst.Delete();
      ctx.Notify(FERRITE_NOTIFY_GENERIC, "del", *rq.storekey);
    }
    return ctx.Int(0);
  }
  size_t maxlen = 0;
  for (size_t i = 0; i < returned; i++) maxlen = std::max(maxlen, points[i].member.size());
  ZSetPtr z(ZSetValue::Create(st->Limits(), returned, maxlen));
  for (size_t i = 0; i < returned; i++) {
    const Point& p = points[i];
    z.Set(p.member, rq.storedist ? p.dist / rq.shape.conversion : p.score, st->Limits());
  }
  z.ConvertToListpackIfFits(st->Limits());
  dst.SetValue(st->type, z.release());
  dst.SetExpire(-1);
  dst.Modified(FERRITE_NOTIFY_ZSET, (flags & kGeoSearch) ? "geosearchstore" : "georadiusstore");
  return ctx.Int(static_cast<int64_t>(returned));
}

// georadiusGeneric: `src` is the source key's index.
int GeoSearchGeneric(const Ctx& ctx, int argc, const ferrite_slice* argv, int src,
                     unsigned flags) {
  auto* st = ctx.State<ZSetsState>();
  std::string_view cmd = SV(argv[0]);
  ZSetValue* z = nullptr;
  Key k = ctx.Open(SV(argv[src]));
  if (LookupZSet(k, *st, &z) == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);

  SearchRequest rq;
  int base = 2;
  if (flags & kByCoords) {
    base = 6;
    rq.shape.type = geo::Shape::kCircle;
    if (!ParseLongLat(ctx, argv + 2, rq.shape.xy)) return FERRITE_OK;
    if (!ParseRadius(ctx, argv + base - 2, &rq.shape)) return FERRITE_OK;
  } else if (flags & kByMember) {
    base = 5;
    if (z) {
      rq.shape.type = geo::Shape::kCircle;
      if (!MemberPosition(z, SV(argv[2]), rq.shape.xy))
        return ctx.Error("ERR could not decode requested zset member");
      if (!ParseRadius(ctx, argv + base - 2, &rq.shape)) return FERRITE_OK;
    }
  } else if (flags & kGeoSearchStore) {
    base = 3;
    rq.storekey = SV(argv[1]);
  }
  if (!ParseSearchOptions(ctx, argc, argv, base, flags, z, &rq)) return FERRITE_OK;
  if (!CheckSearchRequest(ctx, cmd, flags, rq)) return FERRITE_OK;

  std::vector<Point> points;
  if (z) {
    // COUNT without an order would not return the closest ones: sort ascending then,
    // except with ANY, which takes the first found.
    if (rq.count && rq.sort == Sort::kNone && !rq.any) rq.sort = Sort::kAsc;
    Search(*z, &rq.shape, &points, rq.any ? static_cast<size_t>(rq.count) : 0);
  }
  k.Close();
  if (!z || (points.empty() && !rq.storekey)) {
    if (rq.storekey) return StorePoints(ctx, flags, rq, points, 0);
    ctx.Array(0);
    return FERRITE_OK;
  }
  const size_t returned =
      (rq.count == 0 || points.size() < static_cast<size_t>(rq.count)) ? points.size()
                                                                        : rq.count;
  if (rq.sort != Sort::kNone) {
    const int sign = rq.sort == Sort::kAsc ? 1 : -1;
    auto cmp = [sign](const Point& a, const Point& b) {
      return sign * (a.dist > b.dist ? 1 : a.dist == b.dist ? 0 : -1);
    };
    // Equal distances come out in Redis' order: its full sort is glibc's qsort, a merge
    // sort (stable); with COUNT it sorts partially with pqsort, which is not.
    if (returned == points.size()) {
      std::stable_sort(points.begin(), points.end(),
                       [&cmp](const Point& a, const Point& b) { return cmp(a, b) < 0; });
    } else {
      sdk::PartialQuickSort(points.data(), points.size(), cmp, 0,
                            static_cast<std::ptrdiff_t>(returned) - 1);
    }
  }
  if (!rq.storekey) {
    ReplyPoints(ctx, rq, points, returned);
    return FERRITE_OK;
  }
  return StorePoints(ctx, flags, rq, points, returned);
}

}  // namespace

// GEOADD key [NX|XX] [CH] longitude latitude member [...]: turned into the ZADD it is,
// which is also what gets propagated (as Redis rewrites the command).
int CmdGeoAdd(Ctx ctx, int argc, const ferrite_slice* argv) {
  bool xx = false, nx = false;
  int longidx = 2;
  for (; longidx < argc; longidx++) {
    std::string_view opt = SV(argv[longidx]);
    if (sdk::EqualsIgnoreCase(opt, "nx")) nx = true;
    else if (sdk::EqualsIgnoreCase(opt, "xx")) xx = true;
    else if (!sdk::EqualsIgnoreCase(opt, "ch")) break;
  }
  if ((argc - longidx) % 3 || (xx && nx)) return ctx.Error(FERRITE_E_SYNTAX);
  const int elements = (argc - longidx) / 3;
  std::vector<std::string> zadd;
  zadd.reserve(longidx + elements * 2);
  zadd.emplace_back("zadd");
  for (int i = 1; i < longidx; i++) zadd.emplace_back(SV(argv[i]));
  for (int i = 0; i < elements; i++) {
    double xy[2];
    if (!ParseLongLat(ctx, argv + longidx + i * 3, xy)) return FERRITE_OK;
    geo::Bits hash;
    geo::EncodeWGS84(xy[0], xy[1], geo::kStepMax, &hash);
    zadd.push_back(std::to_string(geo::Align52(hash)));
    zadd.emplace_back(SV(argv[longidx + i * 3 + 2]));
  }
  std::vector<ferrite_slice> zargv;
  for (auto& a : zadd) zargv.push_back(sdk::SL(a));
  ctx.Propagate(zadd);  // used only if the ZADD changed something
  return CmdZAdd(ctx, static_cast<int>(zargv.size()), zargv.data());
}

// GEODIST key member1 member2 [unit]
int CmdGeoDist(Ctx ctx, int argc, const ferrite_slice* argv) {
  double to_meter = 1;
  if (argc == 5) {
    to_meter = ParseUnit(ctx, SV(argv[4]));
    if (to_meter < 0) return FERRITE_OK;
  } else if (argc > 5) {
    return ctx.Error(FERRITE_E_SYNTAX);
  }
  auto* st = ctx.State<ZSetsState>();
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kMissing) return ctx.Null();
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  double a[2], b[2];
  auto s1 = z->Score(SV(argv[2])), s2 = z->Score(SV(argv[3]));
  if (!s1 || !s2 || !geo::DecodeScore(*s1, a) || !geo::DecodeScore(*s2, b)) return ctx.Null();
  return ctx.Bulk(Distance4(geo::Distance(a[0], a[1], b[0], b[1]) / to_meter));
}

namespace {

enum class PerMember { kGeohash, kPosition };

// GEOHASH / GEOPOS: one reply per member, null (GEOHASH) or a null array (GEOPOS) for a
// member that is missing or whose score is no position.
int ReplyPerMember(const Ctx& ctx, int argc, const ferrite_slice* argv, PerMember what) {
  auto* st = ctx.State<ZSetsState>();
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  if (LookupZSet(k, *st, &z) == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  ctx.Array(argc - 2);
  for (int j = 2; j < argc; j++) {
    double xy[2];
    if (!z || !MemberPosition(z, SV(argv[j]), xy)) {
      if (what == PerMember::kGeohash) ctx.Null();
      else ctx.NullArray();
    } else if (what == PerMember::kGeohash) {
      ctx.Bulk(geo::ToGeohashString(xy[0], xy[1]));
    } else {
      ctx.Array(2);
      ReplyCoordinate(ctx, xy[0]);
      ReplyCoordinate(ctx, xy[1]);
    }
  }
  return FERRITE_OK;
}

}  // namespace

// GEOHASH key [member ...]
int CmdGeoHash(Ctx ctx, int argc, const ferrite_slice* argv) {
  return ReplyPerMember(ctx, argc, argv, PerMember::kGeohash);
}

// GEOPOS key [member ...]
int CmdGeoPos(Ctx ctx, int argc, const ferrite_slice* argv) {
  return ReplyPerMember(ctx, argc, argv, PerMember::kPosition);
}

int CmdGeoRadius(Ctx ctx, int argc, const ferrite_slice* argv) {
  return GeoSearchGeneric(ctx, argc, argv, 1, kByCoords);
}
int CmdGeoRadiusRo(Ctx ctx, int argc, const ferrite_slice* argv) {
  return GeoSearchGeneric(ctx, argc, argv, 1, kByCoords | kNoStore);
}
int CmdGeoRadiusByMember(Ctx ctx, int argc, const ferrite_slice* argv) {
  return GeoSearchGeneric(ctx, argc, argv, 1, kByMember);
}
int CmdGeoRadiusByMemberRo(Ctx ctx, int argc, const ferrite_slice* argv) {
  return GeoSearchGeneric(ctx, argc, argv, 1, kByMember | kNoStore);
}
int CmdGeoSearch(Ctx ctx, int argc, const ferrite_slice* argv) {
  return GeoSearchGeneric(ctx, argc, argv, 1, kGeoSearch);
}
int CmdGeoSearchStore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return GeoSearchGeneric(ctx, argc, argv, 2, kGeoSearch | kGeoSearchStore);
}

// GEORADIUS / GEORADIUSBYMEMBER: the key, and STORE/STOREDIST's key when given (the
// last one), as Redis' georadiusGetKeys.
int GetKeysGeoRadius(int argc, const ferrite_slice* argv, int* out, int cap) {
  int n = 0;
  auto add = [&](int i) {
    if (n < cap) out[n] = i;
    n++;
  };
  add(1);
  int store = 0;
  // From argument 5, as Redis: before it a member or coordinate may read "store".
  for (int i = 5; i < argc; i++) {
    std::string_view a = SV(argv[i]);
    if ((sdk::EqualsIgnoreCase(a, "store") || sdk::EqualsIgnoreCase(a, "storedist")) &&
        i + 1 < argc) {
      store = ++i;
    }
  }
  if (store) add(store);
  return n;
}

}  // namespace ferrite::mod::zsets
