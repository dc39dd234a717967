// ZUNION ZINTER ZDIFF, their STORE forms (WEIGHTS, AGGREGATE, WITHSCORES) and
// ZINTERCARD. Sources may be sorted sets or sets (members score 1), as in Redis.
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <vector>

#include "zsets_internal.h"

namespace ferrite::mod::zsets {

using sdk::Ctx;
using sdk::Key;
using sdk::SV;

namespace {

enum class ZOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// One input, materialised as member -> score (sets read through SMEMBERS).
struct Source {
  std::unordered_map<std::string, double> elems;
  double weight = 1.0;
};

void AggregateInto(double* target, double v, Aggregate agg) {
  switch (agg) {
    case Aggregate::kSum:
      *target += v;
      if (std::isnan(*target)) *target = 0.0;  // inf + -inf, as Redis
      break;
    case Aggregate::kMin: *target = std::min(*target, v); break;
    case Aggregate::kMax: *target = std::max(*target, v); break;
  }
}

// Opens every source; replies WRONGTYPE (and returns false) on a key that is neither a
// sorted set nor a set.
bool LoadSources(const Ctx& ctx, const ferrite_slice* argv, int first, int n, int mode,
                 std::vector<Source>* out) {
  auto* st = ctx.State<ZSetsState>();
  out->resize(n);
  for (int i = 0; i < n; i++) {
    std::string_view name = SV(argv[first + i]);
    bool is_set = false;
    {
      Key k = ctx.Open(name, mode);
      ZSetValue* z = nullptr;
      Found f = LookupZSet(k, *st, &z);
      if (f == Found::kMissing) continue;
      if (f == Found::kZSet) {
        auto& e = (*out)[i].elems;
        e.reserve(z->Size());
        z->ForEach([&](std::string_view m, double s) {
          e.emplace(std::string(m), s);
          return true;
        });
        continue;
      }
      if (!IsSetKey(k)) {
        ctx.Error(FERRITE_E_WRONGTYPE);
        return false;
      }
      is_set = true;
    }
    if (is_set) {
      for (auto& m : SetMembers(ctx, name)) (*out)[i].elems.emplace(std::move(m), 1.0);
    }
  }
  return true;
}

double Weighted(const Source& s, double v) {
  double r = s.weight * v;
  return std::isnan(r) ? 0.0 : r;  // 0 * inf
}

// The combined elements, sorted by (score, member).
Scored Compute(std::vector<Source>& src, ZOp op, Aggregate agg) {
  std::unordered_map<std::string, double> acc;
  if (op == ZOp::kUnion) {
    for (auto& s : src) {
      for (auto& [m, v] : s.elems) {
        double w = Weighted(s, v);
        auto [it, fresh] = acc.emplace(m, w);
        if (!fresh) AggregateInto(&it->second, w, agg);
      }
    }
  } else if (op == ZOp::kInter) {
    // Walk the smallest input; weights stay attached to their source.
    size_t smallest = 0;
    for (size_t i = 1; i < src.size(); i++) {
      if (src[i].elems.size() < src[smallest].elems.size()) smallest = i;
    }
    for (auto& [m, v] : src[smallest].elems) {
      bool all = true;
      for (size_t j = 0; j < src.size() && all; j++) all = src[j].elems.count(m) > 0;
      if (!all) continue;
      double score = Weighted(src[0], src[0].elems.at(m));
      for (size_t j = 1; j < src.size(); j++) {
        AggregateInto(&score, Weighted(src[j], src[j].elems.at(m)), agg);
      }
      acc.emplace(m, score);
    }
  } else {
    for (auto& [m, v] : src[0].elems) {
      bool elsewhere = false;
      for (size_t j = 1; j < src.size() && !elsewhere; j++) elsewhere = src[j].elems.count(m) > 0;
      if (!elsewhere) acc.emplace(m, v);
    }
  }
  Scored out(acc.begin(), acc.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return Less(a.second, a.first, b.second, b.first);
  });
  return out;
}

// Parses WEIGHTS / AGGREGATE / WITHSCORES after the keys; replies errors itself.
// `limit` is non-null for ZINTERCARD, which takes LIMIT and nothing else.
bool ParseOptions(const Ctx& ctx, int argc, const ferrite_slice* argv, int j, ZOp op,
                  bool store, std::vector<Source>* src, Aggregate* agg, bool* withscores,
                  int64_t* limit) {
  int n = static_cast<int>(src->size());
  while (j < argc) {
    int remaining = argc - j;
    std::string_view a = SV(argv[j]);
    if (limit) {
      if (remaining >= 2 && sdk::EqualsIgnoreCase(a, "limit")) {
        if (!sdk::ParseInt64(SV(argv[j + 1]), limit) || *limit < 0) {
          ctx.Error("ERR LIMIT can't be negative");
          return false;
        }
        j += 2;
        continue;
      }
      ctx.Error(FERRITE_E_SYNTAX);
      return false;
    }
    if (op != ZOp::kDiff && remaining >= n + 1 && sdk::EqualsIgnoreCase(a, "weights")) {
      j++;
      for (int i = 0; i < n; i++, j++) {
        if (!sdk::ParseDouble(SV(argv[j]), &(*src)[i].weight)) {
          ctx.Error("ERR weight value is not a float");
          return false;
        }
      }
    } else if (op != ZOp::kDiff && remaining >= 2 && sdk::EqualsIgnoreCase(a, "aggregate")) {
      std::string_view v = SV(argv[j + 1]);
      if (sdk::EqualsIgnoreCase(v, "sum")) {
        *agg = Aggregate::kSum;
      } else if (sdk::EqualsIgnoreCase(v, "min")) {
        *agg = Aggregate::kMin;
      } else if (sdk::EqualsIgnoreCase(v, "max")) {
        *agg = Aggregate::kMax;
      } else {
        ctx.Error(FERRITE_E_SYNTAX);
        return false;
      }
      j += 2;
    } else if (!store && sdk::EqualsIgnoreCase(a, "withscores")) {
      *withscores = true;
      j++;
    } else {
      ctx.Error(FERRITE_E_SYNTAX);
      return false;
    }
  }
  return true;
}

enum class Output { kReply, kStore, kCard };

const char* CommandName(ZOp op, bool store) {
  switch (op) {
    case ZOp::kUnion: return store ? "zunionstore" : "zunion";
    case ZOp::kInter: return store ? "zinterstore" : "zinter";
    case ZOp::kDiff: return store ? "zdiffstore" : "zdiff";
  }
  return "";
}

// zunionInterDiffGenericCommand: also ZINTERCARD (Output::kCard), as in Redis.
int Generic(const Ctx& ctx, int argc, const ferrite_slice* argv, ZOp op, Output output) {
  auto* st = ctx.State<ZSetsState>();
  bool store = output == Output::kStore;
  int numkeys_idx = store ? 2 : 1;
  int64_t n = 0;
  if (!sdk::ParseInt64(SV(argv[numkeys_idx]), &n)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  if (n < 1) {
    const char* name = output == Output::kCard ? "zintercard" : CommandName(op, store);
    return ctx.Error(std::string("ERR at least 1 input key is needed for '") + name +
                     "' command");
  }
  if (n > argc - numkeys_idx - 1) return ctx.Error(FERRITE_E_SYNTAX);
  std::vector<Source> src;
  int mode = store ? FERRITE_KEY_WRITE : FERRITE_KEY_READ;
  if (!LoadSources(ctx, argv, numkeys_idx + 1, static_cast<int>(n), mode, &src)) {
    return FERRITE_OK;
  }
  Aggregate agg = Aggregate::kSum;
  bool withscores = false;
  int64_t limit = 0;
  if (!ParseOptions(ctx, argc, argv, numkeys_idx + 1 + static_cast<int>(n), op, store, &src,
                    &agg, &withscores, output == Output::kCard ? &limit : nullptr)) {
    return FERRITE_OK;
  }
  Scored out = Compute(src, op, agg);
  if (output == Output::kCard) {
    size_t card = out.size();
    if (limit > 0) card = std::min(card, static_cast<size_t>(limit));
    return ctx.Int(static_cast<int64_t>(card));
  }
  if (!store) {
    ReplyScored(ctx, out, withscores);
    return FERRITE_OK;
  }
  Key dst = ctx.OpenWrite(SV(argv[1]));
  if (out.empty()) {
    if (dst.Exists()) dst.Delete();
    return ctx.Int(0);
  }
  size_t maxlen = 0;
  for (auto& [m, s] : out) maxlen = std::max(maxlen, m.size());
  ZSetPtr z(ZSetValue::Create(st->Limits(), out.size(), maxlen));
  for (auto& [m, s] : out) z.Set(m, s, st->Limits());
  dst.SetValue(st->type, z.release());
  dst.SetExpire(-1);
  dst.Modified(FERRITE_NOTIFY_ZSET, CommandName(op, true));
  return ctx.Int(static_cast<int64_t>(out.size()));
}

}  // namespace

int CmdZUnion(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, ZOp::kUnion, Output::kReply);
}
int CmdZInter(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, ZOp::kInter, Output::kReply);
}
int CmdZDiff(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, ZOp::kDiff, Output::kReply);
}
int CmdZUnionStore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, ZOp::kUnion, Output::kStore);
}
int CmdZInterStore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, ZOp::kInter, Output::kStore);
}
int CmdZDiffStore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, ZOp::kDiff, Output::kStore);
}

int CmdZInterCard(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, ZOp::kInter, Output::kCard);
}

// ZUNIONSTORE dst numkeys key...: dst plus the numkeys keys.
int GetKeysZStore(int argc, const ferrite_slice* argv, int* out, int cap) {
  int64_t n = 0;
  if (argc < 4 || !sdk::ParseInt64(SV(argv[2]), &n) || n < 1 || n > argc - 3) return -1;
  int total = static_cast<int>(n) + 1;
  if (cap > 0) out[0] = 1;
  for (int i = 1; i < total && i < cap; i++) out[i] = 2 + i;
  return total;
}

// ZUNION/ZINTER/ZDIFF/ZINTERCARD/ZMPOP numkeys key...
int GetKeysNumKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  int64_t n = 0;
  if (argc < 3 || !sdk::ParseInt64(SV(argv[1]), &n) || n < 1 || n > argc - 2) return -1;
  for (int i = 0; i < n && i < cap; i++) out[i] = 2 + i;
  return static_cast<int>(n);
}

// BZMPOP timeout numkeys key...
int GetKeysBZMPop(int argc, const ferrite_slice* argv, int* out, int cap) {
  int64_t n = 0;
  if (argc < 4 || !sdk::ParseInt64(SV(argv[2]), &n) || n < 1 || n > argc - 3) return -1;
  for (int i = 0; i < n && i < cap; i++) out[i] = 3 + i;
  return static_cast<int>(n);
}

}  // namespace ferrite::mod::zsets
