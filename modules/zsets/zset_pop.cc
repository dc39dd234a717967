// Pops: ZPOPMIN ZPOPMAX ZMPOP and the blocking BZPOPMIN BZPOPMAX BZMPOP.
// A blocked command is re-run from the start by the host when a key is signalled, so
// each handler either serves from the first non-empty key or blocks (again).
#include <string>
#include <vector>

#include "zsets_internal.h"

namespace ferrite::mod::zsets {

using sdk::Api;
using sdk::Ctx;
using sdk::Key;
using sdk::SV;

namespace {

enum class Where { kMin, kMax };

const char* PopEvent(Where w) { return w == Where::kMin ? "zpopmin" : "zpopmax"; }
const char* PopCommand(Where w) { return w == Where::kMin ? "ZPOPMIN" : "ZPOPMAX"; }

// Removes up to `count` elements from the chosen end of a non-empty set.
Scored OpPop(Key& k, ZSetValue* z, Where w, size_t count) {
  Scored out;
  count = std::min(count, z->Size());
  out.reserve(count);
  if (w == Where::kMin) {
    z->Walk(0, Dir::kForward, [&](std::string_view m, double s) {
      out.emplace_back(std::string(m), s);
      return out.size() < count;
    });
  } else {
    z->Walk(z->Size() - 1, Dir::kReverse, [&](std::string_view m, double s) {
      out.emplace_back(std::string(m), s);
      return out.size() < count;
    });
  }
  for (auto& [m, s] : out) z->Remove(m);
  ShrinkKey(k, z);
  k.Modified(FERRITE_NOTIFY_ZSET, PopEvent(w));
  return out;
}

// Array of [member, score] pairs (ZMPOP / ZPOPMIN with count in RESP3).
void ReplyPairs(const Ctx& ctx, const Scored& v) {
  ctx.Array(v.size());
  for (auto& [m, s] : v) {
    ctx.Array(2);
    ctx.Bulk(m);
    ctx.Double(s);
  }
}

int PopGeneric(const Ctx& ctx, int argc, const ferrite_slice* argv, Where w) {
  auto* st = ctx.State<ZSetsState>();
  if (argc > 3) return ctx.Error(FERRITE_E_SYNTAX);
  int64_t count = 1;
  if (argc == 3 && (!sdk::ParseInt64(SV(argv[2]), &count) || count < 0)) {
    return ctx.Error("ERR value is out of range, must be positive");
  }
  Key k = ctx.OpenWrite(SV(argv[1]));
  ZSetValue* z = nullptr;
  Found f = LookupZSet(k, *st, &z);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (f == Found::kMissing || count == 0) {
    ctx.Array(0);
    return FERRITE_OK;
  }
  Scored out = OpPop(k, z, w, static_cast<size_t>(count));
  if (argc == 3 && ctx.Resp() >= 3) {
    ReplyPairs(ctx, out);
  } else {
    ctx.Array(out.size() * 2);  // flat: RESP2 always, RESP3 without a count
    for (auto& [m, s] : out) {
      ctx.Bulk(m);
      ctx.Double(s);
    }
  }
  return FERRITE_OK;
}

// The "numkeys key... MIN|MAX [COUNT n]" tail of ZMPOP/BZMPOP, from argv[at].
struct MPopArgs {
  int first_key = 0;
  int nkeys = 0;
  Where where = Where::kMin;
  int64_t count = 1;
};

bool ParseMPop(const Ctx& ctx, int argc, const ferrite_slice* argv, int at, MPopArgs* a) {
  int64_t n = 0;
  if (!sdk::ParseInt64(SV(argv[at]), &n) || n <= 0) {
    ctx.Error("ERR numkeys should be greater than 0");
    return false;
  }
  int where_idx = at + 1;
  if (n >= argc - where_idx) {
    ctx.Error(FERRITE_E_SYNTAX);
    return false;
  }
  a->first_key = at + 1;
  a->nkeys = static_cast<int>(n);
  where_idx += a->nkeys;
  std::string_view wh = SV(argv[where_idx]);
  if (sdk::EqualsIgnoreCase(wh, "min")) {
    a->where = Where::kMin;
  } else if (sdk::EqualsIgnoreCase(wh, "max")) {
    a->where = Where::kMax;
  } else {
    ctx.Error(FERRITE_E_SYNTAX);
    return false;
  }
  bool seen_count = false;
  for (int j = where_idx + 1; j < argc; j++) {
    if (!seen_count && sdk::EqualsIgnoreCase(SV(argv[j]), "count") && j + 1 < argc) {
      if (!sdk::ParseInt64(SV(argv[j + 1]), &a->count) || a->count <= 0) {
        ctx.Error("ERR count should be greater than 0");
        return false;
      }
      seen_count = true;
      j++;
    } else {
      ctx.Error(FERRITE_E_SYNTAX);
      return false;
    }
  }
  return true;
}

enum class Served { kYes, kNo, kError };

// Pops from the first non-empty key of argv[first..first+n) (the key that woke a
// blocked re-run first, as Redis serves the ready key) and replies in the shape `shape`
// asks for; kNo when every key is empty or missing.
enum class Shape { kMPop, kBPop };
Served ServeFirst(const Ctx& ctx, const ferrite_slice* argv, int first, int n, Where w,
                  int64_t count, Shape shape) {
  auto* st = ctx.State<ZSetsState>();
  for (int j : ctx.ReadyFirst(argv + first, n)) {
    int i = first + j;
    Key k = ctx.OpenWrite(SV(argv[i]));
    ZSetValue* z = nullptr;
    Found f = LookupZSet(k, *st, &z);
    // A woken waiter's key that now holds another type is not ready: Redis 7.0 serves
    // a blocked client only from a sorted set and leaves it blocked.
    if (f == Found::kWrongType && Api().ctx_block_rerun(ctx.get())) continue;
    if (f == Found::kWrongType) {
      ctx.Error(FERRITE_E_WRONGTYPE);
      return Served::kError;
    }
    if (f == Found::kMissing) continue;
    std::string key(SV(argv[i]));
    Scored out = OpPop(k, z, w, static_cast<size_t>(count));
    if (shape == Shape::kBPop) {
      ctx.Propagate({PopCommand(w), key});
      ctx.Array(3);
      ctx.Bulk(key);
      ctx.Bulk(out[0].first);
      ctx.Double(out[0].second);
    } else {
      // Redis 7.0 replicates (B)ZMPOP as ZPOPMIN|ZPOPMAX with the number actually popped.
      ctx.Propagate({PopCommand(w), key, std::to_string(out.size())});
      ctx.Array(2);
      ctx.Bulk(key);
      ReplyPairs(ctx, out);
    }
    return Served::kYes;
  }
  return Served::kNo;
}

// Parks the client on the keys; inside MULTI/scripts replies as on time-out.
int Block(const Ctx& ctx, const ferrite_slice* keys, int n, int64_t timeout_ms) {
  if (Api().block_on_keys(ctx.get(), keys, n, timeout_ms, FERRITE_BLOCK_TIMEOUT_NULL_ARRAY) !=
      FERRITE_OK) {
    return ctx.NullArray();
  }
  return FERRITE_BLOCKED;
}

int BPopGeneric(const Ctx& ctx, int argc, const ferrite_slice* argv, Where w) {
  int64_t timeout = 0;
  if (!ParseTimeout(ctx, SV(argv[argc - 1]), &timeout)) return FERRITE_OK;
  Served s = ServeFirst(ctx, argv, 1, argc - 2, w, 1, Shape::kBPop);
  if (s != Served::kNo) return FERRITE_OK;
  return Block(ctx, argv + 1, argc - 2, timeout);
}

}  // namespace

int CmdZPopMin(Ctx ctx, int argc, const ferrite_slice* argv) {
  return PopGeneric(ctx, argc, argv, Where::kMin);
}
int CmdZPopMax(Ctx ctx, int argc, const ferrite_slice* argv) {
  return PopGeneric(ctx, argc, argv, Where::kMax);
}

int CmdZMPop(Ctx ctx, int argc, const ferrite_slice* argv) {
  MPopArgs a;
  if (!ParseMPop(ctx, argc, argv, 1, &a)) return FERRITE_OK;
  Served s = ServeFirst(ctx, argv, a.first_key, a.nkeys, a.where, a.count, Shape::kMPop);
  if (s == Served::kNo) return ctx.NullArray();
  return FERRITE_OK;
}

int CmdBZPopMin(Ctx ctx, int argc, const ferrite_slice* argv) {
  return BPopGeneric(ctx, argc, argv, Where::kMin);
}
int CmdBZPopMax(Ctx ctx, int argc, const ferrite_slice* argv) {
  return BPopGeneric(ctx, argc, argv, Where::kMax);
}

int CmdBZMPop(Ctx ctx, int argc, const ferrite_slice* argv) {
  // Redis reads numkeys, MIN|MAX and COUNT first, the timeout last.
  MPopArgs a;
  if (!ParseMPop(ctx, argc, argv, 2, &a)) return FERRITE_OK;
  int64_t timeout = 0;
  if (!ParseTimeout(ctx, SV(argv[1]), &timeout)) return FERRITE_OK;
  Served s = ServeFirst(ctx, argv, a.first_key, a.nkeys, a.where, a.count, Shape::kMPop);
  if (s != Served::kNo) return FERRITE_OK;
  return Block(ctx, argv + a.first_key, a.nkeys, timeout);
}

}  // namespace ferrite::mod::zsets
