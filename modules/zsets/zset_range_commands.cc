// Range commands: ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES) and its legacy forms,
// ZRANGESTORE, ZREMRANGEBYRANK / BYSCORE / BYLEX.
#include <algorithm>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

#include "zsets_internal.h"

namespace ferrite::mod::zsets {

using sdk::Ctx;
using sdk::Key;
using sdk::SV;

namespace {

enum class RangeType { kRank, kScore, kLex };

struct RangeRequest {
  std::optional<RangeType> type;  // unset: ZRANGE without BYSCORE/BYLEX (rank)
  std::optional<Dir> dir;         // unset: forward
  bool withscores = false;
  int64_t offset = 0;
  int64_t limit = -1;
};

// Normalizes Redis rank arguments to ascending [first, last] (inclusive); false when
// the range is empty.
bool NormalizeRanks(int64_t start, int64_t end, size_t size, size_t* first, size_t* last) {
  auto len = static_cast<int64_t>(size);
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return false;
  if (end >= len) end = len - 1;
  *first = static_cast<size_t>(start);
  *last = static_cast<size_t>(end);
  return true;
}

// Elements of the ascending span [lo, hi) after skipping `offset`, at most `limit`
// (negative: all), walking in `dir`.
Scored TakeSpan(const ZSetValue& z, size_t lo, size_t hi, Dir dir, int64_t offset,
                int64_t limit) {
  Scored out;
  if (offset < 0 || lo >= hi || static_cast<uint64_t>(offset) >= hi - lo || limit == 0) {
    return out;
  }
  size_t avail = hi - lo - static_cast<size_t>(offset);
  size_t want = limit < 0 ? avail : std::min(avail, static_cast<size_t>(limit));
  size_t start = dir == Dir::kForward ? lo + offset : hi - 1 - offset;
  out.reserve(want);
  z.Walk(start, dir, [&](std::string_view m, double s) {
    out.emplace_back(std::string(m), s);
    return out.size() < want;
  });
  return out;
}

// Parses the options after "<key> <min> <max>"; replies the error itself.
bool ParseRangeOptions(const Ctx& ctx, int argc, const ferrite_slice* argv, int from,
                       bool store, RangeRequest* rq) {
  for (int j = from; j < argc; j++) {
    std::string_view a = SV(argv[j]);
    int left = argc - j - 1;
    if (!store && sdk::EqualsIgnoreCase(a, "withscores")) {
      rq->withscores = true;
    } else if (sdk::EqualsIgnoreCase(a, "limit") && left >= 2) {
      if (!sdk::ParseInt64(SV(argv[j + 1]), &rq->offset) ||
          !sdk::ParseInt64(SV(argv[j + 2]), &rq->limit)) {
        ctx.Error(FERRITE_E_NOT_INTEGER);
        return false;
      }
      j += 2;
    } else if (!rq->dir && sdk::EqualsIgnoreCase(a, "rev")) {
      rq->dir = Dir::kReverse;
    } else if (!rq->type && sdk::EqualsIgnoreCase(a, "bylex")) {
      rq->type = RangeType::kLex;
    } else if (!rq->type && sdk::EqualsIgnoreCase(a, "byscore")) {
      rq->type = RangeType::kScore;
    } else {
      ctx.Error(FERRITE_E_SYNTAX);
      return false;
    }
  }
  if (rq->limit != -1 && rq->type.value_or(RangeType::kRank) == RangeType::kRank) {
    ctx.Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return false;
  }
  if (rq->withscores && rq->type == RangeType::kLex) {
    ctx.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return false;
  }
  return true;
}

// Replaces dst with the elements (dropping any TTL, like setKey) or deletes it.
int StoreResult(const Ctx& ctx, std::string_view dst_name, const Scored& v, const char* event) {
  auto* st = ctx.State<ZSetsState>();
  Key dst = ctx.OpenWrite(dst_name);
  if (v.empty()) {
    if (dst.Exists()) dst.Delete();
    return ctx.Int(0);
  }
  size_t maxlen = 0;
  for (auto& [m, s] : v) maxlen = std::max(maxlen, m.size());
  ZSetPtr z(ZSetValue::Create(st->Limits(), v.size(), maxlen));
  for (auto& [m, s] : v) z.Set(m, s, st->Limits());
  dst.SetValue(st->type, z.release());
  dst.SetExpire(-1);
  dst.Modified(FERRITE_NOTIFY_ZSET, event);
  return ctx.Int(static_cast<int64_t>(v.size()));
}

// zrangeGenericCommand: `first` is the index of the source key.
int RangeGeneric(const Ctx& ctx, int argc, const ferrite_slice* argv, int first,
                 RangeRequest rq, bool store) {
  auto* st = ctx.State<ZSetsState>();
  if (!ParseRangeOptions(ctx, argc, argv, first + 3, store, &rq)) return FERRITE_OK;
  RangeType type = rq.type.value_or(RangeType::kRank);
  Dir dir = rq.dir.value_or(Dir::kForward);
  int minidx = first + 1, maxidx = first + 2;
  if (dir == Dir::kReverse && type != RangeType::kRank) std::swap(minidx, maxidx);
  int64_t start = 0, end = 0;
  ScoreRange sr;
  LexRange lr;
  if (type == RangeType::kRank) {
    if (!sdk::ParseInt64(SV(argv[minidx]), &start) || !sdk::ParseInt64(SV(argv[maxidx]), &end)) {
      return ctx.Error(FERRITE_E_NOT_INTEGER);
    }
  } else if (type == RangeType::kScore) {
    if (!ParseScoreRange(SV(argv[minidx]), SV(argv[maxidx]), &sr)) {
      return ctx.Error("ERR min or max is not a float");
    }
  } else if (!ParseLexRange(SV(argv[minidx]), SV(argv[maxidx]), &lr)) {
    return ctx.Error("ERR min or max not valid string range item");
  }
  Scored out;
  {
    Key k = ctx.Open(SV(argv[first]));
    ZSetValue* z = nullptr;
    Found f = LookupZSet(k, *st, &z);
    if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
    if (f == Found::kZSet) {
      size_t lo = 0, hi = 0;
      if (type == RangeType::kRank) {
        size_t a, b;
        if (NormalizeRanks(start, end, z->Size(), &a, &b)) {
          // A reverse rank range counts from the top.
          lo = dir == Dir::kForward ? a : z->Size() - 1 - b;
          hi = dir == Dir::kForward ? b + 1 : z->Size() - a;
        }
      } else {
        std::tie(lo, hi) = type == RangeType::kScore ? SpanOf(*z, sr) : SpanOf(*z, lr);
      }
      // LIMIT only applies to BYSCORE/BYLEX (a rank range accepts "LIMIT n -1").
      bool ranked = type == RangeType::kRank;
      out = TakeSpan(*z, lo, hi, dir, ranked ? 0 : rq.offset, ranked ? -1 : rq.limit);
    }
  }
  if (store) return StoreResult(ctx, SV(argv[1]), out, "zrangestore");
  ReplyScored(ctx, out, rq.withscores);
  return FERRITE_OK;
}

RangeRequest Preset(std::optional<RangeType> type, std::optional<Dir> dir) {
  RangeRequest rq;
  rq.type = type;
  rq.dir = dir;
  return rq;
}

}  // namespace

int CmdZRange(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RangeGeneric(ctx, argc, argv, 1, Preset(std::nullopt, std::nullopt), false);
}
int CmdZRangeStore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RangeGeneric(ctx, argc, argv, 2, Preset(std::nullopt, std::nullopt), true);
}
int CmdZRevRange(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RangeGeneric(ctx, argc, argv, 1, Preset(RangeType::kRank, Dir::kReverse), false);
}
int CmdZRangeByScore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RangeGeneric(ctx, argc, argv, 1, Preset(RangeType::kScore, Dir::kForward), false);
}
int CmdZRevRangeByScore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RangeGeneric(ctx, argc, argv, 1, Preset(RangeType::kScore, Dir::kReverse), false);
}
int CmdZRangeByLex(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RangeGeneric(ctx, argc, argv, 1, Preset(RangeType::kLex, Dir::kForward), false);
}
int CmdZRevRangeByLex(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RangeGeneric(ctx, argc, argv, 1, Preset(RangeType::kLex, Dir::kReverse), false);
}

namespace {
// ZREMRANGEBY*: removes the ascending span chosen by `span` (after the range parsed).
template <class SpanFn>
int RemoveSpan(const Ctx& ctx, std::string_view key, const char* event, SpanFn&& span) {
  auto* st = ctx.State<ZSetsState>();
  Key k = ctx.OpenWrite(key);
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (f == Found::kMissing) return ctx.Int(0);
  auto [lo, hi] = span(*z);
  Scored doomed = TakeSpan(*z, lo, hi, Dir::kForward, 0, -1);
  for (auto& [m, s] : doomed) z->Remove(m);
  if (!doomed.empty()) ShrinkKey(k, z);
  if (!doomed.empty()) k.Modified(FERRITE_NOTIFY_ZSET, event);
  return ctx.Int(static_cast<int64_t>(doomed.size()));
}
}  // namespace

int CmdZRemRangeByRank(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t start, end;
  if (!sdk::ParseInt64(SV(argv[2]), &start) || !sdk::ParseInt64(SV(argv[3]), &end)) {
    return ctx.Error(FERRITE_E_NOT_INTEGER);
  }
  return RemoveSpan(ctx, SV(argv[1]), "zremrangebyrank", [&](const ZSetValue& z) {
    size_t a, b;
    if (!NormalizeRanks(start, end, z.Size(), &a, &b)) return std::pair<size_t, size_t>{0, 0};
    return std::pair<size_t, size_t>{a, b + 1};
  });
}

int CmdZRemRangeByScore(Ctx ctx, int argc, const ferrite_slice* argv) {
  ScoreRange r;
  if (!ParseScoreRange(SV(argv[2]), SV(argv[3]), &r)) {
    return ctx.Error("ERR min or max is not a float");
  }
  return RemoveSpan(ctx, SV(argv[1]), "zremrangebyscore",
                    [&](const ZSetValue& z) { return SpanOf(z, r); });
}

int CmdZRemRangeByLex(Ctx ctx, int argc, const ferrite_slice* argv) {
  LexRange r;
  if (!ParseLexRange(SV(argv[2]), SV(argv[3]), &r)) {
    return ctx.Error("ERR min or max not valid string range item");
  }
  return RemoveSpan(ctx, SV(argv[1]), "zremrangebylex",
                    [&](const ZSetValue& z) { return SpanOf(z, r); });
}

}  // namespace ferrite::mod::zsets
