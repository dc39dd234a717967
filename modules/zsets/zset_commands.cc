// Point commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT
// ZLEXCOUNT ZSCAN ZRANDMEMBER.
#include <cmath>
#include <string>
#include <unordered_set>
#include <vector>

#include "zsets_internal.h"

namespace ferrite::mod::zsets {

using sdk::Ctx;
using sdk::Key;
using sdk::SV;

namespace {

struct ZAddFlags {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
};

enum class AddOutcome { kAdded, kUpdated, kUnchanged, kNop, kNaN };

// zsetAdd: applies one (score, member) under the flags; *out is the final score.
AddOutcome OpAdd(ZSetRef& z, std::string_view m, double score, const ZAddFlags& f,
                 const ZLimits& lim, double* out) {
  std::optional<double> cur = z->Score(m);
  if (cur) {
    if (f.nx) return AddOutcome::kNop;
    if (f.incr) {
      score += *cur;
      if (std::isnan(score)) return AddOutcome::kNaN;
    }
    if ((f.lt && score >= *cur) || (f.gt && score <= *cur)) return AddOutcome::kNop;
    *out = score;
    if (score == *cur) return AddOutcome::kUnchanged;
    z.Set(m, score, lim);
    return AddOutcome::kUpdated;
  }
  if (f.xx) return AddOutcome::kNop;
  z.Set(m, score, lim);
  *out = score;
  return AddOutcome::kAdded;
}

// Shared by ZADD and ZINCRBY: argv[first..] are score/member pairs.
int ZAddGeneric(const Ctx& ctx, int argc, const ferrite_slice* argv, int first, ZAddFlags f) {
  auto* st = ctx.State<ZSetsState>();
  int elements = argc - first;
  if (elements <= 0 || elements % 2) return ctx.Error(FERRITE_E_SYNTAX);
  elements /= 2;
  if (f.nx && f.xx) return ctx.Error("ERR XX and NX options at the same time are not compatible");
  if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) {
    return ctx.Error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (f.incr && elements > 1) {
    return ctx.Error("ERR INCR option supports a single increment-element pair");
  }
  std::vector<double> scores(elements);
  for (int i = 0; i < elements; i++) {
    if (!sdk::ParseDouble(SV(argv[first + 2 * i]), &scores[i])) {
      return ctx.Error(FERRITE_E_NOT_FLOAT);
    }
  }
  Key k = ctx.OpenWrite(SV(argv[1]));
  ZSetValue* cur = nullptr;
  Found found = LookupZSet(k, *st, &cur);
  if (found == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  bool created = found == Found::kMissing;
  if (created) {
    if (f.xx) return f.incr ? ctx.Null() : ctx.Int(0);
    // Filled before it is attached, so the host never sees an empty value.
    cur = ZSetValue::Create(st->Limits(), 0, argv[first + 1].len);
  }
  ZSetRef z(cur, created ? nullptr : &k, st->type);
  int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  const char* event = f.incr ? "zincr" : "zadd";
  for (int i = 0; i < elements; i++) {
    AddOutcome o = OpAdd(z, SV(argv[first + 2 * i + 1]), scores[i], f, st->Limits(), &score);
    if (o == AddOutcome::kNaN) {
      // A new value is freed by `z` (unreachable in practice: a new member cannot
      // produce NaN).
      if (!created && (added || updated)) {
        k.Modified(FERRITE_NOTIFY_ZSET, event);
      }
      return ctx.Error("ERR resulting score is not a number (NaN)");
    }
    if (o == AddOutcome::kAdded) added++;
    if (o == AddOutcome::kUpdated) updated++;
    if (o != AddOutcome::kNop) processed++;
  }
  if (created) z.Attach(k);
  if (added || updated) k.Modified(FERRITE_NOTIFY_ZSET, event);
  if (f.incr) return processed ? ctx.Double(score) : ctx.Null();
  return ctx.Int(f.ch ? added + updated : added);
}

}  // namespace

int CmdZAdd(Ctx ctx, int argc, const ferrite_slice* argv) {
  ZAddFlags f;
  int i = 2;
  for (; i < argc; i++) {
    std::string_view a = SV(argv[i]);
    if (sdk::EqualsIgnoreCase(a, "nx")) {
      f.nx = true;
    } else if (sdk::EqualsIgnoreCase(a, "xx")) {
      f.xx = true;
    } else if (sdk::EqualsIgnoreCase(a, "gt")) {
      f.gt = true;
    } else if (sdk::EqualsIgnoreCase(a, "lt")) {
      f.lt = true;
    } else if (sdk::EqualsIgnoreCase(a, "ch")) {
      f.ch = true;
    } else if (sdk::EqualsIgnoreCase(a, "incr")) {
      f.incr = true;
    } else {
      break;
    }
  }
  return ZAddGeneric(ctx, argc, argv, i, f);
}

int CmdZIncrBy(Ctx ctx, int argc, const ferrite_slice* argv) {
  ZAddFlags f;
  f.incr = true;
  return ZAddGeneric(ctx, argc, argv, 2, f);
}

int CmdZRem(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<ZSetsState>();
  Key k = ctx.OpenWrite(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (f == Found::kMissing) return ctx.Int(0);
  int64_t removed = 0;
  for (int i = 2; i < argc && z->Size() > 0; i++) {
    if (z->Remove(SV(argv[i]))) removed++;
  }
  if (removed) ShrinkKey(k, z);
  if (removed) k.Modified(FERRITE_NOTIFY_ZSET, "zrem");
  return ctx.Int(removed);
}

int CmdZCard(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<ZSetsState>();
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  return ctx.Int(f == Found::kMissing ? 0 : static_cast<int64_t>(z->Size()));
}

int CmdZScore(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<ZSetsState>();
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  std::optional<double> s = f == Found::kZSet ? z->Score(SV(argv[2])) : std::nullopt;
  return s ? ctx.Double(*s) : ctx.Null();
}

int CmdZMScore(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<ZSetsState>();
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  ctx.Array(static_cast<size_t>(argc - 2));
  for (int i = 2; i < argc; i++) {
    std::optional<double> s = f == Found::kZSet ? z->Score(SV(argv[i])) : std::nullopt;
    if (s) {
      ctx.Double(*s);
    } else {
      ctx.Null();
    }
  }
  return FERRITE_OK;
}

namespace {
// ZRANK / ZREVRANK key member [WITHSCORE] (WITHSCORE is Redis 7.2 syntax).
int RankGeneric(const Ctx& ctx, int argc, const ferrite_slice* argv, Dir dir) {
  auto* st = ctx.State<ZSetsState>();
  bool withscore = false;
  if (argc == 4) {
    if (!sdk::EqualsIgnoreCase(SV(argv[3]), "withscore")) return ctx.Error(FERRITE_E_SYNTAX);
    withscore = true;
  } else if (argc > 4) {
    return ctx.Error(FERRITE_E_ARITY, dir == Dir::kForward ? "zrank" : "zrevrank");
  }
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  std::optional<size_t> r = f == Found::kZSet ? z->Rank(SV(argv[2])) : std::nullopt;
  if (!r) return withscore ? ctx.NullArray() : ctx.Null();
  int64_t rank = static_cast<int64_t>(dir == Dir::kForward ? *r : z->Size() - 1 - *r);
  if (!withscore) return ctx.Int(rank);
  ctx.Array(2);
  ctx.Int(rank);
  return ctx.Double(*z->Score(SV(argv[2])));
}
}  // namespace

int CmdZRank(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RankGeneric(ctx, argc, argv, Dir::kForward);
}
int CmdZRevRank(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RankGeneric(ctx, argc, argv, Dir::kReverse);
}

int CmdZCount(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<ZSetsState>();
  ScoreRange r;
  if (!ParseScoreRange(SV(argv[2]), SV(argv[3]), &r)) {
    return ctx.Error("ERR min or max is not a float");
  }
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (f == Found::kMissing) return ctx.Int(0);
  auto [lo, hi] = SpanOf(*z, r);
  return ctx.Int(static_cast<int64_t>(hi - lo));
}

int CmdZLexCount(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<ZSetsState>();
  LexRange r;
  if (!ParseLexRange(SV(argv[2]), SV(argv[3]), &r)) {
    return ctx.Error("ERR min or max not valid string range item");
  }
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (f == Found::kMissing) return ctx.Int(0);
  auto [lo, hi] = SpanOf(*z, r);
  return ctx.Int(static_cast<int64_t>(hi - lo));
}

int CmdZScan(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<ZSetsState>();
  uint64_t cursor = 0;
  if (!sdk::ParseScanCursor(SV(argv[2]), &cursor)) return ctx.Error("ERR invalid cursor");
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (f == Found::kMissing) return sdk::ReplyEmptyScan(ctx);
  sdk::ScanOptions opts;
  if (auto e = sdk::ParseScanOptions(argc, argv, 3, 0, &opts)) return ctx.Error(*e);
  int64_t count = opts.count;
  std::vector<std::string> out;
  int64_t budget = count * 10;
  size_t seen = 0;
  do {
    cursor = z->Scan(cursor, [&](std::string_view m, double s) {
      seen++;
      if (opts.Matches(m)) {
        out.emplace_back(m);
        out.push_back(sdk::FormatDouble(s));
      }
      return true;
    });
  } while (cursor != 0 && static_cast<int64_t>(seen) < count && --budget > 0);
  ctx.Array(2);
  ctx.Bulk(std::to_string(cursor));
  return ctx.BulkArray(out);
}

namespace {
Scored RandomMembers(const ZSetValue& z, int64_t count) {
  auto& rng = ZRng();
  Scored out;
  if (count < 0) {
    for (int64_t i = 0; i < -count; i++) {
      out.push_back(z.AtRank(std::uniform_int_distribution<size_t>(0, z.Size() - 1)(rng)));
    }
    return out;
  }
  auto want = static_cast<uint64_t>(count);
  if (want >= z.Size()) {
    // The whole set, highest first: Redis' zset iterator starts at the tail.
    z.Walk(z.Size() - 1, Dir::kReverse, [&](std::string_view m, double s) {
      out.emplace_back(std::string(m), s);
      return true;
    });
    return out;
  }
  std::unordered_set<size_t> seen;
  while (out.size() < want) {
    size_t r = std::uniform_int_distribution<size_t>(0, z.Size() - 1)(rng);
    if (seen.insert(r).second) out.push_back(z.AtRank(r));
  }
  return out;
}
}  // namespace

int CmdZRandMember(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<ZSetsState>();
  int64_t count = 0;
  bool withscores = false;
  if (argc >= 3) {
    if (const char* e = sdk::ParseRandomCountWith(argc, argv, "WITHSCORES", &count, &withscores))
      return ctx.Error(e);
  }
  Key k = ctx.Open(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (argc == 2) {
    if (f == Found::kMissing) return ctx.Null();
    size_t r = std::uniform_int_distribution<size_t>(0, z->Size() - 1)(ZRng());
    return ctx.Bulk(z->AtRank(r).first);
  }
  if (f == Found::kMissing || count == 0) {
    ctx.Array(0);
    return FERRITE_OK;
  }
  ReplyScored(ctx, RandomMembers(*z, count), withscores);
  return FERRITE_OK;
}

}  // namespace ferrite::mod::zsets
