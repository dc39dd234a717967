// Multi-key set algebra: SINTER SINTERSTORE SINTERCARD SUNION SUNIONSTORE SDIFF
// SDIFFSTORE. Every source key is type-checked before any work (a missing key is an
// empty set), as Redis 7.0 does.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sets_internal.h"

namespace ferrite::mod::sets {

using sdk::Ctx;
using sdk::Key;
using sdk::SV;

namespace {

enum class SetOp { kInter, kUnion, kDiff };

// The opened sources; `sets[i]` is nullptr for a missing key.
struct Sources {
  std::vector<Key> keys;
  std::vector<const SetValue*> sets;
  bool any_missing = false;
};

// Opens argv[first..first+n); false (after replying WRONGTYPE) on a non-set.
bool OpenSources(const Ctx& ctx, const SetsState& st, const ferrite_slice* argv, int first,
                 int n, int mode, Sources* out) {
  for (int i = 0; i < n; i++) {
    out->keys.push_back(ctx.Open(SV(argv[first + i]), mode));
    SetValue* s = nullptr;
    Found f = LookupSet(out->keys.back(), st, &s);
    if (f == Found::kWrongType) {
      ctx.Error(FERRITE_E_WRONGTYPE);
      return false;
    }
    if (f == Found::kMissing) out->any_missing = true;
    out->sets.push_back(s);
  }
  return true;
}

// Members of the intersection, in the iteration order of the smallest set; stops at
// `limit` members (0 = no limit).
std::vector<std::string> Intersect(std::vector<const SetValue*> sets, size_t limit) {
  std::vector<std::string> out;
  std::sort(sets.begin(), sets.end(),
            [](const SetValue* a, const SetValue* b) { return a->Size() < b->Size(); });
  bool done = false;
  sets[0]->ForEach([&](std::string_view m) {
    if (done) return;
    for (size_t j = 1; j < sets.size(); j++) {
      if (sets[j] != sets[0] && !sets[j]->Contains(m)) return;
    }
    out.emplace_back(m);
    if (limit && out.size() >= limit) done = true;
  });
  return out;
}

// Builds the union / difference as a new set value (encoding chosen by SADD rules, so
// an all-integer result is an intset and replies in ascending order, as in Redis).
SetPtr Combine(const std::vector<const SetValue*>& sets, SetOp op, size_t max_intset) {
  SetPtr out(SetValue::CreateIntSet());
  auto add_all = [&](const SetValue* s) {
    if (s) s->ForEach([&](std::string_view m) { out.Add(m, max_intset); });
  };
  if (op == SetOp::kUnion) {
    for (auto* s : sets) add_all(s);
    return out;
  }
  if (!sets[0]) return out;
  sets[0]->ForEach([&](std::string_view m) {
    for (size_t j = 1; j < sets.size(); j++) {
      if (sets[j] && sets[j]->Contains(m)) return;
    }
    out.Add(m, max_intset);
  });
  return out;
}

SetPtr FromMembers(const std::vector<std::string>& v, size_t max_intset) {
  SetPtr out(SetValue::CreateIntSet());
  for (auto& m : v) out.Add(m, max_intset);
  return out;
}

const char* StoreEvent(SetOp op) {
  switch (op) {
    case SetOp::kInter: return "sinterstore";
    case SetOp::kUnion: return "sunionstore";
    case SetOp::kDiff: return "sdiffstore";
  }
  return "";
}

// Replaces dst with `result` (dropping any TTL, as Redis' setKey does), or deletes dst
// when the result is empty.
int Store(const Ctx& ctx, const SetsState& st, std::string_view dst_name,
          SetPtr result, SetOp op) {
  Key dst = ctx.OpenWrite(dst_name);
  size_t n = result->Size();
  if (n == 0) {
    if (dst.Exists()) dst.Delete();
    return ctx.Int(0);
  }
  dst.SetValue(st.type, result.release());
  dst.SetExpire(-1);
  dst.Modified(FERRITE_NOTIFY_SET, StoreEvent(op));
  return ctx.Int(static_cast<int64_t>(n));
}

int Generic(const Ctx& ctx, int argc, const ferrite_slice* argv, SetOp op, bool store) {
  auto* st = ctx.State<SetsState>();
  int first = store ? 2 : 1;
  Sources src;
  int mode = store ? FERRITE_KEY_WRITE : FERRITE_KEY_READ;
  if (!OpenSources(ctx, *st, argv, first, argc - first, mode, &src)) return FERRITE_OK;
  auto max_intset = static_cast<size_t>(st->max_intset_entries);
  SetPtr result;
  if (op == SetOp::kInter) {
    if (src.any_missing) {
      result.reset(SetValue::CreateIntSet());
    } else if (!store) {
      auto v = Intersect(src.sets, 0);
      ctx.Set(v.size());
      for (auto& m : v) ctx.Bulk(m);
      return FERRITE_OK;
    } else {
      result = FromMembers(Intersect(src.sets, 0), max_intset);
    }
  } else {
    result = Combine(src.sets, op, max_intset);
  }
  if (store) {
    src.keys.clear();  // release source handles before reopening dst (may be a source)
    return Store(ctx, *st, SV(argv[1]), std::move(result), op);
  }
  ctx.Set(result->Size());
  result->ForEach([&](std::string_view m) { ctx.Bulk(m); });
  return FERRITE_OK;
}

}  // namespace

int CmdSInter(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, SetOp::kInter, false);
}
int CmdSInterStore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, SetOp::kInter, true);
}
int CmdSUnion(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, SetOp::kUnion, false);
}
int CmdSUnionStore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, SetOp::kUnion, true);
}
int CmdSDiff(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, SetOp::kDiff, false);
}
int CmdSDiffStore(Ctx ctx, int argc, const ferrite_slice* argv) {
  return Generic(ctx, argc, argv, SetOp::kDiff, true);
}

namespace {
// numkeys as SINTERCARD/ZINTERCARD parse it: 1..(args left).
bool ParseNumKeys(const Ctx& ctx, int argc, const ferrite_slice* argv, int64_t* n) {
  if (!sdk::ParseInt64(SV(argv[1]), n) || *n <= 0) {
    ctx.Error("ERR numkeys should be greater than 0");
    return false;
  }
  if (*n > argc - 2) {
    ctx.Error("ERR Number of keys can't be greater than number of args");
    return false;
  }
  return true;
}
}  // namespace

int CmdSInterCard(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  int64_t numkeys = 0;
  if (!ParseNumKeys(ctx, argc, argv, &numkeys)) return FERRITE_OK;
  int64_t limit = 0;
  for (int i = 2 + static_cast<int>(numkeys); i < argc; i += 2) {
    if (sdk::EqualsIgnoreCase(SV(argv[i]), "limit") && i + 1 < argc) {
      if (!sdk::ParseInt64(SV(argv[i + 1]), &limit) || limit < 0) {
        return ctx.Error("ERR LIMIT can't be negative");
      }
    } else {
      return ctx.Error(FERRITE_E_SYNTAX);
    }
  }
  Sources src;
  if (!OpenSources(ctx, *st, argv, 2, static_cast<int>(numkeys), FERRITE_KEY_READ, &src)) {
    return FERRITE_OK;
  }
  if (src.any_missing) return ctx.Int(0);
  return ctx.Int(static_cast<int64_t>(Intersect(src.sets, static_cast<size_t>(limit)).size()));
}

int GetKeysSInterCard(int argc, const ferrite_slice* argv, int* out, int cap) {
  int64_t n = 0;
  if (argc < 3 || !sdk::ParseInt64(SV(argv[1]), &n) || n <= 0 || n > argc - 2) return -1;
  for (int i = 0; i < n && i < cap; i++) out[i] = 2 + i;
  return static_cast<int>(n);
}

}  // namespace ferrite::mod::sets
